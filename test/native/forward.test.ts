/**
 * Our llama-family forward pass against node-llama-cpp (llama.cpp) on the same GGUF and tokens:
 * full next-token log-probability vectors at every position.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { activeCpuVariant, Backend, Context, GgmlType } from "../../src/engine/index.js";
import { Evaluator, loadModel, logSoftmaxAt } from "../../src/model/index.js";
import { referenceLogprobs, writeF32Twin, writeTinyModel } from "./reference.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-forward-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

// Ids inside every fixture vocabulary (32000 for llama-spm), no special meaning needed. Ten
// positions: node-llama-cpp builds a Map of the whole vocabulary (152k for Qwen) per position.
const tokens = [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 100];

/** Our next-token log-probabilities (log-softmax of each row) at every position. */
function ourLogprobs(file: string, threads: number): Float64Array[] {
  using backend = Backend.cpu(threads);
  using model = loadModel(file, { backend });
  using evaluator = new Evaluator(model, { length: tokens.length });
  const logits = evaluator.logits(tokens);
  const V = evaluator.vocabSize;
  return tokens.map((_, position) => {
    const row = logits.subarray(position * V, (position + 1) * V);
    const shift = logSoftmaxAt(row, 0, V, 0).logprob - row[0]!;
    return Float64Array.from(row, (logit) => logit + shift);
  });
}

/** Max |a - b| over every position and every vocabulary entry. */
function maxDifference(a: Float64Array[], b: Float64Array[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let position = 0; position < a.length; position++) {
    const [x, y] = [a[position]!, b[position]!];
    expect(x.length).toBe(y.length);
    for (let token = 0; token < x.length; token++) worst = Math.max(worst, Math.abs(x[token]! - y[token]!));
  }
  return worst;
}

/**
 * Agreement of f32 arithmetic: the same f32 weights through our graph and through llama.cpp differ
 * only in the order of f32 sums (measured ~1e-5 on every variant). F32 weights take ggml-cpu's
 * standard mul_mat on every x86-64 variant: no extra buffer type holds F32 (AMX takes F16 and
 * quantised types, the repack buffer quantised types only), so this bound holds on any processor.
 */
const f32Bound = 1e-3;

/** Prints a measurement as one JSON line, which `npm run test:cpu-variants` collects per variant. */
function report(name: string, values: Record<string, number>): void {
  console.log(`forward-measurement ${JSON.stringify({ name, variant: activeCpuVariant(), ...values })}`);
}

describe.each([
  { architecture: "llama", extra: {} },
  { architecture: "qwen2", extra: {} },
  { architecture: "qwen3", extra: { headDim: 16 } },
])("$architecture forward equals node-llama-cpp", ({ architecture, extra }) => {
  it(`with f32 weights (max abs diff <= ${f32Bound})`, async () => {
    const file = path.join(directory, `${architecture}-f32.gguf`);
    await writeTinyModel(file, { architecture, ...extra });
    const difference = maxDifference(ourLogprobs(file, 2), await referenceLogprobs(file, tokens));
    report(`${architecture} f32`, { difference });
    expect(difference).toBeLessThanOrEqual(f32Bound);
  });

  it("with q8_0 weights (bounds derived from this machine's own rounding, below)", async () => {
    await expectWeightTypeAgrees({ architecture, ...extra, seed: 11 }, GgmlType.Q8_0, 1);
  });
});

