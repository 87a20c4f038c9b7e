import { describe, expect, it } from "vitest";
import { DisposedError, EngineError } from "../shared/errors.js";
import { Backend, Context, GgmlType, Graph, Scheduler, quantizeRows } from "./index.js";

function matmulReference(a: Float32Array, b: Float32Array, k: number, m: number, n: number): Float32Array {
  // a: [k, m] (m rows of k), b: [k, n] -> out [m, n] (n rows of m)
  const out = new Float32Array(m * n);
  for (let j = 0; j < n; j++)
    for (let i = 0; i < m; i++) {
      let sum = 0;
      for (let x = 0; x < k; x++) sum += a[i * k + x]! * b[j * k + x]!;
      out[j * m + i] = sum;
    }
  return out;
}

describe("engine", () => {
  it("multiplies matrices on the CPU backend through the scheduler", () => {
    using backend = Backend.cpu(1);
    using weights = new Context({ maxTensors: 4 });
    const a = weights.tensor(GgmlType.F32, [64, 3], "a");
    const b = weights.tensor(GgmlType.F32, [64, 5], "b");
    using buffer = backend.allocate(weights);
    expect(buffer.bytes).toBeGreaterThanOrEqual(64 * 8 * 4);
    const av = Float32Array.from({ length: 64 * 3 }, (_, i) => Math.sin(i));
    const bv = Float32Array.from({ length: 64 * 5 }, (_, i) => Math.cos(i * 0.7));
    a.write(av);
    b.write(bv);
    using compute = new Context({ maxTensors: 16, graphBytes: Graph.bytesFor(64) });
    const c = compute.mulMat(a, b);
    expect(c.shape).toEqual([3, 5, 1, 1]);
    const graph = new Graph(compute, { size: 64 }).expand(c);
    using scheduler = new Scheduler([backend], 64);
    scheduler.allocate(graph);
    scheduler.compute(graph);
    const got = c.readFloats();
    const want = matmulReference(av, bv, 64, 3, 5);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
  });

  it("refuses bad shapes and thread counts before ggml sees them", () => {
    expect(() => Backend.cpu(0)).toThrow(EngineError);
    expect(() => Backend.cpu(-1)).toThrow(/positive integer/);
    using context = new Context({ maxTensors: 8 });
    const a = context.tensor(GgmlType.F32, [4, 3]);
    const b = context.tensor(GgmlType.F32, [5, 2]);
    expect(() => context.mulMat(a, b)).toThrow(/mul_mat/);
    expect(() => context.add(a, b)).toThrow(/broadcast/);
    expect(() => context.reshape(a, [5, 3])).toThrow(/values/);
    expect(() => context.tensor(GgmlType.Q4_K, [64, 2])).toThrow(/multiple of 256/);
    expect(() => a.write(new Float32Array(4))).toThrow(/no memory/);
  });

  it("throws DisposedError after dispose and a clear error when the context is full", () => {
    const context = new Context({ maxTensors: 2 });
    const a = context.tensor(GgmlType.F32, [4]);
    context.tensor(GgmlType.F32, [4]);
    expect(() => context.tensor(GgmlType.F32, [4])).toThrow(/context is full/);
    context.dispose();
    expect(() => a.pointer).toThrow(DisposedError);
    expect(() => context.tensor(GgmlType.F32, [4])).toThrow(DisposedError);
    const backend = Backend.cpu(1);
    backend.dispose();
    expect(() => backend.setThreads(1)).toThrow(DisposedError);
  });

  it("quantises rows like ggml and validates k-quant row lengths", () => {
    const values = Float32Array.from({ length: 256 * 2 }, (_, i) => Math.sin(i) * 0.1);
    expect(quantizeRows(GgmlType.Q8_0, values, 2, 256).length).toBe(2 * 8 * 34);
    expect(quantizeRows(GgmlType.Q4_K, values, 2, 256).length).toBe(2 * 144);
    expect(quantizeRows(GgmlType.F16, values, 2, 256).length).toBe(2 * 256 * 2);
    expect(() => quantizeRows(GgmlType.Q4_K, values, 4, 128)).toThrow(/multiple of 256/);
    expect(() => quantizeRows(GgmlType.Q8_0, values, 3, 256)).toThrow(/values given/);
  });
});

describe("graph capacity", () => {
  it("refuses an expansion that would overflow the graph, before ggml aborts", () => {
    using context = new Context({ maxTensors: 64, graphBytes: Graph.bytesFor(4) + Graph.bytesFor(64) });
    const a = context.tensor(GgmlType.F32, [4]);
    let x = a;
    for (let i = 0; i < 6; i++) x = context.add(x, a);
    expect(() => new Graph(context, { size: 4 }).expand(x)).toThrow(/holds 4 nodes.*needs 6/);
    const graph = new Graph(context, { size: 64 }).expand(x);
    expect(graph.nodeCount).toBe(6);
    expect(graph.leafCount).toBe(1);
    // Expanding again with shared parents counts only the new nodes.
    graph.expand(context.scale(x, 2));
    expect(graph.nodeCount).toBe(7);
  });

  it("refuses a backward pass into a graph too small for it", () => {
    using context = new Context({ maxTensors: 64, graphBytes: Graph.bytesFor(12, true) });
    const w = context.tensor(GgmlType.F32, [4]).markParameter();
    const loss = context.sum(context.mul(context.add(w, w), w)).markLoss();
    const graph = new Graph(context, { size: 12, gradients: true }).expand(loss);
    expect(() => graph.expandBackward()).toThrow(/needs a graph of about \d+, this one holds 12/);
  });
});

describe("views", () => {
  it("refuses element-wise ops on transposed views (the CPU kernels would abort)", () => {
    using context = new Context({ maxTensors: 16 });
    const a = context.tensor(GgmlType.F32, [4, 3]);
    const t = context.transpose(a);
    expect(() => context.rmsNorm(t, 1e-5)).toThrow(/transposed view/);
    expect(() => context.add(t, t)).toThrow(/transposed view/);
    expect(() => context.reshape(t, [12, 1])).toThrow(/not contiguous/);
    expect(context.rmsNorm(context.cont(t), 1e-5).shape).toEqual([3, 4, 1, 1]);
  });
});
