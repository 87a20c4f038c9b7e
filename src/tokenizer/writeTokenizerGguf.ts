/**
 * A vocabulary-only GGUF, like llama.cpp's models/ggml-vocab-*.gguf: tokenizer metadata plus the few
 * architecture keys llama.cpp needs to load it with vocab_only. `vertical model init --tokenizer`
 * and node-llama-cpp (`loadModel({vocabOnly: true})`) both read it.
 */
import { gguf, writeGguf, type GgufMetadata } from "../engine/gguf/index.js";
import { tokenizerGgufMetadata, type HuggingFaceTokenizerFiles } from "./huggingFace.js";

/** Architecture keys for a vocab-only load; values are placeholders (no weights go with them). */
function architectureKeys(architecture: string, name: string): GgufMetadata {
  return new Map([
    ["general.architecture", gguf.string(architecture)],
    ["general.name", gguf.string(name)],
    [`${architecture}.block_count`, gguf.uint32(1)],
    [`${architecture}.context_length`, gguf.uint32(4096)],
    [`${architecture}.embedding_length`, gguf.uint32(64)],
    [`${architecture}.feed_forward_length`, gguf.uint32(128)],
    [`${architecture}.attention.head_count`, gguf.uint32(4)],
    [`${architecture}.attention.head_count_kv`, gguf.uint32(4)],
    [`${architecture}.attention.layer_norm_rms_epsilon`, gguf.float32(1e-6)],
  ]);
}

/** Writes `out` (atomically) from a tokenizer.json / its directory / HF files / a .gguf; returns the token count. */
export async function writeTokenizerGguf(out: string, source: string | HuggingFaceTokenizerFiles, options: { architecture?: string } = {}): Promise<number> {
  const tokenizer = tokenizerGgufMetadata(source);
  const pre = tokenizer.get("tokenizer.ggml.pre");
  const architecture = options.architecture ?? (pre?.type === "string" && pre.value.startsWith("qwen") ? "qwen2" : "llama");
  await writeGguf(out, { metadata: new Map([...architectureKeys(architecture, "vocabulary"), ...tokenizer]), tensors: [] });
  const tokens = tokenizer.get("tokenizer.ggml.tokens");
  return tokens?.type === "array" ? tokens.value.length : 0;
}
