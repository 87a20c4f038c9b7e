/** Dense retrieval: the query embedded by any Embedder, compared (cosine) with the chunk vectors a RagIndex holds. */
import type { Embedder } from "../llm/types.js";
import { InputError } from "../shared/errors.js";
import { toIndexedPassage, checkTopK, type IndexedPassage } from "./indexedPassage.js";
import type { RagIndex } from "./ragIndex.js";
import type { Retriever } from "./types.js";

export class DenseRetriever implements Retriever {
  readonly id: string;

  constructor(
    private readonly index: RagIndex,
    private readonly embedder: Embedder,
  ) {
    // The index refuses to open with another embedder; this guards a retriever built around a different one.
    if (index.identity.embedderId !== embedder.id)
      throw new InputError(
        `the index was embedded by ${index.identity.embedderId ?? "no embedder"}, not ${embedder.id}`,
        { where: index.file, hint: "Query with the embedder the index was built with." },
      );
    this.id = `dense:${embedder.id}`;
  }

  async retrieve(query: string, k: number): Promise<IndexedPassage[]> {
    checkTopK(k);
    const [vector] = await this.embedder.embed([query]);
    const hits = this.index.searchVector(vector!, k);
    const chunks = this.index.chunks(hits.map((hit) => hit.row));
    return chunks.map((chunk, position) => toIndexedPassage(chunk, hits[position]!.score, position + 1));
  }
}
