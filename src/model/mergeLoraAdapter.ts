/**
 * A GGUF model with a LoRA adapter folded into its weights (W + alpha/r · B A, each adapted matrix stored as
 * f32, everything else as it was): the start model of a stage that continues from an adapter stage.
 */
import { gguf, GgmlType, readGguf, toF32, writeGguf, type GgufTensorInput } from "../engine/gguf/index.js";
import { ModelError } from "../shared/errors.js";
import { addLoraDelta, type LoraAdapterFile } from "./loraAdapterFile.js";

export async function mergeLoraAdapter(baseModel: string, adapter: LoraAdapterFile, out: string, name: string): Promise<void> {
  const base = readGguf(baseModel);
  const merged = new Map<string, Float32Array>();
  for (const pair of adapter.pairs) {
    const info = base.tensor(pair.base);
    if (!info) throw new ModelError(`the base model has no ${pair.base}`, { where: baseModel, hint: "the adapter is for another model" });
    const weight = toF32(info.type, base.tensorData(pair.base));
    addLoraDelta(weight, pair, adapter.rank, adapter.alpha / adapter.rank);
    merged.set(pair.base, weight);
  }
  const tensors: GgufTensorInput[] = base.tensors.map((info) => {
    const values = merged.get(info.name);
    return values
      ? { name: info.name, shape: info.shape, type: GgmlType.F32, data: values }
      : { name: info.name, shape: info.shape, type: info.type, data: base.tensorData(info.name) };
  });
  const metadata = new Map(base.metadata);
  metadata.set("general.name", gguf.string(name));
  await writeGguf(out, { metadata, tensors });
}
