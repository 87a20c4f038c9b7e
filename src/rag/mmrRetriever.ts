/** Diversified retrieval: a base retriever's candidates re-picked by MMR with the index's chunk vectors. */
import type { Embedder } from "../llm/types.js";
import { checkTopK, type IndexedPassage } from "./indexedPassage.js";
import type { RagIndex } from "./ragIndex.js";
import { selectByMmr } from "./selectByMmr.js";
import type { Retriever } from "./types.js";

export interface MmrOptions {
  /** Relevance vs diversity: 1 is pure relevance. Defaults to 0.7. */
  lambda?: number;
  /** Candidates MMR chooses from. Defaults to 20. */
  candidates?: number;
}

export class MmrRetriever implements Retriever {
  readonly id: string;
  private readonly lambda: number;
  private readonly candidates: number;

  constructor(
    private readonly base: Retriever,
    private readonly index: RagIndex,
    private readonly embedder: Embedder,
    options: MmrOptions = {},
  ) {
    this.lambda = options.lambda ?? 0.7;
    this.candidates = options.candidates ?? 20;
    this.id = `${base.id}+mmr:${this.lambda}`;
  }

  async retrieve(query: string, k: number): Promise<IndexedPassage[]> {
    checkTopK(k);
    const candidates = (await this.base.retrieve(query, Math.max(k, this.candidates))) as IndexedPassage[];
    const [queryVector] = await this.embedder.embed([query]);
    const unitQuery = unit(queryVector!);
    const vectors = candidates.map((passage) => this.index.vectorOf(passage.row) ?? new Float32Array(unitQuery.length));
    return selectByMmr(unitQuery, vectors, k, this.lambda).map((position, rank) => ({
      ...candidates[position]!,
      rank: rank + 1,
    }));
  }
}

function unit(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}
