/**
 * Analytic gradients (ggml autodiff through our masked loss) against central finite differences of
 * the same loss, for LoRA, full and soft-prompt parameters of a tiny f32 llama. Also: labels of
 * masked positions do not move the gradient, and the mask does change it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Backend, Scheduler } from "../engine/index.js";
import { loadModel, type LlamaModel } from "../model/loadModel.js";
import type { PackedSequence } from "./batches.js";
import { LossGraph } from "./lossGraph.js";
import { Random } from "./random.js";
import { writeTinyModel } from "./testing/tinyModel.js";
import { centralDifferenceErrors } from "./testing/finiteDifferences.js";
import { TrainableSet, type TrainableSetOptions } from "./trainable.js";
import { TransposedWeights } from "./transposedWeights.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-grad-"));
const modelPath = path.join(dir, "tiny.gguf");
let backend: Backend;
let scheduler: Scheduler;
let model: LlamaModel;

const T = 8;
const B = 2;

function sequences(seed: number, maskEvery = 3): PackedSequence[] {
  const random = new Random(seed);
  return Array.from({ length: B }, () => ({
    tokens: Int32Array.from({ length: T + 1 }, () => random.int(64)),
    // some positions masked out, as in SFT
    lossMask: Uint8Array.from({ length: T }, (_, t) => (t % maskEvery === 1 ? 0 : 1)),
  }));
}

function options(method: TrainableSetOptions["method"]): TrainableSetOptions {
  return {
    method,
    lora: { rank: 4, alpha: 8, targets: ["q", "k", "v", "o", "gate", "up", "down"] },
    subset: { targets: ["q"] },
    softPrompt: { tokens: 3 },
    seed: 5,
  };
}

beforeAll(async () => {
  await writeTinyModel(modelPath, { vocab: 64, hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 48, seed: 3 });
  backend = Backend.cpu(1);
  scheduler = new Scheduler([backend]);
  model = loadModel(modelPath, { backend });
});

afterAll(() => {
  model?.dispose();
  scheduler?.dispose();
  backend?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Relative error of analytic vs central-difference gradient on the entries with the largest |g|. */
function checkAgainstFiniteDifferences(trainable: TrainableSet, names: string[], batch: PackedSequence[], transposedWeights?: TransposedWeights, matMulBackward = false) {
  using graph = new LossGraph(model, trainable, scheduler, { batch: B, length: T, transposedWeights, matMulBackward });
  const analytic = graph.run(batch, true).gradients!;
  const errors = centralDifferenceErrors(trainable, names, analytic, () => graph.run(batch, false).meanLoss, 6);
  // every checked entry must carry a real gradient, or the comparison proves nothing
  for (const name of names) expect(Math.max(...analytic.get(name)!.map(Math.abs))).toBeGreaterThan(1e-3);
  if (process.env.VERTICAL_DEBUG_GRADIENTS) console.log(names, errors.map((e) => e.toExponential(1)).join(" "));
  return Math.max(...errors);
}

describe("gradients vs finite differences (f32)", () => {
  it("LoRA A and B", () => {
    using trainable = TrainableSet.create(model, backend, options("lora"));
    // B starts at zero (PEFT init), which makes A's gradient zero; give B values to test both.
    const random = new Random(9);
    for (const parameter of trainable.parameters) {
      if (parameter.name.endsWith("lora_b")) {
        parameter.tensor.write(Float32Array.from({ length: parameter.tensor.elements }, () => random.uniform(-0.3, 0.3)));
      }
    }
    const error = checkAgainstFiniteDifferences(
      trainable,
      ["blk.0.attn_q.weight.lora_a", "blk.1.ffn_down.weight.lora_b", "blk.0.attn_v.weight.lora_a", "blk.1.attn_output.weight.lora_b"],
      sequences(1),
    );
    expect(error).toBeLessThanOrEqual(1e-2);
  });

  it("full fine-tuning", () => {
    using trainable = TrainableSet.create(model, backend, options("full"));
    const error = checkAgainstFiniteDifferences(
      trainable,
      ["token_embd.weight", "blk.0.attn_k.weight", "blk.1.ffn_gate.weight", "output.weight", "blk.1.attn_norm.weight"],
      sequences(2),
    );
    expect(error).toBeLessThanOrEqual(1e-2);
    // restore: full marks the model's own weights; later tests reload a fresh model
  });

  it("soft prompt", async () => {
    model.dispose();
    model = loadModel(modelPath, { backend });
    using trainable = TrainableSet.create(model, backend, options("soft-prompt"));
    const error = checkAgainstFiniteDifferences(trainable, ["soft_prompt"], sequences(3));
    expect(error).toBeLessThanOrEqual(1e-2);
  });
});

