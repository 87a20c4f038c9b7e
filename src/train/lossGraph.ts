/**
 * One micro-batch's loss (and gradients) on the backend. The loss is next-token cross-entropy over
 * exactly the positions whose target counts (lossMask = 1): their hidden states are gathered with
 * get_rows before the LM head, so masked positions contribute nothing — neither to the loss nor to
 * any gradient — and cost no LM-head compute. (Zeroed label rows in ggml_cross_entropy_loss would
 * give wrong gradients; see ENGINE-NOTES.)
 *
 * The graph's loss is the mean over the gathered rows; the caller weights micro-batches by their
 * share of the step's target tokens, so accumulation equals one big batch exactly.
 *
 * A training step's graph also holds the optimiser (appendOptimizerStep): accumulation, clipping,
 * AdamW and the refresh of weight copies run in the same ggml compute as forward and backward.
 *
 * A graph is rebuilt when the number of target rows or the pass changes: every row of a CPT batch
 * counts, so CPT with one micro-batch per step builds its training graph once for the whole run.
 */
import { Context, Graph, GgmlType, type Scheduler, type Tensor } from "../engine/index.js";
import { buildForward } from "../model/forward.js";
import type { LlamaModel } from "../model/loadModel.js";
import { EngineError } from "../shared/errors.js";
import { segmentOf, type PackedSequence } from "./batches.js";
import { appendOptimizerStep, type AccumulationStage } from "./optimizerStep.js";
import type { OptimizerState } from "./optimizerState.js";
import type { TrainableSet } from "./trainable.js";
import type { TransposedWeights } from "./transposedWeights.js";

export interface MicroBatchResult {
  /** Mean cross-entropy over the target rows (nats). */
  meanLoss: number;
  /** Number of target rows. */
  targetCount: number;
  /** Gradients by parameter name (when backward was asked for). */
  gradients?: Map<string, Float32Array>;
  /** Global gradient norm before clipping (the stages that update: "only", "last"). */
  gradNorm?: number;
}

/** What a graph computes: the loss, gradients to read back, or a stage of an optimiser step. */
type Pass = "loss" | "gradients" | AccumulationStage;

interface BuiltGraph {
  /** `${targetCount}:${pass}`: what the graph was built for. */
  key: string;
  context: Context;
  graph: Graph;
  rows: Tensor;
  labels: Tensor;
  loss: Tensor;
  setInputs: (tokens: Int32Array, segments: readonly Int32Array[]) => void;
  gradNorm: Tensor | undefined;
  labelValues?: Float32Array;
  labelTargets?: Int32Array;
}

export interface LossGraphOptions {
  /** Sequences per micro-batch (B). */
  batch: number;
  /** Tokens per sequence (T); packed sequences hold T+1 tokens. */
  length: number;
  /** Transposed weights: input gradients by mul_mat instead of out_prod (faster, same values). */
  transposedWeights?: TransposedWeights;
  /**
   * Every other f32 out_prod of the backward (weight, LoRA and attention gradients) as a mul_mat of
   * transposed copies (Graph.useMatMulForOutProducts): same values up to summation order, faster.
   */
  matMulBackward?: boolean;
  /**
   * Mixed precision (compute: bf16): those weight-gradient products read bf16 copies of their
   * operands (rounded as the transposed copies are made) and accumulate in f32.
   */
  bf16WeightGradients?: boolean;
  /** AdamW state for step(); the graphs of a step then update the weights in place. */
  optimizer?: OptimizerState;
  /** Attention stays inside each document of a packed sequence (PackedSequence.segmentStarts). */
  documentAttention?: boolean;
}

export class LossGraph implements Disposable {
  /**
   * The one graph kept. Allocated once, it is computed again as long as the scheduler holds its
   * allocation; one that lost it is built anew (~10 ms next to seconds of compute): a graph's
   * tensors keep their old addresses, which ggml's allocator would take as allocated elsewhere, and
   * with several backends its nodes point at input copies the scheduler has freed (Scheduler.allocate).
   */
  private built: BuiltGraph | undefined;
  /** Input-gradient products of the last backward graph computed through transposed weights. */
  rewrittenProducts = 0;
  /** Other out_prod nodes of the last backward graph computed as mul_mat of transposed copies. */
  matMulProducts = 0;
  /** Forward products of the last graph computed through BF16 working copies (compute: bf16). */
  workingCopyProducts = 0;
  /** Milliseconds spent per phase since construction (for profiling; build includes allocating). */
  readonly timings = { build: 0, inputs: 0, compute: 0, gradients: 0 };
  private readonly promptLength: number;