/**
 * Our forward over f16 or quantised weights against llama.cpp's, with bounds that hold on any
 * x86-64 processor. The kernels for these types differ by processor in what they do to the
 * *activations*. ggml-cpu's standard mul_mat rounds them to the weight type's partner (F16 for
 * F16, Q8_0 for Q8_0, Q8_K for K-quants) identically on every variant (the same rounding; integer
 * dot products for the quantised ones); our engine always runs it. llama.cpp may instead put the
 * weights in an extra buffer type: on a processor with AMX its F16 kernel keeps the activations
 * in f32 (ggml-cpu/amx/mmq.cpp), which on a Sapphire Rapids machine moved f16 log-probs 6.0e-3 from
 * ours — the size of the activation rounding itself (6.4e-3 measured here), not an error. Its AMX
 * and repacked kernels for quantised types quantise the activations with the same functions as the
 * standard kernel (the same Sapphire Rapids run agreed on q8_0 within 2e-2, while rounding the
 * activations differently moves these models by 0.15-0.27). So:
 *
 * 1. f32 twin (the same, already rounded weights stored as f32): agreement to f32Bound.
 * 2. Either the reference ran our kernel — its log-probs on the file equal ours to f32Bound —
 * 3. or, for a float type only, it kept the activations in f32: its log-probs on the file equal
 *    ours on the twin to f32Bound, and then ours on the file is checked on its own: what our
 *    kernel does to the activations (ours on the file vs ours on the twin) is at most twice what
 *    rounding the *weights* to the same type does (llama.cpp's f32 path on the original weights
 *    vs on the twin). Rounding x_j or w_j element-wise to the same grid perturbs each product
 *    w_j x_j by the same distribution, so the two effects have the same size (measured ratio
 *    0.87-1.14 for f16 over seeds and variants); 2x is the margin for a maximum over the
 *    vocabulary being one draw. A wrongly loaded or converted weight moves all of these far more.
 */
async function expectWeightTypeAgrees(spec: Parameters<typeof writeTinyModel>[1], type: GgmlType, threads: number): Promise<void> {
  const name = `${spec.architecture}-${GgmlType[type]}-${spec.seed ?? 7}`;
  const [original, stored, twin] = ["f32", "stored", "twin"].map((kind) => path.join(directory, `${name}-${kind}.gguf`)) as [string, string, string];
  await writeTinyModel(original, spec);
  await writeTinyModel(stored, spec, type);
  await writeF32Twin(twin, stored, spec);
  const ours = { stored: ourLogprobs(stored, threads), twin: ourLogprobs(twin, threads) };
  const theirs = { original: await referenceLogprobs(original, tokens), stored: await referenceLogprobs(stored, tokens), twin: await referenceLogprobs(twin, tokens) };
  const measured = {
    twinDifference: maxDifference(ours.twin, theirs.twin),
    sameKernel: maxDifference(ours.stored, theirs.stored),
    f32Activations: maxDifference(ours.twin, theirs.stored),
    activationEffect: maxDifference(ours.stored, ours.twin),
    weightEffect: maxDifference(theirs.original, theirs.twin),
  };
  report(`${spec.architecture} ${GgmlType[type]}`, measured);
  expect(measured.twinDifference, "f32 twin: our graph vs llama.cpp").toBeLessThanOrEqual(f32Bound);
  if (measured.sameKernel <= f32Bound) return;
  const floatType = type === GgmlType.F16 || type === GgmlType.BF16;
  expect(floatType, `llama.cpp's ${GgmlType[type]} kernel differs from ours by ${measured.sameKernel} and is not an f32-activation float kernel`).toBe(true);
  expect(measured.f32Activations, "llama.cpp's kernel vs ours on the f32 twin (f32 activations)").toBeLessThanOrEqual(f32Bound);
  expect(measured.activationEffect, "our kernel's activation rounding vs the weights' own rounding").toBeLessThanOrEqual(2 * measured.weightEffect);
}

describe("other weight types (llama)", () => {
  it("f16 weights: the same kernel as ours, or f32 activations (AMX) and rounding-sized", async () => {
    await expectWeightTypeAgrees({ architecture: "llama", seed: 13 }, GgmlType.F16, 2);
  });

  it("q4_K weights (rows of 256)", async () => {
    await expectWeightTypeAgrees({ architecture: "llama", hidden: 256, heads: 4, kvHeads: 2, ffn: 256, layers: 1, tiedOutput: true }, GgmlType.Q4_K, 2);
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
