/** What the retrieval-dependent lab steps key on, per retriever kind, and which kinds a lab's routes use. */
import type { LabConfig } from "./labConfig.js";
import { ROUTES, retrieverKindOf, type RetrieverKind, type RouteDefinition, type RouteName } from "./routes.js";

/**
 * The retrieval settings a retriever kind depends on. BM25's are the three it always had (so adding
 * fusion and rerank settings does not invalidate an existing lab's `retrieval` results); the others add
 * the fusion weights and, for rerank, the candidate count.
 */
export function retrievalStepInputs(config: LabConfig, kind: RetrieverKind): Record<string, unknown> {
  const { topK, chunkChars, overlapSentences, fusion, rerankCandidates } = config.retrieval;
  const chunks = { topK, chunkChars, overlapSentences };
  if (kind === "bm25") return chunks;
  // The trained embedder's own settings reach these steps through the train:embedder step's key.
  if (kind === "dense" || kind === "embedder") return { ...chunks, retriever: kind };
  return { ...chunks, retriever: kind, fusion, ...(kind === "rerank" ? { rerankCandidates } : {}) };
}

/** The retriever kinds of the retrieval routes among `routes`, each once, in route order. */
export function retrieverKindsOf(routes: readonly RouteName[]): RetrieverKind[] {
  const retrieving = routes.filter((route) => (ROUTES[route] as RouteDefinition).prompting === "retrieval");
  return [...new Set(retrieving.map(retrieverKindOf))];
}

/**
 * The kinds the report's Retrieval table measures: the routes' own, plus dense with the base model's
 * embeddings whenever the trained embedder is measured, so the table always sets trained against base.
 */
export function measuredRetrieverKinds(routes: readonly RouteName[]): RetrieverKind[] {
  const kinds = retrieverKindsOf(routes);
  return kinds.includes("embedder") && !kinds.includes("dense") ? [...kinds, "dense"] : kinds;
}
