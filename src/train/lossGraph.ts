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
 * Graphs are rebuilt only when the number of target rows changes (every row of a CPT batch counts,
 * so CPT keeps one graph for the whole run).
 */
import { Context, Graph, GgmlType, type Scheduler, type Tensor } from "../engine/index.js";
import { buildForward } from "../model/forward.js";
import type { LlamaModel } from "../model/loadModel.js";
import { EngineError } from "../shared/errors.js";
import type { PackedSequence } from "./batches.js";
import type { TrainableSet } from "./trainable.js";
import type { TransposedWeights } from "./transposedWeights.js";

export interface MicroBatchResult {
  /** Mean cross-entropy over the target rows (nats). */
  meanLoss: number;
  /** Number of target rows. */
  targetCount: number;
  /** Gradients by parameter name (when backward was asked for). */
  gradients?: Map<string, Float32Array>;
}

interface BuiltGraph {
  context: Context;
  graph: Graph;
  rows: Tensor;
  labels: Tensor;
  loss: Tensor;
  setInputs: (tokens: Int32Array) => void;
  targetCount: number;
  backward: boolean;
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
}

export class LossGraph implements Disposable {
  private built: BuiltGraph | undefined;
  /** Input-gradient products of the last backward graph computed through transposed weights. */
  rewrittenProducts = 0;
  /** Other out_prod nodes of the last backward graph computed as mul_mat of transposed copies. */
  matMulProducts = 0;
  /** Forward products of the last graph computed through BF16 working copies (compute: bf16). */
  workingCopyProducts = 0;
  /** Milliseconds spent per phase since construction (for profiling). */
  readonly timings = { build: 0, allocate: 0, inputs: 0, compute: 0, gradients: 0 };
  private readonly promptLength: number;

  constructor(
    private readonly model: LlamaModel,
    private readonly trainable: TrainableSet,
    private readonly scheduler: Scheduler,
    private readonly options: LossGraphOptions,
  ) {
    this.promptLength = trainable.softPrompt?.shape[1] ?? 0;
  }

  private build(targetCount: number, backward: boolean): BuiltGraph {
    if (this.built && this.built.targetCount === targetCount && this.built.backward === backward) return this.built;
    this.release();
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
      if (backward && this.options.matMulBackward) this.matMulProducts = graph.useMatMulForOutProducts();
      // Last: the backward was built against the f32 weights, so their gradients stay exact.
      if (this.options.transposedWeights) this.workingCopyProducts = graph.useWorkingCopies(this.options.transposedWeights.workingCopies);
      this.built = { context, graph, rows, labels, loss, setInputs: (tokens) => forward.writeInputs(tokens), targetCount, backward };
      return this.built;
    } catch (error) {
      context.dispose();
      throw error;
    }
  }

  /** Token ids [T*B], the gathered hidden-state rows and the target id of each row. */
  private layout(sequences: readonly PackedSequence[]): { tokens: Int32Array; rows: Int32Array; targets: Int32Array } {
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
    return { tokens, rows: Int32Array.from(rows), targets: Int32Array.from(targets) };
  }

  /** Number of target rows of a micro-batch (without running anything). */
  static countTargets(sequences: readonly PackedSequence[]): number {
    let count = 0;
    for (const sequence of sequences) for (let t = 0; t < sequence.lossMask.length; t++) count += sequence.lossMask[t]!;
    return count;
  }

  /** Runs forward (and backward) on one micro-batch. A batch without targets returns zero loss. */
  run(sequences: readonly PackedSequence[], backward: boolean): MicroBatchResult {
    const { tokens, rows, targets } = this.layout(sequences);
    if (rows.length === 0) return { meanLoss: 0, targetCount: 0, ...(backward ? { gradients: new Map() } : {}) };
    let mark = performance.now();
    const lap = (phase: keyof LossGraph["timings"]) => {
      const now = performance.now();
      this.timings[phase] += now - mark;
      mark = now;
    };
    const built = this.build(rows.length, backward);
    lap("build");
    this.scheduler.allocate(built.graph);
    lap("allocate");
    built.setInputs(tokens);
    built.rows.write(rows);
    // One-hot labels: the host buffer is kept per graph and only the previous ones are cleared.
    const vocabulary = built.labels.shape[0];
    built.labelValues ??= new Float32Array(vocabulary * rows.length);
    if (built.labelTargets) for (let i = 0; i < built.labelTargets.length; i++) built.labelValues[i * vocabulary + built.labelTargets[i]!] = 0;
    for (let i = 0; i < targets.length; i++) built.labelValues[i * vocabulary + targets[i]!] = 1;
    built.labelTargets = targets;
    built.labels.write(built.labelValues);
    if (backward) built.graph.resetGradients();
    lap("inputs");
    this.scheduler.compute(built.graph);
    lap("compute");
    const meanLoss = built.loss.readFloats()[0]!;
    if (!backward) return { meanLoss, targetCount: rows.length };
    const gradients = new Map<string, Float32Array>();
    for (const parameter of this.trainable.parameters) {
      const gradient = built.graph.gradient(parameter.tensor);
      gradients.set(parameter.name, gradient ? gradient.readFloats() : new Float32Array(parameter.tensor.elements));
    }
    lap("gradients");
    return { meanLoss, targetCount: rows.length, gradients };
  }

  private release(): void {
    if (!this.built) return;
    this.scheduler.reset();
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
