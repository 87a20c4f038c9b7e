/**
 * Pre-tokenizer regexes, per llama.cpp pre-tokenizer name (tokenizer.ggml.pre), as llama.cpp's
 * src/llama-vocab.cpp defines them. The HF originals use `(?i:…)`, which JavaScript (Node 20) lacks;
 * llama.cpp's adapted forms spell the case variants out and mean the same.
 *
 * `\s` is replaced by the Unicode White_Space set that Rust's regex (HF) and llama.cpp use: JS `\s`
 * also matches U+FEFF and misses U+0085.
 */
import { ModelError } from "../shared/errors.js";

const whiteSpace = "\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

/** Turns a llama.cpp/HF pattern into a JS regex with the shared meaning of \s and \S. */
function compile(pattern: string): RegExp {
  const withSpaces = pattern
    .replace(/\[\^\\s/g, `[^${whiteSpace}`)
    .replace(/\[\\s/g, `[${whiteSpace}`)
    .replace(/\\s/g, `[${whiteSpace}]`)
    .replace(/\\S/g, `[^${whiteSpace}]`);
  return new RegExp(withSpaces, "gu");
}

const qwen2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const llama3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const qwen35 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// GPT-2's regex as HF's ByteLevel(use_regex) has it; llama.cpp's copy lacks the final \s+ but its
// hand-written splitter behaves as if it were there
const gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export interface PreTokenizerKind {
  /** The name written to tokenizer.ggml.pre (llama.cpp's canonical spelling). */
  name: string;
  /** llama.cpp skips BPE for a pre-token that is itself in the vocabulary (HF: model.ignore_merges). */
  ignoreMerges: boolean;
  /** llama.cpp adds BOS by default for this pre type unless tokenizer.ggml.add_bos_token says otherwise. */
  addBosByDefault: boolean;
  regex: RegExp;
  /** The regex as the HF tokenizer.json writes it, to recognise it on import. */
  huggingFacePattern: string;
}

const kinds: PreTokenizerKind[] = [
  {
    name: "qwen2",
    ignoreMerges: false,
    addBosByDefault: false,
    regex: compile(qwen2),
    huggingFacePattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  },
  {
    name: "llama-bpe",
    ignoreMerges: true,
    addBosByDefault: true,
    regex: compile(llama3),
    huggingFacePattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  },
  {
    name: "qwen35",
    ignoreMerges: false,
    addBosByDefault: false,
    regex: compile(qwen35),
    huggingFacePattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  },
  {
    name: "gpt-2",
    ignoreMerges: false,
    addBosByDefault: false,
    regex: compile(gpt2),
    huggingFacePattern: gpt2,
  },
];

/** Other names llama.cpp maps onto the same pre-tokenizers (llama_vocab::impl::load). */
const aliases = new Map<string, string>([
  ["llama3", "llama-bpe"],
  ["llama-v3", "llama-bpe"],
  ["falcon3", "llama-bpe"],
  ["deepseek-r1-qwen", "qwen2"],
  ["megrez", "qwen2"],
  ["phi-2", "gpt-2"],
]);

export const supportedPreTokenizers: readonly string[] = [...kinds.map((kind) => kind.name), ...aliases.keys()];

/** The pre-tokenizer llama.cpp uses for `name`; ModelError for one we do not implement. */
export function preTokenizerByName(name: string, where?: string): PreTokenizerKind {
  const canonical = aliases.get(name) ?? name;
  const found = kinds.find((kind) => kind.name === canonical);
  if (!found) {
    throw new ModelError(`pre-tokenizer '${name}' (tokenizer.ggml.pre) is not supported by Vertical's tokenizer`, {
      where,
      hint: `supported: ${supportedPreTokenizers.join(", ")}`,
    });
  }
  return found;
}

/** The pre-tokenizer whose HF regex is `pattern`, or undefined. */
export function preTokenizerByHuggingFacePattern(pattern: string): PreTokenizerKind | undefined {
  return kinds.find((kind) => kind.huggingFacePattern === pattern);
}

/** Splits `text` into pre-tokens (every character lands in exactly one piece). */
export function preTokenize(kind: PreTokenizerKind, text: string): string[] {
  return text.match(kind.regex) ?? [];
}
