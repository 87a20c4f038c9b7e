/**
 * A freshly initialised llama-family model with a real tokenizer, as a GGUF llama.cpp runs
 * unchanged. Initialisation: weights ~ N(0, 0.02); the projections that write into the residual
 * stream (attn_output, ffn_down) scaled by 1/sqrt(2L) (GPT-2); norms = 1; biases = 0.
 */
import { constants } from "node:buffer";
import fs from "node:fs";
import os from "node:os";
import { gguf, readGguf, writeGguf, type GgufValue } from "../engine/gguf/index.js";
import { GgmlType, blockOf, quantizeRows, typeName } from "../engine/index.js";
import { InputError, ModelError } from "../shared/errors.js";
import { tokenizerGgufMetadata } from "../tokenizer/index.js";
import { resolveArchitecture, type Architecture } from "./arch/index.js";

export interface ModelSpec {
  architecture: string;
  /** E */
  hidden: number;
  /** L */
  layers: number;
  /** H */
  heads: number;
  /** Hkv. Defaults to H. */
  kvHeads?: number;
  /** F */
  ffn: number;
  /** Training context length written to the metadata. */
  context: number;
  /** D, Qwen3 only (key_length). Defaults to E / H. */
  headDim?: number;
  /** Output projection tied to the embeddings. Defaults to true for qwen2/qwen3, false for llama. */
  tiedOutput?: boolean;
  /** Seed of the weights. Defaults to 0. */
  seed?: number;
  /** Defaults to 0.02. */
  initStd?: number;
  /** Defaults to 1e-6 (qwen) / 1e-5 (llama). */
  rmsEpsilon?: number;
  /** Defaults to 1e6 (qwen) / 5e5 (llama). */
  ropeFreqBase?: number;
  name?: string;
}

/** Tokenizer metadata: every `tokenizer.*` key, in the order to write them. */
export type TokenizerMetadata = Map<string, GgufValue>;

export interface ModelTensorValues {
  name: string;
  shape: number[];
  values: Float32Array;
  /** Matrices may be stored quantised; norms and biases stay f32. */
  matrix: boolean;
}

export interface InitialisedModel {
  metadata: Map<string, GgufValue>;
  tensors: ModelTensorValues[];
}

/**
 * `tokenizer.*` metadata of a GGUF (a model or a llama.cpp vocab file), or of a Hugging Face
 * tokenizer (tokenizer.json, or the directory holding it and tokenizer_config.json).
 */
export function readTokenizerMetadata(path: string): TokenizerMetadata {
  if (!fs.existsSync(path)) throw new InputError(`tokenizer file not found`, { where: path });
  if (fs.statSync(path).isDirectory() || path.endsWith(".json")) return tokenizerGgufMetadata(path);
  const file = readGguf(path);
  const metadata: TokenizerMetadata = new Map();
  for (const [key, value] of file.metadata) if (key.startsWith("tokenizer.")) metadata.set(key, value);
  if (!metadata.has("tokenizer.ggml.tokens") || !metadata.has("tokenizer.ggml.model"))
    throw new ModelError("no tokenizer in this GGUF (tokenizer.ggml.model / tokenizer.ggml.tokens missing)", {
      where: path,
      hint: "pass a GGUF with a tokenizer, e.g. a model or llama.cpp's models/ggml-vocab-*.gguf",
    });
  return metadata;
}

