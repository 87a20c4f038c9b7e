/** BM25 over a persistent RagIndex (SQLite FTS5 on jieba-segmented terms): the in-memory Bm25Retriever's persistent twin. */
import { toIndexedPassage, checkTopK, type IndexedPassage } from "./indexedPassage.js";
import type { RagIndex } from "./ragIndex.js";
import type { Retriever } from "./types.js";

export class IndexBm25Retriever implements Retriever {
  readonly id = "bm25-index";

  constructor(private readonly index: RagIndex) {}

  async retrieve(query: string, k: number): Promise<IndexedPassage[]> {
    checkTopK(k);
    const hits = this.index.searchTerms(query, k);
    const chunks = this.index.chunks(hits.map((hit) => hit.row));
    return chunks.map((chunk, position) => toIndexedPassage(chunk, hits[position]!.score, position + 1));
  }
}
