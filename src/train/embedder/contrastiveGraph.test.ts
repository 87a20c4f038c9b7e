/**
 * The bi-encoder's InfoNCE graph: its loss equals the formula computed in TypeScript from the engine's
 * own embeddings (EmbeddingEvaluator), and its LoRA and full gradients equal central finite
 * differences of that loss, for mean and last-token pooling, on a tiny f32 llama.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Backend, Scheduler } from "../../engine/index.js";
import { EmbeddingEvaluator } from "../../model/embeddingEvaluator.js";
import { loadModel, type LlamaModel } from "../../model/loadModel.js";
import type { Pooling } from "../../model/poolEmbeddings.js";
import { Random } from "../random.js";
import { writeTinyModel } from "../testing/tinyModel.js";
import { TrainableSet, type TrainableSetOptions } from "../trainable.js";
import { centralDifferenceErrors } from "../testing/finiteDifferences.js";
import { ContrastiveGraph, type ContrastiveBatch, type PaddedSequences } from "./contrastiveGraph.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-contrastive-"));
const modelPath = path.join(dir, "tiny.gguf");
let backend: Backend;
let scheduler: Scheduler;
let model: LlamaModel;

const B = 3;
const P = 5; // 3 positives + 2 hard negatives
const Tq = 5;
const Tp = 7;
const temperature = 0.1;

function padded(count: number, length: number, random: Random): PaddedSequences {
  const tokens = new Int32Array(count * length);
  // lengths differ, so the padding and the pooling weights are exercised
  const lengths = Array.from({ length: count }, () => 2 + random.int(length - 1));
  lengths.forEach((real, c) => {
    for (let t = 0; t < real; t++) tokens[c * length + t] = random.int(64);
  });
  return { tokens, lengths };
}

function batchOf(seed: number): ContrastiveBatch {
  const random = new Random(seed);
  return { queries: padded(B, Tq, random), passages: padded(P, Tp, random) };
}

function trainableOptions(method: TrainableSetOptions["method"]): TrainableSetOptions {
  return { method, lora: { rank: 4, alpha: 8, targets: ["q", "k", "v", "o", "gate", "up", "down"] }, subset: { targets: ["q"] }, softPrompt: { tokens: 1 }, seed: 5 };
}

beforeAll(async () => {
  await writeTinyModel(modelPath, { vocab: 64, hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 48, seed: 3, scale: 0.4 });
  backend = Backend.cpu(1);
  scheduler = new Scheduler([backend], 65536);
  model = loadModel(modelPath, { backend });
});

afterAll(() => {
  model?.dispose();
  scheduler?.dispose();
  backend?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

function unpad(sequences: PaddedSequences, length: number): number[][] {
  return sequences.lengths.map((real, c) => [...sequences.tokens.subarray(c * length, c * length + real)]);
}

/** InfoNCE of query b picking passage b, in double precision from separately computed embeddings. */
function referenceLoss(batch: ContrastiveBatch, pooling: Pooling): number {
  using queryEvaluator = new EmbeddingEvaluator(model, { batch: 1, length: Tq, pooling });
  using passageEvaluator = new EmbeddingEvaluator(model, { batch: 1, length: Tp, pooling });
  // one at a time: the graph's batching must not change an embedding
  const queries = unpad(batch.queries, Tq).map((tokens) => queryEvaluator.embed([tokens])[0]!);
  const passages = unpad(batch.passages, Tp).map((tokens) => passageEvaluator.embed([tokens])[0]!);
  let total = 0;
  queries.forEach((query, b) => {
    const logits = passages.map((passage) => passage.reduce((sum, value, i) => sum + value * query[i]!, 0) / temperature);
    const max = Math.max(...logits);
    const logSum = Math.log(logits.reduce((sum, logit) => sum + Math.exp(logit - max), 0)) + max;
    total += logSum - logits[b]!;
  });
  return total / queries.length;
}

function maxFiniteDifferenceError(graph: ContrastiveGraph, trainable: TrainableSet, names: string[], batch: ContrastiveBatch): number {
  const analytic = graph.run(batch, true).gradients!;
  // a gradient of zero would make the comparison prove nothing
  for (const name of names) expect(Math.max(...analytic.get(name)!.map(Math.abs))).toBeGreaterThan(1e-3);
  const errors = centralDifferenceErrors(trainable, names, analytic, () => graph.run(batch, false).loss, 5);
  return Math.max(...errors);
}

describe.each(["mean", "last"] as const)("contrastive graph, %s pooling", (pooling) => {
  const options = { queries: B, passages: P, queryLength: Tq, passageLength: Tp, pooling, temperature };

  it("computes InfoNCE over the pooled, normalised embeddings", () => {
    using trainable = TrainableSet.create(model, backend, trainableOptions("lora"));
    using graph = new ContrastiveGraph(model, trainable, scheduler, options);
    const batch = batchOf(1);
    const loss = graph.run(batch, false).loss;
    expect(loss).toBeGreaterThan(0);
    expect(Math.abs(loss - referenceLoss(batch, pooling))).toBeLessThan(1e-4);
  });

  it("LoRA gradients equal finite differences", () => {
    using trainable = TrainableSet.create(model, backend, trainableOptions("lora"));
    // B starts at zero (PEFT init), which zeroes A's gradient; give B values so both are tested
    const random = new Random(9);
    for (const parameter of trainable.parameters)
      if (parameter.name.endsWith("lora_b")) parameter.tensor.write(Float32Array.from({ length: parameter.tensor.elements }, () => random.uniform(-0.3, 0.3)));
    using graph = new ContrastiveGraph(model, trainable, scheduler, options);
    const error = maxFiniteDifferenceError(graph, trainable, ["blk.0.attn_q.weight.lora_a", "blk.1.ffn_down.weight.lora_b", "blk.1.attn_v.weight.lora_a"], batchOf(2));
    expect(error).toBeLessThanOrEqual(1e-2);
  });

  it("full fine-tuning gradients equal finite differences", () => {
    // full marks the model's own weights: a fresh model, so later tests see the file's values
    using fresh = loadModel(modelPath, { backend });
    using trainable = TrainableSet.create(fresh, backend, trainableOptions("full"));
    using graph = new ContrastiveGraph(fresh, trainable, scheduler, options);
    const error = maxFiniteDifferenceError(graph, trainable, ["token_embd.weight", "blk.0.attn_k.weight", "blk.1.ffn_gate.weight", "output_norm.weight"], batchOf(3));
    expect(error).toBeLessThanOrEqual(1e-2);
  });
});
