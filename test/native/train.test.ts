/**
 * Training through the CLI on a tiny qwen2 model with a real tokenizer:
 * - `vertical train` killed with SIGKILL mid-run, then `vertical train --resume RUN`, ends with the
 *   same trainable weights as an uninterrupted run (bit for bit);
 * - the exported GGUF adapter loaded by node-llama-cpp gives our engine's log-probabilities, and the
 *   exported merged GGUF gives the same as base + adapter.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Backend } from "../../src/engine/index.js";
import { loadLoraAdapter, loadModel, tokenLogprobs } from "../../src/model/index.js";
import { tokenizerFromGguf } from "../../src/tokenizer/index.js";
import { exportRun } from "../../src/train/exportRun.js";
import { readLatestCheckpoint } from "../../src/train/runDirectory.js";
import { referenceLogprobs, writeTinyModel } from "./reference.js";

const run = promisify(execFile);
const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-train-cli-"));
const modelPath = path.join(directory, "tiny-qwen2.gguf");
const corpusPath = path.join(directory, "corpus.txt");
const cli = path.resolve("bin/vertical.js");
const environment = { ...process.env, VERTICAL_NO_PROGRESS: "1" };

const CORPUS =
  "Harbor rules. Ships arriving after dusk anchor in the outer basin and wait for the pilot. " +
  "The pilot boards at first light and brings each ship to its berth in the order of arrival. " +
  "Cargo is inspected on the quay before it is moved to the warehouses along the north wall.";

const trainArguments = (out: string) => [
  cli,
  "train",
  "--model",
  modelPath,
  "--data",
  corpusPath,
  "--method",
  "lora",
  "--rank",
  "4",
  "--steps",
  "24",
  "--lr",
  "5e-3",
  "--seq-len",
  "16",
  "--batch-size",
  "2",
  "--checkpoint-every",
  "4",
  "--threads",
  "1",
  "--seed",
  "3",
  "--out",
  out,
];

beforeAll(async () => {
  await writeTinyModel(modelPath, { architecture: "qwen2", hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64 });
  fs.writeFileSync(corpusPath, CORPUS);
});

afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("vertical train", () => {
  const straight = path.join(directory, "straight");
  const killed = path.join(directory, "killed");

  it("kill -9 mid-run, then --resume, ends with the uninterrupted run's weights", async () => {
    await run(process.execPath, trainArguments(straight), { env: environment });

    const child = spawn(process.execPath, trainArguments(killed), { env: environment, stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    const latestStep = () => {
      try {
        return (JSON.parse(fs.readFileSync(path.join(killed, "latest.json"), "utf8")) as { step: number }).step;
      } catch {
        return 0;
      }
    };
    await waitFor(() => latestStep() >= 8, 60_000);
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const stoppedAt = readLatestCheckpoint(killed)!.state.step;
    expect(stoppedAt).toBeGreaterThanOrEqual(8);
    expect(stoppedAt).toBeLessThan(24);

    const { stdout } = await run(process.execPath, [cli, "train", "--resume", killed], { env: environment });
    expect(stdout).toContain("steps: 24");
    const a = readLatestCheckpoint(straight)!;
    const b = readLatestCheckpoint(killed)!;
    expect(b.state.step).toBe(24);
    expect(b.parameters.length).toBe(a.parameters.length);
    for (const [index, parameter] of a.parameters.entries()) {
      expect(b.parameters[index]!.name).toBe(parameter.name);
      expect(Buffer.from(b.parameters[index]!.data.buffer).equals(Buffer.from(parameter.data.buffer))).toBe(true);
    }
  });

  it("Ctrl-C writes a checkpoint at the current step and exits with a hint to resume", async () => {
    const interrupted = path.join(directory, "interrupted");
    const child = spawn(process.execPath, trainArguments(interrupted), { env: environment, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const metricLines = () => {
      try {
        return fs.readFileSync(path.join(interrupted, "metrics.jsonl"), "utf8").split("\n").filter(Boolean).length;
      } catch {
        return 0;
      }
    };
    await waitFor(() => metricLines() >= 2, 60_000);
    child.kill("SIGINT");
    expect(await exited).toBe(1);
    expect(stderr).toContain("vertical train --resume");
    const checkpoint = readLatestCheckpoint(interrupted)!;
    expect(checkpoint.state.step).toBeLessThan(24);
    expect(checkpoint.state.step).toBe(metricLines());
    expect(fs.readdirSync(path.join(interrupted, "checkpoints")).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("the exported adapter in node-llama-cpp gives our log-probabilities; the merged GGUF equals base + adapter", async () => {
    const adapterPath = path.join(directory, "adapter.gguf");
    const mergedPath = path.join(directory, "merged.gguf");
    const { stdout } = await run(process.execPath, [cli, "export", straight, "--format", "gguf-lora", "--out", adapterPath], { env: environment });
    expect(stdout).toContain("exported step 24");
    await exportRun(straight, { format: "gguf-merged", out: mergedPath });

    const tokens = tokenizerFromGguf(modelPath).encode(CORPUS.slice(0, 120));
    using backend = Backend.cpu(1);
    using model = loadModel(modelPath, { backend });
    using adapter = loadLoraAdapter(adapterPath, model);
    const ours = tokenLogprobs(model, tokens, { lora: adapter.weights });
    const base = tokenLogprobs(model, tokens);

    const pick = (rows: Float64Array[]) => tokens.slice(1).map((token, i) => rows[i]![token]!);
    const theirs = pick(await referenceLogprobs(modelPath, tokens, { lora: adapterPath, threads: 1 }));
    const merged = pick(await referenceLogprobs(mergedPath, tokens, { threads: 1 }));
    const gap = (x: number[], y: number[]) => Math.max(...x.map((value, i) => Math.abs(value - y[i]!)));
    // the adapter matters, so agreeing is not trivial
    expect(gap(ours, base)).toBeGreaterThan(1e-2);
    expect(gap(theirs, ours)).toBeLessThanOrEqual(1e-3);
    expect(gap(merged, theirs)).toBeLessThanOrEqual(1e-3);
  });
});
