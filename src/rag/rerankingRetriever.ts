/** A retriever whose first candidates are re-ordered by a Reranker (cross-encoder or LLM judge). */
import type { Reranker } from "../llm/reranker.js";
import { checkTopK } from "./indexedPassage.js";
import type { RetrievedPassage, Retriever } from "./types.js";

export interface RerankingOptions {
  /** Candidates the reranker sees; reranking cost grows linearly with it. Defaults to 20. */
  candidates?: number;
}

export class RerankingRetriever implements Retriever {
  readonly id: string;
  private readonly candidates: number;

  constructor(
    private readonly base: Retriever,
    private readonly reranker: Reranker,
    options: RerankingOptions = {},
  ) {
    this.candidates = options.candidates ?? 20;
    checkTopK(this.candidates);
    this.id = `${base.id}+${reranker.id}`;
  }

  async retrieve(query: string, k: number): Promise<RetrievedPassage[]> {
    checkTopK(k);
    const candidates = (await this.base.retrieve(query, Math.max(k, this.candidates))) as RetrievedPassage[];
    if (candidates.length === 0) return [];
    const scores = await this.reranker.rank(
      query,
      candidates.map((passage) => passage.text),
    );
    return candidates
      .map((passage, position) => ({ passage, score: scores[position]!, position }))
      .sort((left, right) => right.score - left.score || left.position - right.position)
      .slice(0, k)
      .map(({ passage, score }, position) => ({ ...passage, score, rank: position + 1 }));
  }
}
