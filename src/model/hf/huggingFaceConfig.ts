/**
 * config.json and generation_config.json of a transformers model folder, from a GGUF's
 * hyperparameters, and back. Field names are those of transformers' configuration classes:
 * - models/llama/configuration_llama.py `LlamaConfig`: vocab_size, hidden_size, intermediate_size,
 *   num_hidden_layers, num_attention_heads, num_key_value_heads, hidden_act, max_position_embeddings,
 *   initializer_range, rms_norm_eps, use_cache, pad_token_id, bos_token_id, eos_token_id,
 *   pretraining_tp, tie_word_embeddings, rope_theta, rope_scaling, attention_bias, attention_dropout,
 *   mlp_bias, head_dim;
 * - models/qwen2/configuration_qwen2.py `Qwen2Config`: the same core fields without pretraining_tp,
 *   attention_bias, mlp_bias and head_dim, plus use_sliding_window, sliding_window,
 *   max_window_layers (Qwen2Attention always has q/k/v biases and no o_proj bias);
 * - models/qwen3/configuration_qwen3.py `Qwen3Config`: Qwen2's plus head_dim and attention_bias.
 * RoPE is written the transformers 4.x way (rope_theta + rope_scaling), which transformers 5 still
 * reads (it folds them into rope_parameters); on import both spellings are accepted.
 */
import { z } from "zod";
import type { GgufFile, GgufMetadata } from "../../engine/gguf/index.js";
import { gguf } from "../../engine/gguf/index.js";
import { ModelError } from "../../shared/errors.js";
import type { ModelHyperparameters } from "../hyperparameters.js";

/** Architecture names on both sides. */
export const HF_ARCHITECTURES = {
  llama: "LlamaForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  qwen3: "Qwen3ForCausalLM",
} as const;
export type HfArchitecture = keyof typeof HF_ARCHITECTURES;

/** What of the tensors decides config fields (biases present, tied output). */
export interface TensorFacts {
  tiedEmbeddings: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
}

/** The shortest decimal that is the same float32: 1e-5 rather than 9.999999747378752e-6 (GGUF stores float32). */
export function shortestFloat32(value: number): number {
  for (let digits = 1; digits <= 17; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === Math.fround(value)) return candidate;
  }
  return value;
}

export interface SpecialTokenIds {
  bos?: number;
  eos?: number;
  eot?: number;
  pad?: number;
}

export function specialTokenIds(file: GgufFile): SpecialTokenIds {
  const id = (key: string) => file.getNumber(`tokenizer.ggml.${key}`);
  return { bos: id("bos_token_id"), eos: id("eos_token_id"), eot: id("eot_token_id"), pad: id("padding_token_id") };
}

/** config.json for a GGUF model of these hyperparameters. */
export function huggingFaceConfig(
  hp: ModelHyperparameters,
  facts: TensorFacts,
  ids: SpecialTokenIds,
  torchDtype: "float32" | "float16" | "bfloat16" = "float32",
): Record<string, unknown> {
  const name = hp.architecture.name as HfArchitecture;
  if (!(name in HF_ARCHITECTURES)) throw new ModelError(`no transformers class for architecture ${name}`);
  const common: Record<string, unknown> = {
    architectures: [HF_ARCHITECTURES[name]],
    model_type: name,
    vocab_size: hp.vocabSize,
    hidden_size: hp.embeddingLength,
    intermediate_size: hp.feedForwardLength,
    num_hidden_layers: hp.blockCount,
    num_attention_heads: hp.headCount,
    num_key_value_heads: hp.headCountKv,
    hidden_act: "silu",
    max_position_embeddings: hp.contextLength,
    initializer_range: 0.02,
    rms_norm_eps: shortestFloat32(hp.rmsEpsilon),
    use_cache: true,
    bos_token_id: ids.bos ?? null,
    eos_token_id: ids.eos ?? null,
    tie_word_embeddings: facts.tiedEmbeddings,
    rope_theta: shortestFloat32(hp.ropeFreqBase),
    rope_scaling:
      hp.ropeFreqScale === 1
        ? null
        : { type: "linear", rope_type: "linear", factor: shortestFloat32(1 / hp.ropeFreqScale) },
    attention_dropout: 0.0,
    torch_dtype: torchDtype,
  };
  if (ids.pad !== undefined) common.pad_token_id = ids.pad;
  if (name === "llama") {
    return {
      ...common,
      attention_bias: facts.attentionBias,
      mlp_bias: facts.mlpBias,
      head_dim: hp.headDim,
      pretraining_tp: 1,
    };
  }
  const qwen = { ...common, use_sliding_window: false, sliding_window: null, max_window_layers: hp.blockCount };
  return name === "qwen3" ? { ...qwen, head_dim: hp.headDim, attention_bias: facts.attentionBias } : qwen;
}

/** generation_config.json: the ids generate() needs; a chat model stops at end-of-turn as well as EOS. */
export function huggingFaceGenerationConfig(ids: SpecialTokenIds): Record<string, unknown> {
  const stops = [...new Set([ids.eos, ids.eot].filter((id): id is number => id !== undefined))];
  return {
    bos_token_id: ids.bos ?? null,
    eos_token_id: stops.length === 1 ? stops[0] : stops,
    ...(ids.pad === undefined ? {} : { pad_token_id: ids.pad }),
  };
}

