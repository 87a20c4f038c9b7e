/**
 * Per-document attention in packed sequences: the packers record where documents begin, and with
 * `documentAttention` a document packed after another scores exactly as it does alone (RoPE sees only
 * relative positions), while plain causal attention lets the first document leak into the second.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Backend, Scheduler } from "../engine/index.js";
import { loadModel } from "../model/loadModel.js";
import { packStream, packWhole, segmentOf, type PackedSequence } from "./batches.js";
import { LossGraph } from "./lossGraph.js";
import { Random } from "./random.js";
import { writeTinyModel } from "./testing/tinyModel.js";
import { TrainableSet } from "./trainable.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-docattn-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const document = (tokens: number[], lossMask?: number[]) => ({ tokens: Int32Array.from(tokens), lossMask: Uint8Array.from(lossMask ?? tokens.map(() => 1)) });

describe("packing records document starts", () => {
  it("packStream: starts inside each window, a window opening mid-document starts at 0, padding is its own segment", () => {
    const sequences = packStream([document([1, 2, 3]), document([4, 5, 6, 7, 8]), document([9, 10])], 4, 0);
    // stream 1..10 cut into windows of 5 tokens overlapping by one: [1..5] [5..9] [9, 10, pad...]
    expect(sequences.map((sequence) => [...sequence.segmentStarts!])).toEqual([
      [0, 3],
      [0, 4],
      [0, 2],
    ]);
    expect([...segmentOf(sequences[0]!, 4)]).toEqual([0, 0, 0, 1]);
  });

  it("packWhole: one segment per conversation, then the padding", () => {
    const { sequences } = packWhole([document([1, 2, 3]), document([4, 5]), document([6, 7, 8, 9])], 5, 0);
    expect(sequences.map((sequence) => [...sequence.segmentStarts!])).toEqual([
      [0, 3, 5],
      [0, 4],
    ]);
  });
});

describe("per-document attention", () => {
  it("a packed document's loss equals its loss alone; across-documents attention differs", async () => {
    const file = path.join(dir, "tiny.gguf");
    await writeTinyModel(file, { vocab: 64, hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 48, seed: 3 });
    using backend = Backend.cpu(1);
    using scheduler = new Scheduler([backend]);
    using model = loadModel(file, { backend });
    using trainable = TrainableSet.create(model, backend, {
      method: "lora",
      lora: { rank: 4, alpha: 8, targets: ["q", "v"] },
      subset: { targets: ["q"] },
      softPrompt: { tokens: 0 },
      seed: 1,
    });
    const random = new Random(4);
    const first = Array.from({ length: 9 }, () => random.int(64));
    const second = Array.from({ length: 12 }, () => random.int(64));
    // packed: [first, second]; targets: the second document's tokens after its first one
    const T = first.length + second.length - 1;
    const packed: PackedSequence = {
      tokens: Int32Array.from([...first, ...second]),
      lossMask: Uint8Array.from({ length: T }, (_, t) => (t >= first.length ? 1 : 0)),
      segmentStarts: Int32Array.of(0, first.length),
    };
    const alone: PackedSequence = { tokens: Int32Array.from(second), lossMask: new Uint8Array(second.length - 1).fill(1) };
    const loss = (sequence: PackedSequence, length: number, documentAttention: boolean) => {
      using graph = new LossGraph(model, trainable, scheduler, { batch: 1, length, documentAttention });
      return graph.run([sequence], false).meanLoss;
    };
    const reference = loss(alone, second.length - 1, true);
    const isolated = loss(packed, T, true);
    const shared = loss(packed, T, false);
    expect(Math.abs(isolated - reference)).toBeLessThan(1e-5);
    expect(Math.abs(shared - reference)).toBeGreaterThan(1e-3);

    // Gradients through the mask: with one document the mask is the causal one, so they must equal
    // the causal graph's (which gradients.test.ts checks against finite differences). A 4-D reshape
    // around the masked softmax once broke exactly this while leaving the loss right.
    const gradients = (documentAttention: boolean) => {
      using graph = new LossGraph(model, trainable, scheduler, { batch: 1, length: second.length - 1, documentAttention });
      return graph.run([alone], true).gradients!;
    };
    const masked = gradients(true);
    for (const [name, causal] of gradients(false)) {
      const other = masked.get(name)!;
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < causal.length; i++) {
        worst = Math.max(worst, Math.abs(other[i]! - causal[i]!));
        scale = Math.max(scale, Math.abs(causal[i]!));
      }
      expect(worst, name).toBeLessThanOrEqual(1e-6 * Math.max(scale, 1e-3));
    }
  });
});
