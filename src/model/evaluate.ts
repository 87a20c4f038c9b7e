/**
 * Running the forward graph for scoring: logits of fixed-shape batches, per-token log-probabilities,
 * perplexity the way llama-perplexity computes it, and bulk continuation scoring.
 */
import { Backend, Context, Graph, Scheduler, GgmlType, type Tensor } from "../engine/index.js";
import { EngineError, InputError } from "../shared/errors.js";
import { buildForward, type ForwardGraph } from "./forward.js";
import type { LlamaModel } from "./loadModel.js";
import type { LoraWeights } from "./lora.js";

export interface EvaluatorOptions {
  /** B: sequences per call. Defaults to 1. */
  batch?: number;
  /** T: tokens per sequence. */
  length: number;
  lora?: LoraWeights;
  /**
   * Positions (0..T-1) within each sequence whose logits are wanted, the same for every sequence.
   * Defaults to all T.
   */
  positions?: readonly number[];
  /**
   * Instead of fixed positions: this many rows chosen per call (`logits(tokens, rows)`, row =
   * sequence * T + position). Lets callers project only the rows they score.
   */
  rowsPerCall?: number;
  /**
   * F32 [E, P] virtual token embeddings prepended to every sequence (a trained soft prompt). Rows
   * and positions stay in terms of the real tokens; the prompt rows are never returned.
   */
  softPrompt?: Tensor;
}

/**
 * Graph nodes per transformer block, generously: ~40 ops, plus 4 per adapted linear (7 linears)
 * when LoRA is attached (used to size contexts, graphs and schedulers).
 */
const nodesPerBlock = 128;

/** A scheduler for `backend`: alone when it is the CPU, else followed by a CPU backend (ggml's rule). */
export function createScheduler(backend: Backend, graphSize: number): { scheduler: Scheduler; extra: Backend[] } {
  if (backend.isCpu) return { scheduler: new Scheduler([backend], graphSize), extra: [] };
  const cpu = Backend.cpu(backend.threads);
  return { scheduler: new Scheduler([backend, cpu], graphSize), extra: [cpu] };
}

/**
 * Evaluates fixed-shape batches [B x T] repeatedly with one allocated graph. Returns logits row
 * after row ([V] per selected position, sequence after sequence).
 */
export class Evaluator implements Disposable {
  readonly batch: number;
  readonly length: number;
  readonly vocabSize: number;
  /** Selected positions per sequence. */
  readonly positions: readonly number[];
  private readonly context: Context;
  private readonly graph: Graph;
  private readonly forward: ForwardGraph;
  private readonly scheduler: Scheduler;
  private readonly extraBackends: Backend[];
  private writeRows: () => void = () => {};
  private readonly rowsPerCall: number | undefined;
  /** Maps a real-token row (sequence * T + position) to the graph's row. */
  private graphRow: (row: number) => number = (row) => row;
  private rowsInput: Tensor | undefined;

  constructor(
    readonly model: LlamaModel,
    options: EvaluatorOptions,
  ) {
    this.batch = options.batch ?? 1;
    this.length = options.length;
    this.vocabSize = model.hparams.vocabSize;
    const B = this.batch;
    const T = this.length;
    if (!Number.isInteger(T) || T <= 0) throw new EngineError(`length must be a positive integer, got ${T}`);
    if (!Number.isInteger(B) || B <= 0) throw new EngineError(`batch must be a positive integer, got ${B}`);
    const selected = options.positions ?? Array.from({ length: T }, (_, i) => i);
    for (const p of selected)
      if (!Number.isInteger(p) || p < 0 || p >= T) throw new EngineError(`position ${p} is outside 0..${T - 1}`);
    this.positions = selected;
    const rowsPerCall = options.rowsPerCall;
    if (rowsPerCall !== undefined && (!Number.isInteger(rowsPerCall) || rowsPerCall <= 0 || options.positions))
      throw new EngineError(`rowsPerCall must be a positive integer and excludes positions, got ${rowsPerCall}`);
    this.rowsPerCall = rowsPerCall;

    const graphSize = 256 + nodesPerBlock * model.hparams.blockCount;
    this.context = new Context({ maxTensors: graphSize, graphBytes: Graph.bytesFor(graphSize) });
    try {
      const all = selected.length === T && rowsPerCall === undefined && !options.softPrompt;
      const rowCount = rowsPerCall ?? selected.length * B;
      const rows = all ? undefined : this.context.tensor(GgmlType.I32, [rowCount], "output_rows").markInput();
      this.rowsInput = rowsPerCall === undefined ? undefined : rows;
      this.forward = buildForward(this.context, model, {
        batch: B,
        length: T,
        lora: options.lora,
        softPrompt: options.softPrompt,
        outputRows: rows,
      });
      // Soft-prompt rows sit before each sequence's tokens: real position p of sequence s is row
      // s * S + P + p of the graph.
      const S = this.forward.sequenceLength;
      const P = S - T;
      this.graphRow = (row: number) => Math.floor(row / T) * S + P + (row % T);
      this.graph = new Graph(this.context, { size: graphSize }).expand(this.forward.logits!);
      const { scheduler, extra } = createScheduler(model.backend, graphSize * 2);
      this.scheduler = scheduler;
      this.extraBackends = extra;
      this.scheduler.allocate(this.graph);
      if (rows && rowsPerCall === undefined) {
        const ids = new Int32Array(selected.length * B);
        for (let s = 0; s < B; s++) selected.forEach((p, i) => (ids[s * selected.length + i] = this.graphRow(s * T + p)));
        // Inputs are rewritten before every compute: the allocator may reuse their memory once
        // the graph has read them.
        this.writeRows = () => rows.write(ids);
      }
    } catch (error) {
      this.context.dispose();
      throw error;
    }
  }

