/**
 * Our llama-family forward pass against node-llama-cpp (llama.cpp) on the same GGUF and tokens:
 * full next-token log-probability vectors at every position.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Backend, Context, GgmlType } from "../../src/engine/index.js";
import { Evaluator, loadModel, logSoftmaxAt } from "../../src/model/index.js";
import { referenceLogprobs, writeTinyModel } from "./reference.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-forward-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

// Ids inside every fixture vocabulary (32000 for llama-spm), no special meaning needed. Ten
// positions: node-llama-cpp builds a Map of the whole vocabulary (152k for Qwen) per position.
const tokens = [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 100];

/** Max |ours - reference| over every position and every vocabulary entry. */
async function maxDifference(file: string, threads: number): Promise<number> {
  using backend = Backend.cpu(threads);
  using model = loadModel(file, { backend });
  using evaluator = new Evaluator(model, { length: tokens.length });
  const logits = evaluator.logits(tokens);
  const V = evaluator.vocabSize;
  const reference = await referenceLogprobs(file, tokens);
  let worst = 0;
  for (let position = 0; position < tokens.length; position++) {
    const theirs = reference[position]!;
    expect(theirs.length).toBe(V);
    // log-softmax once per row: logit - logsumexp
    const row = logits.subarray(position * V, (position + 1) * V);
    const shift = logSoftmaxAt(row, 0, V, 0).logprob - row[0]!;
    for (let token = 0; token < V; token++) worst = Math.max(worst, Math.abs(row[token]! + shift - theirs[token]!));
  }
  return worst;
}

describe.each([
  { architecture: "llama", extra: {} },
  { architecture: "qwen2", extra: {} },
  { architecture: "qwen3", extra: { headDim: 16 } },
])("$architecture forward equals node-llama-cpp", ({ architecture, extra }) => {
  it("with f32 weights (max abs diff <= 1e-3)", async () => {
    const file = path.join(directory, `${architecture}-f32.gguf`);
    await writeTinyModel(file, { architecture, ...extra });
    const difference = await maxDifference(file, 2);
    expect(difference).toBeLessThanOrEqual(1e-3);
  });

  it("with q8_0 weights (max abs diff <= 2e-2)", async () => {
    const file = path.join(directory, `${architecture}-q8_0.gguf`);
    await writeTinyModel(file, { architecture, ...extra, seed: 11 }, GgmlType.Q8_0);
    const difference = await maxDifference(file, 1);
    expect(difference).toBeLessThanOrEqual(2e-2);
  });
});

describe("other weight types (llama)", () => {
  it("f16 weights match node-llama-cpp (<= 1e-3)", async () => {
    const file = path.join(directory, "llama-f16.gguf");
    await writeTinyModel(file, { architecture: "llama", seed: 13 }, GgmlType.F16);
    expect(await maxDifference(file, 2)).toBeLessThanOrEqual(1e-3);
  });

  it("q4_K weights (rows of 256) match node-llama-cpp (<= 2e-2)", async () => {
    const file = path.join(directory, "llama-q4_k.gguf");
    await writeTinyModel(file, { architecture: "llama", hidden: 256, heads: 4, kvHeads: 2, ffn: 256, layers: 1, tiedOutput: true }, GgmlType.Q4_K);
    expect(await maxDifference(file, 2)).toBeLessThanOrEqual(2e-2);
  });
});

describe("batched evaluation", () => {
  it("gives each sequence the logits it gets alone", async () => {
    const file = path.join(directory, "qwen3-batch.gguf");
    await writeTinyModel(file, { architecture: "qwen3" });
    using backend = Backend.cpu(2);
    using model = loadModel(file, { backend });
    const a = [1, 450, 4996, 17354, 1701, 29916, 432, 17204];
    const b = [975, 278, 17366, 11203, 29889, 13, 2, 100];
    using single = new Evaluator(model, { length: 8 });
    const alone = [...single.logits(a), ...single.logits(b)];
    using batched = new Evaluator(model, { length: 8, batch: 2 });
    const together = batched.logits([...a, ...b]);
    let worst = 0;
    for (let i = 0; i < together.length; i++) worst = Math.max(worst, Math.abs(together[i]! - alone[i]!));
    expect(worst).toBeLessThan(1e-5);
    // and a subset of positions gives those rows only
    using some = new Evaluator(model, { length: 8, batch: 2, positions: [3, 7] });
    const rows = some.logits([...a, ...b]);
    const V = model.hparams.vocabSize;
    expect(rows.length).toBe(4 * V);
    for (const [row, source] of [[0, 3], [1, 7], [2, 11], [3, 15]] as const)
      for (let t = 0; t < V; t += 997) expect(rows[row * V + t]).toBeCloseTo(together[source * V + t]!, 5);
  });
});

describe("soft prompts", () => {
  it("a soft prompt equal to two tokens' embeddings gives the logits of those tokens prepended", async () => {
    const file = path.join(directory, "qwen2-prompt.gguf");
    await writeTinyModel(file, { architecture: "qwen2" });
    using backend = Backend.cpu(1);
    using model = loadModel(file, { backend });
    const E = model.hparams.embeddingLength;
    const prefix = [4996, 17354];
    const body = [1701, 29916, 432, 17204];
    const table = model.weight("token_embd.weight");
    using promptContext = new Context({ maxTensors: 1 });
    const prompt = promptContext.tensor(GgmlType.F32, [E, prefix.length], "soft_prompt");
    using promptBuffer = backend.allocate(promptContext);
    expect(promptBuffer.bytes).toBeGreaterThan(0);
    prompt.write(new Uint8Array([...prefix].flatMap((id) => [...table.readBytes(id * E * 4, E * 4)])));
    using withPrompt = new Evaluator(model, { length: body.length, batch: 2, softPrompt: prompt });
    const prompted = withPrompt.logits([...body, ...body.slice().reverse()]);
    using plain = new Evaluator(model, { length: prefix.length + body.length });
    const V = model.hparams.vocabSize;
    for (const [sequence, ids] of [body, body.slice().reverse()].entries()) {
      const reference = plain.logits([...prefix, ...ids]);
      let worst = 0;
      for (let i = 0; i < body.length * V; i++)
        worst = Math.max(worst, Math.abs(prompted[sequence * body.length * V + i]! - reference[prefix.length * V + i]!));
      expect(worst).toBeLessThan(1e-4);
    }
  });
});