  constructor(
    private readonly model: LlamaModel,
    private readonly trainable: TrainableSet,
    private readonly scheduler: Scheduler,
    private readonly options: LossGraphOptions,
  ) {
    this.promptLength = trainable.softPrompt?.shape[1] ?? 0;
  }

  /** The graph for `targetCount` rows and `pass`, allocated on the scheduler. */
  private prepare(targetCount: number, pass: Pass): BuiltGraph {
    const key = `${targetCount}:${pass}`;
    if (this.built?.key !== key || !this.scheduler.holds(this.built.graph)) {
      this.release();
      this.built = this.build(key, targetCount, pass);
      this.scheduler.allocate(this.built.graph);
    }
    return this.built;
  }

  private build(key: string, targetCount: number, pass: Pass): BuiltGraph {
    const backward = pass !== "loss";
    const { batch, length } = this.options;
    const size = 16384 + 64 * this.model.hparams.blockCount * (backward ? 8 : 2);
    const context = new Context({ maxTensors: size * 2, graphBytes: Graph.bytesFor(size, backward) });
    try {
      const rows = context.tensor(GgmlType.I32, [targetCount], "target_rows").markInput();
      const forward = buildForward(context, this.model, {
        batch,
        length,
        lora: this.trainable.lora.size > 0 ? this.trainable.lora : undefined,
        softPrompt: this.trainable.softPrompt,
        outputRows: rows,
        documentMask: this.options.documentAttention ?? false,
      });
      if (!forward.logits) throw new EngineError("buildForward returned no logits");
      const vocabulary = forward.logits.shape[0];
      const labels = context.tensor(GgmlType.F32, [vocabulary, targetCount], "target_labels").markInput();
      const loss = context.crossEntropyLoss(forward.logits, labels).setName("loss").markOutput();
      const graph = new Graph(context, { size, gradients: backward });
      if (backward) loss.markLoss();
      graph.expand(loss);
      if (backward) graph.expandBackward();
      if (backward && this.options.transposedWeights) this.rewrittenProducts = graph.useTransposedWeights(this.options.transposedWeights.byWeight);
      if (backward && this.options.matMulBackward) this.matMulProducts = graph.useMatMulForOutProducts(this.options.bf16WeightGradients ? GgmlType.BF16 : GgmlType.F32);
      // Last: the backward was built against the f32 weights, so their gradients stay exact.
      if (this.options.transposedWeights) this.workingCopyProducts = graph.useWorkingCopies(this.options.transposedWeights.workingCopies);
      let gradNorm: Tensor | undefined;
      if (pass !== "loss" && pass !== "gradients") {
        if (!this.options.optimizer) throw new EngineError("LossGraph.step needs the optimizer option");
        gradNorm = appendOptimizerStep(context, graph, pass, {
          parameters: this.trainable.parameters,
          state: this.options.optimizer,
          copies: this.options.transposedWeights,
        });
      }
      return { key, context, graph, rows, labels, loss, setInputs: (tokens, segments) => forward.writeInputs(tokens, segments), gradNorm };
    } catch (error) {
      context.dispose();
      throw error;
    }
  }

  /** Token ids [T*B], the gathered hidden-state rows and the target id of each row. */
  private layout(sequences: readonly PackedSequence[]): { tokens: Int32Array; rows: Int32Array; targets: Int32Array; segments: Int32Array[] } {
    const { batch, length } = this.options;
    if (sequences.length !== batch) throw new EngineError(`micro-batch has ${sequences.length} sequences, the graph takes ${batch}`);
    const tokens = new Int32Array(batch * length);
    const rows: number[] = [];
    const targets: number[] = [];
    const stride = this.promptLength + length;
    sequences.forEach((sequence, b) => {
      if (sequence.tokens.length !== length + 1) {
        throw new EngineError(`a packed sequence holds ${sequence.tokens.length} tokens, expected ${length + 1}`);
      }
      tokens.set(sequence.tokens.subarray(0, length), b * length);
      for (let t = 0; t < length; t++) {
        if (!sequence.lossMask[t]) continue;
        rows.push(b * stride + this.promptLength + t);
        targets.push(sequence.tokens[t + 1]!);
      }
    });
    // segment indices only feed the per-document attention mask
    const segments = this.options.documentAttention ? sequences.map((sequence) => segmentOf(sequence, length)) : [];
    return { tokens, rows: Int32Array.from(rows), targets: Int32Array.from(targets), segments };
  }

