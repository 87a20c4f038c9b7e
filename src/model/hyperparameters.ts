/**
 * Hyperparameters of a llama-family GGUF, read with the keys llama.cpp uses
 * (`<arch>.embedding_length`, `<arch>.attention.head_count_kv`, …), and the tensors they imply.
 */
import type { GgufFile } from "../engine/gguf/index.js";
import { ModelError } from "../shared/errors.js";
import { resolveArchitecture, type Architecture } from "./arch/index.js";

export interface ModelHyperparameters {
  architecture: Architecture;
  /** Rows of token_embd. */
  vocabSize: number;
  /** Training context (`<arch>.context_length`). */
  contextLength: number;
  /** E, `<arch>.embedding_length`. */
  embeddingLength: number;
  /** L, `<arch>.block_count`. */
  blockCount: number;
  /** H, `<arch>.attention.head_count`. */
  headCount: number;
  /** Hkv, `<arch>.attention.head_count_kv` (defaults to H). */
  headCountKv: number;
  /** D, `<arch>.attention.key_length` (defaults to E / H). */
  headDim: number;
  /** F, `<arch>.feed_forward_length`. */
  feedForwardLength: number;
  /** `<arch>.attention.layer_norm_rms_epsilon`. */
  rmsEpsilon: number;
  /** `<arch>.rope.freq_base` (defaults to 10000). */
  ropeFreqBase: number;
  /** `<arch>.rope.dimension_count` (defaults to D). */
  ropeDimensions: number;
  /** 1 / `<arch>.rope.scaling.factor` (linear RoPE scaling), 1 without a factor. */
  ropeFreqScale: number;
}

function positiveInteger(file: GgufFile, key: string, fallback?: number): number {
  const value = file.getNumber(key) ?? fallback;
  if (value === undefined)
    throw new ModelError(`metadata key ${key} is missing`, { where: file.path, hint: "the GGUF is not a complete model" });
  if (!Number.isInteger(value) || value <= 0)
    throw new ModelError(`metadata key ${key} must be a positive integer, got ${value}`, { where: file.path });
  return value;
}

