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
import { readGguf } from "../engine/gguf/index.js";
import { Backend, Context, GgmlType, type BackendBuffer, type Tensor } from "../engine/index.js";
import {
  Evaluator,
  loadLoraAdapter,
  loadModel,
  logSoftmaxAt,
  mergeLoraWeights,
  type LlamaModel,
  type LoraAdapter,
  type LoraWeights,
} from "../model/index.js";
import { DisposedError, ModelError } from "../shared/errors.js";
import { tokenizerFromGguf } from "../tokenizer/fromGguf.js";
import type { Tokenizer } from "../tokenizer/types.js";
import type { ContinuationScore, ScoreRequest, TokenScorer } from "./types.js";

export interface EngineScorerOptions {
  modelPath: string;
  adapters?: { filePath: string; scale?: number }[];
  /** ggml threads. Defaults to settings().threads. */
  threads?: number;
  /**
   * A trained soft prompt: GGUF with `general.type = soft_prompt` and an F32 tensor `soft_prompt` ne [E, P]
   * (what `vertical export --format soft-prompt` writes). Its P rows come before every sequence.
   */
  softPromptPath?: string;
  /** Compiled graphs kept for reuse (one per length bucket and row-count bucket). Defaults to 32. */
  cachedGraphs?: number;
}

/** Sequence lengths are rounded up to this, so items of similar length share one compiled graph. */
const LENGTH_BUCKET = 32;
/** Scored rows per sequence are rounded up to this (extra rows repeat the last one). */
const ROWS_BUCKET = 8;
/** Most sequences evaluated in one pass; batches are padded to 1, 2, 4 or 8 so few graph shapes exist. */
const MAX_BATCH = 8;

/** One sequence to evaluate: its tokens, the positions whose next-token distribution is wanted, and what to do with them. */
interface Pass {
  tokens: number[];
  rows: number[];
  /** Receives the logits ([V] per row, in `rows` order) starting at row `first` of `logits`. */
  consume(logits: Float32Array, first: number): void;
}

/**
 * One compiled forward graph (the model's Evaluator) for `batch` sequences padded to `length` tokens,
 * projecting `rowCount` chosen rows of each to logits. Padding goes after the real tokens, so the causal
 * mask keeps it from touching them; which rows are projected is chosen per pass.
 */
class ScoringGraph {
  private readonly evaluator: Evaluator;

  constructor(
    model: LlamaModel,
    readonly length: number,
    readonly rowCount: number,
    readonly batch: number,
    lora: LoraWeights | undefined,
    softPrompt: Tensor | undefined,
  ) {
    this.evaluator = new Evaluator(model, {
      batch,
      length,
      rowsPerCall: rowCount * batch,
      ...(lora ? { lora } : {}),
      ...(softPrompt ? { softPrompt } : {}),
    });
  }

  /**
   * Logits [V] of each pass's rows (positions within its tokens): pass after pass, `rowCount` rows
   * each (the first rows.length of them meaningful). Missing passes (fewer than `batch`) repeat the last.
   */
  logits(passes: readonly Pass[]): Float32Array {
    const ids = new Int32Array(this.length * this.batch);
    const rows = new Array<number>(this.rowCount * this.batch);
    for (let b = 0; b < this.batch; b++) {
      const pass = passes[Math.min(b, passes.length - 1)]!;
      ids.set(pass.tokens, b * this.length);
      // Rows are sequence * length + position; the Evaluator maps them past a soft prompt.
      for (let r = 0; r < this.rowCount; r++) rows[b * this.rowCount + r] = b * this.length + (pass.rows[r] ?? pass.rows.at(-1)!);
    }
    return this.evaluator.logits(ids, rows);
  }

  dispose(): void {
    this.evaluator.dispose();
  }
}

export class EngineScorer implements TokenScorer {
  readonly id: string;
  private readonly graphs = new Map<string, ScoringGraph>();
  private disposed = false;

