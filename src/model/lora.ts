/**
 * LoRA adapters in llama.cpp's GGUF format: `general.type = adapter`, `adapter.type = lora`,
 * `adapter.lora.alpha`, and for each adapted weight W [in, out] the pair `<W name>.lora_a` [in, r]
 * and `<W name>.lora_b` [r, out]. The forward adds scale * B (A x) to W x with
 * scale = user scale * alpha / r (llama.cpp's build_lora_mm).
 */
import { readGguf } from "../engine/gguf/index.js";
import { Context, GgmlType, typeName, type BackendBuffer, type Tensor } from "../engine/index.js";
import { ModelError } from "../shared/errors.js";
import type { LlamaModel } from "./loadModel.js";

/** One low-rank update of a weight: a [in, r], b [r, out]. */
export interface LoraPair {
  a: Tensor;
  b: Tensor;
  /** Multiplies B (A x); alpha / r times the user scale. */
  scale: number;
}

/** Adapters per base weight name ("blk.0.attn_q.weight"); several adapters may stack. */
export type LoraWeights = ReadonlyMap<string, readonly LoraPair[]>;

/** Joins several adapter sets (their updates add up). */
export function mergeLoraWeights(...sets: (LoraWeights | undefined)[]): LoraWeights {
  const merged = new Map<string, LoraPair[]>();
  for (const set of sets)
    for (const [name, pairs] of set ?? []) merged.set(name, [...(merged.get(name) ?? []), ...pairs]);
  return merged;
}

/** Throws ModelError unless a [in, r] and b [r, out] fit the weight W [in, out]. */
export function checkLoraShapes(weight: Tensor, a: Tensor, b: Tensor, name: string, where?: string): void {
  const [inputs, outputs] = weight.shape;
  const [aIn, rank] = a.shape;
  const [bRank, bOut] = b.shape;
  if (aIn !== inputs || bOut !== outputs || bRank !== rank || a.shape[2] !== 1 || b.shape[2] !== 1)
    throw new ModelError(
      `LoRA for ${name}: lora_a [${a.shape.slice(0, 2).join(", ")}] and lora_b [${b.shape.slice(0, 2).join(", ")}] do not fit the weight [${inputs}, ${outputs}] (expected [${inputs}, r] and [r, ${outputs}])`,
      { where },
    );
}

export interface LoadLoraOptions {
  /** User scale on top of alpha / r. Defaults to 1. */
  scale?: number;
}

/** An adapter loaded onto the model's backend. */
export class LoraAdapter implements Disposable {
  constructor(
    readonly path: string,
    readonly alpha: number | undefined,
    readonly weights: LoraWeights,
    private readonly context: Context,
    private readonly buffer: BackendBuffer,
  ) {}

  dispose(): void {
    this.buffer.dispose();
    this.context.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export function loadLoraAdapter(path: string, model: LlamaModel, options: LoadLoraOptions = {}): LoraAdapter {
  const file = readGguf(path);
  const type = file.getString("general.type");
  if (type !== undefined && type !== "adapter")
    throw new ModelError(`general.type is "${type}", not an adapter`, { where: path, hint: "pass a LoRA adapter GGUF" });
  const adapterType = file.getString("adapter.type");
  if (adapterType !== undefined && adapterType !== "lora")
    throw new ModelError(`adapter.type is "${adapterType}"; only lora is supported`, { where: path });
  const architecture = file.getString("general.architecture");
  if (architecture !== undefined && architecture !== model.architecture.name)
    throw new ModelError(`adapter is for ${architecture}, the model is ${model.architecture.name}`, { where: path });
  const alpha = file.getNumber("adapter.lora.alpha");
  const userScale = options.scale ?? 1;

  const bases = file.tensors.filter((t) => t.name.endsWith(".lora_a")).map((t) => t.name.slice(0, -".lora_a".length));
  if (bases.length === 0) throw new ModelError("the adapter has no *.lora_a tensors", { where: path });
  const context = new Context({ maxTensors: bases.length * 2 + 1 });
  const pending: { base: string; a: Tensor; b: Tensor }[] = [];
  try {
    for (const base of bases) {
      const aInfo = file.tensor(`${base}.lora_a`)!;
      const bInfo = file.tensor(`${base}.lora_b`);
      if (!bInfo) throw new ModelError(`tensor ${base}.lora_b is missing (its lora_a is present)`, { where: path });
      for (const info of [aInfo, bInfo])
        if (info.type !== GgmlType.F32 && info.type !== GgmlType.F16)
          throw new ModelError(`tensor ${info.name} is ${typeName(info.type)}; LoRA tensors must be f32 or f16`, { where: path });
      if (base === "token_embd.weight")
        throw new ModelError("LoRA on token_embd.weight (input embeddings) is not supported", {
          where: path,
          hint: "adapt the attention/FFN projections or output.weight instead",
        });
      const weight = model.optionalWeight(base);
      if (!weight) throw new ModelError(`the adapter adapts ${base}, which the model does not have`, { where: path });
      const a = context.tensor(aInfo.type, aInfo.shape, aInfo.name);
      const b = context.tensor(bInfo.type, bInfo.shape, bInfo.name);
      checkLoraShapes(weight, a, b, base, path);
      pending.push({ base, a, b });
    }
    const buffer = model.backend.allocate(context);
    const weights = new Map<string, LoraPair[]>();
    for (const { base, a, b } of pending) {
      a.write(file.tensorData(`${base}.lora_a`));
      b.write(file.tensorData(`${base}.lora_b`));
      const rank = a.shape[1];
      weights.set(base, [{ a, b, scale: alpha ? (userScale * alpha) / rank : userScale }]);
    }
    return new LoraAdapter(path, alpha, weights, context, buffer);
  } catch (error) {
    context.dispose();
    throw error;
  }
}