const ropeScaling = z
  .object({ type: z.string().optional(), rope_type: z.string().optional(), factor: z.number().positive().optional() })
  .passthrough();

/** The config.json fields the import reads; everything else is ignored. */
export const huggingFaceConfigSchema = z
  .object({
    architectures: z.array(z.string()).optional(),
    model_type: z.string(),
    vocab_size: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive().nullish(),
    head_dim: z.number().int().positive().nullish(),
    hidden_act: z.string().default("silu"),
    max_position_embeddings: z.number().int().positive(),
    rms_norm_eps: z.number().positive(),
    tie_word_embeddings: z.boolean().default(false),
    rope_theta: z.number().positive().optional(),
    rope_scaling: ropeScaling.nullish(),
    rope_parameters: ropeScaling.extend({ rope_theta: z.number().positive().optional() }).nullish(),
    use_sliding_window: z.boolean().optional(),
  })
  .passthrough();
export type HuggingFaceConfig = z.infer<typeof huggingFaceConfigSchema>;

/** Validates config.json; ModelError naming the field and the file. */
export function parseHuggingFaceConfig(
  json: unknown,
  where: string,
): HuggingFaceConfig & { architecture: HfArchitecture } {
  const parsed = huggingFaceConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelError(`config.json field ${issue.path.join(".") || "(root)"}: ${issue.message}`, {
      where,
      hint: "a transformers LlamaForCausalLM / Qwen2ForCausalLM / Qwen3ForCausalLM config.json is expected",
    });
  }
  const config = parsed.data;
  if (!(config.model_type in HF_ARCHITECTURES)) {
    throw new ModelError(`model_type "${config.model_type}" is not one Vertical converts (llama, qwen2, qwen3)`, {
      where,
    });
  }
  if (config.hidden_act !== "silu")
    throw new ModelError(`hidden_act "${config.hidden_act}" is not supported (llama-family models use silu)`, {
      where,
    });
  if (config.use_sliding_window)
    throw new ModelError(
      "use_sliding_window: true is not supported (llama.cpp's qwen graphs attend to the whole context)",
      { where },
    );
  return { ...config, architecture: config.model_type as HfArchitecture };
}

/** `<arch>.*` GGUF metadata for a parsed config.json, with the keys convert_hf_to_gguf.py writes. */
export function ggufMetadataFromConfig(
  config: HuggingFaceConfig & { architecture: HfArchitecture },
  name: string,
  where: string,
): GgufMetadata {
  const arch = config.architecture;
  const heads = config.num_attention_heads;
  const headDim = config.head_dim ?? config.hidden_size / heads;
  if (!Number.isInteger(headDim))
    throw new ModelError(
      `hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${heads} and head_dim is missing`,
      { where },
    );
  const scaling = config.rope_scaling ?? config.rope_parameters;
  const scalingType = scaling?.rope_type ?? scaling?.type ?? "default";
  if (scalingType !== "default" && scalingType !== "linear") {
    throw new ModelError(`rope scaling "${scalingType}" is not supported (only none and linear)`, {
      where,
      hint: "Llama 3.1-style llama3 scaling needs rope_freqs, which Vertical's graph lacks",
    });
  }
  const ropeTheta = config.rope_theta ?? config.rope_parameters?.rope_theta ?? 10000;
  const key = (suffix: string) => `${arch}.${suffix}`;
  const metadata: GgufMetadata = new Map([
    ["general.architecture", gguf.string(arch)],
    ["general.name", gguf.string(name)],
    [key("vocab_size"), gguf.uint32(config.vocab_size)],
    [key("context_length"), gguf.uint32(config.max_position_embeddings)],
    [key("embedding_length"), gguf.uint32(config.hidden_size)],
    [key("block_count"), gguf.uint32(config.num_hidden_layers)],
    [key("feed_forward_length"), gguf.uint32(config.intermediate_size)],
    [key("attention.head_count"), gguf.uint32(heads)],
    [key("attention.head_count_kv"), gguf.uint32(config.num_key_value_heads ?? heads)],
    [key("rope.freq_base"), gguf.float32(ropeTheta)],
    [key("attention.layer_norm_rms_epsilon"), gguf.float32(config.rms_norm_eps)],
  ]);
  if (arch === "qwen3" || headDim !== config.hidden_size / heads) {
    metadata.set(key("attention.key_length"), gguf.uint32(headDim));
    metadata.set(key("attention.value_length"), gguf.uint32(headDim));
  }
  if (arch === "llama") metadata.set(key("rope.dimension_count"), gguf.uint32(headDim));
  if (scalingType === "linear" && scaling?.factor !== undefined) {
    metadata.set(key("rope.scaling.type"), gguf.string("linear"));
    metadata.set(key("rope.scaling.factor"), gguf.float32(scaling.factor));
  }
  return metadata;
}
