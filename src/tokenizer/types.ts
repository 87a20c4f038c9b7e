/**
 * What the rest of Vertical needs from a tokenizer. Implementations: one built from GGUF metadata
 * (tokenizer.ggml.*), one from a Hugging Face tokenizer.json; both byte-level BPE.
 */
export interface EncodeOptions {
  /** Add the BOS token when the tokenizer's config asks for it. Defaults to false. */
  addBos?: boolean;
  /** Parse special-token text such as "<|im_start|>" as the special token. Defaults to true. */
  parseSpecial?: boolean;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** End-of-turn token of the chat template (e.g. <|im_end|>, <|eot_id|>), if any. */
  readonly eotId: number | undefined;
  /** Jinja chat template, if the model has one. */
  readonly chatTemplate: string | undefined;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: readonly number[]): string;
  /** Id of a token given its exact text (special or not), or undefined. */
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}
