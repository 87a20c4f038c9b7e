/**
 * What the `rag` commands load from GGUF files: an embedder whose id carries the file's content hash
 * (two different files named model.gguf must not share an index), and a token counter from a model's
 * own tokenizer (llama.cpp's, vocabulary only) — or, with no model, jieba/English words.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Embedder } from "../../llm/types.js";
import { openLlamaCppTokenizer } from "./modelPerplexity.js";

/** `llama-cpp-embed:base.gguf@3fa2…`: the backend's id plus the first 12 hex digits of the file's SHA-256. */
export async function loadFingerprintedEmbedder(modelPath: string): Promise<Embedder> {
  const { LlamaCppEmbedder } = await import("../../llm/llamaCpp.js");
  const embedder = await LlamaCppEmbedder.load({ modelPath });
  const id = `${embedder.id}@${createHash("sha256").update(fs.readFileSync(modelPath)).digest("hex").slice(0, 12)}`;
  return {
    id,
    dimensions: embedder.dimensions,
    embed: (texts) => embedder.embed(texts),
    dispose: () => embedder.dispose(),
  };
}

export interface TokenCounter {
  id: string;
  countTokens: (text: string) => number;
  dispose: () => Promise<void>;
}

export async function openTokenCounter(modelPath: string | undefined): Promise<TokenCounter> {
  if (!modelPath) {
    const { segmentWords } = await import("../../rag/segmentWords.js");
    return { id: "words", countTokens: (text) => segmentWords(text).length, dispose: async () => undefined };
  }
  const tokenizer = await openLlamaCppTokenizer(modelPath);
  return {
    id: `tokens:${path.basename(modelPath)}`,
    countTokens: (text) => tokenizer.tokens(text).length,
    dispose: () => tokenizer.dispose(),
  };
}
