/**
 * Hugging Face tokenizer.json + tokenizer_config.json: read, turn into our Tokenizer, and convert to
 * GGUF tokenizer metadata the way llama.cpp's convert_hf_to_gguf.py does (get_vocab_base +
 * SpecialVocab), so llama.cpp tokenises identically.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError, ModelError } from "../shared/errors.js";
import { gguf, readGguf, type GgufMetadata } from "../engine/gguf/index.js";
import { BpeTokenizer, TokenType } from "./bpeTokenizer.js";
import { preTokenizerByHuggingFacePattern, preTokenizerByName, type PreTokenizerKind } from "./preTokenizers.js";

export interface HuggingFaceAddedToken {
  id: number;
  content: string;
  special?: boolean;
  normalized?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  single_word?: boolean;
}

/** The parts of tokenizer.json Vertical reads. */
export interface HuggingFaceTokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[]; ignore_merges?: boolean; byte_fallback?: boolean };
  added_tokens?: HuggingFaceAddedToken[];
  normalizer?: { type: string } | null;
  pre_tokenizer?: Record<string, unknown> | null;
  post_processor?: Record<string, unknown> | null;
  decoder?: Record<string, unknown> | null;
  [key: string]: unknown;
}

type TokenSetting = string | { content: string } | null | undefined;

/** The parts of tokenizer_config.json Vertical reads. */
export interface HuggingFaceTokenizerConfig {
  chat_template?: string | { name: string; template: string }[];
  bos_token?: TokenSetting;
  eos_token?: TokenSetting;
  pad_token?: TokenSetting;
  unk_token?: TokenSetting;
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  [key: string]: unknown;
}

export interface HuggingFaceTokenizerFiles {
  tokenizerJson: HuggingFaceTokenizerJson;
  config: HuggingFaceTokenizerConfig;
  /** For error messages. */
  source: string;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`cannot read: ${(error as Error).message}`, { where: file, cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`not valid JSON: ${(error as Error).message}`, { where: file, cause: error });
  }
}

/** Reads tokenizer.json (a path to it or its directory) and tokenizer_config.json beside it, if any. */
export function readHuggingFaceTokenizer(source: string): HuggingFaceTokenizerFiles {
  const isDirectory = fs.existsSync(source) && fs.statSync(source).isDirectory();
  const tokenizerPath = isDirectory ? path.join(source, "tokenizer.json") : source;
  if (!fs.existsSync(tokenizerPath)) {
    throw new InputError(`no tokenizer.json found`, { where: tokenizerPath, hint: "pass a tokenizer.json, the directory holding it, or a .gguf" });
  }
  const tokenizerJson = readJson(tokenizerPath) as HuggingFaceTokenizerJson;
  if (typeof tokenizerJson !== "object" || tokenizerJson === null || typeof tokenizerJson.model !== "object") {
    throw new InputError(`not a Hugging Face tokenizer.json (no "model" object)`, { where: tokenizerPath });
  }
  const configPath = path.join(path.dirname(tokenizerPath), "tokenizer_config.json");
  const config = fs.existsSync(configPath) ? (readJson(configPath) as HuggingFaceTokenizerConfig) : {};
  return { tokenizerJson, config, source: tokenizerPath };
}

/** HF's convert_hf_to_gguf does_token_look_special: added tokens that ought to be control tokens. */
function looksSpecial(text: string): boolean {
  return (
    ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(text) ||
    (text.startsWith("<|") && text.endsWith("|>")) ||
    (text.startsWith("<｜") && text.endsWith("｜>")) ||
    (text.startsWith("<unused") && text.endsWith(">"))
  );
}

function tokenText(setting: TokenSetting): string | undefined {
  if (setting === null || setting === undefined) return undefined;
  return typeof setting === "string" ? setting : setting.content;
}

/** Everything needed for both our tokenizer and the GGUF metadata, derived once. */
export interface HuggingFaceVocabulary {
  tokens: string[];
  tokenTypes: TokenType[];
  merges: string[];
  preTokenizer: PreTokenizerKind;
  ignoreMerges: boolean;
  normalizeNfc: boolean;
  bosId: number | undefined;
  eosId: number | undefined;
  padId: number | undefined;
  eotId: number | undefined;
  addBos: boolean;
  addEos: boolean;
  chatTemplate: string | undefined;
}

