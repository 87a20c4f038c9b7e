/**
 * What a reranker does for retrieval (src/rag/): a relevance score for each passage given a query.
 * Implementations: node-llama-cpp's ranking context for GGUF rerankers (llamaCppReranker.ts) and
 * rag/'s LLM-as-reranker over any TokenScorer.
 */
export interface Reranker {
  readonly id: string;
  /** One score per passage, in the passages' order; higher is more relevant. */
  rank(query: string, passages: readonly string[]): Promise<number[]>;
  dispose?(): Promise<void> | void;
}
