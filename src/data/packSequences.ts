import type { PackedSequence } from "./shardWriter.js";

/** A tokenized document or conversation ready to pack. */
export interface PackItem {
  tokens: ArrayLike<number>;
  /** 1 = train on this token. Omitted = train on every token. */
  lossMask?: ArrayLike<number>;
  /** Index of the source in the recipe, for per-source token counts. */
  sourceIndex: number;
}

export type PackMode =
  /** Documents are concatenated and cut into rows; a document may continue into the next row (cpt, mip). */
  | "continuous"
  /** Every item stays whole inside one row; a row is padded when the next item does not fit (sft). */
  | "whole";

/**
 * Packs items into fixed-length rows of `seqLen` tokens and hands each finished row to `emit`.
 * Streaming: holds one row. Counts real and target tokens per source as it goes.
 */
export class SequencePacker {
  readonly tokensBySource: number[] = [];
  readonly targetTokensBySource: number[] = [];
  sequences = 0;
  paddingTokens = 0;
  private tokens: Uint32Array;
  private mask: Uint8Array;
  private fill = 0;
  private docStarts: number[] = [];

  constructor(
    private readonly seqLen: number,
    private readonly padId: number,
    private readonly mode: PackMode,
    private readonly emit: (sequence: PackedSequence) => void,
  ) {
    this.tokens = new Uint32Array(seqLen).fill(padId);
    this.mask = new Uint8Array(seqLen);
  }

  add(item: PackItem): void {
    const length = item.tokens.length;
    if (length === 0) return;
    if (this.mode === "whole") {
      if (length > this.seqLen) throw new RangeError(`item of ${length} tokens does not fit a row of ${this.seqLen}`);
      if (this.fill + length > this.seqLen) this.flushRow();
    }
    let offset = 0;
    while (offset < length) {
      if (this.fill === this.seqLen) this.flushRow();
      // A row that starts in the middle of a document still records 0 as a segment start.
      if (offset === 0 || this.fill === 0) this.docStarts.push(this.fill);
      const take = Math.min(length - offset, this.seqLen - this.fill);
      let targets = 0;
      for (let k = 0; k < take; k++) {
        this.tokens[this.fill + k] = item.tokens[offset + k]!;
        const bit = item.lossMask ? (item.lossMask[offset + k]! ? 1 : 0) : 1;
        this.mask[this.fill + k] = bit;
        targets += bit;
      }
      this.fill += take;
      offset += take;
      this.tokensBySource[item.sourceIndex] = (this.tokensBySource[item.sourceIndex] ?? 0) + take;
      this.targetTokensBySource[item.sourceIndex] = (this.targetTokensBySource[item.sourceIndex] ?? 0) + targets;
    }
  }

  /** Emits the last, padded row. */
  finish(): void {
    if (this.fill > 0) this.flushRow();
  }

  private flushRow(): void {
    this.paddingTokens += this.seqLen - this.fill;
    this.emit({ tokens: this.tokens, lossMask: this.mask, length: this.fill, docStarts: this.docStarts });
    this.sequences++;
    this.tokens = new Uint32Array(this.seqLen).fill(this.padId);
    this.mask = new Uint8Array(this.seqLen);
    this.fill = 0;
    this.docStarts = [];
  }
}
