/**
 * Dense retrieval over passages held in memory (the lab's fixed chunks, the ones its BM25 route uses):
 * the passages are embedded once, on the first query, and compared with the query by cosine. Same
 * passage ids as Bm25Retriever over the same chunks, so the two fuse by id in HybridRetriever.
 */
import type { Embedder } from "../llm/types.js";
import { checkTopK } from "./indexedPassage.js";
import type { Passage, RetrievedPassage, Retriever } from "./types.js";

export class PassageDenseRetriever implements Retriever {
  readonly id: string;
  private vectors: Promise<Float32Array[]> | undefined;

  constructor(
    private readonly passages: readonly Passage[],
    private readonly embedder: Embedder,
  ) {
    this.id = `dense:${embedder.id}`;
  }

  async retrieve(query: string, k: number): Promise<RetrievedPassage[]> {
    checkTopK(k);
    const vectors = await (this.vectors ??= this.embedder.embed(this.passages.map((passage) => passage.text)).then((all) => all.map(normalised)));
    const [queryVector] = await this.embedder.embed([query]);
    const target = normalised(queryVector!);
    return vectors
      .map((vector, position) => ({ position, score: dot(vector, target) }))
      .sort((left, right) => right.score - left.score || left.position - right.position)
      .slice(0, k)
      .map(({ position, score }, rank) => ({ ...this.passages[position]!, source: this.passages[position]!.documentId, score, rank: rank + 1 }));
  }
}

function dot(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!;
  return sum;
}

/** Unit length (a zero vector stays zero: it matches nothing rather than dividing by zero). */
function normalised(vector: Float32Array): Float32Array {
  const length = Math.sqrt(dot(vector, vector));
  return length === 0 ? vector : vector.map((value) => value / length);
}
