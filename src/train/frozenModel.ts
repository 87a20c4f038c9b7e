/**
 * Frozen base weights in another storage type than the GGUF's (QLoRA-style: train LoRA over q8_0 or
 * q4_k matrices): the block matrices that are not trained are converted into a temporary GGUF that
 * the run loads instead. Norms, biases, embeddings and the output projection keep their type.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgmlType, readGguf, toF32, writeGguf, type GgufTensorInput } from "../engine/gguf/index.js";
import { ConfigError } from "../shared/errors.js";
import { parseBlockWeightName } from "../model/loraAdapterFile.js";

const TYPES: Record<string, GgmlType> = { f32: GgmlType.F32, q8_0: GgmlType.Q8_0, q4_k: GgmlType.Q4_K };

/**
 * Writes the converted copy and returns its path and a cleanup function; `frozenType` "as-stored"
 * returns the original path.
 */
export async function prepareFrozenModel(
  modelPath: string,
  frozenType: "as-stored" | "f32" | "q8_0" | "q4_k",
  trainedNames: ReadonlySet<string>,
): Promise<{ path: string; dispose: () => void }> {
  if (frozenType === "as-stored") return { path: modelPath, dispose: () => {} };
  const type = TYPES[frozenType]!;
  const file = readGguf(modelPath);
  const tensors: GgufTensorInput[] = file.tensors.map((info) => {
    const convert = parseBlockWeightName(info.name) !== undefined && !trainedNames.has(info.name) && info.type !== type;
    if (!convert) return { name: info.name, shape: info.shape, type: info.type, data: file.tensorData(info.name) };
    if (type === GgmlType.Q4_K && info.shape[0]! % 256 !== 0) {
      throw new ConfigError(`frozenType q4_k needs rows that are a multiple of 256 values; ${info.name} has rows of ${info.shape[0]}`, {
        where: "frozenType",
        hint: "use q8_0 for this model",
      });
    }
    let values: Float32Array;
    try {
      values = toF32(info.type, file.tensorData(info.name));
    } catch (error) {
      throw new ConfigError(`cannot convert ${info.name} from its stored type to ${frozenType}`, { where: "frozenType", cause: error, hint: "use frozenType: as-stored" });
    }
    return { name: info.name, shape: info.shape, type, data: values };
  });
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-frozen-"));
  const converted = path.join(directory, `${path.basename(modelPath, ".gguf")}.${frozenType}.gguf`);
  await writeGguf(converted, { metadata: file.metadata, tensors });
  return { path: converted, dispose: () => fs.rmSync(directory, { recursive: true, force: true }) };
}