/** Deterministic N(0, 1) samples: mulberry32 + Box-Muller. */
export function normalSampler(seed: number): () => number {
  let state = (seed >>> 0) ^ 0x9e3779b9;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

function checkSpec(spec: ModelSpec, architecture: Architecture): Required<Pick<ModelSpec, "kvHeads" | "headDim">> {
  const positive = (name: string, value: number | undefined) => {
    if (value === undefined || !Number.isInteger(value) || value <= 0)
      throw new InputError(`--${name} must be a positive integer, got ${value}`);
  };
  positive("hidden", spec.hidden);
  positive("layers", spec.layers);
  positive("heads", spec.heads);
  positive("ffn", spec.ffn);
  positive("ctx", spec.context);
  const kvHeads = spec.kvHeads ?? spec.heads;
  positive("kv-heads", kvHeads);
  if (spec.heads % kvHeads !== 0) throw new InputError(`--heads ${spec.heads} must be a multiple of --kv-heads ${kvHeads}`);
  if (spec.headDim !== undefined && !architecture.explicitHeadDim)
    throw new InputError(`--head-dim applies to qwen3 only; ${architecture.name} uses hidden / heads`);
  if (spec.headDim === undefined && spec.hidden % spec.heads !== 0)
    throw new InputError(`--hidden ${spec.hidden} must be a multiple of --heads ${spec.heads}`);
  const headDim = spec.headDim ?? spec.hidden / spec.heads;
  positive("head-dim", headDim);
  if (headDim % 2 !== 0) throw new InputError(`the head size ${headDim} must be even for RoPE`);
  return { kvHeads, headDim };
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * The new model's f32 values must fit this machine's memory (they are all held while it is
 * initialised and written) and each tensor one JavaScript typed array.
 */
export function checkModelSize(tensors: readonly { name: string; shape: readonly number[] }[], machineBytes: number = os.totalmem()): void {
  const hint = "lower --hidden, --ffn or --layers (a 0.5B model is about --hidden 896 --ffn 4864 --layers 24)";
  let parameters = 0;
  for (const { name, shape } of tensors) {
    const values = shape.reduce((a, b) => a * b, 1);
    if (values * 4 > constants.MAX_LENGTH)
      throw new InputError(`${name} [${shape.join(", ")}] would hold ${values.toLocaleString("en-US")} values, more than one array can hold`, { hint });
    parameters += values;
  }
  if (parameters * 4 > machineBytes) {
    throw new InputError(
      `the model would have ${parameters.toLocaleString("en-US")} parameters (${gib(parameters * 4)} as f32 while it is initialised); this machine has ${gib(machineBytes)}`,
      { hint },
    );
  }
}

/** The metadata and f32 values of a new model (not yet written). */
export function createModel(spec: ModelSpec, tokenizer: TokenizerMetadata): InitialisedModel {
  const architecture = resolveArchitecture(spec.architecture, "--arch");
  const { kvHeads, headDim } = checkSpec(spec, architecture);
  const tokens = tokenizer.get("tokenizer.ggml.tokens");
  if (!tokens || tokens.type !== "array") throw new ModelError("tokenizer.ggml.tokens is missing", { where: "--tokenizer" });
  const V = tokens.value.length;
  const E = spec.hidden;
  const L = spec.layers;
  const H = spec.heads;
  const Hkv = kvHeads;
  const D = headDim;
  const F = spec.ffn;
  const isQwen = architecture.name !== "llama";
  const tied = spec.tiedOutput ?? isQwen;
  const std = spec.initStd ?? 0.02;
  const residualStd = std / Math.sqrt(2 * L);
  const sample = normalSampler(spec.seed ?? 0);

  const prefix = architecture.name;
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", gguf.string(prefix)],
    ["general.name", gguf.string(spec.name ?? `vertical-${prefix}-${E}x${L}`)],
    [`${prefix}.vocab_size`, gguf.uint32(V)],
    [`${prefix}.context_length`, gguf.uint32(spec.context)],
    [`${prefix}.embedding_length`, gguf.uint32(E)],
    [`${prefix}.block_count`, gguf.uint32(L)],
    [`${prefix}.feed_forward_length`, gguf.uint32(F)],
    [`${prefix}.attention.head_count`, gguf.uint32(H)],
    [`${prefix}.attention.head_count_kv`, gguf.uint32(Hkv)],
    [`${prefix}.rope.freq_base`, gguf.float32(spec.ropeFreqBase ?? (isQwen ? 1e6 : 5e5))],
    [`${prefix}.attention.layer_norm_rms_epsilon`, gguf.float32(spec.rmsEpsilon ?? (isQwen ? 1e-6 : 1e-5))],
  ]);
  if (architecture.explicitHeadDim) {
    metadata.set(`${prefix}.attention.key_length`, gguf.uint32(D));
    metadata.set(`${prefix}.attention.value_length`, gguf.uint32(D));
  }
  if (architecture.name === "llama") metadata.set(`${prefix}.rope.dimension_count`, gguf.uint32(D));
  for (const [key, value] of tokenizer) metadata.set(key, value);

  // Shapes first, values after the size check: a typo like --hidden 1000000 must be an error, not
  // a RangeError from new Float32Array (or the machine swapping) halfway through.
  const planned: { name: string; shape: number[]; deviation?: number; value?: number }[] = [];
  const normal = (name: string, shape: number[], deviation: number) => planned.push({ name, shape, deviation });
  const constant = (name: string, shape: number[], value: number) => planned.push({ name, shape, value });

  normal("token_embd.weight", [E, V], std);
  constant("output_norm.weight", [E], 1);
  if (!tied) normal("output.weight", [E, V], std);
  for (let i = 0; i < L; i++) {
    const b = (name: string) => `blk.${i}.${name}`;
    constant(b("attn_norm.weight"), [E], 1);
    normal(b("attn_q.weight"), [E, D * H], std);
    normal(b("attn_k.weight"), [E, D * Hkv], std);
    normal(b("attn_v.weight"), [E, D * Hkv], std);
    if (architecture.qkvBias) {
      constant(b("attn_q.bias"), [D * H], 0);
      constant(b("attn_k.bias"), [D * Hkv], 0);
      constant(b("attn_v.bias"), [D * Hkv], 0);
    }
    if (architecture.qkNorm) {
      constant(b("attn_q_norm.weight"), [D], 1);
      constant(b("attn_k_norm.weight"), [D], 1);
    }
    normal(b("attn_output.weight"), [D * H, E], residualStd);
    constant(b("ffn_norm.weight"), [E], 1);
    normal(b("ffn_gate.weight"), [E, F], std);
    normal(b("ffn_up.weight"), [E, F], std);
    normal(b("ffn_down.weight"), [F, E], residualStd);
  }
  checkModelSize(planned);
  const tensors: ModelTensorValues[] = planned.map(({ name, shape, deviation, value }) => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (deviation !== undefined) for (let i = 0; i < values.length; i++) values[i] = sample() * deviation;
    else values.fill(value!);
    return { name, shape, values, matrix: deviation !== undefined };
  });
  return { metadata, tensors };
}

