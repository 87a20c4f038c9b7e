/**
 * Byte-level BPE as llama.cpp runs it for tokenizer.ggml.model = "gpt2" (llm_tokenizer_bpe_session)
 * and HF tokenizers run it for a ByteLevel BPE model: split out special/added tokens (longest
 * first), pre-tokenize with the regex, map bytes to characters, apply merges lowest rank first
 * (leftmost on ties), look the pieces up, fall back to single bytes.
 */
import { InputError } from "../shared/errors.js";
import { byteLevelToBytes, decodeUtf8, encodeBytes } from "./byteLevel.js";
import { preTokenize, type PreTokenizerKind } from "./preTokenizers.js";
import type { EncodeOptions, Tokenizer } from "./types.js";

/** llama.cpp's token types (tokenizer.ggml.token_type). */
export enum TokenType {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

export interface BpeTokenizerSpec {
  /** Token texts by id: byte-level text for normal tokens, raw text for control/user-defined ones. */
  tokens: readonly string[];
  /** Per id; defaults to Normal. */
  tokenTypes?: readonly TokenType[];
  /** Merge rules in rank order, each "left right". */
  merges: readonly string[];
  preTokenizer: PreTokenizerKind;
  /** Use a pre-token that is itself a token without merging (llama3). Defaults to the pre-tokenizer's. */
  ignoreMerges?: boolean;
  bosId?: number;
  eosId?: number;
  eotId?: number;
  padId?: number;
  /** Whether encode({addBos: true}) adds BOS (tokenizer.ggml.add_bos_token). Defaults to the pre-tokenizer's. */
  addBos?: boolean;
  chatTemplate?: string;
  /** Apply Unicode NFC before tokenising (HF normalizer "NFC"; llama.cpp does not normalise). */
  normalizeNfc?: boolean;
  /** Where the vocabulary came from, for error messages. */
  source?: string;
}

/** Tokens that end a chat turn, in the order llama.cpp looks for them when no eot id is stored. */
const endOfTurnTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>"];

export class BpeTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly eotId: number | undefined;
  readonly padId: number | undefined;
  readonly chatTemplate: string | undefined;
  readonly addBos: boolean;
  readonly preTokenizer: PreTokenizerKind;
  readonly tokens: readonly string[];
  readonly tokenTypes: readonly TokenType[];
  readonly merges: readonly string[];
  private readonly ids = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  /** Control and user-defined tokens, longest text first (llama.cpp cache_special_tokens). */
  private readonly specials: { id: number; text: string; control: boolean }[];
  private readonly ignoreMerges: boolean;
  private readonly normalizeNfc: boolean;
  private readonly cache = new Map<string, number[]>();
  private readonly pieces: (number[] | undefined)[];

