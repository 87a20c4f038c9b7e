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
import { Backend, Context, GgmlType, Graph, type BackendBuffer, type Scheduler, type Tensor } from "../engine/index.js";
import {
  buildForward,
  createScheduler,
  loadLoraAdapter,
  loadModel,
  logSoftmaxAt,
  mergeLoraWeights,
  type ForwardGraph,
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

/** Graph nodes per transformer block, generously (LoRA on every linear included). */
const NODES_PER_BLOCK = 128;
/** Sequence lengths are rounded up to this, so items of similar length share one compiled graph. */
const LENGTH_BUCKET = 32;
/** Scored rows per pass are rounded up to this (extra rows repeat the last one). */
const ROWS_BUCKET = 8;

/**
 * One compiled forward graph for sequences padded to `length` tokens, projecting `rows` chosen hidden
 * rows to logits. Padding goes after the real tokens, so the causal mask keeps it from touching them;
 * which rows are projected is an input, rewritten before every pass.
 */
class ScoringGraph {
  private readonly context: Context;
  private readonly graph: Graph;
  private readonly forward: ForwardGraph;
  private readonly rows: Tensor;
  private readonly scheduler: Scheduler;
  private readonly extraBackends: Backend[];

  constructor(
    model: LlamaModel,
    readonly length: number,
    readonly rowCount: number,
    lora: LoraWeights | undefined,
    private readonly softPrompt: Tensor | undefined,
  ) {
    const graphSize = 256 + NODES_PER_BLOCK * model.hparams.blockCount;
    this.context = new Context({ maxTensors: graphSize, graphBytes: Graph.bytesFor(graphSize) });
    try {
      this.rows = this.context.tensor(GgmlType.I32, [rowCount], "output_rows").markInput();
      this.forward = buildForward(this.context, model, {
        batch: 1,
        length,
        ...(lora ? { lora } : {}),
        ...(softPrompt ? { softPrompt } : {}),
        outputRows: this.rows,
      });
      this.graph = new Graph(this.context, { size: graphSize }).expand(this.forward.logits!);
      const { scheduler, extra } = createScheduler(model.backend, graphSize * 2);
      this.scheduler = scheduler;
      this.extraBackends = extra;
      this.scheduler.allocate(this.graph);
    } catch (error) {
      this.context.dispose();
      throw error;
    }
  }

  /** Logits [V] of each row in `rows` (positions within `tokens`), row after row. */
  logits(tokens: readonly number[], rows: readonly number[]): Float32Array {
    const ids = new Int32Array(this.length);
    ids.set(tokens);
    // Hidden rows are [soft prompt (P), tokens]: token position i is row P + i.
    const offset = this.softPrompt?.shape[1] ?? 0;
    const rowIds = new Int32Array(this.rowCount).fill(rows.at(-1)! + offset);
    rowIds.set(rows.map((row) => row + offset));
    this.forward.writeInputs(ids);
    // Inputs are rewritten before every pass: the allocator may reuse their memory once read.
    this.rows.write(rowIds);
    this.scheduler.compute(this.graph);
    return this.forward.logits!.readFloats();
  }

  dispose(): void {
    this.scheduler.dispose();
    for (const backend of this.extraBackends) backend.dispose();
    this.context.dispose();
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
      for (const adapter of options.adapters ?? []) adapters.push(loadLoraAdapter(adapter.filePath, model, { scale: adapter.scale ?? 1 }));
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

  /** Log-softmax rows for `rows` of `tokens`, through a cached graph of the right bucket. */
  private logits(tokens: readonly number[], rows: readonly number[]): Float32Array {
    const length = Math.min(Math.ceil(tokens.length / LENGTH_BUCKET) * LENGTH_BUCKET, Math.max(this.model.hparams.contextLength, tokens.length));
    const rowCount = Math.ceil(rows.length / ROWS_BUCKET) * ROWS_BUCKET;
    const key = `${length}/${rowCount}`;
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
      graph = new ScoringGraph(this.model, length, rowCount, this.lora, this.softPrompt?.tensor);
    }
    this.graphs.set(key, graph);
    return graph.logits(tokens, rows);
  }

  async score(requests: ScoreRequest[]): Promise<ContinuationScore[]> {
    if (this.disposed) throw new DisposedError("the engine scorer was disposed", { where: this.id });
    const maxLength = this.model.hparams.contextLength - (this.softPrompt?.tensor.shape[1] ?? 0);
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
        const logits = this.logits(context, [last]);
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
        const logits = this.logits(
          sequence,
          tokens.map((_, j) => last + j),
        );
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
    throw new ModelError(`general.type is "${type}", not soft_prompt`, { where: file, hint: "Export one with `vertical export RUN --format soft-prompt`." });
  const info = gguf.tensor("soft_prompt");
  if (!info) throw new ModelError("no tensor named soft_prompt", { where: file });
  const E = model.hparams.embeddingLength;
  if (info.type !== GgmlType.F32 || info.shape[0] !== E || (info.shape[2] ?? 1) !== 1)
    throw new ModelError(`soft_prompt must be F32 [${E}, P] for this model, found type ${info.type} shape [${info.shape.join(", ")}]`, { where: file });
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
