/**
 * Byte-level BPE training: Qwen2's pre-tokenizer (splits CJK into runs of letters, digits one by one),
 * the 256 GPT-2 byte characters as the base vocabulary, then merges of the most frequent adjacent
 * pair until the vocabulary is full. Ties go to the pair of lower ids (left, then right), so a run is
 * deterministic. Output is a Hugging Face tokenizer.json + tokenizer_config.json with the special
 * tokens of a ChatML chat template.
 */
import path from "node:path";
import { ConfigError } from "../shared/errors.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { byteAlphabet, encodeBytes } from "./byteLevel.js";
import { chatMlTemplate } from "./chatTemplate.js";
import { preTokenize, preTokenizerByName } from "./preTokenizers.js";
import type { HuggingFaceTokenizerConfig, HuggingFaceTokenizerJson } from "./huggingFace.js";

export const defaultSpecialTokens: readonly string[] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

export interface TrainBpeOptions {
  /** Training documents. */
  texts: Iterable<string>;
  /** Total vocabulary: 256 byte tokens + merges + special tokens. */
  vocabSize: number;
  /** Added after the learned tokens. Defaults to <|endoftext|>, <|im_start|>, <|im_end|>. */
  specialTokens?: readonly string[];
  /** A pair must occur at least this often to be merged. Defaults to 2. */
  minFrequency?: number;
  /** Called every 100 merges with the vocabulary size so far. */
  onProgress?: (vocabularySize: number, target: number) => void;
}

export interface TrainedTokenizer {
  tokenizerJson: HuggingFaceTokenizerJson;
  config: HuggingFaceTokenizerConfig;
  /** Learned merges (fewer than asked when the data ran out of pairs seen minFrequency times). */
  mergeCount: number;
  vocabSize: number;
}

/** Pair keys as one number; ids stay below 2^21 (checked), so the key is exact. */
const PAIR_SHIFT = 2 ** 21;
const pairKey = (left: number, right: number) => left * PAIR_SHIFT + right;

/** Max-heap of [count, left, right]: higher count first, then lower left id, then lower right id. */
class PairHeap {
  private readonly items: [number, number, number][] = [];
  get size() {
    return this.items.length;
  }
  private before(a: [number, number, number], b: [number, number, number]): boolean {
    return a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2];
  }
  push(item: [number, number, number]) {
    const items = this.items;
    items.push(item);
    let at = items.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(items[at]!, items[parent]!)) break;
      [items[at], items[parent]] = [items[parent]!, items[at]!];
      at = parent;
    }
  }
  pop(): [number, number, number] | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let at = 0;
      for (;;) {
        const left = at * 2 + 1;
        const right = left + 1;
        let best = at;
        if (left < items.length && this.before(items[left]!, items[best]!)) best = left;
        if (right < items.length && this.before(items[right]!, items[best]!)) best = right;
        if (best === at) break;
        [items[at], items[best]] = [items[best]!, items[at]!];
        at = best;
      }
    }
    return top;
  }
}