  private constructor(
    private readonly backend: Backend,
    private readonly model: LlamaModel,
    private readonly adapters: LoraAdapter[],
    private readonly lora: LoraWeights | undefined,
    private readonly softPrompt: { tensor: Tensor; context: Context; buffer: BackendBuffer } | undefined,
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
    let softPrompt: { tensor: Tensor; context: Context; buffer: BackendBuffer } | undefined;
    try {
      model = loadModel(options.modelPath, { backend });
      for (const adapter of options.adapters ?? [])
        adapters.push(loadLoraAdapter(adapter.filePath, model, { scale: adapter.scale ?? 1 }));
      const lora = adapters.length > 0 ? mergeLoraWeights(...adapters.map((adapter) => adapter.weights)) : undefined;
      const tokenizer = tokenizerFromGguf(model.file);
      softPrompt = options.softPromptPath ? loadSoftPrompt(options.softPromptPath, model) : undefined;
      const id =
        `engine:${path.basename(options.modelPath)}` +
        (options.adapters ?? []).map((adapter) => `+lora:${path.basename(adapter.filePath)}`).join("") +
        (options.softPromptPath ? `+prompt:${path.basename(options.softPromptPath)}` : "");
      return new EngineScorer(backend, model, adapters, lora, softPrompt, tokenizer, options.cachedGraphs ?? 32, id);
    } catch (error) {
      softPrompt?.buffer.dispose();
      softPrompt?.context.dispose();
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

  private graphFor(length: number, rowCount: number, batch: number): ScoringGraph {
    const key = `${length}/${rowCount}/${batch}`;
    let graph = this.graphs.get(key);
    if (graph) {
      // Most recently used last, so the first key is the one to evict.
      this.graphs.delete(key);
    } else {
      if (this.graphs.size >= this.cachedGraphs) {
        const [oldestKey, oldest] = this.graphs.entries().next().value!;
        oldest.dispose();
        this.graphs.delete(oldestKey);
      }
      graph = new ScoringGraph(this.model, length, rowCount, batch, this.lora, this.softPrompt?.tensor);
    }
    this.graphs.set(key, graph);
    return graph;
  }

  /** Evaluates passes, batching those of the same length and row bucket. */
  private runPasses(passes: Pass[]): void {
    const V = this.model.hparams.vocabSize;
    const buckets = new Map<string, Pass[]>();
    for (const pass of passes) {
      const length = Math.min(
        Math.ceil(pass.tokens.length / LENGTH_BUCKET) * LENGTH_BUCKET,
        Math.max(this.model.hparams.contextLength, pass.tokens.length),
      );
      const rowCount = Math.ceil(pass.rows.length / ROWS_BUCKET) * ROWS_BUCKET;
      const key = `${length}/${rowCount}`;
      buckets.set(key, [...(buckets.get(key) ?? []), pass]);
    }
    for (const [key, bucket] of buckets) {
      const [length, rowCount] = key.split("/").map(Number) as [number, number];
      for (let start = 0; start < bucket.length; start += MAX_BATCH) {
        const chunk = bucket.slice(start, start + MAX_BATCH);
        const batch = 2 ** Math.ceil(Math.log2(chunk.length));
        const logits = this.graphFor(length, rowCount, batch).logits(chunk);
        chunk.forEach((pass, b) => pass.consume(logits, b * rowCount * V));
      }
    }
  }

  async score(requests: ScoreRequest[]): Promise<ContinuationScore[]> {
    if (this.disposed) throw new DisposedError("the engine scorer was disposed", { where: this.id });
    const maxLength = this.model.hparams.contextLength - (this.softPrompt?.tensor.shape[1] ?? 0);
    const results = new Array<ContinuationScore>(requests.length);
    const byContext = new Map<string, number[]>();
    requests.forEach((request, index) =>
      byContext.set(request.context, [...(byContext.get(request.context) ?? []), index]),
    );
    const passes: Pass[] = [];
    for (const [contextText, indices] of byContext) {
      const context = this.contextTokens(contextText);
      if (context.length === 0)
        throw new ModelError("cannot score after an empty context (the vocabulary adds no BOS)", { where: this.id });
      const continuations = indices.map((index) => this.continuationTokens(requests[index]!.continuation));
      continuations.forEach((tokens, i) => {
        if (tokens.length === 0)
          throw new ModelError(`empty continuation for request ${indices[i]}`, { where: this.id });
        if (context.length + tokens.length > maxLength)
          throw new ModelError(
            `context + continuation of ${context.length + tokens.length} tokens exceed the model's ${maxLength}`,
            {
              where: this.id,
              hint: "Use fewer shots or shorter prompts.",
            },
          );
      });
      const last = context.length - 1;
      const V = this.model.hparams.vocabSize;
      if (continuations.every((tokens) => tokens.length === 1)) {
        // One pass over the context scores every single-token continuation.
        passes.push({
          tokens: context,
          rows: [last],
          consume: (logits, first) =>
            continuations.forEach((tokens, i) => {
              const { logprob, isArgmax } = logSoftmaxAt(logits, first, V, tokens[0]!);
              results[indices[i]!] = {
                logprob,
                tokenLogprobs: [logprob],
                isGreedy: isArgmax,
                tokenCount: 1,
                contextTokenCount: context.length,
              };
            }),
        });
        continue;
      }
      continuations.forEach((tokens, i) => {
        // Positions last .. last + n - 1 predict the n continuation tokens.
        passes.push({
          tokens: [...context, ...tokens],
          rows: tokens.map((_, j) => last + j),
          consume: (logits, first) => {
            const tokenLogprobs: number[] = [];
            let isGreedy = true;
            tokens.forEach((token, j) => {
              const scored = logSoftmaxAt(logits, first + j * V, V, token);
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
          },
        });
      });
    }
    this.runPasses(passes);
    return results;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const graph of this.graphs.values()) graph.dispose();
    this.graphs.clear();
    for (const adapter of this.adapters) adapter.dispose();
    this.softPrompt?.buffer.dispose();
    this.softPrompt?.context.dispose();
    this.model.dispose();
    this.backend.dispose();
  }
}

/** A soft-prompt GGUF onto the model's backend, checked against the model's embedding width. */
function loadSoftPrompt(file: string, model: LlamaModel): { tensor: Tensor; context: Context; buffer: BackendBuffer } {
  const gguf = readGguf(file);
  const type = gguf.getString("general.type");
  if (type !== undefined && type !== "soft_prompt")
    throw new ModelError(`general.type is "${type}", not soft_prompt`, {
      where: file,
      hint: "Export one with `vertical export RUN --format soft-prompt`.",
    });
  const info = gguf.tensor("soft_prompt");
  if (!info) throw new ModelError("no tensor named soft_prompt", { where: file });
  const E = model.hparams.embeddingLength;
  if (info.type !== GgmlType.F32 || info.shape[0] !== E || (info.shape[2] ?? 1) !== 1)
    throw new ModelError(
      `soft_prompt must be F32 [${E}, P] for this model, found type ${info.type} shape [${info.shape.join(", ")}]`,
      { where: file },
    );
  const context = new Context({ maxTensors: 1 });
  try {
    const tensor = context.tensor(GgmlType.F32, [E, info.shape[1]!], "soft_prompt");
    const buffer = model.backend.allocate(context);
    tensor.write(gguf.tensorData("soft_prompt"));
    return { tensor, context, buffer };
  } catch (error) {
    context.dispose();
    throw error;
  }
}
