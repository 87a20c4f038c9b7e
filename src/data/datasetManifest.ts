/** The manifest written beside the shards (manifest.json); see docs/data-format.md. */
export type Objective = "cpt" | "mip" | "sft";

export interface ShardEntry {
  file: string;
  sequences: number;
  /** Non-padding tokens in this shard. */
  tokens: number;
  sha256: string;
}

export interface InputHash {
  /** File path as given in the recipe, or `store:<db>#<source>` for a corpus-store source. */
  input: string;
  sha256: string;
}

export interface SourceReport {
  name: string;
  kind: "text" | "instructions" | "chat";
  /** Share of tokens the recipe asked for (0..1). */
  share: number;
  /** Tokens of this source placed in sequences (separators and template text included, padding excluded). */
  tokens: number;
  /** tokens / all non-padding tokens. */
  achievedShare: number;
  /** Tokens with lossMask = 1. */
  targetTokens: number;
  /** Documents (or conversations) used, whole or in part. */
  documents: number;
  /** Documents cut short to hit the token budget exactly. */
  truncatedDocuments: number;
  /** Tokens the source had available (one pass). */
  availableTokens: number;
  /** How many times the source was read; > 1 only when `repeat` allowed upsampling. */
  epochs: number;
  /** Items dropped while rendering, by reason (e.g. "longer than seq_len"). */
  dropped: Record<string, number>;
  inputs: InputHash[];
}

export interface DatasetManifest {
  format: "vertical-shards";
  version: 1;
  objective: Objective;
  seqLen: number;
  padId: number;
  seed: number;
  tokenizer: { vocabSize: number; bosId: number | null; eosId: number | null; eotId: number | null; chatTemplateSha256: string | null };
  /** sha256 of the recipe's normalised JSON form. */
  recipeSha256: string;
  totals: { sequences: number; tokens: number; targetTokens: number; paddingTokens: number };
  sources: SourceReport[];
  shards: ShardEntry[];
}
