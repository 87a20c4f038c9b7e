/**
 * `writeHfModel(gguf, directory)`: a llama/qwen2/qwen3 GGUF as a transformers model folder —
 * config.json, generation_config.json, model.safetensors (or model-0000i-of-0000n.safetensors +
 * model.safetensors.index.json above the shard size), tokenizer.json, tokenizer_config.json and
 * special_tokens_map.json. Weights are written in f32 (or `dtype`), one tensor in memory at a time.
 *
 * Layout as transformers' `PreTrainedModel.save_pretrained` writes it (modeling_utils.py): shard
 * names `model-{i:05d}-of-{n:05d}.safetensors`, the index `{"metadata": {"total_size"}, "weight_map"}`,
 * shards filled in state-dict order up to max_shard_size (default "5GB" = 5 * 10^9 bytes), and tied
 * weights (lm_head when tie_word_embeddings) left out.
 */
import fs from "node:fs";
import path from "node:path";
import {
  ggmlTypeName,
  readGguf,
  toF32,
  typesConvertedInTypeScript,
  type GgufFile,
  type GgufTensorInfo,
} from "../../engine/gguf/index.js";
import { writeFileAtomic } from "../../shared/atomicWrite.js";
import { ModelError } from "../../shared/errors.js";
import { huggingFaceTokenizerFromGguf } from "../../tokenizer/index.js";
import { readHyperparameters, type ModelHyperparameters } from "../hyperparameters.js";
import {
  HF_ARCHITECTURES,
  huggingFaceConfig,
  huggingFaceGenerationConfig,
  specialTokenIds,
  type TensorFacts,
} from "./huggingFaceConfig.js";
import { PERMUTED_ARCHITECTURES, unpermuteRows } from "./ropePermutation.js";
import {
  safetensorsDtypeBytes,
  writeSafetensorsStreaming,
  type LazySafetensorsEntry,
  type SafetensorsDtype,
} from "./safetensors.js";
import { huggingFaceTensorName, permutedProjection } from "./tensorNames.js";

/** transformers' default max_shard_size ("5GB", decimal, as convert_file_size_to_int reads it). */
export const DEFAULT_MAX_SHARD_BYTES = 5 * 10 ** 9;

export interface WriteHfModelOptions {
  /** Shard above this many bytes of weights. Defaults to DEFAULT_MAX_SHARD_BYTES. */
  maxShardBytes?: number;
  /** Stored dtype of every tensor (transformers' torch_dtype). Defaults to F32. */
  dtype?: SafetensorsDtype;
}

export interface WriteHfModelResult {
  directory: string;
  /** The safetensors files written, in order. */
  weightFiles: string[];
  tensorCount: number;
  totalBytes: number;
}

const torchDtypes = { F32: "float32", F16: "float16", BF16: "bfloat16" } as const;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function tensorFacts(file: GgufFile, hp: ModelHyperparameters): TensorFacts {
  const has = (pattern: RegExp) => file.tensors.some((tensor) => pattern.test(tensor.name));
  const attentionBias = has(/^blk\.\d+\.attn_(q|k|v|output)\.bias$/);
  const mlpBias = has(/^blk\.\d+\.ffn_(gate|up|down)\.bias$/);
  const where = file.path;
  if (hp.architecture.name !== "llama" && mlpBias)
    throw new ModelError(`${hp.architecture.name} has no MLP biases in transformers, but this GGUF has ffn biases`, {
      where,
    });
  if (hp.architecture.name === "qwen2" && has(/^blk\.\d+\.attn_output\.bias$/)) {
    throw new ModelError("Qwen2's o_proj has no bias in transformers, but this GGUF has attn_output.bias", { where });
  }
  if (has(/^output\.bias$/))
    throw new ModelError("lm_head has no bias in transformers, but this GGUF has output.bias", { where });
  return { tiedEmbeddings: file.tensor("output.weight") === undefined, attentionBias, mlpBias };
}

/** Bias tensors transformers' modules have that the GGUF leaves out (it may omit zero biases); written as zeros. */
function missingBiases(file: GgufFile, hp: ModelHyperparameters, facts: TensorFacts): LazySafetensorsEntry[] {
  const stems: [string, number][] = [];
  const q = hp.headCount * hp.headDim;
  const kv = hp.headCountKv * hp.headDim;
  // Qwen2Attention: q/k/v bias=True always; Llama/Qwen3: q/k/v/o bias=config.attention_bias.
  if (hp.architecture.name === "qwen2" || facts.attentionBias)
    stems.push(["attn_q", q], ["attn_k", kv], ["attn_v", kv]);
  if (hp.architecture.name !== "qwen2" && facts.attentionBias) stems.push(["attn_output", hp.embeddingLength]);
  if (facts.mlpBias)
    stems.push(["ffn_gate", hp.feedForwardLength], ["ffn_up", hp.feedForwardLength], ["ffn_down", hp.embeddingLength]);
  const out: LazySafetensorsEntry[] = [];
  for (let layer = 0; layer < hp.blockCount; layer++) {
    for (const [stem, length] of stems) {
      const ggufName = `blk.${layer}.${stem}.bias`;
      if (file.tensor(ggufName)) continue;
      out.push({ name: huggingFaceTensorName(ggufName)!, shape: [length], values: () => new Float32Array(length) });
    }
  }
  return out;
}

