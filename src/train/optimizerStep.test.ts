/**
 * The optimiser inside the training graph (accumulation, global norm, clipping, AdamW with and
 * without weight decay, over two steps so moments and bias corrections carry) against the plain
 * TypeScript reference applied to gradients read back from the same graph.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Backend, Scheduler } from "../engine/index.js";
import { loadModel } from "../model/loadModel.js";
import type { PackedSequence } from "./batches.js";
import { LossGraph } from "./lossGraph.js";
import { OptimizerState, type AdamWMoments } from "./optimizerState.js";
import { Random } from "./random.js";
import { adamwUpdate, clipGradients, createMoments, globalNorm } from "./testing/referenceAdamW.js";
import { writeTinyModel } from "./testing/tinyModel.js";
import { TrainableSet } from "./trainable.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-optimizer-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const T = 8;
const B = 2;

function sequences(seed: number): PackedSequence[] {
  const random = new Random(seed);
  return Array.from({ length: B }, () => ({
    tokens: Int32Array.from({ length: T + 1 }, () => random.int(64)),
    lossMask: Uint8Array.from({ length: T }, (_, t) => (t % 3 === 1 ? 0 : 1)),
  }));
}

describe("in-graph optimiser step", () => {
  it("equals gradients read back + reference clipping and AdamW, over two accumulated steps", async () => {
    const file = path.join(dir, "tiny.gguf");
    await writeTinyModel(file, { vocab: 64, hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 48, seed: 3 });
    using backend = Backend.cpu(1);
    using scheduler = new Scheduler([backend]);
    using model = loadModel(file, { backend });
    // full fine-tuning: linear weights decay, norm gains do not
    using trainable = TrainableSet.create(model, backend, {
      method: "full",
      lora: { rank: 4, alpha: 8, targets: ["q"] },
      subset: { targets: ["q"] },
      softPrompt: { tokens: 0 },
      seed: 1,
    });
    expect(trainable.parameters.some((parameter) => !parameter.decay)).toBe(true);
    using state = new OptimizerState(backend, trainable.parameters, { accumulate: true });
    using graph = new LossGraph(model, trainable, scheduler, { batch: B, length: T, matMulBackward: true, optimizer: state });
    const optimizer = { lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    const values = new Map(trainable.parameters.map((parameter) => [parameter.name, parameter.tensor.readFloats().slice()]));
    const moments = new Map<string, AdamWMoments>(trainable.parameters.map((parameter) => [parameter.name, createMoments(parameter.tensor.elements)]));

    for (const [step, gradClip] of [
      [1, 0.5],
      [2, 0],
    ] as const) {
      const micro = [sequences(10 * step), sequences(10 * step + 1)];
      const counts = micro.map((batch) => LossGraph.countTargets(batch));
      const total = counts[0]! + counts[1]!;
      // reference: gradients read back, weighted by target share, clipped, AdamW in TypeScript
      const gradients = new Map(trainable.parameters.map((parameter) => [parameter.name, new Float32Array(parameter.tensor.elements)]));
      micro.forEach((batch, index) => {
        for (const [name, gradient] of graph.run(batch, true).gradients!) {
          const sum = gradients.get(name)!;
          for (let i = 0; i < sum.length; i++) sum[i]! += (counts[index]! / total) * gradient[i]!;
        }
      });
      const norm = globalNorm(gradients.values());
      expect(clipGradients([...gradients.values()], norm, gradClip)).toBe(gradClip > 0 ? 0.5 / (norm + 1e-6) : 1);
      for (const parameter of trainable.parameters) {
        adamwUpdate(values.get(parameter.name)!, gradients.get(parameter.name)!, moments.get(parameter.name)!, step, optimizer, parameter.decay);
      }

      state.setStep(step, optimizer, gradClip);
      graph.step(micro[0]!, "first", counts[0]! / total);
      const last = graph.step(micro[1]!, "last", counts[1]! / total);
      expect(Math.abs(last.gradNorm! - norm) / norm).toBeLessThan(1e-5);
      for (const parameter of trainable.parameters) {
        const expected = values.get(parameter.name)!;
        const actual = parameter.tensor.readFloats();
        let worst = 0;
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
        // f32 in ggml vs f64 here; one step moves a value by ~lr = 1e-2
        expect(worst, parameter.name).toBeLessThan(1e-6);
        const { m, v } = state.read(parameter.name);
        const reference = moments.get(parameter.name)!;
        expect(Math.abs(m[0]! - reference.m[0]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(reference.m[0]!)));
        expect(Math.abs(v[1]! - reference.v[1]!)).toBeLessThanOrEqual(1e-6 * Math.max(1e-6, Math.abs(reference.v[1]!)));
        // the reference continues from the engine's values so that each step is compared alone
        expected.set(actual);
      }
    }
  });
});
