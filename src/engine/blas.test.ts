/**
 * ggml's BLAS backend (decision 0003): loaded beside node-llama-cpp's CPU backend, it takes the f32
 * matrix products of a scheduled graph and leaves the rest to the CPU, with the reference's values.
 * Runs when `npm run build:blas` has built the library (.ci/run does).
 */
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { EngineError } from "../shared/errors.js";
import { Backend, Context, GgmlType, Graph, Scheduler, defaultBlasLibrary } from "./index.js";

const built = fs.existsSync(defaultBlasLibrary());

describe("BLAS backend", () => {
  it.skipIf(!built)("runs a product on BLAS and the next op on the CPU, with the reference's values", () => {
    using blas = Backend.blas(1, defaultBlasLibrary());
    using cpu = Backend.cpu(1);
    expect(blas.name).toBe("BLAS");
    using weights = new Context({ maxTensors: 4 });
    // BLAS takes products from 32 rows/columns on (ggml-blas min_batch)
    const [k, m, n] = [96, 40, 48];
    const a = weights.tensor(GgmlType.F32, [k, m], "a");
    const b = weights.tensor(GgmlType.F32, [k, n], "b");
    using _buffer = cpu.allocate(weights);
    const av = Float32Array.from({ length: k * m }, (_, i) => Math.sin(i * 0.37));
    const bv = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.71));
    a.write(av);
    b.write(bv);
    using compute = new Context({ maxTensors: 16, graphBytes: Graph.bytesFor(64) });
    const product = compute.mulMat(a, b);
    const doubled = compute.add(product, product);
    const graph = new Graph(compute, { size: 64 }).expand(doubled);
    using scheduler = new Scheduler([blas, cpu], 64);
    scheduler.allocate(graph);
    scheduler.compute(graph);
    expect(scheduler.backendNameOf(product)).toBe("BLAS");
    expect(scheduler.backendNameOf(doubled)).toMatch(/^CPU/);
    const got = doubled.readFloats();
    for (let j = 0; j < n; j++)
      for (let i = 0; i < m; i++) {
        let sum = 0;
        for (let x = 0; x < k; x++) sum += av[i * k + x]! * bv[j * k + x]!;
        expect(got[j * m + i]).toBeCloseTo(2 * sum, 4);
      }
  });

  it("a missing library is an EngineError naming it", () => {
    expect(() => Backend.blas(1, "/nonexistent/libggml-blas.so")).toThrow(EngineError);
    expect(() => Backend.blas(1, "/nonexistent/libggml-blas.so")).toThrow(/nonexistent\/libggml-blas.so/);
  });
});

describe("multi-backend scheduler", () => {
  it.skipIf(!built)("refuses to allocate a graph a second time (ggml would read the input copies it freed)", () => {
    using blas = Backend.blas(1, defaultBlasLibrary());
    using cpu = Backend.cpu(1);
    using weights = new Context({ maxTensors: 2 });
    const a = weights.tensor(GgmlType.F32, [64, 64], "a");
    using _buffer = cpu.allocate(weights);
    a.write(new Float32Array(64 * 64).fill(0.5));
    using compute = new Context({ maxTensors: 8, graphBytes: Graph.bytesFor(16) });
    const graph = new Graph(compute, { size: 16 }).expand(compute.mulMat(a, a));
    using scheduler = new Scheduler([blas, cpu], 16);
    scheduler.allocate(graph);
    scheduler.compute(graph);
    scheduler.compute(graph);
    expect(scheduler.holds(graph)).toBe(true);
    scheduler.reset();
    expect(() => scheduler.allocate(graph)).toThrow(/allocated by a multi-backend scheduler before/);
  });
});
