/**
 * What retrieval-augmented systems need from the retrieval work (src/rag/): passages for a query.
 * Defined here, below both rag/ and eval/, so rag can implement it and eval can consume it without
 * either importing the other.
 */
export interface RetrievedPassage {
  text: string;
  /** Where the passage came from (file, page, chunk id), shown with the passage and stored in results. */
  source: string;
  /** Retrieval score; higher is better. Only used for display and ordering. */
  score: number;
}

export interface Retriever {
  readonly id: string;
  /** The k best passages for `query`, best first. */
  retrieve(query: string, k: number): Promise<RetrievedPassage[]>;
  dispose?(): Promise<void> | void;
}
