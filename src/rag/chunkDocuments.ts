/**
 * Splits documents into overlapping passages. Boundaries fall between sentences (or lines), never
 * inside one, so a fact stated in one sentence is never cut in half; consecutive passages share
 * `overlapSentences` sentences so a fact near a boundary is whole in at least one passage.
 */
import { ConfigError } from "../shared/errors.js";
import type { Passage, SourceDocument } from "./types.js";

export interface ChunkOptions {
  /** Upper bound on a passage's length in characters (a sentence longer than this is its own passage). Defaults to 400. */
  maxChars?: number;
  /** Sentences repeated at the start of the next passage. Defaults to 1. */
  overlapSentences?: number;
}

// After an English sentence end (followed by a space), after a Chinese one, or at a line break.
const SENTENCE_END = /(?<=[.!?])\s+|(?<=[。！？；])|\n+/u;

export function splitSentences(text: string): string[] {
  return text
    .split(SENTENCE_END)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

export function chunkDocuments(documents: readonly SourceDocument[], options: ChunkOptions = {}): Passage[] {
  const maxChars = options.maxChars ?? 400;
  const overlap = options.overlapSentences ?? 1;
  if (!(maxChars > 0)) throw new ConfigError(`chunk maxChars must be > 0, got ${maxChars}`, { where: "retrieval.chunkChars" });
  if (!(overlap >= 0)) throw new ConfigError(`chunk overlapSentences must be >= 0, got ${overlap}`, { where: "retrieval.overlapSentences" });
  const passages: Passage[] = [];
  for (const document of documents) {
    const sentences = splitSentences(document.text);
    let start = 0;
    let index = 0;
    while (start < sentences.length) {
      let end = start + 1;
      let length = sentences[start]!.length;
      while (end < sentences.length && length + 1 + sentences[end]!.length <= maxChars) {
        length += 1 + sentences[end]!.length;
        end++;
      }
      const joined = sentences.slice(start, end).join(" ");
      passages.push({ id: `${document.id}#${index++}`, documentId: document.id, text: joined });
      if (end >= sentences.length) break;
      // Step forward, keeping `overlap` sentences, but always advance by at least one.
      start = Math.max(start + 1, end - overlap);
    }
  }
  return passages;
}