function detectPreTokenizer(json: HuggingFaceTokenizerJson, where: string): PreTokenizerKind {
  const pre = json.pre_tokenizer as { type?: string; use_regex?: boolean; pretokenizers?: { type?: string; pattern?: { Regex?: string }; use_regex?: boolean }[] } | null | undefined;
  if (pre?.type === "ByteLevel" && pre.use_regex !== false) return preTokenizerByName("gpt-2", where);
  if (pre?.type === "Sequence" && Array.isArray(pre.pretokenizers)) {
    const split = pre.pretokenizers.find((step) => step.type === "Split");
    const byteLevel = pre.pretokenizers.find((step) => step.type === "ByteLevel");
    const pattern = split?.pattern?.Regex;
    if (pattern !== undefined && byteLevel && byteLevel.use_regex === false) {
      const kind = preTokenizerByHuggingFacePattern(pattern);
      if (kind) return kind;
      throw new ModelError(`pre-tokenizer regex ${JSON.stringify(pattern)} is not one Vertical knows (Qwen2, Llama 3, Qwen3.5, GPT-2)`, {
        where,
        hint: "llama.cpp must recognise the pre-tokenizer too; use a tokenizer of one of these families",
      });
    }
  }
  throw new ModelError(`unsupported pre_tokenizer ${JSON.stringify(pre?.type ?? null)}: Vertical imports byte-level BPE tokenizers only`, { where });
}

function detectAddBos(json: HuggingFaceTokenizerJson, config: HuggingFaceTokenizerConfig, bosText: string | undefined): boolean {
  if (typeof config.add_bos_token === "boolean") return config.add_bos_token;
  // as convert_hf_to_gguf's SpecialVocab: a TemplateProcessing post-processor that starts with BOS
  const processors = (json.post_processor?.type === "Sequence" ? (json.post_processor.processors as Record<string, unknown>[]) : [json.post_processor]) ?? [];
  for (const processor of processors) {
    if (processor?.type !== "TemplateProcessing") continue;
    const first = (processor.single as { SpecialToken?: { id: string } }[] | undefined)?.[0];
    if (first?.SpecialToken && first.SpecialToken.id === bosText) return true;
  }
  return false;
}

/** The vocabulary as llama.cpp sees it after conversion. `vocabSize` pads with [PAD{id}] tokens (model embedding rows). */
export function huggingFaceVocabulary(files: HuggingFaceTokenizerFiles, options: { vocabSize?: number } = {}): HuggingFaceVocabulary {
  const { tokenizerJson: json, config, source: where } = files;
  if (json.model.type !== "BPE") throw new ModelError(`tokenizer model type '${json.model.type}' is not supported; Vertical imports byte-level BPE`, { where });
  if (json.model.byte_fallback) throw new ModelError(`BPE with byte_fallback (SentencePiece-style) is not supported`, { where });
  const normalizer = json.normalizer ?? null;
  if (normalizer !== null && normalizer.type !== "NFC") throw new ModelError(`normalizer '${normalizer.type}' is not supported (only none or NFC)`, { where });
  const preTokenizer = detectPreTokenizer(json, where);

  const byId = new Map<number, { text: string; type: TokenType }>();
  for (const [text, id] of Object.entries(json.model.vocab)) byId.set(id, { text, type: TokenType.Normal });
  for (const added of json.added_tokens ?? []) {
    const type = added.special || looksSpecial(added.content) ? TokenType.Control : TokenType.UserDefined;
    byId.set(added.id, { text: added.content, type });
  }
  let largestId = -1;
  for (const id of byId.keys()) if (id > largestId) largestId = id;
  const size = Math.max(largestId + 1, options.vocabSize ?? 0);
  if (options.vocabSize !== undefined && options.vocabSize < largestId + 1) {
    throw new ModelError(`vocabulary size ${options.vocabSize} is smaller than the tokenizer's ${largestId + 1} tokens`, { where });
  }
  const tokens: string[] = new Array<string>(size);
  const tokenTypes: TokenType[] = new Array<TokenType>(size);
  for (let id = 0; id < size; id++) {
    const entry = byId.get(id);
    tokens[id] = entry?.text ?? `[PAD${id}]`;
    tokenTypes[id] = entry?.type ?? TokenType.Unused;
  }
  const merges = json.model.merges.map((merge) => (typeof merge === "string" ? merge : `${merge[0]} ${merge[1]}`));

  const idOf = (setting: TokenSetting, what: string) => {
    const text = tokenText(setting);
    if (text === undefined) return undefined;
    const id = tokens.indexOf(text);
    if (id < 0) throw new ModelError(`${what} '${text}' from tokenizer_config.json is not in the vocabulary`, { where });
    return id;
  };
  const bosId = idOf(config.bos_token, "bos_token");
  const eosId = idOf(config.eos_token, "eos_token");
  const padId = idOf(config.pad_token, "pad_token");
  const eotId = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"].map((text) => tokens.indexOf(text)).find((id) => id >= 0 && tokenTypes[id] === TokenType.Control);
  let chatTemplate: string | undefined;
  if (typeof config.chat_template === "string") chatTemplate = config.chat_template;
  else if (Array.isArray(config.chat_template)) chatTemplate = config.chat_template.find((entry) => entry.name === "default")?.template ?? config.chat_template[0]?.template;
  return {
    tokens,
    tokenTypes,
    merges,
    preTokenizer,
    ignoreMerges: json.model.ignore_merges ?? false,
    normalizeNfc: normalizer?.type === "NFC",
    bosId,
    eosId,
    padId,
    eotId,
    addBos: detectAddBos(json, config, tokenText(config.bos_token)),
    addEos: config.add_eos_token === true,
    chatTemplate,
  };
}

