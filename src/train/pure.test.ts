import { describe, expect, it } from "vitest";
import { adamwUpdate, clipGradients, createMoments, globalNorm } from "./testing/referenceAdamW.js";
import { BatchLoader, packStream, packWhole, splitValidation } from "./batches.js";
import { Random } from "./random.js";
import { learningRateAt } from "./schedule.js";
import { encodeSafetensors } from "./safetensors.js";

describe("learningRateAt", () => {
  const options = { kind: "cosine" as const, peak: 1, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 };
  it("warms up linearly then follows a cosine to the floor", () => {
    expect(learningRateAt(0, options)).toBeCloseTo(0.25);
    expect(learningRateAt(3, options)).toBeCloseTo(1);
    expect(learningRateAt(4, options)).toBeCloseTo(1);
    expect(learningRateAt(13, options)).toBeCloseTo(0.1);
    // halfway through the decay: floor + (peak - floor) / 2
    expect(learningRateAt(4 + 4.5, options)).toBeCloseTo(0.55);
    expect(learningRateAt(7, { ...options, kind: "constant" })).toBe(1);
  });
});

describe("Random", () => {
  it("is reproducible from a seed and from a saved state", () => {
    const a = new Random(42);
    const first = [a.next(), a.next()];
    const saved = a.state;
    const rest = [a.next(), a.next()];
    expect(new Random(42).next()).toBe(first[0]);
    const resumed = new Random(saved);
    expect([resumed.next(), resumed.next()]).toEqual(rest);
    expect(new Random(43).next()).not.toBe(first[0]);
    const values = Array.from({ length: 10000 }, () => a.next());
    const mean = values.reduce((x, y) => x + y) / values.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });
});

describe("packing", () => {
  it("packStream predicts every token once across windows", () => {
    const document = { tokens: Int32Array.from([1, 10, 11, 12, 13, 2]), lossMask: Uint8Array.from([0, 1, 1, 1, 1, 1]) };
    const sequences = packStream([document], 4, 0);
    expect(sequences.map((s) => [...s.tokens])).toEqual([
      [1, 10, 11, 12, 13],
      [13, 2, 0, 0, 0],
    ]);
    expect(sequences.map((s) => [...s.lossMask])).toEqual([
      [1, 1, 1, 1],
      [1, 0, 0, 0],
    ]);
  });

  it("packWhole keeps documents whole, masks padding and the first token of a sequence", () => {
    const a = { tokens: Int32Array.from([5, 6, 7]), lossMask: Uint8Array.from([0, 0, 1]) };
    const b = { tokens: Int32Array.from([8, 9]), lossMask: Uint8Array.from([0, 1]) };
    const { sequences, truncated } = packWhole([a, b, a], 4, 0);
    expect(truncated).toBe(0);
    expect(sequences.map((s) => [...s.tokens])).toEqual([
      [5, 6, 7, 8, 9],
      [5, 6, 7, 0, 0],
    ]);
    // targets: 6(0) 7(1) 8(0) 9(1) | 6(0) 7(1) pad pad
    expect(sequences.map((s) => [...s.lossMask])).toEqual([
      [0, 1, 0, 1],
      [0, 1, 0, 0],
    ]);
  });
});

describe("BatchLoader", () => {
  const make = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) => ({ tokens: Int32Array.from([offset + i]), lossMask: new Uint8Array(1) }));

  it("visits every sequence once per epoch and resumes from its state", () => {
    const sources = [{ sequences: make(5, 0), weight: 1 }];
    const loader = new BatchLoader(sources, 7);
    const epoch = loader.nextBatch(5).map((s) => s.tokens[0]);
    expect([...epoch].sort()).toEqual([0, 1, 2, 3, 4]);
    loader.nextBatch(2);
    const state = loader.state;
    const expected = loader.nextBatch(6).map((s) => s.tokens[0]);
    const resumed = new BatchLoader(sources, 7, JSON.parse(JSON.stringify(state)));
    expect(resumed.nextBatch(6).map((s) => s.tokens[0])).toEqual(expected);
  });

  it("mixes sources by weight", () => {
    const loader = new BatchLoader(
      [
        { sequences: make(10, 0), weight: 3 },
        { sequences: make(10, 100), weight: 1 },
      ],
      1,
    );
    const drawn = loader.nextBatch(4000);
    const share = drawn.filter((s) => s.tokens[0]! >= 100).length / drawn.length;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.28);
  });

  it("splits validation deterministically", () => {
    const sequences = make(20, 0);
    const a = splitValidation(sequences, 0.1, 3, "x", true);
    const b = splitValidation(sequences, 0.1, 3, "x", true);
    expect(a.validation.length).toBe(2);
    expect(a.validation).toEqual(b.validation);
    expect(a.train.length).toBe(18);
  });
});

describe("AdamW", () => {
  it("matches a hand-computed PyTorch AdamW step", () => {
    // torch.optim.AdamW([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01), p=[1, -2], grad=[0.5, -1]
    const parameter = Float32Array.from([1, -2]);
    const moments = createMoments(2);
    adamwUpdate(parameter, Float32Array.from([0.5, -1]), moments, 1, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    // step 1: m_hat = g, v_hat = g^2 -> update = lr * sign(g); decay: p * (1 - lr*wd)
    expect(parameter[0]).toBeCloseTo(1 * (1 - 0.001) - 0.1, 6);
    expect(parameter[1]).toBeCloseTo(-2 * (1 - 0.001) + 0.1, 6);
  });

  it("clips the global norm", () => {
    const gradients = [Float32Array.from([3]), Float32Array.from([4])];
    const norm = globalNorm(gradients);
    expect(norm).toBe(5);
    clipGradients(gradients, norm, 1);
    expect(globalNorm(gradients)).toBeCloseTo(1, 5);
  });
});

describe("safetensors", () => {
  it("writes the documented layout", () => {
    const bytes = encodeSafetensors([{ name: "b", shape: [2], data: Float32Array.from([1, 2]) }, { name: "a", shape: [1, 1], data: Float32Array.from([3]) }], { format: "pt" });
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
    expect(header.a).toEqual({ dtype: "F32", shape: [1, 1], data_offsets: [0, 4] });
    expect(header.b).toEqual({ dtype: "F32", shape: [2], data_offsets: [4, 12] });
    expect(header.__metadata__).toEqual({ format: "pt" });
    expect(new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + headerLength))).toEqual(Float32Array.from([3, 1, 2]));
  });
});
