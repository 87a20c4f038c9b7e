/**
 * Bulk log-likelihood scoring on Vertical's own engine (src/model on ggml): one forward pass per
 * distinct context for single-token continuations (all the letters of a multiple-choice item read from
 * the same last-position distribution), one pass over context + continuation otherwise; only the
 * positions that predict continuation tokens go through the output projection. LoRA adapters (GGUF)
 * are applied in the graph, unmerged. Tokenisation mirrors LlamaCppBackend: BOS when the vocabulary
 * asks for it, special-token text parsed in the context, plain text in the continuation.
 */
import path from "node:path";
import { settings } from "../config.js";
import { Backend } from "../engine/index.js";
import { Evaluator, loadLoraAdapter, loadModel, logSoftmaxAt, mergeLoraWeights, type LlamaModel, type LoraAdapter, type LoraWeights } from "../model/index.js";
import { DisposedError, ModelError } from "../shared/errors.js";
import { tokenizerFromGguf } from "../tokenizer/fromGguf.js";
import type { Tokenizer } from "../tokenizer/types.js";
import type { ContinuationScore, ScoreRequest, TokenScorer } from "./types.js";

export interface EngineScorerOptions {
  modelPath: string;
  adapters?: { filePath: string; scale?: number }[];
  /** ggml threads. Defaults to settings().threads. */
  threads?: number;
  /** Compiled graphs kept for reuse (one per sequence length and first scored position). Defaults to 32. */
  cachedGraphs?: number;
}

export class EngineScorer implements TokenScorer {
  readonly id: string;
  private readonly evaluators = new Map<string, Evaluator>();
  private disposed = false;

  private constructor(
    private readonly backend: Backend,
    private readonly model: LlamaModel,
    private readonly adapters: LoraAdapter[],
    private readonly lora: LoraWeights | undefined,
    private readonly tokenizer: Tokenizer,
    private readonly cachedGraphs: number,
    id: string,
  ) {
    this.id = id;
  }

  static async load(options: EngineScorerOptions): Promise<EngineScorer> {
    const backend = Backend.create({ threads: options.threads ?? settings().threads });
    let model: LlamaModel | undefined;
    const adapters: LoraAdapter[] = [];
    try {
      model = loadModel(options.modelPath, { backend });
      for (const adapter of options.adapters ?? []) adapters.push(loadLoraAdapter(adapter.filePath, model, { scale: adapter.scale ?? 1 }));
      const lora = adapters.length > 0 ? mergeLoraWeights(...adapters.map((adapter) => adapter.weights)) : undefined;
      const tokenizer = tokenizerFromGguf(model.file);
      const id =
        `engine:${path.basename(options.modelPath)}` + (options.adapters ?? []).map((adapter) => `+lora:${path.basename(adapter.filePath)}`).join("");
      return new EngineScorer(backend, model, adapters, lora, tokenizer, options.cachedGraphs ?? 32, id);
    } catch (error) {
      for (const adapter of adapters) adapter.dispose();
      model?.dispose();
      backend.dispose();
      throw error;
    }
  }

  /** Context tokens: BOS when the vocabulary wants one, special-token text parsed. */
  contextTokens(context: string): number[] {
    return this.tokenizer.encode(context, { addBos: true, parseSpecial: true });
  }

  continuationTokens(continuation: string): number[] {
    return this.tokenizer.encode(continuation, { addBos: false, parseSpecial: false });
  }

  private evaluator(length: number, firstPosition: number, count: number): Evaluator {
    const key = `${length}/${firstPosition}/${count}`;
    let evaluator = this.evaluators.get(key);
    if (evaluator) {
      // Most recently used last, so the first key is the one to evict.
      this.evaluators.delete(key);
      this.evaluators.set(key, evaluator);
      return evaluator;
    }
    if (this.evaluators.size >= this.cachedGraphs) {
      const [oldestKey, oldest] = this.evaluators.entries().next().value!;
      oldest.dispose();
      this.evaluators.delete(oldestKey);
    }
    const positions = Array.from({ length: count }, (_, i) => firstPosition + i);
    evaluator = new Evaluator(this.model, { length, positions, ...(this.lora ? { lora: this.lora } : {}) });
    this.evaluators.set(key, evaluator);
    return evaluator;
  }

  async score(requests: ScoreRequest[]): Promise<ContinuationScore[]> {
    if (this.disposed) throw new DisposedError("the engine scorer was disposed", { where: this.id });
    const maxLength = this.model.hparams.contextLength;
    const results = new Array<ContinuationScore>(requests.length);
    const byContext = new Map<string, number[]>();
    requests.forEach((request, index) => byContext.set(request.context, [...(byContext.get(request.context) ?? []), index]));
    for (const [contextText, indices] of byContext) {
      const context = this.contextTokens(contextText);
      if (context.length === 0) throw new ModelError("cannot score after an empty context (the vocabulary adds no BOS)", { where: this.id });
      const continuations = indices.map((index) => this.continuationTokens(requests[index]!.continuation));
      continuations.forEach((tokens, i) => {
        if (tokens.length === 0) throw new ModelError(`empty continuation for request ${indices[i]}`, { where: this.id });
        if (context.length + tokens.length > maxLength)
          throw new ModelError(`context + continuation of ${context.length + tokens.length} tokens exceed the model's ${maxLength}`, {
            where: this.id,
            hint: "Use fewer shots or shorter prompts.",
          });
      });
      const last = context.length - 1;
      if (continuations.every((tokens) => tokens.length === 1)) {
        // One pass over the context scores every single-token continuation.
        const logits = this.evaluator(context.length, last, 1).logits(context);
        const V = this.model.hparams.vocabSize;
        continuations.forEach((tokens, i) => {
          const { logprob, isArgmax } = logSoftmaxAt(logits, 0, V, tokens[0]!);
          results[indices[i]!] = { logprob, tokenLogprobs: [logprob], isGreedy: isArgmax, tokenCount: 1, contextTokenCount: context.length };
        });
        continue;
      }
      continuations.forEach((tokens, i) => {
        const sequence = [...context, ...tokens];
        // Positions last .. last + n - 1 predict the n continuation tokens.
        const logits = this.evaluator(sequence.length, last, tokens.length).logits(sequence);
        const V = this.model.hparams.vocabSize;
        const tokenLogprobs: number[] = [];
        let isGreedy = true;
        tokens.forEach((token, j) => {
          const scored = logSoftmaxAt(logits, j * V, V, token);
          tokenLogprobs.push(scored.logprob);
          isGreedy &&= scored.isArgmax;
        });
        results[indices[i]!] = {
          logprob: tokenLogprobs.reduce((a, b) => a + b, 0),
          tokenLogprobs,
          isGreedy,
          tokenCount: tokens.length,
          contextTokenCount: context.length,
        };
      });
    }
    return results;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const evaluator of this.evaluators.values()) evaluator.dispose();
    this.evaluators.clear();
    for (const adapter of this.adapters) adapter.dispose();
    this.model.dispose();
    this.backend.dispose();
  }
}
