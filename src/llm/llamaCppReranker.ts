/**
 * A GGUF reranker (a cross-encoder such as bge-reranker, or Qwen3-Reranker) through node-llama-cpp's
 * ranking context: one relevance score in [0, 1] per passage. A model without a ranking head is
 * refused when loaded, naming the file.
 */
import { type LlamaModel, type LlamaRankingContext } from "node-llama-cpp";
import path from "node:path";
import { settings } from "../config.js";
import { DisposedError, ModelError } from "../shared/errors.js";
import { loadLlamaModel } from "./llamaCpp.js";
import type { Reranker } from "./reranker.js";

export interface LlamaCppRerankerOptions {
  modelPath: string;
  /** ggml threads. Defaults to settings().threads. */
  threads?: number;
}

export class LlamaCppReranker implements Reranker {
  readonly id: string;
  private disposed = false;

  private constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaRankingContext,
    modelPath: string,
  ) {
    this.id = `llama-cpp-rerank:${path.basename(modelPath)}`;
  }

  static async load(options: LlamaCppRerankerOptions): Promise<LlamaCppReranker> {
    const model = await loadLlamaModel(options.modelPath);
    try {
      const context = await model.createRankingContext({ threads: options.threads ?? settings().threads });
      return new LlamaCppReranker(model, context, options.modelPath);
    } catch (error) {
      await model.dispose();
      throw new ModelError(`not a reranker: ${(error as Error).message}`, {
        where: options.modelPath,
        hint: "Use a GGUF reranker (a ranking head or a rerank chat template), or the LLM-as-reranker (any model with log-probabilities).",
        cause: error,
      });
    }
  }

  async rank(query: string, passages: readonly string[]): Promise<number[]> {
    if (this.disposed) throw new DisposedError("the llama-cpp reranker was disposed", { where: this.id });
    return this.context.rankAll(query, [...passages], { onOverflow: "maxChunk" });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.context.dispose();
    await this.model.dispose();
  }
}
