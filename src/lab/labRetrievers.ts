/**
 * The retriever each retrieval route is asked with (RouteDefinition.retriever), over the same chunks of
 * docs/ the BM25 `retrieval` route uses: BM25; dense = the base model's embeddings (LlamaCppEmbedder);
 * hybrid = both fused by reciprocal rank with lab.yaml's retrieval.fusion weights; rerank = the hybrid
 * candidates (retrieval.rerankCandidates of them) reordered by the base model as relevance judge;
 * embedder = dense with the embedder the lab trained on docs/ (the `train:embedder` step's GGUF).
 * Models load on the first query, so building a route's retriever costs nothing until it is used.
 */
import { LlamaCppBackend, LlamaCppEmbedder } from "../llm/llamaCpp.js";
import type { Retriever } from "../llm/retriever.js";
import type { TokenScorer } from "../llm/types.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { chunkDocuments } from "../rag/chunkDocuments.js";
import { HybridRetriever } from "../rag/hybridRetriever.js";
import { LlmReranker } from "../rag/llmReranker.js";
import { PassageDenseRetriever } from "../rag/passageDenseRetriever.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import { RerankingRetriever } from "../rag/rerankingRetriever.js";
import type { Passage } from "../rag/types.js";
import { settings } from "../config.js";
import { evaluationThreads } from "./labBackend.js";
import type { LabConfig } from "./labConfig.js";
import type { RetrieverKind } from "./routes.js";

/** What the model-backed kinds share: the dense retriever (its passage vectors) and the judge of rerank. */
export interface RetrievalModels {
  dense?: Retriever;
  scorer?: TokenScorer;
  /** Dense retrieval with the trained embedder (the embedder kind). */
  trained?: Retriever;
}

/** The lab's chunks of docs/: what every retriever kind searches. */
export function labPassages(config: LabConfig): Passage[] {
  return chunkDocuments(readTextDocuments(config.data.docs), { maxChars: config.retrieval.chunkChars, overlapSentences: config.retrieval.overlapSentences });
}

/** A retriever of `kind` over `passages` from already loaded models (the wiring, without loading anything). */
export function composeLabRetriever(config: LabConfig, kind: RetrieverKind, passages: readonly Passage[], models: RetrievalModels): Retriever {
  const bm25 = new Bm25Retriever([...passages], { topK: config.retrieval.topK });
  if (kind === "bm25") return bm25;
  if (kind === "embedder") return required(models.trained, kind, "trained embedder's retriever");
  const dense = required(models.dense, kind, "dense retriever");
  if (kind === "dense") return dense;
  const { bm25Weight, denseWeight } = config.retrieval.fusion;
  const hybrid = new HybridRetriever([
    { retriever: bm25, weight: bm25Weight },
    { retriever: dense, weight: denseWeight },
  ]);
  if (kind === "hybrid") return hybrid;
  return new RerankingRetriever(hybrid, new LlmReranker(required(models.scorer, kind, "scorer")), { candidates: config.retrieval.rerankCandidates });
}

function required<T>(model: T | undefined, kind: RetrieverKind, what: string): T {
  if (!model) throw new Error(`a ${kind} retriever was composed without its ${what}`); // a wiring bug, not a user error
  return model;
}

/**
 * The lab's retrievers of every kind with the base model at `modelPath` as embedder (dense, hybrid, rerank)
 * and judge (rerank). The embedder and the passage vectors are made once, on the first query of any
 * model-backed kind, and shared by all of them (embedding the chunks is the slow part); the judge loads
 * on the first rerank query. The trained embedder (`trainedEmbedderPath`, read when the embedder kind is
 * first queried, after its training step) has passage vectors of its own. BM25 loads nothing.
 */
export class LabRetrievers {
  private readonly passages: Passage[];
  private embedder: Promise<LlamaCppEmbedder> | undefined;
  private dense: PassageDenseRetriever | undefined;
  private scorer: Promise<LlamaCppBackend> | undefined;
  private trainedEmbedder: Promise<LlamaCppEmbedder> | undefined;
  private readonly built = new Map<RetrieverKind, Promise<Retriever>>();

  constructor(
    private readonly config: LabConfig,
    private readonly modelPath: string,
    private readonly trainedEmbedderPath?: () => string,
  ) {
    this.passages = labPassages(config);
  }

  of(kind: RetrieverKind): Retriever {
    if (kind === "bm25") return composeLabRetriever(this.config, kind, this.passages, {});
    return { id: `lab-${kind}`, retrieve: async (query, k) => (await this.compose(kind)).retrieve(query, k) };
  }

  private compose(kind: RetrieverKind): Promise<Retriever> {
    if (!this.built.has(kind)) this.built.set(kind, this.load(kind));
    return this.built.get(kind)!;
  }

  /** The lab's evaluation threads for `model` (eval.threads, else 1 for small models): ggml's spinning workers lose on busy cores. */
  private threadsFor(model: string): number {
    return this.config.eval.threads ?? evaluationThreads(model, this.config.threads ?? settings().threads);
  }

  private async load(kind: RetrieverKind): Promise<Retriever> {
    if (kind === "embedder") {
      if (!this.trainedEmbedderPath) throw new Error("the embedder retriever was asked for without the trained embedder's path"); // a wiring bug
      const trained = await (this.trainedEmbedder ??= LlamaCppEmbedder.load({ modelPath: this.trainedEmbedderPath(), threads: this.threadsFor(this.modelPath) }));
      return composeLabRetriever(this.config, kind, this.passages, { trained: new PassageDenseRetriever(this.passages, trained) });
    }
    const embedder = await (this.embedder ??= LlamaCppEmbedder.load({ modelPath: this.modelPath, threads: this.threadsFor(this.modelPath) }));
    this.dense ??= new PassageDenseRetriever(this.passages, embedder);
    const scorer = kind === "rerank" ? await (this.scorer ??= LlamaCppBackend.load({ modelPath: this.modelPath, threads: this.threadsFor(this.modelPath) })) : undefined;
    return composeLabRetriever(this.config, kind, this.passages, { dense: this.dense, ...(scorer ? { scorer } : {}) });
  }

  /** Frees the models; a later query loads them again. */
  async dispose(): Promise<void> {
    const embedder = this.embedder;
    const scorer = this.scorer;
    const trained = this.trainedEmbedder;
    this.embedder = undefined;
    this.scorer = undefined;
    this.trainedEmbedder = undefined;
    this.dense = undefined;
    this.built.clear();
    await (await embedder?.catch(() => undefined))?.dispose();
    await (await scorer?.catch(() => undefined))?.dispose();
    await (await trained?.catch(() => undefined))?.dispose();
  }
}
