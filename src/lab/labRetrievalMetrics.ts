/**
 * The lab's retrieval measurement (one `retrieval:<kind>` step per retriever kind its routes use):
 * recall@topK, recall@5, MRR and nDCG@10 of that retriever on the labelled set built from the domain
 * evaluation items the routes are scored on (each item's `source` is the document that answers it;
 * src/rag/readLabelledQueries.ts, as `vertical rag eval` builds it), for the report's Retrieval table
 * next to each retrieval route's answer accuracy.
 */
import type { ReportSection } from "../eval/report/reportModel.js";
import type { Retriever } from "../llm/retriever.js";
import { evaluateRetriever, type LabelledQuery } from "../rag/evaluateRetrievers.js";
import { readLabelledQueriesFrom } from "../rag/readLabelledQueries.js";
import type { LabConfig } from "./labConfig.js";
import { retrieverKindOf, type RetrieverKind, type RouteName } from "./routes.js";

export interface RetrievalMetrics {
  kind: RetrieverKind;
  /** Labelled queries measured; 0 = no evaluated item names its source, nothing measured. */
  queries: number;
  /** Evaluated items without a source (left out). */
  unlabelled: number;
  topK: number;
  recallAtTopK: number | null;
  recallAt5: number | null;
  mrr: number | null;
  ndcg10: number | null;
  msPerQuery: number | null;
}

/** The labelled queries of the domain items the lab evaluates: the first eval.limit MCQ items and eval.openLimit open questions. */
export function labLabelledQueries(config: LabConfig): { queries: LabelledQuery[]; unlabelled: number } {
  const mcq = readLabelledQueriesFrom([config.data.domainMcq], config.eval.limit);
  const open = readLabelledQueriesFrom([config.data.open], config.eval.openLimit);
  const asked = new Set(mcq.queries.map((query) => query.query));
  return { queries: [...mcq.queries, ...open.queries.filter((query) => !asked.has(query.query))], unlabelled: mcq.unlabelled + open.unlabelled };
}

export async function measureLabRetrieval(config: LabConfig, kind: RetrieverKind, retriever: Retriever): Promise<RetrievalMetrics> {
  const { queries, unlabelled } = labLabelledQueries(config);
  const topK = config.retrieval.topK;
  if (queries.length === 0) return { kind, queries: 0, unlabelled, topK, recallAtTopK: null, recallAt5: null, mrr: null, ndcg10: null, msPerQuery: null };
  // Both measurements ask the same depth for the same queries: retrieve once (a reranker is the costly part).
  const remembered = rememberingResults(retriever);
  const atTopK = await evaluateRetriever(kind, remembered, queries, topK);
  const at5 = await evaluateRetriever(kind, remembered, queries, 5);
  return { kind, queries: queries.length, unlabelled, topK, recallAtTopK: atTopK.recall, recallAt5: at5.recall, mrr: atTopK.mrr, ndcg10: atTopK.ndcg10, msPerQuery: atTopK.msPerQuery };
}

function rememberingResults(retriever: Retriever): Retriever {
  const results = new Map<string, ReturnType<Retriever["retrieve"]>>();
  return {
    id: retriever.id,
    retrieve: (query, k) => {
      const key = `${k}\u0000${query}`;
      if (!results.has(key)) results.set(key, retriever.retrieve(query, k));
      return results.get(key)!;
    },
  };
}

const score = (value: number | null) => (value === null ? "–" : value.toFixed(3));
const percent = (value: number | null) => (value === null ? "–" : `${(value * 100).toFixed(1)}%`);

/** The report's name of a retriever kind: says which embeddings the dense kinds use. */
const KIND_LABELS: Partial<Record<RetrieverKind, string>> = { dense: "dense (base embeddings)", embedder: "dense (trained embedder)" };

/**
 * The report's Retrieval table: one row per retrieval route, its retriever's metrics next to its domain MCQ
 * accuracy, then one row per kind in `comparisonKinds` that no route uses (measured for comparison: base
 * embeddings next to the trained embedder).
 */
export function retrievalSection(
  routes: readonly RouteName[],
  metricsOf: (kind: RetrieverKind) => RetrievalMetrics,
  domainAccuracyOf: (route: RouteName) => number | null,
  comparisonKinds: readonly RetrieverKind[] = [],
): ReportSection | null {
  if (routes.length === 0) return null;
  const measured = routes.map((route) => ({ route, metrics: metricsOf(retrieverKindOf(route)) }));
  const first = measured[0]!.metrics;
  const used = new Set(measured.map(({ metrics }) => metrics.kind));
  const row = (route: string, metrics: RetrievalMetrics, accuracy: string) => [route, KIND_LABELS[metrics.kind] ?? metrics.kind, String(metrics.queries), score(metrics.recallAtTopK), score(metrics.recallAt5), score(metrics.mrr), score(metrics.ndcg10), accuracy];
  const comparisons = comparisonKinds.filter((kind) => !used.has(kind)).map((kind) => row("(comparison, no route)", metricsOf(kind), "–"));
  return {
    id: "lab-retrieval",
    title: "Retrieval",
    blocks: [
      {
        kind: "table",
        header: ["Route", "Retriever", "Queries", `Recall@${first.topK} (topK)`, "Recall@5", "MRR", "nDCG@10", "Domain MCQ accuracy"],
        rows: [...measured.map(({ route, metrics }) => row(route, metrics, percent(domainAccuracyOf(route)))), ...comparisons],
      },
      {
        kind: "paragraph",
        text:
          `Labelled set: the evaluated domain MCQ items and open questions that name their source document (${first.queries} queries; ${first.unlabelled} items without a source left out). ` +
          "A query counts as found when a passage of its source document is among the first k; MRR and nDCG@10 rank documents. Routes with the same retriever share its line." +
          (used.has("embedder") || comparisonKinds.includes("embedder") ? " The trained embedder starts from the base model and is trained on pairs mined from docs/ only (no evaluation question among them): its line against dense (base embeddings) is what the training bought — with one caveat: the trained GGUF carries pooling_type mean, while the base is embedded as llama.cpp embeds a GGUF without one (last token), so part of the difference can be the pooling (docs/rag.md measures both)." : ""),
      },
    ],
  };
}
