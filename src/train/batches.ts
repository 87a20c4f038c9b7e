/**
 * Packing documents into fixed-length sequences and drawing micro-batches from several weighted
 * sources, deterministically under a seed. The loader's whole position is a small JSON value
 * (`LoaderState`) that checkpoints save, so a resumed run sees exactly the batches it would have.
 */
import { Random, type RandomState } from "./random.js";
import type { TrainingDocument } from "./documents.js";

/** T+1 tokens: inputs are tokens[0..T), targets tokens[1..T]; lossMask[t] says whether target t counts. */
export interface PackedSequence {
  tokens: Int32Array;
  lossMask: Uint8Array;
  /**
   * Positions in `tokens` where a document begins (ascending, the first is 0). With per-document
   * attention a token sees only earlier tokens of its own document. Absent: one document.
   */
  segmentStarts?: Int32Array;
}

function emptySequence(length: number, padId: number): PackedSequence {
  return { tokens: new Int32Array(length + 1).fill(padId), lossMask: new Uint8Array(length) };
}

/**
 * Segment index of each of the first `count` positions of a sequence (0 for the first document),
 * from its segment starts.
 */
export function segmentOf(sequence: PackedSequence, count: number): Int32Array {
  const segments = new Int32Array(count);
  const starts = sequence.segmentStarts;
  if (!starts) return segments;
  let segment = 0;
  for (let position = 0; position < count; position++) {
    while (segment + 1 < starts.length && starts[segment + 1]! <= position) segment++;
    segments[position] = segment;
  }
  return segments;
}

/**
 * Concatenates documents into one stream and cuts it into windows of T+1 tokens that overlap by one
 * token (the last target of a window is the first input of the next), so every token is predicted
 * once. Used for text, where cutting a document is harmless.
 */
export function packStream(documents: readonly TrainingDocument[], length: number, padId: number): PackedSequence[] {
  const total = documents.reduce((sum, document) => sum + document.tokens.length, 0);
  const tokens = new Int32Array(total);
  const mask = new Uint8Array(total);
  const documentStarts: number[] = [];
  let offset = 0;
  for (const document of documents) {
    tokens.set(document.tokens, offset);
    mask.set(document.lossMask, offset);
    if (document.tokens.length > 0) documentStarts.push(offset);
    offset += document.tokens.length;
  }
  const sequences: PackedSequence[] = [];
  let next = 0;
  for (let start = 0; start + 1 < total; start += length) {
    const sequence = emptySequence(length, padId);
    const end = Math.min(total, start + length + 1);
    sequence.tokens.set(tokens.subarray(start, end));
    // target t is token start+t+1
    sequence.lossMask.set(mask.subarray(start + 1, end));
    // a window that begins inside a document starts a segment there too
    while (next < documentStarts.length && documentStarts[next]! <= start) next++;
    const starts = [0];
    for (let k = next; k < documentStarts.length && documentStarts[k]! < end; k++) starts.push(documentStarts[k]! - start);
    // padding after the stream's end is a segment of its own (never predicted)
    if (end - start < length + 1) starts.push(end - start);
    sequence.segmentStarts = Int32Array.from(starts);
    sequences.push(sequence);
  }
  return sequences;
}

export interface PackedWhole {
  sequences: PackedSequence[];
  /** Documents cut to T+1 tokens. */
  truncated: number;
  /** Cut documents that kept no target: every token counting in the loss came after the cut. */
  emptied: number;
  /** The shortest T that would keep a target in every emptied document (0 when none). */
  lengthNeeded: number;
}

/** Index of the first token (after the first, which is never predicted) that counts in the loss, or -1. */
function firstTarget(lossMask: Uint8Array): number {
  for (let j = 1; j < lossMask.length; j++) if (lossMask[j]) return j;
  return -1;
}

/**
 * Packs whole documents (chat examples) into sequences without cutting them: first come, first
 * packed, padding at the end (never predicted). A document longer than T+1 tokens is truncated to
 * fit and counted in `truncated`; one whose targets all lie past the cut is counted in `emptied`.
 */