  /** Number of target rows of a micro-batch (without running anything). */
  static countTargets(sequences: readonly PackedSequence[]): number {
    let count = 0;
    for (const sequence of sequences) for (let t = 0; t < sequence.lossMask.length; t++) count += sequence.lossMask[t]!;
    return count;
  }

  /** Runs forward (and backward, reading the gradients back) on one micro-batch. A batch without targets returns zero loss. */
  run(sequences: readonly PackedSequence[], backward: boolean): MicroBatchResult {
    const { result, built } = this.compute(sequences, backward ? "gradients" : "loss", 1);
    if (!backward || !built) return { ...result, ...(backward ? { gradients: new Map() } : {}) };
    const started = performance.now();
    const gradients = new Map<string, Float32Array>();
    for (const parameter of this.trainable.parameters) {
      const gradient = built.graph.gradient(parameter.tensor);
      gradients.set(parameter.name, gradient ? gradient.readFloats() : new Float32Array(parameter.tensor.elements));
    }
    this.timings.gradients += performance.now() - started;
    return { ...result, gradients };
  }

  /**
   * One micro-batch of an optimiser step: forward, backward with the loss gradient `weight` (the
   * micro-batch's share of the step's target tokens), then the stage's optimiser work in the same
   * graph ("only"/"last" update the weights; call OptimizerState.setStep first). A micro-batch
   * without targets must not be passed (it would neither add gradients nor need a graph).
   */
  step(sequences: readonly PackedSequence[], stage: AccumulationStage, weight: number): MicroBatchResult {
    return this.compute(sequences, stage, weight).result;
  }

  /** Runs one micro-batch through the graph of `pass`; `built` is that graph (none without targets). */
  private compute(sequences: readonly PackedSequence[], pass: Pass, weight: number): { result: MicroBatchResult; built?: BuiltGraph } {
    const { tokens, rows, targets, segments } = this.layout(sequences);
    if (rows.length === 0) {
      if (pass !== "loss" && pass !== "gradients") throw new EngineError("an optimiser step's micro-batch has no target tokens");
      return { result: { meanLoss: 0, targetCount: 0 } };
    }
    let mark = performance.now();
    const lap = (phase: keyof LossGraph["timings"]) => {
      const now = performance.now();
      this.timings[phase] += now - mark;
      mark = now;
    };
    const built = this.prepare(rows.length, pass);
    lap("build");
    built.setInputs(tokens, segments);
    built.rows.write(rows);
    // One-hot labels: the host buffer is kept per graph and only the previous ones are cleared.
    const vocabulary = built.labels.shape[0];
    built.labelValues ??= new Float32Array(vocabulary * rows.length);
    if (built.labelTargets) for (let i = 0; i < built.labelTargets.length; i++) built.labelValues[i * vocabulary + built.labelTargets[i]!] = 0;
    for (let i = 0; i < targets.length; i++) built.labelValues[i * vocabulary + targets[i]!] = 1;
    built.labelTargets = targets;
    built.labels.write(built.labelValues);
    if (pass === "gradients") built.graph.resetGradients();
    else if (pass !== "loss") built.graph.seedLossGradient(built.loss, weight);
    lap("inputs");
    this.scheduler.compute(built.graph);
    lap("compute");
    const meanLoss = built.loss.readFloats()[0]!;
    const gradNorm = built.gradNorm?.readFloats()[0];
    return { result: { meanLoss, targetCount: rows.length, ...(gradNorm === undefined ? {} : { gradNorm }) }, built };
  }

  private release(): void {
    if (!this.built) return;
    // the scheduler may hold this graph's allocation
    if (this.scheduler.holds(this.built.graph)) this.scheduler.reset();
    this.built.context.dispose();
    this.built = undefined;
  }

  dispose(): void {
    this.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