describe("input gradients through transposed weights (mul_mat instead of out_prod)", () => {
  function linearNames(): string[] {
    const names = [model.outputWeightName];
    for (let layer = 0; layer < 2; layer++)
      for (const stem of ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]) names.push(`blk.${layer}.${stem}.weight`);
    return names;
  }

  it("gives the same gradients as ggml's own backward, and they match finite differences", () => {
    model.dispose();
    model = loadModel(modelPath, { backend });
    for (const method of ["lora", "full"] as const) {
      using trainable = TrainableSet.create(model, backend, options(method));
      const random = new Random(12);
      for (const parameter of trainable.parameters)
        if (parameter.name.endsWith("lora_b"))
          parameter.tensor.write(Float32Array.from({ length: parameter.tensor.elements }, () => random.uniform(-0.3, 0.3)));
      using transposed = new TransposedWeights(model, backend, linearNames());
      expect(transposed.byWeight.size).toBe(15);
      const batch = sequences(8);
      using plain = new LossGraph(model, trainable, scheduler, { batch: B, length: T });
      using fast = new LossGraph(model, trainable, scheduler, { batch: B, length: T, transposedWeights: transposed });
      // and every remaining out_prod (weight, LoRA, attention gradients) as mul_mat of transposed copies
      using fastest = new LossGraph(model, trainable, scheduler, { batch: B, length: T, transposedWeights: transposed, matMulBackward: true });
      const expected = plain.run(batch, true);
      for (const graph of [fast, fastest]) {
        const actual = graph.run(batch, true);
        // every linear except layer 0's q/k/v/gate/up (whose input needs no gradient) and, for LoRA, none lost
        expect(graph.rewrittenProducts).toBeGreaterThanOrEqual(10);
        expect(actual.meanLoss).toBe(expected.meanLoss);
        for (const [name, gradient] of expected.gradients!) {
          const other = actual.gradients!.get(name)!;
          let difference = 0;
          let norm = 0;
          for (let i = 0; i < gradient.length; i++) {
            difference = Math.max(difference, Math.abs(gradient[i]! - other[i]!));
            norm = Math.max(norm, Math.abs(gradient[i]!));
          }
          if (process.env.VERTICAL_DEBUG_GRADIENTS) console.log(method, graph === fast ? "fast" : "fastest", name, difference, norm);
          expect(difference, name).toBeLessThanOrEqual(1e-5 * Math.max(norm, 1e-3));
        }
      }
      // weight gradients of full (7 per block + LM head), LoRA's A/B gradients and attention's products
      expect(fastest.matMulProducts).toBeGreaterThanOrEqual(method === "full" ? 15 : 28);
      expect(fast.matMulProducts).toBe(0);
      const names = method === "lora" ? ["blk.0.attn_q.weight.lora_a", "blk.1.ffn_up.weight.lora_b"] : ["blk.0.attn_v.weight", "token_embd.weight"];
      expect(checkAgainstFiniteDifferences(trainable, names, batch, transposed)).toBeLessThanOrEqual(1e-2);
      expect(checkAgainstFiniteDifferences(trainable, names, batch, transposed, true)).toBeLessThanOrEqual(1e-2);
      model.dispose();
      model = loadModel(modelPath, { backend });
    }
  });
});

describe("loss mask", () => {
  it("labels of masked positions do not move the gradient; the mask itself does", () => {
    model.dispose();
    model = loadModel(modelPath, { backend });
    using trainable = TrainableSet.create(model, backend, options("lora"));
    const random = new Random(4);
    for (const parameter of trainable.parameters)
      if (parameter.name.endsWith("lora_b"))
        parameter.tensor.write(Float32Array.from({ length: parameter.tensor.elements }, () => random.uniform(-0.3, 0.3)));
    using graph = new LossGraph(model, trainable, scheduler, { batch: B, length: T });
    const batch = sequences(6);
    // the last target of each sequence is never an input: mask it and vary it freely
    for (const sequence of batch) sequence.lossMask[T - 1] = 0;
    const reference = graph.run(batch, true);
    for (const label of [0, 17, 63]) {
      const changed = batch.map((sequence) => ({ tokens: sequence.tokens.slice(), lossMask: sequence.lossMask }));
      for (const sequence of changed) sequence.tokens[T] = label;
      const result = graph.run(changed, true);
      expect(result.meanLoss).toBe(reference.meanLoss);
      for (const [name, gradient] of reference.gradients!) expect(result.gradients!.get(name)).toEqual(gradient);
    }
    const unmasked = batch.map((sequence) => ({ tokens: sequence.tokens, lossMask: new Uint8Array(T).fill(1) }));
    const all = graph.run(unmasked, true);
    expect(all.targetCount).toBe(B * T);
    expect(all.gradients!.get("blk.0.attn_q.weight.lora_b")).not.toEqual(reference.gradients!.get("blk.0.attn_q.weight.lora_b"));
  });
});
