/**
 * Sentence embeddings on the engine: one allocated graph (forward without the LM head, then
 * poolEmbeddings) for batches of C sequences padded to T tokens. Padding goes after the real tokens,
 * so the causal mask keeps it from touching them, and pooling gives it no weight: a sequence embeds
 * the same alone or padded in a batch (up to summation order).
 */
import { Context, Graph } from "../engine/index.js";
import { EngineError } from "../shared/errors.js";
import { createScheduler } from "./evaluate.js";
import { buildForward, type ForwardGraph } from "./forward.js";
import type { LlamaModel } from "./loadModel.js";
import type { LoraWeights } from "./lora.js";
import { poolEmbeddings, type Pooling, type PoolingGraph } from "./poolEmbeddings.js";
import type { Backend, Scheduler } from "../engine/index.js";

export interface EmbeddingEvaluatorOptions {
  /** C: sequences per call. */
  batch: number;
  /** T: tokens per sequence (padded). */
  length: number;
  pooling: Pooling;
  lora?: LoraWeights;
}

export class EmbeddingEvaluator implements Disposable {
  private readonly context: Context;
  private readonly graph: Graph;
  private readonly forward: ForwardGraph;
  private readonly pooled: PoolingGraph;
  private readonly scheduler: Scheduler;
  private readonly extraBackends: Backend[];

  constructor(
    readonly model: LlamaModel,
    readonly options: EmbeddingEvaluatorOptions,
  ) {
    const { batch: C, length: T } = options;
    if (!Number.isInteger(C) || C < 1 || !Number.isInteger(T) || T < 1) throw new EngineError(`batch and length must be positive integers, got ${C} x ${T}`);
    const graphSize = 256 + 128 * model.hparams.blockCount;
    this.context = new Context({ maxTensors: graphSize, graphBytes: Graph.bytesFor(graphSize) });
    try {
      this.forward = buildForward(this.context, model, { batch: C, length: T, logits: false, ...(options.lora ? { lora: options.lora } : {}) });
      this.pooled = poolEmbeddings(this.context, this.forward.hidden, options.pooling, C, T);
      this.pooled.embeddings.setName("embeddings").markOutput();
      this.graph = new Graph(this.context, { size: graphSize }).expand(this.pooled.embeddings);
      const { scheduler, extra } = createScheduler(model.backend, graphSize * 2);
      this.scheduler = scheduler;
      this.extraBackends = extra;
      this.scheduler.allocate(this.graph);
    } catch (error) {
      this.context.dispose();
      throw error;
    }
  }

  /** Unit-length embeddings of up to C token sequences (each 1..T tokens). */
  embed(sequences: readonly (readonly number[])[]): Float32Array[] {
    const { batch: C, length: T } = this.options;
    if (sequences.length < 1 || sequences.length > C) throw new EngineError(`this evaluator embeds 1..${C} sequences per call, got ${sequences.length}`);
    const tokens = new Int32Array(C * T);
    const lengths: number[] = [];
    for (let c = 0; c < C; c++) {
      // unused slots repeat the first sequence; their embeddings are dropped
      const sequence = sequences[c] ?? sequences[0]!;
      if (sequence.length < 1 || sequence.length > T) throw new EngineError(`a sequence to embed holds ${sequence.length} tokens; this evaluator takes 1..${T}`);
      tokens.set(sequence, c * T);
      lengths.push(sequence.length);
    }
    // every input is written before each compute: the allocator may reuse input memory after a run
    this.forward.writeInputs(tokens);
    this.pooled.writeInputs(lengths);
    this.scheduler.compute(this.graph);
    const values = this.pooled.embeddings.readFloats();
    const E = this.model.hparams.embeddingLength;
    return sequences.map((_, c) => values.slice(c * E, (c + 1) * E));
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