export function trainBpe(options: TrainBpeOptions): TrainedTokenizer {
  const specialTokens = [...(options.specialTokens ?? defaultSpecialTokens)];
  const minFrequency = options.minFrequency ?? 2;
  const target = options.vocabSize;
  if (new Set(specialTokens).size !== specialTokens.length) throw new ConfigError(`special tokens repeat: ${specialTokens.join(", ")}`);
  if (specialTokens.some((token) => token.length === 0)) throw new ConfigError(`a special token is empty`);
  if (!Number.isInteger(target) || target < 256 + specialTokens.length || target >= PAIR_SHIFT) {
    throw new ConfigError(`--vocab-size ${target} must be an integer from ${256 + specialTokens.length} (256 bytes + ${specialTokens.length} special tokens) to ${PAIR_SHIFT - 1}`);
  }
  const preTokenizer = preTokenizerByName("qwen2");

  // 1. count pre-tokens (special-token text is not training data)
  const wordCounts = new Map<string, number>();
  for (const text of options.texts) {
    let pieces = [text];
    for (const special of specialTokens) pieces = pieces.flatMap((piece) => piece.split(special));
    for (const piece of pieces) {
      for (const word of preTokenize(preTokenizer, piece)) {
        const encoded = encodeBytes(word);
        wordCounts.set(encoded, (wordCounts.get(encoded) ?? 0) + 1);
      }
    }
  }

  // 2. base vocabulary: the 256 byte characters in byte order
  const vocabulary: string[] = byteAlphabet();
  const idOf = new Map<string, number>(vocabulary.map((text, id) => [text, id]));
  const words: number[][] = [];
  const frequencies: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(Array.from(word, (char) => idOf.get(char)!));
    frequencies.push(count);
  }

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const changed = new Set<number>();
  const addPairs = (index: number, sign: 1 | -1) => {
    const symbols = words[index]!;
    const frequency = frequencies[index]! * sign;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i]!, symbols[i + 1]!);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + frequency);
      changed.add(key);
      if (sign > 0) {
        let holders = pairWords.get(key);
        if (!holders) pairWords.set(key, (holders = new Set()));
        holders.add(index);
      }
    }
  };
  for (let index = 0; index < words.length; index++) addPairs(index, 1);

  const heap = new PairHeap();
  const pushChanged = () => {
    for (const key of changed) {
      const count = pairCounts.get(key) ?? 0;
      if (count > 0) heap.push([count, Math.floor(key / PAIR_SHIFT), key % PAIR_SHIFT]);
      else {
        pairCounts.delete(key);
        pairWords.delete(key);
      }
    }
    changed.clear();
  };
  pushChanged();

  // 3. merge the most frequent pair until the vocabulary is full
  const merges: [string, string][] = [];
  const learnedTarget = target - specialTokens.length;
  while (vocabulary.length < learnedTarget && heap.size > 0) {
    const [count, left, right] = heap.pop()!;
    const key = pairKey(left, right);
    if (pairCounts.get(key) !== count) continue; // stale heap entry
    if (count < minFrequency) break;
    const text = vocabulary[left]! + vocabulary[right]!;
    let merged = idOf.get(text);
    if (merged === undefined) {
      merged = vocabulary.length;
      vocabulary.push(text);
      idOf.set(text, merged);
    }
    merges.push([vocabulary[left]!, vocabulary[right]!]);
    for (const index of pairWords.get(key) ?? []) {
      const symbols = words[index]!;
      let present = false;
      for (let i = 0; i + 1 < symbols.length; i++) if (symbols[i] === left && symbols[i + 1] === right) present = true;
      if (!present) continue;
      addPairs(index, -1);
      const next: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          next.push(merged);
          i++;
        } else next.push(symbols[i]!);
      }
      words[index] = next;
      addPairs(index, 1);
    }
    pairCounts.delete(key);
    pairWords.delete(key);
    changed.delete(key);
    pushChanged();
    if (merges.length % 100 === 0) options.onProgress?.(vocabulary.length + specialTokens.length, target);
  }

  // no prototype: a learned token may be "__proto__" (code corpora), which a plain object would swallow
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  vocabulary.forEach((text, id) => (vocab[text] = id));
  const addedTokens = specialTokens.map((content, index) => ({
    id: vocabulary.length + index,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizerJson: HuggingFaceTokenizerJson = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [{ type: "Split", pattern: { Regex: preTokenizer.huggingFacePattern }, behavior: "Isolated", invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    } as HuggingFaceTokenizerJson["model"],
  };
  const has = (token: string) => specialTokens.includes(token);
  const endOfText = has("<|endoftext|>") ? "<|endoftext|>" : specialTokens[0];
  const config: HuggingFaceTokenizerConfig = {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...rest }) => [String(id), rest])),
    // never added (add_bos_token false), but named so llama.cpp does not fall back to its GPT-2 default id 11
    bos_token: endOfText ?? null,
    // eos ends a document; the chat turn end (<|im_end|>) is found as the end-of-turn token
    eos_token: endOfText ?? null,
    pad_token: endOfText ?? null,
    unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: 131072,
    tokenizer_class: "Qwen2Tokenizer",
    ...(has("<|im_start|>") && has("<|im_end|>") ? { chat_template: chatMlTemplate } : {}),
  };
  return { tokenizerJson, config, mergeCount: merges.length, vocabSize: vocabulary.length + specialTokens.length };
}

/** Writes tokenizer.json at `out` and tokenizer_config.json beside it (each atomically). */
export function writeTrainedTokenizer(out: string, trained: TrainedTokenizer): { tokenizerPath: string; configPath: string } {
  const configPath = path.join(path.dirname(out), "tokenizer_config.json");
  writeFileAtomic(out, JSON.stringify(trained.tokenizerJson));
  writeFileAtomic(configPath, JSON.stringify(trained.config, null, 2) + "\n");
  return { tokenizerPath: out, configPath };
}