export function readHyperparameters(file: GgufFile): ModelHyperparameters {
  const architecture = resolveArchitecture(file.getString("general.architecture"), file.path);
  const prefix = architecture.name;
  const key = (name: string) => `${prefix}.${name}`;
  const embeddingLength = positiveInteger(file, key("embedding_length"));
  const headCount = positiveInteger(file, key("attention.head_count"));
  const headCountKv = positiveInteger(file, key("attention.head_count_kv"), headCount);
  if (headCount % headCountKv !== 0)
    throw new ModelError(`attention.head_count ${headCount} is not a multiple of head_count_kv ${headCountKv}`, { where: file.path });
  if (!architecture.explicitHeadDim && embeddingLength % headCount !== 0)
    throw new ModelError(`embedding_length ${embeddingLength} is not a multiple of head_count ${headCount}`, { where: file.path });
  const headDim = positiveInteger(file, key("attention.key_length"), embeddingLength / headCount);
  const valueLength = positiveInteger(file, key("attention.value_length"), headDim);
  if (valueLength !== headDim)
    throw new ModelError(`attention.value_length ${valueLength} differs from key_length ${headDim}; not supported`, { where: file.path });
  const ropeDimensions = positiveInteger(file, key("rope.dimension_count"), headDim);
  if (ropeDimensions !== headDim)
    throw new ModelError(`rope.dimension_count ${ropeDimensions} differs from the head size ${headDim}; not supported`, {
      where: file.path,
    });
  const rmsEpsilon = file.getNumber(key("attention.layer_norm_rms_epsilon"));
  if (rmsEpsilon === undefined || !(rmsEpsilon > 0))
    throw new ModelError(`metadata key ${key("attention.layer_norm_rms_epsilon")} is missing or not > 0`, { where: file.path });
  // As llama.cpp: type defaults to linear, freq_scale = 1 / factor when a factor is given (0 = none).
  const scalingType = file.getString(key("rope.scaling.type")) ?? "linear";
  const scalingFactor = file.getNumber(key("rope.scaling.factor")) ?? file.getNumber(key("rope.scale_linear")) ?? 0;
  if (scalingType !== "none" && scalingType !== "linear")
    throw new ModelError(`rope.scaling.type "${scalingType}" is not supported (only none and linear)`, { where: file.path });
  if (!(scalingFactor >= 0)) throw new ModelError(`rope scaling factor must be >= 0, got ${scalingFactor}`, { where: file.path });
  const attentionScale = file.getNumber(key("attention.scale"));
  if (attentionScale !== undefined && attentionScale !== 0)
    throw new ModelError(`a custom attention.scale (${attentionScale}) is not supported`, { where: file.path });
  const embedding = file.tensor("token_embd.weight");
  const vocabSize =
    file.getNumber(key("vocab_size")) ?? file.getArray("tokenizer.ggml.tokens")?.value.length ?? embedding?.shape[1];
  if (vocabSize === undefined) throw new ModelError("cannot tell the vocabulary size (no tokenizer, no token_embd)", { where: file.path });
  return {
    architecture,
    vocabSize,
    contextLength: positiveInteger(file, key("context_length")),
    embeddingLength,
    blockCount: positiveInteger(file, key("block_count")),
    headCount,
    headCountKv,
    headDim,
    feedForwardLength: positiveInteger(file, key("feed_forward_length")),
    rmsEpsilon,
    ropeFreqBase: file.getNumber(key("rope.freq_base")) ?? 10000,
    ropeDimensions,
    ropeFreqScale: scalingFactor === 0 ? 1 : 1 / scalingFactor,
  };
}

export interface ExpectedTensor {
  name: string;
  shape: number[];
  required: boolean;
}

/** Every tensor a llama-family model of these hyperparameters has (GGUF names, ne shapes). */
export function expectedTensors(hp: ModelHyperparameters): ExpectedTensor[] {
  const { embeddingLength: E, vocabSize: V, headCount: H, headCountKv: Hkv, headDim: D, feedForwardLength: F } = hp;
  const tensors: ExpectedTensor[] = [
    { name: "token_embd.weight", shape: [E, V], required: true },
    { name: "output_norm.weight", shape: [E], required: true },
    // Absent when the output projection is tied to the embeddings.
    { name: "output.weight", shape: [E, V], required: false },
    { name: "output.bias", shape: [V], required: false },
  ];
  for (let i = 0; i < hp.blockCount; i++) {
    const block = (name: string, shape: number[], required = true) =>
      tensors.push({ name: `blk.${i}.${name}`, shape, required });
    block("attn_norm.weight", [E]);
    block("attn_q.weight", [E, D * H]);
    block("attn_k.weight", [E, D * Hkv]);
    block("attn_v.weight", [E, D * Hkv]);
    block("attn_output.weight", [D * H, E]);
    block("attn_q.bias", [D * H], false);
    block("attn_k.bias", [D * Hkv], false);
    block("attn_v.bias", [D * Hkv], false);
    block("attn_output.bias", [E], false);
    if (hp.architecture.qkNorm) {
      block("attn_q_norm.weight", [D]);
      block("attn_k_norm.weight", [D]);
    }
    block("ffn_norm.weight", [E]);
    block("ffn_gate.weight", [E, F]);
    block("ffn_up.weight", [E, F]);
    block("ffn_down.weight", [F, E]);
    if (hp.architecture.name === "llama") {
      // Optional in llama.cpp's llama loader (some fine-tunes carry them); qwen loaders ignore them.
      block("ffn_gate.bias", [F], false);
      block("ffn_up.bias", [F], false);
      block("ffn_down.bias", [E], false);
    }
  }
  return tensors;
}
