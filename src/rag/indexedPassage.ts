/** A retrieved passage from a RagIndex: the slot's fields plus where the chunk sits in its source. */
import { ConfigError } from "../shared/errors.js";
import type { IndexedChunk } from "./ragIndex.js";
import type { RetrievedPassage } from "./types.js";

export interface IndexedPassage extends RetrievedPassage {
  row: number;
  sourcePath: string;
  headings: string[];
  start: number;
  end: number;
}

export function toIndexedPassage(chunk: IndexedChunk, score: number, rank: number): IndexedPassage {
  return {
    id: chunk.id,
    documentId: chunk.documentId,
    source: chunk.documentId,
    text: chunk.text,
    score,
    rank,
    row: chunk.row,
    sourcePath: chunk.sourcePath,
    headings: chunk.headings,
    start: chunk.start,
    end: chunk.end,
  };
}

/** Retrievers take a positive integer k; anything else is a caller bug worth naming. */
export function checkTopK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`topK must be a positive integer, got ${k}`);
}
