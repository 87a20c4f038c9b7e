/** Hybrid retrieval: several retrievers' candidate lists (BM25 and dense, typically) fused by reciprocal rank. */
import { ConfigError } from "../shared/errors.js";
import { fuseRankings } from "./fuseRankings.js";
import { checkTopK } from "./indexedPassage.js";
import type { RetrievedPassage, Retriever } from "./types.js";

export interface HybridOptions {
  /** Candidates taken from each retriever before fusion. Defaults to 50. */
  candidates?: number;
  /** RRF's k. Defaults to 60. */
  rrfK?: number;
}

export class HybridRetriever implements Retriever {
  readonly id: string;
  private readonly candidates: number;
  private readonly rrfK: number;

  constructor(
    private readonly parts: readonly { retriever: Retriever; weight: number }[],
    options: HybridOptions = {},
  ) {
    if (parts.length === 0 || parts.some((part) => !(part.weight >= 0)))
      throw new ConfigError("hybrid retrieval needs at least one retriever, each with a weight >= 0", {
        where: "retrieval.hybrid.weights",
      });
    this.candidates = options.candidates ?? 50;
    this.rrfK = options.rrfK ?? 60;
    this.id = `hybrid(${parts.map((part) => `${part.retriever.id}*${part.weight}`).join("+")})`;
  }

  async retrieve(query: string, k: number): Promise<RetrievedPassage[]> {
    checkTopK(k);
    const lists = [];
    for (const part of this.parts)
      lists.push({
        items: (await part.retriever.retrieve(query, Math.max(k, this.candidates))) as RetrievedPassage[],
        weight: part.weight,
      });
    return fuseRankings(lists, (passage) => passage.id, this.rrfK)
      .slice(0, k)
      .map(({ item, score }, position) => ({ ...item, score, rank: position + 1 }));
  }
}
