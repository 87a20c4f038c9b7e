/**
 * Retrieval types. The slot itself — `Retriever` with `retrieve(query, k)` — is defined in
 * src/llm/retriever.ts (below rag/ and eval/, so the evaluation harness can consume what rag/ builds);
 * BM25 (bm25Retriever.ts) is the first implementation, dense retrieval and fusion plug into the same slot.
 */
import type { RetrievedPassage as SlotPassage, Retriever } from "../llm/retriever.js";

export type { Retriever };

/** A piece of a source document, the unit that is indexed and retrieved. */
export interface Passage {
  /** Stable id: `<documentId>#<chunk index>`. */
  id: string;
  /** Id of the document the passage comes from (file name without extension); what a citation names. */
  documentId: string;
  text: string;
}

/**
 * A retrieved passage: the slot's fields (text, source = the document id a citation names, score) plus
 * the chunk id and the rank.
 */
export interface RetrievedPassage extends SlotPassage, Passage {
  /** 1-based rank in the result list. */
  rank: number;
}

/** A source document before chunking. */
export interface SourceDocument {
  id: string;
  text: string;
}
