import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildProgram } from "./main.js";

describe("vertical CLI", () => {
  it("lists every command group with a one-line description", () => {
    const help = buildProgram().helpInformation();
    expect(help).toContain("Usage: vertical");
    for (const command of buildProgram().commands) {
      expect(command.description().length, `${command.name()} needs a description`).toBeGreaterThan(0);
      expect(command.description()).not.toContain("\n");
    }
  });

  it("runs through the bin script as a new user would", () => {
    const out = execFileSync(process.execPath, ["bin/vertical.js", "--help"], { encoding: "utf8" });
    expect(out).toMatch(/Usage: vertical/);
  });
});

describe("file-system errors no command caught", () => {
  it("print one line naming the path and the reason, not a stack trace", async () => {
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const { runCli } = await import("./testing/runCli.js");
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-main-"));
    try {
      const corpus = path.join(directory, "corpus.txt");
      fs.writeFileSync(corpus, "the harbor master keeps three ledgers ".repeat(50));
      const { code, err } = await runCli("tokenizer", "train", "--input", corpus, "--vocab-size", "300", "--out", directory);
      expect(code).toBe(1);
      expect(err).toBe(`error: ${directory}: is a folder; a file is needed here (EISDIR from rename)\n`);
      expect(err).not.toContain("    at ");
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
