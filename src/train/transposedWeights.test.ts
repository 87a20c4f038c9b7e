/**
 * Transposed copies after a refresh equal the copies built at load (a refresh once transposed a
 * non-square weight as if it had the copy's shape, so full fine-tuning's input gradients through
 * FFN and k/v weights went wrong from the second step on), and BF16 working copies round the
 * master values. The refresh runs as graph nodes (refreshNodes), as in a training step.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bf16ToFp32, fp32ToBf16, GgmlType } from "../engine/gguf/index.js";
import { Backend, Context, Graph, Scheduler } from "../engine/index.js";
import { loadModel } from "../model/loadModel.js";
import { writeTinyModel } from "./testing/tinyModel.js";
import { TransposedWeights } from "./transposedWeights.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-transposed-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("TransposedWeights", () => {
  it("refresh of a non-square weight gives the transposed copy of load time; bf16 copies round the values", async () => {
    const file = path.join(dir, "tiny.gguf");
    await writeTinyModel(file, { vocab: 40, hidden: 32, layers: 1, heads: 4, kvHeads: 2, ffn: 96, seed: 3, context: 32 });
    using backend = Backend.cpu(1);
    using scheduler = new Scheduler([backend]);
    using model = loadModel(file, { backend });
    /** Runs the refresh nodes of `name` (from the weight's current values) on the backend. */
    const refresh = (copies: TransposedWeights, name: string) => {
      using context = new Context({ maxTensors: 16, graphBytes: Graph.bytesFor(16) });
      const graph = new Graph(context, { size: 16 });
      for (const node of copies.refreshNodes(context, name, model.weight(name))) graph.expand(node);
      scheduler.allocate(graph);
      scheduler.compute(graph);
      scheduler.reset();
    };
    const names = ["blk.0.ffn_up.weight", "blk.0.attn_k.weight", "blk.0.ffn_down.weight"];
    using exact = new TransposedWeights(model, backend, names);
    using mixed = new TransposedWeights(model, backend, names, new Set(names));
    for (const name of names) {
      const weight = model.weight(name);
      const [inputs, outputs] = weight.shape;
      expect(inputs).not.toBe(outputs);
      const values = weight.readFloats().slice();
      const copy = exact.byWeight.get(weight.pointer)!;
      expect(copy.shape.slice(0, 2)).toEqual([outputs, inputs]);
      const atLoad = copy.readFloats().slice();
      // element (row o, column i) of W is element (row i, column o) of the copy
      expect(atLoad[3 * outputs + 5]).toBe(values[5 * inputs + 3]);
      refresh(exact, name);
      expect(copy.readFloats()).toEqual(atLoad);

      const working = mixed.workingCopies.get(weight.pointer)!;
      const transposedBf16 = mixed.byWeight.get(weight.pointer)!;
      expect([working.type, transposedBf16.type]).toEqual([GgmlType.BF16, GgmlType.BF16]);
      const rounded = (value: number) => bf16ToFp32(fp32ToBf16(value));
      const workingValues = new Uint16Array(working.readBytes().slice().buffer);
      const transposedValues = new Uint16Array(transposedBf16.readBytes().slice().buffer);
      for (const index of [0, 7, values.length - 1]) expect(bf16ToFp32(workingValues[index]!)).toBe(rounded(values[index]!));
      const o = outputs - 1;
      const i = inputs - 2;
      expect(bf16ToFp32(transposedValues[i * outputs + o]!)).toBe(rounded(values[o * inputs + i]!));
      // after an update both copies follow the new master values
      const updated = values.map((value) => value + 0.25);
      weight.write(updated);
      refresh(mixed, name);
      expect(bf16ToFp32(new Uint16Array(working.readBytes().slice().buffer)[7]!)).toBe(rounded(updated[7]!));
      expect(bf16ToFp32(new Uint16Array(transposedBf16.readBytes().slice().buffer)[i * outputs + o]!)).toBe(rounded(updated[o * inputs + i]!));
    }
  });
});
