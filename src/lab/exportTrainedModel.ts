/**
 * Turns a training run's newest checkpoint into files the evaluation backends load: a full GGUF model
 * (full fine-tuning: trained tensors replace the base's, everything else is copied byte for byte) or a
 * LoRA adapter GGUF (llama.cpp's format). `mergeAdapter` folds an adapter into its base so that a
 * later stage (SFT after CPT) can start from the merged weights.
 */
import { gguf, GgmlType, readGguf, toF32, writeGguf, type GgufTensorInput } from "../engine/gguf/index.js";
import { addLoraDelta, parseBlockWeightName, readLoraAdapterFile, writeLoraAdapterFile, type LoraPair } from "../model/loraAdapterFile.js";
import { ModelError } from "../shared/errors.js";
import { readLatestCheckpoint } from "../train/runDirectory.js";

/** Full fine-tuning: base GGUF with the trained tensors (f32) swapped in. */
export async function exportFullModel(runDirectory: string, baseModel: string, out: string, name: string): Promise<void> {
  const checkpoint = readLatestCheckpoint(runDirectory);
  if (!checkpoint) throw new ModelError("the training run has no checkpoint to export", { where: runDirectory });
  const trained = new Map(checkpoint.parameters.map((parameter) => [parameter.name, parameter]));
  const base = readGguf(baseModel);
  const tensors: GgufTensorInput[] = base.tensors.map((info) => {
    const replacement = trained.get(info.name);
    if (!replacement) return { name: info.name, shape: info.shape, type: info.type, data: base.tensorData(info.name) };
    trained.delete(info.name);
    return { name: info.name, shape: info.shape, type: GgmlType.F32, data: replacement.data };
  });
  if (trained.size > 0)
    throw new ModelError(`checkpoint tensors not in the base model: ${[...trained.keys()].slice(0, 3).join(", ")}`, {
      where: runDirectory,
      hint: "Export a full fine-tuning run onto the model it was trained from.",
    });
  const metadata = new Map(base.metadata);
  metadata.set("general.name", gguf.string(name));
  await writeGguf(out, { metadata, tensors });
}

/** LoRA: the checkpoint's `<weight>.lora_a/.lora_b` pairs as an adapter GGUF. */
export async function exportLoraAdapter(runDirectory: string, baseModel: string, out: string, lora: { rank: number; alpha: number }): Promise<void> {
  const checkpoint = readLatestCheckpoint(runDirectory);
  if (!checkpoint) throw new ModelError("the training run has no checkpoint to export", { where: runDirectory });
  const byName = new Map(checkpoint.parameters.map((parameter) => [parameter.name, parameter]));
  const pairs: LoraPair[] = [];
  for (const [name, a] of byName) {
    if (!name.endsWith(".lora_a")) continue;
    const baseName = name.slice(0, -".lora_a".length);
    const b = byName.get(`${baseName}.lora_b`);
    const location = parseBlockWeightName(baseName);
    if (!b || !location) throw new ModelError(`adapter tensor ${name} has no partner or names no block weight`, { where: runDirectory });
    pairs.push({ base: baseName, layer: location.layer, target: location.target, inFeatures: a.shape[0]!, outFeatures: b.shape[1]!, a: a.data, b: b.data });
  }
  if (pairs.length === 0) throw new ModelError("the checkpoint holds no LoRA tensors", { where: runDirectory });
  const architecture = readGguf(baseModel).getString("general.architecture") ?? "llama";
  await writeLoraAdapterFile(out, { architecture, rank: lora.rank, alpha: lora.alpha, pairs });
}

/** base + adapter as one f32 GGUF (W + alpha/r * B A for every adapted weight). */
export async function mergeAdapter(baseModel: string, adapterFile: string, out: string, name: string): Promise<void> {
  const adapter = readLoraAdapterFile(adapterFile);
  const pairs = new Map(adapter.pairs.map((pair) => [pair.base, pair]));
  const base = readGguf(baseModel);
  const scale = adapter.alpha / adapter.rank;
  const tensors: GgufTensorInput[] = base.tensors.map((info) => {
    const pair = pairs.get(info.name);
    if (!pair) return { name: info.name, shape: info.shape, type: info.type, data: base.tensorData(info.name) };
    const weight = toF32(info.type, base.tensorData(info.name)).slice();
    addLoraDelta(weight, pair, adapter.rank, scale);
    return { name: info.name, shape: info.shape, type: GgmlType.F32, data: weight };
  });
  const metadata = new Map(base.metadata);
  metadata.set("general.name", gguf.string(name));
  await writeGguf(out, { metadata, tensors });
}