  /**
   * Logits for `tokens` (B * T ids): Float32Array of rows of V values — B * positions.length rows,
   * or the `rows` given (with rowsPerCall; row = sequence * T + position).
   */
  logits(tokens: Int32Array | readonly number[], rows?: readonly number[]): Float32Array {
    const ids = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    this.forward.writeInputs(ids);
    if (this.rowsPerCall !== undefined) {
      const limit = this.batch * this.length;
      if (!rows || rows.length !== this.rowsPerCall)
        throw new EngineError(`this evaluator projects ${this.rowsPerCall} rows per call, got ${rows?.length ?? "none"}`);
      for (const row of rows)
        if (!Number.isInteger(row) || row < 0 || row >= limit) throw new EngineError(`row ${row} is outside 0..${limit - 1}`);
      this.rowsInput!.write(Int32Array.from(rows, (row) => this.graphRow(row)));
    } else if (rows) throw new EngineError("rows can only be chosen per call with the rowsPerCall option");
    this.writeRows();
    this.scheduler.compute(this.graph);
    return this.forward.logits!.readFloats();
  }

  dispose(): void {
    this.scheduler.dispose();
    for (const backend of this.extraBackends) backend.dispose();
    this.context.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** log softmax(logits)[token], in double precision like llama-perplexity's log_softmax. */
export function logSoftmaxAt(logits: Float32Array, offset: number, vocab: number, token: number): { logprob: number; isArgmax: boolean } {
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < vocab; i++) {
    const value = logits[offset + i]!;
    if (value > max) {
      max = value;
      argmax = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i]! - max);
  return { logprob: logits[offset + token]! - max - Math.log(sum), isArgmax: argmax === token || logits[offset + token] === max };
}

/** Log-probabilities log p(t_i | t_<i) for i = 1..n-1 of one token sequence. */
export function tokenLogprobs(
  model: LlamaModel,
  tokens: readonly number[],
  options: { lora?: LoraWeights; softPrompt?: Tensor } = {},
): number[] {
  if (tokens.length < 2) return [];
  using evaluator = new Evaluator(model, { length: tokens.length, lora: options.lora, softPrompt: options.softPrompt });
  const logits = evaluator.logits(tokens);
  const V = evaluator.vocabSize;
  const out: number[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(logSoftmaxAt(logits, i * V, V, tokens[i + 1]!).logprob);
  return out;
}

export interface PerplexityOptions {
  /** N: window length (llama-perplexity's -c). */
  context: number;
  /** Replace the first token of every window with this BOS id (when the vocabulary adds BOS). */
  bosId?: number;
  /** Windows evaluated together. Defaults to 1. */
  batch?: number;
  lora?: LoraWeights;
  /** Called after each batch of windows with the running estimate. */
  onProgress?: (done: number, total: number, perplexity: number) => void;
}

export interface PerplexityResult {
  perplexity: number;
  /** Running estimate after each window, as llama-perplexity prints them. */
  running: number[];
  windows: number;
  scoredTokens: number;
  negativeLogLikelihood: number;
}

/**
 * llama-perplexity's default mode: windows of N tokens, the first replaced by BOS when the
 * vocabulary adds one, the second half of each window scored (positions N/2 .. N-2 predict the
 * next token). `tokens` is the whole text tokenized with BOS (as common_tokenize(..., true) does).
 */
export function perplexity(model: LlamaModel, tokens: readonly number[], options: PerplexityOptions): PerplexityResult {
  const N = options.context;
  if (!Number.isInteger(N) || N < 4) throw new InputError(`the context must be an integer >= 4, got ${N}`);
  // Checked before any graph: the attention of a window is N² per head, and past the trained
  // context ggml was asked for hundreds of GB (the process died with a segfault).
  const trained = model.hparams.contextLength;
  if (N > trained) {
    throw new InputError(`a context of ${N} tokens is longer than the model's context length of ${trained}`, {
      hint: `use --ctx ${trained} or less`,
    });
  }
  if (tokens.length < 2 * N)
    throw new InputError(`the text has ${tokens.length} tokens; perplexity with a context of ${N} needs at least ${2 * N}`, {
      hint: "use a longer file or a smaller --ctx",
    });
  const windows = Math.floor(tokens.length / N);
  const batch = Math.max(1, Math.min(options.batch ?? 1, windows));
  const first = Math.floor(N / 2);
  const scored = Array.from({ length: N - 1 - first }, (_, i) => first + i);
  const running: number[] = [];
  let nll = 0;
  let count = 0;
  const evaluators = new Map<number, Evaluator>();
  try {
    for (let w = 0; w < windows; w += batch) {
      const B = Math.min(batch, windows - w);
      let evaluator = evaluators.get(B);
      if (!evaluator) {
        evaluator = new Evaluator(model, { batch: B, length: N, lora: options.lora, positions: scored });
        evaluators.set(B, evaluator);
      }
      const ids = new Int32Array(B * N);
      for (let s = 0; s < B; s++) {
        ids.set(tokens.slice((w + s) * N, (w + s + 1) * N), s * N);
        if (options.bosId !== undefined) ids[s * N] = options.bosId;
      }
      const logits = evaluator.logits(ids);
      const V = evaluator.vocabSize;
      for (let s = 0; s < B; s++) {
        const start = (w + s) * N;
        scored.forEach((position, row) => {
          const target = tokens[start + position + 1]!;
          nll -= logSoftmaxAt(logits, (s * scored.length + row) * V, V, target).logprob;
        });
        count += scored.length;
        running.push(Math.exp(nll / count));
      }
      options.onProgress?.(Math.min(w + B, windows), windows, Math.exp(nll / count));
    }
  } finally {
    for (const evaluator of evaluators.values()) evaluator.dispose();
  }
  return { perplexity: Math.exp(nll / count), running, windows, scoredTokens: count, negativeLogLikelihood: nll };
}

export interface ContinuationTokens {
  /** Context token ids (BOS included if wanted); at least one token. */
  context: readonly number[];
  /** Continuation token ids; at least one. */
  continuation: readonly number[];
}

export interface TokenContinuationScore {
  logprob: number;
  tokenLogprobs: number[];
  isGreedy: boolean;
  tokenCount: number;
}

export interface ScoreOptions {
  lora?: LoraWeights;
  /** F32 [E, P] soft prompt prepended to every request. */
  softPrompt?: Tensor;
  /** Longest sequence evaluated; longer requests keep their last `maxLength` tokens (left truncation). Defaults to the model's context length. */
  maxLength?: number;
}

/**
 * Log-likelihood of each continuation given its context, one forward pass per request of
 * context + continuation (right-aligned into buckets of equal length so graphs are reused).
 */
export function scoreContinuations(
  model: LlamaModel,
  requests: readonly ContinuationTokens[],
  options: ScoreOptions = {},
): TokenContinuationScore[] {
  const maxLength = options.maxLength ?? model.hparams.contextLength;
  const evaluators = new Map<string, Evaluator>();
  try {
    return requests.map((request, index) => {
      if (request.context.length === 0 || request.continuation.length === 0)
        throw new InputError(`request ${index}: context and continuation need at least one token each`);
      let sequence = [...request.context, ...request.continuation];
      if (sequence.length > maxLength) sequence = sequence.slice(sequence.length - maxLength);
      const continuationLength = Math.min(request.continuation.length, sequence.length - 1);
      // Round the length up to a multiple of 16 and the scored rows up to a multiple of 4 so graphs
      // are shared between similar requests. Padding tokens go after the sequence and never influence
      // earlier positions (causal mask); padding rows repeat the last scored row.
      const length = Math.min(Math.ceil(sequence.length / 16) * 16, Math.max(maxLength, sequence.length));
      const rowCount = Math.ceil(continuationLength / 4) * 4;
      const key = `${length}:${rowCount}`;
      let evaluator = evaluators.get(key);
      if (evaluator) evaluators.delete(key); // re-inserted below: the Map's order is least recently used first
      else {
        // Each evaluator holds its compute buffers: keep the few most recently used.
        if (evaluators.size >= 8) {
          const [oldestKey, oldest] = evaluators.entries().next().value!;
          oldest.dispose();
          evaluators.delete(oldestKey);
        }
        evaluator = new Evaluator(model, { length, lora: options.lora, softPrompt: options.softPrompt, rowsPerCall: rowCount });
      }
      evaluators.set(key, evaluator);
      const ids = new Int32Array(length);
      ids.set(sequence);
      // Row i - 1 predicts token i.
      const first = sequence.length - continuationLength;
      const rows = Array.from({ length: rowCount }, (_, r) => first - 1 + Math.min(r, continuationLength - 1));
      const logits = evaluator.logits(ids, rows);
      const V = evaluator.vocabSize;
      const tokenLogprobs: number[] = [];
      let isGreedy = true;
      for (let r = 0; r < continuationLength; r++) {
        const scored = logSoftmaxAt(logits, r * V, V, sequence[first + r]!);
        tokenLogprobs.push(scored.logprob);
        isGreedy &&= scored.isArgmax;
      }
      return { logprob: tokenLogprobs.reduce((a, b) => a + b, 0), tokenLogprobs, isGreedy, tokenCount: continuationLength };
    });
  } finally {
    for (const evaluator of evaluators.values()) evaluator.dispose();
  }
}
