/**
 * The trained bi-encoder as a GGUF that llama.cpp's embedding context (node-llama-cpp
 * `createEmbeddingContext`) loads and pools as it was trained: the base model with the trained
 * values folded in (LoRA merged as W + alpha/r B A, or the fully trained weights), written as f32,
 * every other tensor as stored, the base's metadata copied, and `<arch>.pooling_type` set (llama.cpp
 * reads it in llama-model.cpp, LLM_KV_POOLING_TYPE; 1 = mean, 3 = last).
 */
import { gguf, GgmlType, readGguf, toF32, writeGguf, type GgufTensorInput } from "../../engine/gguf/index.js";
import { readHyperparameters } from "../../model/hyperparameters.js";
import { addLoraDelta, parseBlockWeightName } from "../../model/loraAdapterFile.js";
import { LLAMA_POOLING_TYPE, type Pooling } from "../../model/poolEmbeddings.js";
import { ModelError } from "../../shared/errors.js";

export interface TrainedValues {
  /** Trained tensors by name: GGUF weight names (full), or `<weight>.lora_a` / `.lora_b` pairs. */
  tensors: ReadonlyMap<string, Float32Array>;
  /** LoRA rank and alpha (when the tensors are adapters). */
  lora?: { rank: number; alpha: number };
}

export async function writeEmbedderGguf(basePath: string, trained: TrainedValues, pooling: Pooling, out: string, name: string): Promise<void> {
  const base = readGguf(basePath);
  const hp = readHyperparameters(base);
  const replaced = new Map<string, Float32Array>();
  for (const [tensorName, values] of trained.tensors) {
    if (tensorName.endsWith(".lora_b")) continue;
    if (!tensorName.endsWith(".lora_a")) {
      replaced.set(tensorName, values);
      continue;
    }
    const weightName = tensorName.slice(0, -".lora_a".length);
    const b = trained.tensors.get(`${weightName}.lora_b`);
    const info = base.tensor(weightName);
    if (!b || !info || !parseBlockWeightName(weightName) || !trained.lora)
      throw new ModelError(`trained tensor ${tensorName} has no LoRA partner or names no block weight of the base`, { where: basePath });
    const weight = toF32(info.type, base.tensorData(weightName));
    const [inFeatures, outFeatures] = [info.shape[0]!, info.shape[1] ?? 1];
    addLoraDelta(weight, { base: weightName, ...parseBlockWeightName(weightName)!, inFeatures, outFeatures, a: values, b }, trained.lora.rank, trained.lora.alpha / trained.lora.rank);
    replaced.set(weightName, weight);
  }
  const tensors: GgufTensorInput[] = base.tensors.map((info) => {
    const values = replaced.get(info.name);
    if (!values) return { name: info.name, shape: info.shape, type: info.type, data: base.tensorData(info.name) };
    if (values.length !== info.shape.reduce((product, size) => product * size, 1))
      throw new ModelError(`trained ${info.name} holds ${values.length} values; the base tensor has shape [${info.shape.join(", ")}]`, { where: basePath });
    return { name: info.name, shape: info.shape, type: GgmlType.F32, data: values };
  });
  const metadata = new Map(base.metadata);
  metadata.set("general.name", gguf.string(name));
  metadata.set(`${hp.architecture.name}.pooling_type`, gguf.uint32(LLAMA_POOLING_TYPE[pooling]));
  await writeGguf(out, { metadata, tensors });
}
