/**
 * The retrieval slot. The lab, the prompt builder and the evaluation harness depend on this interface
 * only; BM25 (bm25Retriever.ts) is the first implementation, dense retrieval and fusion plug into the
 * same slot later.
 */

/** A piece of a source document, the unit that is indexed and retrieved. */
export interface Passage {
  /** Stable id: `<documentId>#<chunk index>`. */
  id: string;
  /** Id of the document the passage comes from (file name without extension); what a citation names. */
  documentId: string;
  text: string;
}

export interface RetrievedPassage extends Passage {
  /** Retriever-specific relevance score; higher is more relevant. Comparable only within one query. */
  score: number;
  /** 1-based rank in the result list. */
  rank: number;
}

export interface RetrieveOptions {
  /** How many passages to return. Defaults to the retriever's own default (BM25: 3). */
  topK?: number;
}

export interface Retriever {
  /** A stable, human-readable id used in results ("bm25:k1=1.2,b=0.75"). */
  readonly id: string;
  /** Passages most relevant to `query`, best first. Never more than topK, fewer if fewer match. */
  retrieve(query: string, options?: RetrieveOptions): Promise<RetrievedPassage[]>;
  dispose?(): Promise<void> | void;
}

/** A source document before chunking. */
export interface SourceDocument {
  id: string;
  text: string;
}