/** llama.cpp's general.file_type (LLAMA_FTYPE_*) for a uniform storage type. */
const fileTypes = new Map<GgmlType, number>([
  [GgmlType.F32, 0],
  [GgmlType.F16, 1],
  [GgmlType.Q8_0, 7],
  [GgmlType.Q4_K, 15],
  [GgmlType.Q5_K, 17],
  [GgmlType.Q6_K, 18],
  [GgmlType.BF16, 32],
]);

/** Writes `model` with matrices stored as `type` (norms and biases f32); temp file + rename. */
export async function writeModel(path: string, model: InitialisedModel, type: GgmlType = GgmlType.F32): Promise<void> {
  const fileType = fileTypes.get(type);
  if (fileType === undefined)
    throw new InputError(`unsupported storage type ${typeName(type)}; use f32, f16, bf16, q8_0, q4_k, q5_k or q6_k`);
  const block = blockOf(type)!;
  for (const tensor of model.tensors)
    if (tensor.matrix && tensor.shape[0]! % block.blockSize !== 0)
      throw new InputError(
        `${tensor.name} rows have ${tensor.shape[0]} values; ${typeName(type)} needs a multiple of ${block.blockSize}`,
        { hint: "choose sizes divisible by the block size, or --type f32/f16" },
      );
  const metadata = new Map(model.metadata);
  metadata.set("general.file_type", gguf.uint32(fileType));
  // Keep tokenizer keys last, as llama.cpp's converter writes them.
  const ordered = new Map([...metadata].sort(([a], [b]) => Number(a.startsWith("tokenizer.")) - Number(b.startsWith("tokenizer."))));
  await writeGguf(
    path,
    {
      metadata: ordered,
      tensors: model.tensors.map((tensor) => ({
        name: tensor.name,
        shape: tensor.shape,
        type: tensor.matrix ? type : GgmlType.F32,
        data: tensor.values,
      })),
    },
    { quantize: quantizeRows },
  );
}

export interface InitModelOptions extends ModelSpec {
  /** A GGUF whose tokenizer.* metadata is copied, or a Hugging Face tokenizer.json / its directory. */
  tokenizer: string;
  out: string;
  /** Storage type of the matrices. Defaults to F32. */
  type?: GgmlType;
}

/** `vertical model init`: create, initialise and write a model. Returns its parameter count. */
export async function initModel(options: InitModelOptions): Promise<{ parameters: number }> {
  const tokenizer = readTokenizerMetadata(options.tokenizer);
  const model = createModel(options, tokenizer);
  await writeModel(options.out, model, options.type ?? GgmlType.F32);
  return { parameters: model.tensors.reduce((sum, tensor) => sum + tensor.values.length, 0) };
}
