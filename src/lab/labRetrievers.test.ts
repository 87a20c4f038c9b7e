/**
 * The route → retriever wiring of the retrieval routes (retrieval-dense, -hybrid, -rerank next to BM25's
 * retrieval and retrieval-sft), on a filled lab with three documents, the harbor base model as embedder
 * and judge, and the lab's retrieval metrics on its labelled items.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LlamaCppBackend } from "../llm/llamaCpp.js";
import type { TokenScorer } from "../llm/types.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { HybridRetriever } from "../rag/hybridRetriever.js";
import { PassageDenseRetriever } from "../rag/passageDenseRetriever.js";
import { RerankingRetriever } from "../rag/rerankingRetriever.js";
import { HashingEmbedder } from "../rag/testing/hashingEmbedder.js";
import { loadLabConfig, type LabConfig } from "./labConfig.js";
import { retrievalStepInputs, retrieverKindsOf } from "./labRetrievalSteps.js";
import { labLabelledQueries, measureLabRetrieval } from "./labRetrievalMetrics.js";
import { composeLabRetriever, labPassages, LabRetrievers } from "./labRetrievers.js";
import { ROUTE_NAMES, ROUTES, isDefaultRoute, retrieverKindOf, type RouteName } from "./routes.js";
import { filledLab } from "./testing/filledLab.js";

const modelPath = path.resolve("examples/harbor/models/base.gguf");
const folder = filledLab();
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
fs.writeFileSync(path.join(folder, "docs/fees.md"), "Harbour dues are CNY 1.85 per gross tonne, payable on arrival.\n");
fs.writeFileSync(path.join(folder, "docs/berths.md"), "Berth Q11 belongs to the East Cape Container Terminal.\n");
const mcq = [
  { id: "q1", question: "When is pilotage compulsory?", choices: ["over 500 GT", "never", "always", "at night"], answer: 0, source: "pilotage" },
  { id: "q2", question: "How much are harbour dues per gross tonne?", choices: ["CNY 1.85", "CNY 2", "CNY 3", "none"], answer: 0, source: "fees" },
  { id: "q3", question: "Which terminal has Berth Q11?", choices: ["East Cape", "Luzhou", "Nanwan", "Baisha"], answer: 0, source: "berths" },
  { id: "q4", question: "An item without a source?", choices: ["a", "b", "c", "d"], answer: 0 },
];
fs.writeFileSync(path.join(folder, "eval/mcq.jsonl"), mcq.map((item) => JSON.stringify(item)).join("\n") + "\n");
fs.mkdirSync(path.join(folder, "models"), { recursive: true });
fs.symlinkSync(modelPath, path.join(folder, "models/base.gguf"));

const baseConfig = loadLabConfig(folder);
const config: LabConfig = { ...baseConfig, retrieval: { ...baseConfig.retrieval, topK: 1, fusion: { bm25Weight: 2, denseWeight: 0.5 }, rerankCandidates: 2 } };

/** The real scorer, counting the judging requests it is sent. */
function counting(scorer: TokenScorer): TokenScorer & { requests: number } {
  const counted = { id: scorer.id, requests: 0, score: async (requests: Parameters<TokenScorer["score"]>[0]) => ((counted.requests += requests.length), scorer.score(requests)) };
  return counted;
}

