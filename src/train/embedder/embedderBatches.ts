/**
 * Training batches for the bi-encoder: B (query, positive) pairs whose positives are distinct
 * passages (two queries sharing a positive would each count the other's as a negative), plus K hard
 * negatives per query that are none of the batch's positives (else they would be false negatives),
 * tokenised as the embedding context tokenises (embeddingTokens) and padded to fixed lengths.
 */
import { InputError } from "../../shared/errors.js";
import { Random } from "../random.js";
import type { ContrastiveBatch, PaddedSequences } from "./contrastiveGraph.js";

export interface EmbedderPassage {
  /** Stable id (chunk id); two passages with one id are the same passage. */
  id: string;
  text: string;
}

/** One training example: a query, the passage it belongs to, and BM25-mined passages it does not. */
export interface EmbedderPair {
  query: string;
  positive: EmbedderPassage;
  /** Hard negatives, best-ranked first. */
  negatives: readonly EmbedderPassage[];
}

interface TokenisedPair {
  query: number[];
  positive: { id: string; tokens: number[] };
  negatives: { id: string; tokens: number[] }[];
}

/** Cuts a sequence to `limit` tokens, keeping a final EOS the embedding context would append. */
function cut(tokens: number[], limit: number, eosId: number | undefined): number[] {
  if (tokens.length <= limit) return tokens;
  const head = tokens.slice(0, limit);
  if (eosId !== undefined && tokens.at(-1) === eosId) head[limit - 1] = eosId;
  return head;
}

export class EmbedderBatches {
  readonly queryLength: number;
  readonly passageLength: number;
  /** Texts cut to the length limits. */
  readonly truncated: number;
  private readonly pairs: TokenisedPair[];
  private order: number[] = [];
  private cursor = 0;

  constructor(
    pairs: readonly EmbedderPair[],
    encode: (text: string) => number[],
    limits: { maxQueryTokens: number; maxPassageTokens: number; eosId: number | undefined },
    private readonly options: { batch: number; hardNegatives: number },
    private readonly random: Random,
  ) {
    const distinct = new Set(pairs.map((pair) => pair.positive.id)).size;
    // B distinct positives, and K more passages to fall back on as negatives
    const needed = options.batch + options.hardNegatives;
    if (distinct < needed)
      throw new InputError(`the pairs name ${distinct} distinct passages; a batch of ${options.batch} with ${options.hardNegatives} hard negatives needs ${needed}`, {
        hint: "add documents, or lower --batch",
      });
    const cache = new Map<string, number[]>();
    let truncated = 0;
    const tokens = (text: string, limit: number) => {
      let encoded = cache.get(text);
      if (!encoded) cache.set(text, (encoded = encode(text)));
      if (encoded.length === 0) throw new InputError(`a training text has no tokens: ${JSON.stringify(text.slice(0, 60))}`);
      if (encoded.length > limit) truncated++;
      return cut(encoded, limit, limits.eosId);
    };
    this.pairs = pairs.map((pair) => ({
      query: tokens(pair.query, limits.maxQueryTokens),
      positive: { id: pair.positive.id, tokens: tokens(pair.positive.text, limits.maxPassageTokens) },
      negatives: pair.negatives.map((negative) => ({ id: negative.id, tokens: tokens(negative.text, limits.maxPassageTokens) })),
    }));
    this.truncated = truncated;
    this.queryLength = Math.max(...this.pairs.map((pair) => pair.query.length));
    this.passageLength = Math.max(...this.pairs.flatMap((pair) => [pair.positive.tokens.length, ...pair.negatives.map((negative) => negative.tokens.length)]));
  }

  get passagesPerBatch(): number {
    return this.options.batch * (1 + this.options.hardNegatives);
  }

  /** The next batch: pairs in a seeded order, epoch after epoch. */
  next(): ContrastiveBatch {
    const { batch: B, hardNegatives: K } = this.options;
    const chosen: TokenisedPair[] = [];
    const positives = new Set<string>();
    // skipped pairs (a positive already in the batch) stay first in line for the next batch
    const skipped: number[] = [];
    while (chosen.length < B) {
      if (this.cursor >= this.order.length) {
        this.order = [...skipped.splice(0), ...this.random.shuffle([...this.pairs.keys()])];
        this.cursor = 0;
      }
      const index = this.order[this.cursor++]!;
      const pair = this.pairs[index]!;
      if (positives.has(pair.positive.id)) skipped.push(index);
      else {
        chosen.push(pair);
        positives.add(pair.positive.id);
      }
    }
    this.order.splice(this.cursor, 0, ...skipped);
    const negatives = chosen.flatMap((pair) => {
      const usable = pair.negatives.filter((negative) => !positives.has(negative.id)).slice(0, K);
      // too few mined ones: random passages that are no positive of this batch
      while (usable.length < K) {
        const other = this.pairs[this.random.int(this.pairs.length)]!.positive;
        if (!positives.has(other.id) && !usable.some((negative) => negative.id === other.id)) usable.push(other);
      }
      return usable.map((negative) => negative.tokens);
    });
    return {
      queries: pad(chosen.map((pair) => pair.query), this.queryLength),
      passages: pad([...chosen.map((pair) => pair.positive.tokens), ...negatives], this.passageLength),
    };
  }
}

function pad(sequences: readonly number[][], length: number): PaddedSequences {
  const tokens = new Int32Array(sequences.length * length);
  sequences.forEach((sequence, index) => tokens.set(sequence, index * length));
  return { tokens, lengths: sequences.map((sequence) => sequence.length) };
}
