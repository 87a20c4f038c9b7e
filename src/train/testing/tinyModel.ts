/**
 * Tiny random llama-family GGUFs for training tests (a few thousand weights, f32), written with the
 * TypeScript GGUF writer. Deterministic under a seed.
 */
import { gguf, GgmlType, writeGguf, type GgufValue } from "../../engine/gguf/index.js";
import { Random } from "../random.js";

export interface TinyModelOptions {
  architecture?: "llama" | "qwen2" | "qwen3";
  vocab?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  context?: number;
  seed?: number;
  /** Weight scale of the random init. Defaults to 0.2. */
  scale?: number;
  /** Extra metadata (e.g. a tokenizer). */
  metadata?: [string, GgufValue][];
  /** Store the block matrices as this type. Defaults to F32. */
  matrixType?: GgmlType;
}

export async function writeTinyModel(file: string, options: TinyModelOptions = {}): Promise<void> {
  const architecture = options.architecture ?? "llama";
  const V = options.vocab ?? 64;
  const E = options.hidden ?? 32;
  const L = options.layers ?? 2;
  const H = options.heads ?? 4;
  const Hkv = options.kvHeads ?? 2;
  const F = options.ffn ?? 48;
  const D = E / H;
  const random = new Random(options.seed ?? 1);
  const scale = options.scale ?? 0.2;
  const tensors: { name: string; shape: number[]; type: GgmlType; data: Float32Array }[] = [];
  const matrix = (name: string, shape: number[], type = GgmlType.F32) =>
    tensors.push({ name, shape, type, data: Float32Array.from({ length: shape[0]! * shape[1]! }, () => random.uniform(-scale, scale)) });
  const norm = (name: string, n: number) =>
    tensors.push({ name, shape: [n], type: GgmlType.F32, data: Float32Array.from({ length: n }, () => 1 + random.uniform(-0.1, 0.1)) });
  const matrixType = options.matrixType ?? GgmlType.F32;
  matrix("token_embd.weight", [E, V]);
  norm("output_norm.weight", E);
  matrix("output.weight", [E, V]);
  for (let i = 0; i < L; i++) {
    norm(`blk.${i}.attn_norm.weight`, E);
    matrix(`blk.${i}.attn_q.weight`, [E, D * H], matrixType);
    matrix(`blk.${i}.attn_k.weight`, [E, D * Hkv], matrixType);
    matrix(`blk.${i}.attn_v.weight`, [E, D * Hkv], matrixType);
    matrix(`blk.${i}.attn_output.weight`, [D * H, E], matrixType);
    if (architecture === "qwen3") {
      norm(`blk.${i}.attn_q_norm.weight`, D);
      norm(`blk.${i}.attn_k_norm.weight`, D);
    }
    norm(`blk.${i}.ffn_norm.weight`, E);
    matrix(`blk.${i}.ffn_gate.weight`, [E, F], matrixType);
    matrix(`blk.${i}.ffn_up.weight`, [E, F], matrixType);
    matrix(`blk.${i}.ffn_down.weight`, [F, E], matrixType);
  }
  const key = (name: string) => `${architecture}.${name}`;
  await writeGguf(file, {
    metadata: [
      ["general.architecture", gguf.string(architecture)],
      ["general.name", gguf.string("tiny-test")],
      [key("context_length"), gguf.uint32(options.context ?? 128)],
      [key("embedding_length"), gguf.uint32(E)],
      [key("block_count"), gguf.uint32(L)],
      [key("feed_forward_length"), gguf.uint32(F)],
      [key("attention.head_count"), gguf.uint32(H)],
      [key("attention.head_count_kv"), gguf.uint32(Hkv)],
      [key("attention.layer_norm_rms_epsilon"), gguf.float32(1e-5)],
      [key("rope.freq_base"), gguf.float32(10000)],
      [key("vocab_size"), gguf.uint32(V)],
      ...(architecture === "qwen3" ? ([[key("attention.key_length"), gguf.uint32(D)], [key("attention.value_length"), gguf.uint32(D)]] as [string, GgufValue][]) : []),
      ...(options.metadata ?? []),
    ],
    tensors,
  });
}