describe("retrieval routes → retrievers", () => {
  it("names each retrieval route's retriever; the variants are opt-in and ask like `retrieval` otherwise", () => {
    const retrieving = ROUTE_NAMES.filter((route) => ROUTES[route].prompting === "retrieval");
    expect(Object.fromEntries(retrieving.map((route) => [route, retrieverKindOf(route)]))).toEqual({
      retrieval: "bm25",
      "retrieval-sft": "bm25",
      "retrieval-dense": "dense",
      "retrieval-hybrid": "hybrid",
      "retrieval-rerank": "rerank",
      "retrieval-embedder": "embedder",
    });
    for (const route of ["retrieval-dense", "retrieval-hybrid", "retrieval-rerank", "retrieval-embedder"] as RouteName[]) {
      expect(isDefaultRoute(route)).toBe(false);
      const { description: _d, retriever: _r, byDefault: _b, ...asked } = ROUTES[route] as Record<string, unknown>;
      const { description: _d2, ...retrieval } = ROUTES.retrieval as Record<string, unknown>;
      expect(asked).toEqual(retrieval);
    }
    expect(retrieverKindsOf(["base", "retrieval", "retrieval-sft", "retrieval-rerank", "retrieval-dense"])).toEqual(["bm25", "rerank", "dense"]);
  });

  it("keeps the BM25 steps' retrieval inputs as they were, so existing labs keep their retrieval results", () => {
    expect(retrievalStepInputs(config, "bm25")).toEqual({ topK: 1, chunkChars: 400, overlapSentences: 1 });
    expect(retrievalStepInputs(config, "rerank")).toMatchObject({ fusion: { bm25Weight: 2, denseWeight: 0.5 }, rerankCandidates: 2 });
  });

  it("composes bm25, dense, hybrid with lab.yaml's fusion weights, and rerank over rerankCandidates hybrid candidates", async () => {
    const passages = labPassages(config);
    expect(passages.map((passage) => passage.documentId).sort()).toEqual(["berths", "fees", "pilotage"]);
    const embedder = new HashingEmbedder();
    const backend = await LlamaCppBackend.load({ modelPath, threads: 1 });
    try {
      const scorer = counting(backend);
      const built = Object.fromEntries((["bm25", "dense", "hybrid", "rerank"] as const).map((kind) => [kind, composeLabRetriever(config, kind, passages, { dense: new PassageDenseRetriever(passages, embedder), scorer })]));
      expect(built.bm25).toBeInstanceOf(Bm25Retriever);
      expect(built.dense).toBeInstanceOf(PassageDenseRetriever);
      expect(built.hybrid).toBeInstanceOf(HybridRetriever);
      expect(built.hybrid!.id).toBe("hybrid(bm25:k1=1.2,b=0.75*2+dense:hashing-64*0.5)");
      expect(built.rerank).toBeInstanceOf(RerankingRetriever);
      expect(built.rerank!.id).toBe(`${built.hybrid!.id}+llm-rerank:${backend.id}`);
      // Dense finds a passage by its own words; every kind returns the lab's chunk ids, so fusion matches them.
      const [dense] = await built.dense!.retrieve("Berth Q11 belongs to the East Cape Container Terminal.", 1);
      expect(dense).toMatchObject({ documentId: "berths", source: "berths", id: passages.find((passage) => passage.documentId === "berths")!.id });
      const reranked = await built.rerank!.retrieve("How much are harbour dues?", 1);
      expect(reranked).toHaveLength(1);
      expect(scorer.requests).toBe(2 * 2); // two candidates, " yes" and " no" each
    } finally {
      await backend.dispose();
    }
  }, 30_000);

  it("loads the base model once for every model-backed kind, on the first query, and frees it on dispose", async () => {
    const retrievers = new LabRetrievers(config, modelPath);
    try {
      const query = "Harbour dues are CNY 1.85 per gross tonne, payable on arrival.";
      const dense = await retrievers.of("dense").retrieve(query, 3);
      expect(dense.map((passage) => (passage as { documentId?: string }).documentId).sort()).toEqual(["berths", "fees", "pilotage"]);
      const reranked = await retrievers.of("rerank").retrieve(query, 2);
      expect(reranked).toHaveLength(2);
      // BM25 needs no model: it is the plain Bm25Retriever the `retrieval` route has always used.
      expect(retrievers.of("bm25")).toBeInstanceOf(Bm25Retriever);
    } finally {
      await retrievers.dispose();
      await retrievers.dispose(); // twice is harmless
    }
  }, 30_000);

  it("measures recall@topK, recall@5, MRR and nDCG@10 on the evaluated domain items that name a source", async () => {
    const labelled = labLabelledQueries(config);
    // q1-q3 from the MCQ set; q4 and the open question name no source.
    expect(labelled.queries.map((query) => query.relevant[0])).toEqual(["pilotage", "fees", "berths"]);
    expect(labelled.unlabelled).toBe(2);
    expect(labLabelledQueries({ ...config, eval: { ...config.eval, limit: 1 } }).queries).toHaveLength(1);
    const metrics = await measureLabRetrieval(config, "bm25", new LabRetrievers(config, modelPath).of("bm25"));
    expect(metrics).toMatchObject({ kind: "bm25", queries: 3, unlabelled: 2, topK: 1, recallAt5: 1 });
    // Each question shares its key words with its own document only: BM25 ranks it first.
    expect(metrics).toMatchObject({ recallAtTopK: 1, mrr: 1, ndcg10: 1 });
  });
});