  constructor(spec: BpeTokenizerSpec) {
    this.tokens = spec.tokens;
    this.vocabSize = spec.tokens.length;
    this.tokenTypes = spec.tokenTypes ?? spec.tokens.map(() => TokenType.Normal);
    if (this.tokenTypes.length !== this.vocabSize) {
      throw new InputError(`${this.tokenTypes.length} token types for ${this.vocabSize} tokens`, { where: spec.source });
    }
    spec.tokens.forEach((text, id) => {
      // the first id wins for duplicate texts, as in llama.cpp's token_to_id
      if (!this.ids.has(text)) this.ids.set(text, id);
    });
    this.merges = spec.merges;
    spec.merges.forEach((merge, rank) => {
      if (!this.ranks.has(merge)) this.ranks.set(merge, rank);
    });
    this.preTokenizer = spec.preTokenizer;
    this.ignoreMerges = spec.ignoreMerges ?? spec.preTokenizer.ignoreMerges;
    this.addBos = spec.addBos ?? spec.preTokenizer.addBosByDefault;
    this.normalizeNfc = spec.normalizeNfc ?? false;
    this.chatTemplate = spec.chatTemplate;
    const checkId = (id: number | undefined, what: string) => {
      if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)) {
        throw new InputError(`${what} ${id} is outside the vocabulary of ${this.vocabSize} tokens`, { where: spec.source });
      }
      return id;
    };
    this.bosId = checkId(spec.bosId, "BOS id");
    this.eosId = checkId(spec.eosId, "EOS id");
    this.padId = checkId(spec.padId, "padding id");
    this.eotId = checkId(spec.eotId, "EOT id") ?? endOfTurnTexts.map((text) => this.tokenToId(text)).find((id) => id !== undefined && this.isSpecial(id));
    this.specials = [];
    this.tokenTypes.forEach((type, id) => {
      if (type === TokenType.Control || type === TokenType.UserDefined || type === TokenType.Unknown) {
        const text = spec.tokens[id]!;
        if (text.length > 0) this.specials.push({ id, text, control: type !== TokenType.UserDefined });
      }
    });
    this.specials.sort((a, b) => b.text.length - a.text.length || a.id - b.id);
    this.pieces = spec.tokens.map((text, id) => {
      const type = this.tokenTypes[id];
      if (type === TokenType.Control || type === TokenType.UserDefined || type === TokenType.Unknown) return [...new TextEncoder().encode(text)];
      if (type === TokenType.Unused) return [];
      return byteLevelToBytes(text) ?? [...new TextEncoder().encode(text)];
    });
  }

  private isSpecial(id: number): boolean {
    const type = this.tokenTypes[id];
    return type === TokenType.Control || type === TokenType.UserDefined;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const parseSpecial = options.parseSpecial ?? true;
    const out: number[] = [];
    if (options.addBos && this.addBos && this.bosId !== undefined) out.push(this.bosId);
    const input = this.normalizeNfc ? text.normalize("NFC") : text;
    for (const fragment of this.splitSpecial(input, parseSpecial)) {
      if (typeof fragment === "number") out.push(fragment);
      else for (const word of preTokenize(this.preTokenizer, fragment)) this.encodeWord(encodeBytes(word), out);
    }
    return out;
  }

  /**
   * Text split around special tokens, longest token first (llama.cpp tokenizer_st_partition).
   * Control tokens count only when parseSpecial; user-defined ones always (as HF added tokens do).
   */
  private splitSpecial(text: string, parseSpecial: boolean): (string | number)[] {
    let fragments: (string | number)[] = [text];
    for (const special of this.specials) {
      if (special.control && !parseSpecial) continue;
      const next: (string | number)[] = [];
      for (const fragment of fragments) {
        if (typeof fragment === "number" || !fragment.includes(special.text)) {
          next.push(fragment);
          continue;
        }
        const parts = fragment.split(special.text);
        parts.forEach((part, index) => {
          if (index > 0) next.push(special.id);
          if (part.length > 0) next.push(part);
        });
      }
      fragments = next;
    }
    return fragments;
  }

  /** BPE of one pre-token given as byte-level characters. */
  private encodeWord(word: string, out: number[]): void {
    const cached = this.cache.get(word);
    if (cached) {
      for (const id of cached) out.push(id);
      return;
    }
    const ids: number[] = [];
    const whole = this.ids.get(word);
    if (this.ignoreMerges && whole !== undefined) ids.push(whole);
    else for (const piece of this.mergeWord(word)) this.lookUp(piece, ids);
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(word, ids);
    for (const id of ids) out.push(id);
  }

  private lookUp(piece: string, ids: number[]): void {
    const id = this.ids.get(piece);
    if (id !== undefined) {
      ids.push(id);
      return;
    }
    // not in the vocabulary: one token per byte character, skipping any the vocabulary lacks (as llama.cpp does)
    for (const char of piece) {
      const byteId = this.ids.get(char);
      if (byteId !== undefined) ids.push(byteId);
    }
  }

  /** Applies merges by rank, leftmost first on equal rank, until none applies. */
  private mergeWord(word: string): string[] {
    const symbols = Array.from(word);
    if (symbols.length < 2) return symbols;
    for (;;) {
      let bestRank = Number.POSITIVE_INFINITY;
      let bestAt = -1;
      for (let i = 0; i < symbols.length - 1; i++) {
        const rank = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestAt = i;
        }
      }
      if (bestAt < 0) return symbols;
      symbols.splice(bestAt, 2, symbols[bestAt]! + symbols[bestAt + 1]!);
    }
  }

  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const piece = this.pieces[id];
      if (piece === undefined) throw new InputError(`token id ${id} is outside the vocabulary of ${this.vocabSize} tokens`);
      for (const byte of piece) bytes.push(byte);
    }
    return decodeUtf8(bytes);
  }
}
