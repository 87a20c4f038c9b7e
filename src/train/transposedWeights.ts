/**
 * Transposed copies (ne [out, in]) of the model's f32 linear weights, so the backward pass can
 * compute input gradients with mul_mat instead of ggml's slower out_prod (Graph.useTransposedWeights).
 * Copies of weights that are themselves trained are rewritten inside the training graph after every
 * optimiser step (refreshNodes). Frozen Q8_0 weights get a Q8_0 copy (QLoRA-style runs keep the
 * fast quantised product in the backward).
 * Mixed precision (`compute: bf16`): trained f32 weights get BF16 copies, both transposed (input
 * gradients) and as they are (forward products, Graph.useWorkingCopies), rounded from the f32
 * master values after every step; the master values, AdamW and the gradients stay f32.
 */
import { fromF32, toF32 } from "../engine/gguf/index.js";
import { Context, GgmlType, type Backend, type BackendBuffer, type Tensor } from "../engine/index.js";
import type { LlamaModel } from "../model/loadModel.js";

function transpose(values: Float32Array, rows: number, columns: number): Float32Array {
  // values: `rows` rows of `columns` -> `columns` rows of `rows`
  const out = new Float32Array(values.length);
  const block = 64;
  for (let r0 = 0; r0 < rows; r0 += block)
    for (let c0 = 0; c0 < columns; c0 += block)
      for (let r = r0; r < Math.min(rows, r0 + block); r++)
        for (let c = c0; c < Math.min(columns, c0 + block); c++) out[c * rows + r] = values[r * columns + c]!;
  return out;
}

export class TransposedWeights implements Disposable {
  /** Weight pointer -> its transposed copy, for Graph.useTransposedWeights. */
  readonly byWeight = new Map<bigint, Tensor>();
  /** Weight pointer -> its BF16 working copy (same shape), for Graph.useWorkingCopies. */
  readonly workingCopies = new Map<bigint, Tensor>();
  private readonly byName = new Map<string, Tensor>();
  private readonly workingByName = new Map<string, Tensor>();
  private readonly context: Context;
  private readonly buffer: BackendBuffer | undefined;

  /** Copies of every 2-D f32 or q8_0 weight of `names` (others are skipped and keep ggml's out_prod). */
  constructor(model: LlamaModel, backend: Backend, names: readonly string[], bf16Names: ReadonlySet<string> = new Set()) {
    const weights = names
      .map((name) => ({ name, weight: model.weight(name) }))
      .filter(
        ({ weight }) =>
          (weight.type === GgmlType.F32 || (weight.type === GgmlType.Q8_0 && weight.shape[1] % 32 === 0)) &&
          weight.shape[2] === 1 &&
          weight.shape[3] === 1 &&
          weight.shape[1] > 1,
      );
    this.context = new Context({ maxTensors: 2 * weights.length + 1 });
    const pending: { name: string; weight: Tensor; copy: Tensor }[] = [];
    for (const { name, weight } of weights) {
      const bf16 = weight.type === GgmlType.F32 && bf16Names.has(name);
      const copy = this.context.tensor(bf16 ? GgmlType.BF16 : weight.type, [weight.shape[1], weight.shape[0]], `${name}.T`.slice(0, 63));
      pending.push({ name, weight, copy });
      this.byName.set(name, copy);
      this.byWeight.set(weight.pointer, copy);
      if (bf16) {
        const working = this.context.tensor(GgmlType.BF16, [weight.shape[0], weight.shape[1]], `${name}.bf16`.slice(0, 63));
        this.workingByName.set(name, working);
        this.workingCopies.set(weight.pointer, working);
      }
    }
    this.buffer = pending.length > 0 ? backend.allocate(this.context) : undefined;
    for (const { name, weight, copy } of pending) {
      const values = weight.type === GgmlType.F32 ? weight.readFloats() : toF32(weight.type, weight.readBytes());
      // values: `out` rows of `in` (ne [in, out]); the copy has ne [out, in]
      copy.write(fromF32(copy.type, transpose(values, weight.shape[1], weight.shape[0])));
      this.workingByName.get(name)?.write(fromF32(GgmlType.BF16, values));
    }
  }

  /**
   * Graph nodes that rewrite the copies of weight `name` from `updated` (the weight after an
   * optimiser step in the same graph): the transposed copy from a transpose view, the working copy
   * as it is, each rounded to its type by ggml_cpy on the weights' backend. None for a weight without
   * copies or with a quantised (frozen) one.
   */
  refreshNodes(context: Context, name: string, updated: Tensor): Tensor[] {
    const nodes: Tensor[] = [];
    const copy = this.byName.get(name);
    if (copy && copy.type !== GgmlType.Q8_0) nodes.push(context.copy(context.transpose(updated), copy));
    const working = this.workingByName.get(name);
    if (working) nodes.push(context.copy(updated, working));
    return nodes;
  }

  dispose(): void {
    this.buffer?.dispose();
    this.context.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
