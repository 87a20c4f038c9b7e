/**
 * `convertHfToGguf(directory, out)`: a transformers LlamaForCausalLM / Qwen2ForCausalLM /
 * Qwen3ForCausalLM folder (config.json, model.safetensors or its sharded index, tokenizer.json +
 * tokenizer_config.json) as a GGUF llama.cpp loads — what llama.cpp's convert_hf_to_gguf.py does for
 * these three architectures: the same metadata keys, tensor names, llama's q/k row permutation
 * (`LlamaModel.permute`), tied lm_head dropped, norms kept in f32.
 */
import fs from "node:fs";
import path from "node:path";
import {
  GgmlType,
  fromF32,
  gguf,
  ggmlTypeFromName,
  ggmlTypeName,
  writeGguf,
  type GgufTensorInput,
} from "../../engine/gguf/index.js";
import { InputError, ModelError } from "../../shared/errors.js";
import { huggingFaceVocabulary, readHuggingFaceTokenizer, vocabularyToGguf } from "../../tokenizer/index.js";
import { ggufMetadataFromConfig, parseHuggingFaceConfig, type HfArchitecture } from "./huggingFaceConfig.js";
import { PERMUTED_ARCHITECTURES, permuteRows } from "./ropePermutation.js";
import { openSafetensors, type OpenSafetensors, type SafetensorsDtype } from "./safetensors.js";
import { ggufTensorName, permutedProjection } from "./tensorNames.js";

export interface ConvertHfToGgufOptions {
  /** Storage type of the weight matrices: f32, f16, bf16 or q8_0. Defaults to each tensor's dtype in the checkpoint. */
  type?: string;
  /** general.name. Defaults to the folder's name. */
  name?: string;
}

export interface ConvertHfToGgufResult {
  out: string;
  architecture: HfArchitecture;
  tensorCount: number;
}

/** Matrix types converted here without the engine (fromF32). */
const MATRIX_TYPES = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0]);
const typeOfDtype: Record<SafetensorsDtype, GgmlType> = { F32: GgmlType.F32, F16: GgmlType.F16, BF16: GgmlType.BF16 };

function readJsonFile(file: string): unknown {
  if (!fs.existsSync(file))
    throw new InputError("file not found", {
      where: file,
      hint: "pass the folder transformers' save_pretrained wrote",
    });
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new InputError(`not valid JSON: ${(error as Error).message}`, { where: file, cause: error });
  }
}

/** Opens model.safetensors, or every shard model.safetensors.index.json names. */
function openWeights(directory: string): OpenSafetensors[] {
  const single = path.join(directory, "model.safetensors");
  if (fs.existsSync(single)) return [openSafetensors(single)];
  const indexPath = path.join(directory, "model.safetensors.index.json");
  if (!fs.existsSync(indexPath)) {
    throw new InputError("no model.safetensors or model.safetensors.index.json", {
      where: directory,
      hint: "PyTorch .bin checkpoints are not read; re-save with save_pretrained(safe_serialization=True)",
    });
  }
  const index = readJsonFile(indexPath) as { weight_map?: Record<string, string> };
  if (typeof index.weight_map !== "object" || index.weight_map === null)
    throw new InputError("no weight_map object", { where: indexPath });
  const shards = [...new Set(Object.values(index.weight_map))].sort();
  return shards.map((shard) => openSafetensors(path.join(directory, shard)));
}

/** The order convert_hf_to_gguf.py writes (token_embd, the blocks in order, output_norm, output). */
function tensorRank(name: string): [number, number, string] {
  if (name.startsWith("token_embd.")) return [0, 0, name];
  const block = /^blk\.(\d+)\./.exec(name);
  if (block) return [1, Number(block[1]), name];
  return [2, name.startsWith("output_norm.") ? 0 : 1, name];
}

function compareNames(a: string, b: string): number {
  const [x, y] = [tensorRank(a), tensorRank(b)];
  return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0);
}

