export type { Passage, RetrievedPassage, Retriever, SourceDocument } from "./types.js";
export { segmentWords } from "./segmentWords.js";
export { chunkDocuments, splitSentences, type ChunkOptions } from "./chunkDocuments.js";
export { Bm25Retriever, type Bm25Options } from "./bm25Retriever.js";
export { formatPassages, citedDocuments, type FormatPassagesOptions, type PromptLanguage } from "./formatPassages.js";
export { readTextDocuments } from "./readTextDocuments.js";
