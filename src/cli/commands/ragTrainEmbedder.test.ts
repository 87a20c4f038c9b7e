import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readGguf } from "../../engine/gguf/index.js";
import { runCli } from "../testing/runCli.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-rag-train-embedder-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const docs = path.join(directory, "docs");
const evalDir = path.join(directory, "eval");
fs.mkdirSync(docs);
fs.mkdirSync(evalDir);
fs.writeFileSync(path.join(docs, "berths.md"), "# Berth Q04\n\nBerth Q04 takes ships up to 215 m. Its terminal is Nanwan Passenger Terminal.\n");
fs.writeFileSync(path.join(docs, "pilotage.md"), "# Pilotage\n\nPilotage is compulsory above 70 m. Pilots board at the outer buoy near the channel.\n");
fs.writeFileSync(path.join(docs, "dues.md"), "# Harbour dues\n\nDues are charged per gross tonne. They are paid at the terminal office before departure.\n");
// an evaluation question that one mined sentence repeats
fs.writeFileSync(path.join(evalDir, "open.jsonl"), `${JSON.stringify({ id: "q1", question: "Pilots board at the outer buoy near the channel?", reference: "yes" })}\n`);

describe("vertical rag train-embedder", () => {
  it("mines pairs, drops the one that overlaps the evaluation set, trains and writes an embedding GGUF", async () => {
    const out = path.join(directory, "embedder.gguf");
    const model = path.resolve("examples/harbor/models/base.gguf");
    const run = await runCli("rag", "train-embedder", "--model", model, "--docs", docs, "--eval", evalDir, "--out", out, "--steps", "2", "--batch", "2", "--threads", "1");
    expect(run.err).toContain("1 dropped for overlapping 1 evaluation items");
    expect(run.code).toBe(0);
    expect(run.out).toContain(`embedder: ${out}`);
    expect(run.out).toMatch(/steps: 2\n/);
    expect(readGguf(out).getNumber("llama.pooling_type")).toBe(1);
  });

  it("names the field of a bad option", async () => {
    const run = await runCli("rag", "train-embedder", "--model", path.resolve("examples/harbor/models/base.gguf"), "--docs", docs, "--out", path.join(directory, "x.gguf"), "--temperature", "0");
    expect(run.code).not.toBe(0);
    expect(run.err).toContain("temperature");
    expect(fs.existsSync(path.join(directory, "x.gguf"))).toBe(false);
  });
});