function matrixType(option: string | undefined): GgmlType | undefined {
  if (option === undefined) return undefined;
  const type = ggmlTypeFromName(option);
  if (type === undefined || !MATRIX_TYPES.has(type)) {
    throw new InputError(`--type ${option} is not one of f32, f16, bf16, q8_0`, {
      where: "--type",
      hint: "quantise further with llama.cpp's llama-quantize afterwards",
    });
  }
  return type;
}

/** Converts the transformers folder `directory` into the GGUF `out` (written atomically). */
export async function convertHfToGguf(
  directory: string,
  out: string,
  options: ConvertHfToGgufOptions = {},
): Promise<ConvertHfToGgufResult> {
  const configPath = path.join(directory, "config.json");
  const config = parseHuggingFaceConfig(readJsonFile(configPath), configPath);
  const wantedType = matrixType(options.type);
  const name = options.name ?? path.basename(path.resolve(directory));
  const metadata = ggufMetadataFromConfig(config, name, configPath);
  for (const [key, value] of vocabularyToGguf(
    huggingFaceVocabulary(readHuggingFaceTokenizer(directory), { vocabSize: config.vocab_size }),
  )) {
    metadata.set(key, value);
  }
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads ?? heads;
  const permuted = PERMUTED_ARCHITECTURES.has(config.architecture);
  const shards = openWeights(directory);
  try {
    const tensors: GgufTensorInput[] = [];
    for (const shard of shards) {
      for (const info of shard.tensors.values()) {
        // Tied: transformers may still save lm_head (older versions did); llama.cpp reads token_embd.
        if (info.name === "lm_head.weight" && config.tie_word_embeddings) continue;
        if (info.name.endsWith(".rotary_emb.inv_freq")) continue;
        const ggufName = ggufTensorName(info.name);
        if (ggufName === undefined) {
          throw new ModelError(`tensor ${info.name} is not part of a ${config.architecture} decoder`, {
            where: shard.file,
            hint: "only the weights of LlamaForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM are converted",
          });
        }
        let values = shard.read(info.name);
        const projection = permuted ? permutedProjection(ggufName) : undefined;
        if (projection !== undefined)
          values = permuteRows(values, info.shape[0]!, info.shape[1] ?? 1, projection === "q" ? heads : kvHeads);
        const isMatrix = info.shape.length >= 2;
        const type = isMatrix ? (wantedType ?? typeOfDtype[info.dtype]) : GgmlType.F32;
        const shape = [...info.shape].reverse();
        if (type === GgmlType.Q8_0 && shape[0]! % 32 !== 0) {
          throw new InputError(`${info.name}: rows of ${shape[0]} values do not split into q8_0 blocks of 32`, {
            where: "--type",
            hint: "use f16 or bf16",
          });
        }
        tensors.push({ name: ggufName, shape, type, data: fromF32(type, values) });
      }
    }
    tensors.sort((a, b) => compareNames(a.name, b.name));
    if (!tensors.some((tensor) => tensor.name === "token_embd.weight"))
      throw new ModelError("model.embed_tokens.weight is missing", { where: directory });
    metadata.set("general.file_type", gguf.uint32(fileType(tensors)));
    await writeGguf(out, { metadata, tensors });
    return { out, architecture: config.architecture, tensorCount: tensors.length };
  } finally {
    for (const shard of shards) shard.close();
  }
}

/** llama_ftype of the matrices (ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q8_0 = 7, MOSTLY_BF16 = 32). */
function fileType(tensors: readonly GgufTensorInput[]): number {
  const matrix = tensors.find((tensor) => tensor.shape.length >= 2);
  const byType: Partial<Record<GgmlType, number>> = {
    [GgmlType.F32]: 0,
    [GgmlType.F16]: 1,
    [GgmlType.Q8_0]: 7,
    [GgmlType.BF16]: 32,
  };
  const value = matrix === undefined ? 0 : byType[matrix.type];
  if (value === undefined) throw new ModelError(`no llama file type for ${ggmlTypeName(matrix!.type)}`);
  return value;
}
