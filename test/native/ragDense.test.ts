/**
 * The dense and reranking paths on a real model: the harbor base GGUF (5.3M parameters) through
 * node-llama-cpp's embedding context as the Embedder of a persistent index, and through its scoring
 * context as the LLM-as-reranker's TokenScorer.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppBackend, LlamaCppEmbedder } from "../../src/llm/llamaCpp.js";
import { LlamaCppReranker } from "../../src/llm/llamaCppReranker.js";
import {
  DenseRetriever,
  HybridRetriever,
  IndexBm25Retriever,
  LlmReranker,
  RagIndex,
  RerankingRetriever,
  indexFolder,
  relevancePrompt,
} from "../../src/rag/index.js";

const modelPath = path.resolve("examples/harbor/models/base.gguf");

describe("dense retrieval and LLM reranking on the harbor base model", () => {
  let folder: string;
  let embedder: LlamaCppEmbedder;
  let backend: LlamaCppBackend;
  beforeAll(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "rag-dense-"));
    fs.mkdirSync(path.join(folder, "docs"));
    fs.writeFileSync(
      path.join(folder, "docs", "pilot.md"),
      "# Pilotage\n\nThe pilot boards at Lingjiao Pilot Station.\n",
    );
    fs.writeFileSync(path.join(folder, "docs", "fees.md"), "# Fees\n\nHarbour dues are CNY 1.85 per gross tonne.\n");
    fs.writeFileSync(path.join(folder, "docs", "zh.md"), "# 引航\n\n引航员登轮站为岭角引航站。\n");
    embedder = await LlamaCppEmbedder.load({ modelPath, threads: 1 });
    backend = await LlamaCppBackend.load({ modelPath, threads: 1 });
  }, 60_000);
  afterAll(async () => {
    await embedder?.dispose();
    await backend?.dispose();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it("indexes with the model's embeddings; a chunk's own text retrieves it first at cosine ~1", async () => {
    using index = RagIndex.open(path.join(folder, "index.db"), {
      embedderId: embedder.id,
      dimensions: embedder.dimensions,
      chunking: "chars",
    });
    const result = await indexFolder(index, path.join(folder, "docs"), {
      countTokens: (text) => text.length,
      maxTokens: 200,
      overlapTokens: 0,
      embedder,
    });
    expect(result.added).toHaveLength(3);
    const dense = new DenseRetriever(index, embedder);
    // What was embedded for the chunk: its heading trail, then its text.
    const [top, ...rest] = await dense.retrieve("Fees\nHarbour dues are CNY 1.85 per gross tonne.", 3);
    expect(top!.documentId).toBe("fees");
    expect(top!.score).toBeCloseTo(1, 4);
    expect(rest.every((passage) => passage.score < top!.score)).toBe(true);
  });

  it("the LLM reranker's score is the model's log P(yes) - log P(no), and a reranked hybrid keeps every candidate once", async () => {
    const reranker = new LlmReranker(backend);
    const question = "Where does the pilot board?";
    const passage = "The pilot boards at Lingjiao Pilot Station.";
    const [score] = await reranker.rank(question, [passage]);
    const [yes, no] = await backend.score([
      { context: relevancePrompt(question, passage), continuation: " yes" },
      { context: relevancePrompt(question, passage), continuation: " no" },
    ]);
    // Scored in another batch: float32 sums differ in the last digits.
    expect(score).toBeCloseTo(yes!.logprob - no!.logprob, 4);
    using index = RagIndex.open(path.join(folder, "index.db"), {
      embedderId: embedder.id,
      dimensions: embedder.dimensions,
      chunking: "chars",
    });
    const hybrid = new HybridRetriever([
      { retriever: new IndexBm25Retriever(index), weight: 1 },
      { retriever: new DenseRetriever(index, embedder), weight: 1 },
    ]);
    const reranked = await new RerankingRetriever(hybrid, reranker, { candidates: 3 }).retrieve(question, 3);
    expect(new Set(reranked.map((each) => each.documentId))).toEqual(new Set(["pilot", "fees", "zh"]));
  });

  it("refuses a model without a ranking head as a GGUF reranker, naming the file", async () => {
    await expect(LlamaCppReranker.load({ modelPath, threads: 1 })).rejects.toThrow(/base\.gguf: not a reranker/);
  });
});
