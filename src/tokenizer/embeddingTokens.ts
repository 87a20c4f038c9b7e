/**
 * The tokens an embedding model sees for a text, as node-llama-cpp's LlamaEmbeddingContext makes them
 * (getEmbeddingFor -> _prepareInput): the text tokenised without parsing special-token text, BOS
 * prepended when the vocabulary asks for it, EOS appended when the GGUF's
 * `tokenizer.ggml.add_eos_token` is true. Our engine's embedder and the bi-encoder trainer both use
 * this, so a trained model embeds the same tokens in training, in our engine and in llama.cpp.
 */
import type { Tokenizer } from "./types.js";

export function embeddingTokens(tokenizer: Tokenizer, text: string, addEos: boolean): number[] {
  const ids = tokenizer.encode(text, { addBos: true, parseSpecial: false });
  if (addEos && tokenizer.eosId !== undefined && ids.at(-1) !== tokenizer.eosId) ids.push(tokenizer.eosId);
  return ids;
}