function tensorEntry(file: GgufFile, hp: ModelHyperparameters, info: GgufTensorInfo): LazySafetensorsEntry {
  const name = huggingFaceTensorName(info.name);
  if (name === undefined)
    throw new ModelError(`tensor ${info.name} has no transformers counterpart`, {
      where: file.path,
      hint: "only llama/qwen2/qwen3 decoder weights are exported",
    });
  // ggml ne is innermost first; PyTorch shapes outermost first.
  const shape = [...info.shape].reverse();
  const projection = PERMUTED_ARCHITECTURES.has(hp.architecture.name) ? permutedProjection(info.name) : undefined;
  const values = () => {
    let data: Float32Array;
    try {
      data = toF32(info.type, file.tensorData(info.name));
    } catch (error) {
      throw new ModelError(`tensor ${info.name}: ${(error as Error).message}`, {
        where: file.path,
        hint: "export from an f32, f16, bf16 or q8_0 model",
        cause: error,
      });
    }
    if (projection === undefined) return data;
    const heads = projection === "q" ? hp.headCount : hp.headCountKv;
    return unpermuteRows(data, shape[0]!, shape[1] ?? 1, heads);
  };
  return { name, shape, values };
}

function byteSize(entry: LazySafetensorsEntry): number {
  return entry.shape.reduce((a, b) => a * b, 1) * safetensorsDtypeBytes(entry.dtype ?? "F32");
}

/** Groups tensors into shards of at most `limit` bytes, in order (a larger tensor gets a shard of its own). */
function shardTensors(entries: readonly LazySafetensorsEntry[], limit: number): LazySafetensorsEntry[][] {
  const shards: LazySafetensorsEntry[][] = [];
  let current: LazySafetensorsEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = byteSize(entry);
    if (current.length > 0 && bytes + size > limit) {
      shards.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

function writeWeights(
  directory: string,
  entries: readonly LazySafetensorsEntry[],
  limit: number,
): { files: string[]; totalBytes: number } {
  const totalBytes = entries.reduce((sum, entry) => sum + byteSize(entry), 0);
  const metadata = { format: "pt" };
  if (totalBytes <= limit) {
    writeSafetensorsStreaming(path.join(directory, "model.safetensors"), entries, metadata);
    return { files: ["model.safetensors"], totalBytes };
  }
  const shards = shardTensors(entries, limit);
  const pad = (n: number) => String(n).padStart(5, "0");
  const files = shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    writeSafetensorsStreaming(path.join(directory, files[i]!), shard, metadata);
    for (const entry of shard) weightMap[entry.name] = files[i]!;
  });
  const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileAtomic(
    path.join(directory, "model.safetensors.index.json"),
    json({ metadata: { total_size: totalBytes }, weight_map: sortedMap }),
  );
  return { files, totalBytes };
}

/** Writes the transformers folder for the GGUF at `ggufPath` into `directory` (created). */
export function writeHfModel(
  ggufPath: string,
  directory: string,
  options: WriteHfModelOptions = {},
): WriteHfModelResult {
  const file = readGguf(ggufPath);
  const hp = readHyperparameters(file);
  if (!(hp.architecture.name in HF_ARCHITECTURES))
    throw new ModelError(`no transformers class for ${hp.architecture.name}`, { where: ggufPath });
  const facts = tensorFacts(file, hp);
  const ids = specialTokenIds(file);
  // Tokenizer first: a vocabulary that cannot be exported must fail before any weight is written.
  const tokenizer = huggingFaceTokenizerFromGguf(file, { modelMaxLength: hp.contextLength });
  const limit = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(limit > 0)) throw new ModelError(`the shard size must be positive, got ${limit}`);

  const unreadable = file.tensors.find((info) => !typesConvertedInTypeScript.includes(info.type));
  if (unreadable) {
    throw new ModelError(
      `tensor ${unreadable.name} is ${ggmlTypeName(unreadable.type)}, which is not dequantised here`,
      {
        where: ggufPath,
        hint: "export from an f32, f16, bf16 or q8_0 model (e.g. the run's unquantised base via --base)",
      },
    );
  }
  fs.mkdirSync(directory, { recursive: true });
  const dtype = options.dtype ?? "F32";
  const entries = [...file.tensors.map((info) => tensorEntry(file, hp, info)), ...missingBiases(file, hp, facts)].map(
    (entry) => ({ ...entry, dtype }),
  );
  const { files, totalBytes } = writeWeights(directory, entries, limit);
  writeFileAtomic(path.join(directory, "config.json"), json(huggingFaceConfig(hp, facts, ids, torchDtypes[dtype])));
  writeFileAtomic(path.join(directory, "generation_config.json"), json(huggingFaceGenerationConfig(ids)));
  writeFileAtomic(path.join(directory, "tokenizer.json"), json(tokenizer.tokenizerJson));
  writeFileAtomic(path.join(directory, "tokenizer_config.json"), json(tokenizer.tokenizerConfig));
  writeFileAtomic(path.join(directory, "special_tokens_map.json"), json(tokenizer.specialTokensMap));
  return { directory, weightFiles: files, tensorCount: entries.length, totalBytes };
}
