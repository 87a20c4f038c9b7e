/**
 * `vertical rag eval`'s work: index a domain folder's documents once per embedder (incrementally, so a
 * second run re-embeds nothing), then measure each retriever on the labelled set — BM25, and for each
 * embedder dense and hybrid (RRF of BM25 and dense), and hybrid + rerank for the first embedder when a
 * reranker is given. Models arrive as interfaces (Embedder, Reranker): the caller loads them.
 */
import fs from "node:fs";
import path from "node:path";
import type { Reranker } from "../llm/reranker.js";
import type { Embedder } from "../llm/types.js";
import { DenseRetriever } from "./denseRetriever.js";
import { evaluateRetriever, type LabelledQuery, type RetrievalScores } from "./evaluateRetrievers.js";
import { HybridRetriever } from "./hybridRetriever.js";
import { IndexBm25Retriever } from "./indexBm25Retriever.js";
import { indexFolder } from "./indexFolder.js";
import { RagIndex } from "./ragIndex.js";
import { RerankingRetriever } from "./rerankingRetriever.js";
import type { Retriever } from "./types.js";

export interface RetrievalSuiteOptions {
  documentsFolder: string;
  /** Where the index files live (one per embedder, reused and updated incrementally). */
  indexFolder: string;
  queries: readonly LabelledQuery[];
  countTokens: (text: string) => number;
  /** Names the tokenizer in the index identity, so an index chunked by another one is not reused. */
  tokenizerId: string;
  /** Defaults to 128. */
  maxTokens?: number;
  /** Defaults to 16. */
  overlapTokens?: number;
  /** Named embedders ("dense", "dense-trained"); each gets a dense and a hybrid line. */
  embedders: readonly { name: string; embedder: Embedder }[];
  /** Reranks the first embedder's hybrid list ("hybrid+rerank"). */
  reranker?: Reranker;
  /** Candidates the reranker sees. Defaults to 20. */
  rerankCandidates?: number;
  /** RRF weights. Default to 1 each. */
  weights?: { bm25?: number; dense?: number };
  /** The k of recall@k. Defaults to 5. */
  k?: number;
  onWarning?: (message: string) => void;
  /** Called with each retriever's line as soon as it is measured. */
  onScores?: (scores: RetrievalScores) => void;
}

export async function evaluateRetrievalSuite(options: RetrievalSuiteOptions): Promise<RetrievalScores[]> {
  const maxTokens = options.maxTokens ?? 128;
  const overlapTokens = options.overlapTokens ?? 16;
  const chunking = `${options.tokenizerId},maxTokens=${maxTokens},overlapTokens=${overlapTokens}`;
  fs.mkdirSync(options.indexFolder, { recursive: true });
  const results: RetrievalScores[] = [];
  const measure = async (name: string, retriever: Retriever) => {
    const scores = await evaluateRetriever(name, retriever, options.queries, options.k ?? 5);
    results.push(scores);
    options.onScores?.(scores);
  };
  const indexes: RagIndex[] = [];
  try {
    for (const [position, { name, embedder: uncached }] of options.embedders.entries()) {
      // dense, hybrid and hybrid+rerank embed the same queries: once is enough.
      const embedder = rememberingQueries(uncached);
      const file = path.join(options.indexFolder, `${embedder.id.replace(/[^\w.-]+/g, "_")}.db`);
      const index = RagIndex.open(file, { embedderId: embedder.id, dimensions: embedder.dimensions, chunking });
      indexes.push(index);
      await indexFolder(index, options.documentsFolder, {
        countTokens: options.countTokens,
        maxTokens,
        overlapTokens,
        embedder,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
      const bm25 = new IndexBm25Retriever(index);
      if (position === 0) await measure("bm25", bm25);
      const dense = new DenseRetriever(index, embedder);
      await measure(name, dense);
      const suffix = name.replace(/^dense/, "");
      const hybrid = new HybridRetriever([
        { retriever: bm25, weight: options.weights?.bm25 ?? 1 },
        { retriever: dense, weight: options.weights?.dense ?? 1 },
      ]);
      await measure(`hybrid${suffix}`, hybrid);
      if (position === 0 && options.reranker)
        await measure(
          `hybrid${suffix}+rerank`,
          new RerankingRetriever(hybrid, options.reranker, { candidates: options.rerankCandidates ?? 20 }),
        );
    }
    if (options.embedders.length === 0) {
      const index = RagIndex.open(path.join(options.indexFolder, "bm25.db"), {
        embedderId: null,
        dimensions: 0,
        chunking,
      });
      indexes.push(index);
      await indexFolder(index, options.documentsFolder, {
        countTokens: options.countTokens,
        maxTokens,
        overlapTokens,
        ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      });
      await measure("bm25", new IndexBm25Retriever(index));
    }
  } finally {
    for (const index of indexes) index.close();
  }
  return results;
}

/** The embedder, remembering the vector of each single text it embedded (the queries); chunk batches pass through. */
function rememberingQueries(embedder: Embedder): Embedder {
  const remembered = new Map<string, Float32Array>();
  return {
    id: embedder.id,
    dimensions: embedder.dimensions,
    embed: async (texts) => {
      if (texts.length !== 1) return embedder.embed(texts);
      const known = remembered.get(texts[0]!);
      if (known) return [known];
      const [vector] = await embedder.embed(texts);
      remembered.set(texts[0]!, vector!);
      return [vector!];
    },
  };
}
