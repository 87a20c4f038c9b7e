/** A Tokenizer from GGUF metadata (tokenizer.ggml.*), read the way llama.cpp's llama_vocab::load does. */
import { ModelError } from "../shared/errors.js";
import { readGguf, type GgufFile } from "../engine/gguf/index.js";
import { BpeTokenizer, TokenType } from "./bpeTokenizer.js";
import { preTokenizerByName } from "./preTokenizers.js";

/** Builds the tokenizer stored in a GGUF file (a path or an already read file). */
export function tokenizerFromGguf(file: string | GgufFile): BpeTokenizer {
  const gguf = typeof file === "string" ? readGguf(file) : file;
  const where = gguf.path;
  const model = gguf.getString("tokenizer.ggml.model");
  const tokens = gguf.getStringArray("tokenizer.ggml.tokens");
  if (model === undefined || tokens === undefined) {
    throw new ModelError(`no tokenizer in this GGUF (missing ${model === undefined ? "tokenizer.ggml.model" : "tokenizer.ggml.tokens"})`, {
      where,
      hint: "add one with `vertical model init --tokenizer …`, or copy tokenizer.* metadata from a model with the same vocabulary",
    });
  }
  if (model !== "gpt2") {
    throw new ModelError(`tokenizer model '${model}' is not supported; Vertical's tokenizer implements byte-level BPE ('gpt2')`, {
      where,
      hint: "Llama-2-style SentencePiece ('llama') vocabularies work through node-llama-cpp, not through Vertical's own tokenizer",
    });
  }
  const merges = gguf.getStringArray("tokenizer.ggml.merges");
  if (merges === undefined) throw new ModelError(`BPE tokenizer without tokenizer.ggml.merges`, { where });
  const tokenTypes = gguf.getNumberArray("tokenizer.ggml.token_type");
  if (tokenTypes !== undefined && tokenTypes.length !== tokens.length) {
    throw new ModelError(`tokenizer.ggml.token_type has ${tokenTypes.length} entries for ${tokens.length} tokens`, { where });
  }
  const pre = gguf.getString("tokenizer.ggml.pre") ?? "default";
  const preTokenizer = preTokenizerByName(pre, where);
  const id = (key: string) => gguf.getNumber(`tokenizer.ggml.${key}`);
  return new BpeTokenizer({
    tokens,
    tokenTypes: tokenTypes as TokenType[] | undefined,
    merges,
    preTokenizer,
    bosId: id("bos_token_id"),
    eosId: id("eos_token_id"),
    eotId: id("eot_token_id"),
    padId: id("padding_token_id"),
    addBos: gguf.getBool("tokenizer.ggml.add_bos_token"),
    chatTemplate: gguf.getString("tokenizer.chat_template"),
    source: where,
  });
}
