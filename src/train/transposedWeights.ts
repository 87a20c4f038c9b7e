/**
 * Transposed copies (ne [out, in]) of the model's f32 linear weights, so the backward pass can
 * compute input gradients with mul_mat instead of ggml's slower out_prod (Graph.useTransposedWeights).
 * Copies of weights that are themselves trained are refreshed after every optimiser step. Frozen
 * Q8_0 weights get a Q8_0 copy (QLoRA-style runs keep the fast quantised product in the backward).
 */
import { quantizeQ8_0, toF32 } from "../engine/gguf/index.js";
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
  private readonly byName = new Map<string, Tensor>();
  private readonly context: Context;
  private readonly buffer: BackendBuffer | undefined;

  /** Copies of every 2-D f32 or q8_0 weight of `names` (others are skipped and keep ggml's out_prod). */
  constructor(model: LlamaModel, backend: Backend, names: readonly string[]) {
    const weights = names
      .map((name) => ({ name, weight: model.weight(name) }))
      .filter(
        ({ weight }) =>
          (weight.type === GgmlType.F32 || (weight.type === GgmlType.Q8_0 && weight.shape[1] % 32 === 0)) &&
          weight.shape[2] === 1 &&
          weight.shape[3] === 1 &&
          weight.shape[1] > 1,
      );
    this.context = new Context({ maxTensors: weights.length + 1 });
    const pending: { weight: Tensor; copy: Tensor }[] = [];
    for (const { name, weight } of weights) {
      const copy = this.context.tensor(weight.type, [weight.shape[1], weight.shape[0]], `${name}.T`.slice(0, 63));
      pending.push({ weight, copy });
      this.byName.set(name, copy);
      this.byWeight.set(weight.pointer, copy);
    }
    this.buffer = pending.length > 0 ? backend.allocate(this.context) : undefined;
    for (const { weight, copy } of pending) {
      const values = weight.type === GgmlType.F32 ? weight.readFloats() : toF32(weight.type, weight.readBytes());
      const transposed = transpose(values, weight.shape[1], weight.shape[0]);
      copy.write(copy.type === GgmlType.F32 ? transposed : quantizeQ8_0(transposed));
    }
  }

  /** Rewrites the copy of `name` from new values of the weight (ne [in, out] = out rows of in). */
  refresh(name: string, values: Float32Array): void {
    const copy = this.byName.get(name);
    if (!copy || copy.type !== GgmlType.F32) return;
    copy.write(transpose(values, copy.shape[1], copy.shape[0]));
  }

  dispose(): void {
    this.buffer?.dispose();
    this.context.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
