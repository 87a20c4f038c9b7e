/**
 * A LoRA adapter as plain arrays, and its GGUF form as llama.cpp loads it (`--lora`,
 * node-llama-cpp `createContext({lora})`): `general.type = adapter`, `adapter.type = lora`,
 * `adapter.lora.alpha`, `general.architecture` = the base model's, and per adapted weight W
 * (ne = [in, out]) the tensors `<W name>.lora_a` with ne = [in, r] and `<W name>.lora_b` with
 * ne = [r, out]. The effective weight is W + (alpha / r) * B A.
 */
import { gguf, GgmlType, readGguf, toF32, writeGguf, type GgufValue } from "../engine/gguf/index.js";
import { ModelError } from "../shared/errors.js";
import { resolveTargetModule, type TargetName } from "./loraTargets.js";

export interface LoraPair {
  /** GGUF name of the adapted base weight, e.g. "blk.0.attn_q.weight". */
  base: string;
  layer: number;
  target: TargetName;
  inFeatures: number;
  outFeatures: number;
  /** ne [in, r]: r rows of `in` values (PyTorch lora_A.weight [r, in]). */
  a: Float32Array;
  /** ne [r, out]: `out` rows of r values (PyTorch lora_B.weight [out, r]). */
  b: Float32Array;
}

export interface LoraAdapterFile {
  /** Base model architecture (general.architecture), e.g. "llama", "qwen2". */
  architecture: string;
  rank: number;
  alpha: number;
  pairs: LoraPair[];
}

/** Parses "blk.{i}.{stem}.weight" into the layer and target, or undefined for other tensors. */
export function parseBlockWeightName(name: string): { layer: number; target: TargetName } | undefined {
  const match = /^blk\.(\d+)\.([a-z_]+)\.weight$/.exec(name);
  if (!match) return undefined;
  const module = resolveTargetModule(match[2]!);
  if (!module || module.gguf !== match[2]) return undefined;
  return { layer: Number(match[1]), target: module.short };
}

export async function writeLoraAdapterFile(file: string, adapter: LoraAdapterFile, extraMetadata: [string, GgufValue][] = []): Promise<void> {
  const tensors = adapter.pairs.flatMap((pair) => [
    { name: `${pair.base}.lora_a`, shape: [pair.inFeatures, adapter.rank], type: GgmlType.F32, data: pair.a },
    { name: `${pair.base}.lora_b`, shape: [adapter.rank, pair.outFeatures], type: GgmlType.F32, data: pair.b },
  ]);
  await writeGguf(file, {
    metadata: [
      ["general.architecture", gguf.string(adapter.architecture)],
      ["general.type", gguf.string("adapter")],
      ["adapter.type", gguf.string("lora")],
      ["adapter.lora.alpha", gguf.float32(adapter.alpha)],
      ...extraMetadata,
    ],
    tensors,
  });
}

/** Reads a LoRA GGUF (ours or llama.cpp's convert_lora_to_gguf output with f32/f16/bf16/q8_0 tensors). */
export function readLoraAdapterFile(file: string): LoraAdapterFile {
  const parsed = readGguf(file);
  if (parsed.getString("general.type") !== "adapter" || parsed.getString("adapter.type") !== "lora") {
    throw new ModelError("not a LoRA adapter GGUF (general.type must be adapter, adapter.type lora)", { where: file });
  }
  const architecture = parsed.getString("general.architecture") ?? "";
  const alpha = parsed.getNumber("adapter.lora.alpha") ?? 0;
  const pairs: LoraPair[] = [];
  let rank = 0;
  for (const info of parsed.tensors) {
    if (!info.name.endsWith(".lora_a")) continue;
    const base = info.name.slice(0, -".lora_a".length);
    const infoB = parsed.tensor(`${base}.lora_b`);
    if (!infoB) throw new ModelError(`${info.name} has no matching ${base}.lora_b`, { where: file });
    const location = parseBlockWeightName(base);
    if (!location) continue;
    rank = info.shape[1] ?? 1;
    pairs.push({
      base,
      layer: location.layer,
      target: location.target,
      inFeatures: info.shape[0]!,
      outFeatures: infoB.shape[1] ?? 1,
      a: toF32(info.type, parsed.tensorData(info.name)),
      b: toF32(infoB.type, parsed.tensorData(infoB.name)),
    });
  }
  return { architecture, rank, alpha, pairs };
}

/**
 * W + scale * B A for one weight, in place on `weight` (f32, ne [in, out] = `out` rows of `in`).
 * Accumulates each output row in f64 over the rank.
 */
export function addLoraDelta(weight: Float32Array, pair: LoraPair, rank: number, scale: number): void {
  const { inFeatures, outFeatures, a, b } = pair;
  if (weight.length !== inFeatures * outFeatures) {
    throw new ModelError(`${pair.base}: base weight has ${weight.length} values, adapter expects ${inFeatures}x${outFeatures}`, {
      hint: "the adapter was trained for another model",
    });
  }
  const row = new Float64Array(inFeatures);
  for (let o = 0; o < outFeatures; o++) {
    row.fill(0);
    for (let r = 0; r < rank; r++) {
      const coefficient = b[o * rank + r]!;
      if (coefficient === 0) continue;
      const aRow = r * inFeatures;
      for (let i = 0; i < inFeatures; i++) row[i]! += coefficient * a[aRow + i]!;
    }
    const wRow = o * inFeatures;
    for (let i = 0; i < inFeatures; i++) weight[wRow + i] = weight[wRow + i]! + scale * row[i]!;
  }
}
