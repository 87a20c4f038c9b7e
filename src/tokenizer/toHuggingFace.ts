/**
 * A GGUF byte-level BPE vocabulary (tokenizer.ggml.model = "gpt2") as Hugging Face tokenizer files:
 * tokenizer.json (the `tokenizers` library's serialisation: model BPE + ByteLevel, the Split regex
 * of the pre-tokenizer, added tokens) and tokenizer_config.json (PreTrainedTokenizerFast, special
 * tokens, chat template). The inverse of huggingFace.ts, which reads these files the way
 * convert_hf_to_gguf.py does; exporting and re-importing gives the same GGUF tokenizer metadata.
 *
 * No normalizer is written: llama.cpp does not normalise, so the exported tokenizer splits text the
 * way the GGUF did (a Qwen tokenizer.json that came with NFC loses it on the way through GGUF).
 */
import { ModelError } from "../shared/errors.js";
import type { GgufFile } from "../engine/gguf/index.js";
import { TokenType, type BpeTokenizer } from "./bpeTokenizer.js";
import { tokenizerFromGguf } from "./fromGguf.js";
import type { HuggingFaceTokenizerConfig, HuggingFaceTokenizerJson } from "./huggingFace.js";

export interface HuggingFaceTokenizerExport {
  tokenizerJson: HuggingFaceTokenizerJson;
  tokenizerConfig: HuggingFaceTokenizerConfig;
  specialTokensMap: Record<string, string>;
}

/** Padding rows convert_hf_to_gguf adds to reach the embedding's row count ("[PAD{id}]", unused). */
function isPadding(tokenizer: BpeTokenizer, id: number): boolean {
  return tokenizer.tokenTypes[id] === TokenType.Unused && tokenizer.tokens[id] === `[PAD${id}]`;
}

function isAdded(type: TokenType | undefined): boolean {
  return type === TokenType.Control || type === TokenType.UserDefined;
}

function preTokenizerJson(tokenizer: BpeTokenizer): Record<string, unknown> {
  // GPT-2's own tokenizer.json: ByteLevel with its built-in regex; every later family: Split + ByteLevel.
  if (tokenizer.preTokenizer.name === "gpt-2")
    return { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    type: "Sequence",
    pretokenizers: [
      {
        type: "Split",
        pattern: { Regex: tokenizer.preTokenizer.huggingFacePattern },
        behavior: "Isolated",
        invert: false,
      },
      { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
    ],
  };
}

function postProcessorJson(tokenizer: BpeTokenizer): Record<string, unknown> {
  const byteLevel = { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true };
  if (!tokenizer.addBos || tokenizer.bosId === undefined) return byteLevel;
  const bos = tokenizer.tokens[tokenizer.bosId]!;
  const special = { SpecialToken: { id: bos, type_id: 0 } };
  // Llama 3's tokenizer.json: BOS before each sequence, added by the post-processor.
  return {
    type: "Sequence",
    processors: [
      byteLevel,
      {
        type: "TemplateProcessing",
        single: [special, { Sequence: { id: "A", type_id: 0 } }],
        pair: [
          special,
          { Sequence: { id: "A", type_id: 0 } },
          { SpecialToken: { id: bos, type_id: 1 } },
          { Sequence: { id: "B", type_id: 1 } },
        ],
        special_tokens: { [bos]: { id: bos, ids: [tokenizer.bosId], tokens: [bos] } },
      },
    ],
  };
}

/** The tokenizer files for the GGUF's vocabulary; `modelMaxLength` is the context length. */
export function huggingFaceTokenizerFromGguf(
  file: GgufFile,
  options: { modelMaxLength: number },
): HuggingFaceTokenizerExport {
  const tokenizer = tokenizerFromGguf(file);
  const vocab: Record<string, number> = {};
  const added: { id: number; content: string; special: boolean }[] = [];
  tokenizer.tokens.forEach((text, id) => {
    const type = tokenizer.tokenTypes[id];
    if (isPadding(tokenizer, id)) return;
    if (isAdded(type)) added.push({ id, content: text, special: type === TokenType.Control });
    else vocab[text] = id;
  });
  for (const merge of tokenizer.merges) {
    if (merge.split(" ").length !== 2)
      throw new ModelError(`merge "${merge}" is not two tokens separated by one space`, { where: file.path });
  }
  const model = {
    type: "BPE",
    dropout: null,
    unk_token: null,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: tokenizer.preTokenizer.ignoreMerges,
    vocab,
    merges: [...tokenizer.merges],
  };
  const tokenizerJson: HuggingFaceTokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added.map((token) => ({
      ...token,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
    })),
    normalizer: null,
    pre_tokenizer: preTokenizerJson(tokenizer),
    post_processor: postProcessorJson(tokenizer),
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model,
  };
  const text = (id: number | undefined) => (id === undefined ? null : tokenizer.tokens[id]!);
  const specialTokensMap: Record<string, string> = {};
  for (const [key, id] of [
    ["bos_token", tokenizer.bosId],
    ["eos_token", tokenizer.eosId],
    ["pad_token", tokenizer.padId],
  ] as const) {
    if (id !== undefined) specialTokensMap[key] = tokenizer.tokens[id]!;
  }
  const tokenizerConfig: HuggingFaceTokenizerConfig = {
    add_bos_token: tokenizer.addBos,
    add_eos_token: file.getBool("tokenizer.ggml.add_eos_token") ?? false,
    added_tokens_decoder: Object.fromEntries(
      added.map((token) => [
        String(token.id),
        {
          content: token.content,
          lstrip: false,
          normalized: false,
          rstrip: false,
          single_word: false,
          special: token.special,
        },
      ]),
    ),
    bos_token: text(tokenizer.bosId),
    eos_token: text(tokenizer.eosId),
    pad_token: text(tokenizer.padId),
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: options.modelMaxLength,
    tokenizer_class: "PreTrainedTokenizerFast",
    ...(tokenizer.chatTemplate === undefined ? {} : { chat_template: tokenizer.chatTemplate }),
  };
  return { tokenizerJson, tokenizerConfig, specialTokensMap };
}
