/**
 * Okapi BM25 over passages (Robertson & Zaragoza 2009, with Lucene's non-negative idf
 * log(1 + (N - df + 0.5) / (df + 0.5))). Terms come from segmentWords (jieba for Chinese).
 */
import { ConfigError } from "../shared/errors.js";
import { segmentWords } from "./segmentWords.js";
import type { Passage, RetrievedPassage, Retriever } from "./types.js";

export interface Bm25Options {
  /** Term-frequency saturation. Defaults to 1.2. */
  k1?: number;
  /** Length normalisation. Defaults to 0.75. */
  b?: number;
  /** Passages returned when retrieve() is not given topK. Defaults to 3. */
  topK?: number;
}

export class Bm25Retriever implements Retriever {
  readonly id: string;
  private readonly k1: number;
  private readonly b: number;
  private readonly defaultTopK: number;
  private readonly passages: readonly Passage[];
  /** term -> postings (passage index, term frequency). */
  private readonly postings = new Map<string, { passage: number; frequency: number }[]>();
  private readonly lengths: number[];
  private readonly averageLength: number;

  constructor(passages: readonly Passage[], options: Bm25Options = {}) {
    this.k1 = options.k1 ?? 1.2;
    this.b = options.b ?? 0.75;
    this.defaultTopK = options.topK ?? 3;
    if (!(this.k1 >= 0) || !(this.b >= 0 && this.b <= 1)) throw new ConfigError(`BM25 needs k1 >= 0 and 0 <= b <= 1, got k1=${this.k1} b=${this.b}`);
    if (!Number.isInteger(this.defaultTopK) || this.defaultTopK < 1) throw new ConfigError(`BM25 topK must be a positive integer, got ${this.defaultTopK}`);
    this.id = `bm25:k1=${this.k1},b=${this.b}`;
    this.passages = passages;
    this.lengths = passages.map((passage, index) => {
      const counts = new Map<string, number>();
      const terms = segmentWords(passage.text);
      for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
      for (const [term, frequency] of counts) {
        let list = this.postings.get(term);
        if (!list) this.postings.set(term, (list = []));
        list.push({ passage: index, frequency });
      }
      return terms.length;
    });
    this.averageLength = this.lengths.reduce((sum, length) => sum + length, 0) / Math.max(1, passages.length);
  }

  get size(): number {
    return this.passages.length;
  }

  /** Scores are computed synchronously; the promise is for the slot (dense retrievers are async). */
  async retrieve(query: string, k: number = this.defaultTopK): Promise<RetrievedPassage[]> {
    return this.retrieveSync(query, k);
  }

  retrieveSync(query: string, topK: number = this.defaultTopK): RetrievedPassage[] {
    if (!Number.isInteger(topK) || topK < 1) throw new ConfigError(`topK must be a positive integer, got ${topK}`);
    const scores = new Map<number, number>();
    const total = this.passages.length;
    // A repeated query term counts once: queries are short and repetition is usually template noise.
    for (const term of new Set(segmentWords(query))) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = Math.log(1 + (total - list.length + 0.5) / (list.length + 0.5));
      for (const { passage, frequency } of list) {
        const norm = this.k1 * (1 - this.b + (this.b * this.lengths[passage]!) / (this.averageLength || 1));
        const contribution = (idf * frequency * (this.k1 + 1)) / (frequency + norm);
        scores.set(passage, (scores.get(passage) ?? 0) + contribution);
      }
    }
    return [...scores.entries()]
      .sort((left, right) => right[1] - left[1] || left[0] - right[0])
      .slice(0, topK)
      .map(([passage, score], index) => ({ ...this.passages[passage]!, source: this.passages[passage]!.documentId, score, rank: index + 1 }));
  }
}
