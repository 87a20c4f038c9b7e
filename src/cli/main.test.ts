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
