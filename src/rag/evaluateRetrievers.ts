/**
 * Retrieval evaluation on a labelled set: each query's ranked documents (a retriever's passages mapped
 * to their documents) scored with recall@k, MRR and nDCG@10, averaged over queries.
 */
import { ndcgAtK, recallAtK, reciprocalRank } from "./retrievalMetrics.js";
import type { RetrievedPassage, Retriever } from "./types.js";

export interface LabelledQuery {
  id: string;
  query: string;
  /** Document ids that answer it. */
  relevant: string[];
}

export interface RetrievalScores {
  retriever: string;
  queries: number;
  /** The k of recall@k. */
  k: number;
  recall: number;
  mrr: number;
  ndcg10: number;
  /** Mean time per query in milliseconds. */
  msPerQuery: number;
}

/** Depth retrieved per query: enough passages for nDCG@10 over distinct documents when chunks of one document cluster. */
const RETRIEVAL_DEPTH = 30;

export async function evaluateRetriever(
  name: string,
  retriever: Retriever,
  queries: readonly LabelledQuery[],
  k = 5,
): Promise<RetrievalScores> {
  let recall = 0;
  let mrr = 0;
  let ndcg = 0;
  const started = performance.now();
  for (const query of queries) {
    const passages = (await retriever.retrieve(query.query, Math.max(RETRIEVAL_DEPTH, k))) as RetrievedPassage[];
    const ranked = passages.map((passage) => passage.documentId);
    const relevant = new Set(query.relevant);
    recall += recallAtK(ranked, relevant, k);
    mrr += reciprocalRank(ranked, relevant);
    ndcg += ndcgAtK(ranked, relevant, 10);
  }
  const count = Math.max(1, queries.length);
  return {
    retriever: name,
    queries: queries.length,
    k,
    recall: recall / count,
    mrr: mrr / count,
    ndcg10: ndcg / count,
    msPerQuery: (performance.now() - started) / count,
  };
}

/** `bm25 recall@5=0.810 mrr=0.702 ndcg@10=0.733 (120 queries, 3.1 ms/query)`. */
export function formatRetrievalScores(scores: RetrievalScores): string {
  return `${scores.retriever} recall@${scores.k}=${scores.recall.toFixed(3)} mrr=${scores.mrr.toFixed(3)} ndcg@10=${scores.ndcg10.toFixed(3)} (${scores.queries} queries, ${scores.msPerQuery.toFixed(1)} ms/query)`;
}