/** Our tokenizer, behaving as the HF tokenizer (including its NFC normalizer, which llama.cpp lacks). */
export function tokenizerFromHuggingFace(source: string | HuggingFaceTokenizerFiles): BpeTokenizer {
  const files = typeof source === "string" ? readHuggingFaceTokenizer(source) : source;
  const vocabulary = huggingFaceVocabulary(files);
  return new BpeTokenizer({ ...vocabulary, source: files.source });
}

/**
 * GGUF tokenizer metadata (tokenizer.ggml.* and tokenizer.chat_template) from a tokenizer.json path,
 * its directory, HF files already read, or a .gguf to copy from. `vocabSize` pads the token list to
 * the model's embedding rows, as convert_hf_to_gguf does.
 */
export function tokenizerGgufMetadata(source: string | HuggingFaceTokenizerFiles, options: { vocabSize?: number } = {}): GgufMetadata {
  if (typeof source === "string" && source.endsWith(".gguf")) return copyTokenizerMetadata(source, options.vocabSize);
  const files = typeof source === "string" ? readHuggingFaceTokenizer(source) : source;
  const vocabulary = huggingFaceVocabulary(files, options);
  return vocabularyToGguf(vocabulary);
}

/** tokenizer.* keys for a vocabulary (shared by import and training). */
export function vocabularyToGguf(vocabulary: HuggingFaceVocabulary): GgufMetadata {
  const metadata: GgufMetadata = new Map();
  metadata.set("tokenizer.ggml.model", gguf.string("gpt2"));
  metadata.set("tokenizer.ggml.pre", gguf.string(vocabulary.preTokenizer.name));
  metadata.set("tokenizer.ggml.tokens", gguf.stringArray(vocabulary.tokens));
  metadata.set("tokenizer.ggml.token_type", gguf.numberArray("int32", vocabulary.tokenTypes));
  metadata.set("tokenizer.ggml.merges", gguf.stringArray(vocabulary.merges));
  const ids: [string, number | undefined][] = [
    ["bos_token_id", vocabulary.bosId],
    ["eos_token_id", vocabulary.eosId],
    ["eot_token_id", vocabulary.eotId],
    ["padding_token_id", vocabulary.padId],
  ];
  for (const [key, id] of ids) if (id !== undefined) metadata.set(`tokenizer.ggml.${key}`, gguf.uint32(id));
  metadata.set("tokenizer.ggml.add_bos_token", gguf.bool(vocabulary.addBos));
  metadata.set("tokenizer.ggml.add_eos_token", gguf.bool(vocabulary.addEos));
  if (vocabulary.chatTemplate !== undefined) metadata.set("tokenizer.chat_template", gguf.string(vocabulary.chatTemplate));
  return metadata;
}

function copyTokenizerMetadata(file: string, vocabSize: number | undefined): GgufMetadata {
  const read = readGguf(file);
  const metadata: GgufMetadata = new Map();
  for (const [key, value] of read.metadata) if (key.startsWith("tokenizer.")) metadata.set(key, value);
  const tokens = read.getStringArray("tokenizer.ggml.tokens");
  if (!tokens) throw new ModelError(`no tokenizer to copy: tokenizer.ggml.tokens is missing`, { where: file });
  if (vocabSize !== undefined && vocabSize !== tokens.length) {
    throw new ModelError(`the tokenizer has ${tokens.length} tokens but a vocabulary of ${vocabSize} was asked for`, { where: file });
  }
  return metadata;
}