export function packWhole(documents: readonly TrainingDocument[], length: number, padId: number): PackedWhole {
  const sequences: PackedSequence[] = [];
  let truncated = 0;
  let emptied = 0;
  let lengthNeeded = 0;
  let current: PackedSequence | undefined;
  let used = 0;
  let starts: number[] = [];
  // the padding after a sequence's last document is a segment of its own (never predicted)
  const close = () => {
    if (current) current.segmentStarts = Int32Array.from(used < length + 1 ? [...starts, used] : starts);
  };
  for (const document of documents) {
    let tokens = document.tokens;
    let lossMask = document.lossMask;
    if (tokens.length > length + 1) {
      truncated++;
      const first = firstTarget(lossMask);
      // target j needs tokens 0..j in the sequence: T + 1 > j
      if (first > length) {
        emptied++;
        lengthNeeded = Math.max(lengthNeeded, first);
      }
      tokens = tokens.subarray(0, length + 1);
      lossMask = lossMask.subarray(0, length + 1);
    }
    if (!current || used + tokens.length > length + 1) {
      close();
      current = emptySequence(length, padId);
      sequences.push(current);
      used = 0;
      starts = [];
    }
    starts.push(used);
    current.tokens.set(tokens, used);
    // lossMask of document token j (j >= 1 within the sequence) lands at target index used+j-1;
    // the first token of a sequence is never a target.
    for (let j = 0; j < tokens.length; j++) {
      const target = used + j - 1;
      if (target >= 0) current.lossMask[target] = lossMask[j]!;
    }
    used += tokens.length;
  }
  close();
  return { sequences, truncated, emptied, lengthNeeded };
}

/** Splits off a validation set: a seeded choice of round(fraction * n) sequences (at least one when asked). */
export function splitValidation(
  sequences: readonly PackedSequence[],
  fraction: number,
  seed: number,
  purpose: string,
  atLeastOne: boolean,
): { train: PackedSequence[]; validation: PackedSequence[] } {
  let count = Math.round(fraction * sequences.length);
  if (atLeastOne && fraction > 0 && count === 0 && sequences.length >= 2) count = 1;
  const order = Random.derive(seed, `validation:${purpose}`).shuffle(sequences.map((_, index) => index));
  const held = new Set(order.slice(0, count));
  return {
    train: sequences.filter((_, index) => !held.has(index)),
    validation: sequences.filter((_, index) => held.has(index)),
  };
}

export interface LoaderSource {
  sequences: readonly PackedSequence[];
  weight: number;
}

export interface LoaderState {
  random: RandomState;
  /** Per source: how many passes were completed and the position within the current pass. */
  cursors: { epoch: number; position: number }[];
  /** Sequences drawn so far. */
  drawn: number;
}

/**
 * Draws sequences: the source by weight (seeded), then the next sequence of that source in a
 * per-epoch seeded permutation. With one source this is plain shuffled epochs.
 */
export class BatchLoader {
  private readonly random: Random;
  private readonly cursors: { epoch: number; position: number }[];
  /** Per source, the permutation of its current epoch (recomputed from the seed when the epoch changes). */
  private readonly orders = new Map<number, { epoch: number; order: number[] }>();
  private drawn: number;
  private readonly totalWeight: number;

  constructor(
    private readonly sources: readonly LoaderSource[],
    private readonly seed: number,
    state?: LoaderState,
  ) {
    const usable = sources.filter((source) => source.sequences.length > 0);
    if (usable.length === 0) throw new Error("BatchLoader needs at least one non-empty source");
    this.totalWeight = sources.reduce((sum, source) => sum + (source.sequences.length > 0 ? source.weight : 0), 0);
    this.random = new Random(state?.random ?? Random.derive(seed, "loader").state);
    this.cursors = state?.cursors.map((cursor) => ({ ...cursor })) ?? sources.map(() => ({ epoch: 0, position: 0 }));
    this.drawn = state?.drawn ?? 0;
  }

  get state(): LoaderState {
    return { random: this.random.state, cursors: this.cursors.map((cursor) => ({ ...cursor })), drawn: this.drawn };
  }

  private order(source: number, epoch: number): number[] {
    const cached = this.orders.get(source);
    if (cached?.epoch === epoch) return cached.order;
    const order = Random.derive(this.seed, `order:${source}:${epoch}`).shuffle(this.sources[source]!.sequences.map((_, index) => index));
    this.orders.set(source, { epoch, order });
    return order;
  }

  private chooseSource(): number {
    if (this.sources.length === 1) return 0;
    let pick = this.random.next() * this.totalWeight;
    for (let index = 0; index < this.sources.length; index++) {
      const source = this.sources[index]!;
      if (source.sequences.length === 0) continue;
      pick -= source.weight;
      if (pick < 0) return index;
    }
    return this.sources.findLastIndex((source) => source.sequences.length > 0);
  }

  next(): PackedSequence {
    const source = this.chooseSource();
    const cursor = this.cursors[source]!;
    const sequences = this.sources[source]!.sequences;
    const index = this.order(source, cursor.epoch)[cursor.position]!;
    cursor.position++;
    if (cursor.position >= sequences.length) {
      cursor.epoch++;
      cursor.position = 0;
    }
    this.drawn++;
    return sequences[index]!;
  }

  nextBatch(count: number): PackedSequence[] {
    return Array.from({ length: count }, () => this.next());
  }
}
