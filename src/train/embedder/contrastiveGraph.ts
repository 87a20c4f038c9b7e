/**
 * The bi-encoder's loss (and gradients) on the backend: InfoNCE with in-batch negatives (van den Oord
 * et al. 2018; as sentence-transformers' MultipleNegativesRankingLoss and E5 use it). B queries and
 * P = B * (1 + K) passages (each query's positive, then K hard negatives per query) go through the
 * same model, are pooled (mean or last token over the final-norm hidden states, poolEmbeddings) and
 * L2-normalised; query b scores every passage by cosine / temperature, and the loss is the mean
 * cross-entropy of picking its own positive (row b) among all P:
 *
 *   loss = -1/B * sum_b log softmax_p(q_b . p_p / tau)[b]
 *
 * Queries and passages run as two forwards of their own lengths in one graph (queries are short), so
 * one backward reaches the shared weights from both sides. The optimiser is the LM trainer's
 * (appendOptimizerStep): clipping, AdamW and the weights' update run in the same ggml compute.
 *
 * Dimension letters: E embedding length, B queries, P passages, Tq / Tp tokens per query / passage.
 */
import { Context, Graph, GgmlType, type Scheduler, type Tensor } from "../../engine/index.js";
import { buildForward, type ForwardGraph } from "../../model/forward.js";
import type { LlamaModel } from "../../model/loadModel.js";
import { poolEmbeddings, type Pooling, type PoolingGraph } from "../../model/poolEmbeddings.js";
import { EngineError } from "../../shared/errors.js";
import { appendOptimizerStep } from "../optimizerStep.js";
import type { OptimizerState } from "../optimizerState.js";
import type { TrainableSet } from "../trainable.js";

/** Token sequences padded to one length: `tokens` holds count * length ids, `lengths` the real ones. */
export interface PaddedSequences {
  tokens: Int32Array;
  lengths: number[];
}

export interface ContrastiveBatch {
  queries: PaddedSequences;
  /** B positives (passage b belongs to query b), then the hard negatives. */
  passages: PaddedSequences;
}

export interface ContrastiveGraphOptions {
  /** B: queries per batch. */
  queries: number;
  /** P: passages per batch (B positives + hard negatives). */
  passages: number;
  queryLength: number;
  passageLength: number;
  pooling: Pooling;
  /** tau: the softmax temperature over cosine similarities. */
  temperature: number;
  /** AdamW state for step(). */
  optimizer?: OptimizerState;
}

export interface ContrastiveResult {
  loss: number;
  /** Gradient norm before clipping (step only). */
  gradNorm?: number;
  gradients?: Map<string, Float32Array>;
}

type Pass = "loss" | "gradients" | "step";

interface Built {
  pass: Pass;
  context: Context;
  graph: Graph;
  queryForward: ForwardGraph;
  passageForward: ForwardGraph;
  queryPooling: PoolingGraph;
  passagePooling: PoolingGraph;
  labels: Tensor;
  loss: Tensor;
  gradNorm: Tensor | undefined;
}

export class ContrastiveGraph implements Disposable {
  private built: Built | undefined;

  constructor(
    private readonly model: LlamaModel,
    private readonly trainable: TrainableSet,
    private readonly scheduler: Scheduler,
    private readonly options: ContrastiveGraphOptions,
  ) {
    const { queries, passages, temperature } = options;
    if (!(passages >= queries && queries >= 1)) throw new EngineError(`a contrastive batch needs P >= B >= 1 passages and queries, got ${passages} and ${queries}`);
    if (!(temperature > 0)) throw new EngineError(`temperature must be > 0, got ${temperature}`);
    if (trainable.softPrompt) throw new EngineError("the bi-encoder trains LoRA or full weights, not a soft prompt");
  }

  private prepare(pass: Pass): Built {
    if (this.built?.pass !== pass || !this.scheduler.holds(this.built.graph)) {
      this.release();
      this.built = this.build(pass);
      this.scheduler.allocate(this.built.graph);
    }
    return this.built;
  }

  private build(pass: Pass): Built {
    const backward = pass !== "loss";
    const { queries: B, passages: P, queryLength, passageLength, pooling, temperature } = this.options;
    // two forwards: twice the LM graph's nodes
    const size = 2 * (16384 + 64 * this.model.hparams.blockCount * (backward ? 8 : 2));
    const context = new Context({ maxTensors: size * 2, graphBytes: Graph.bytesFor(size, backward) });
    try {
      const lora = this.trainable.lora.size > 0 ? this.trainable.lora : undefined;
      const encode = (count: number, length: number) => {
        const forward = buildForward(context, this.model, { batch: count, length, logits: false, ...(lora ? { lora } : {}) });
        return { forward, pooled: poolEmbeddings(context, forward.hidden, pooling, count, length) };
      };
      const query = encode(B, queryLength);
      const passage = encode(P, passageLength);
      // [P, B]: cosine of every passage with every query, over the temperature
      const logits = context.scale(context.mulMat(passage.pooled.embeddings, query.pooled.embeddings), 1 / temperature);
      // [P, B]: query b's positive is passage b
      const labels = context.tensor(GgmlType.F32, [P, B], "contrastive_labels").markInput();
      const loss = context.crossEntropyLoss(logits, labels).setName("contrastive_loss").markOutput();
      const graph = new Graph(context, { size, gradients: backward });
      if (backward) loss.markLoss();
      graph.expand(loss);
      if (backward) graph.expandBackward();
      let gradNorm: Tensor | undefined;
      if (pass === "step") {
        if (!this.options.optimizer) throw new EngineError("ContrastiveGraph.step needs the optimizer option");
        gradNorm = appendOptimizerStep(context, graph, "only", { parameters: this.trainable.parameters, state: this.options.optimizer });
      }
      return {
        pass,
        context,
        graph,
        queryForward: query.forward,
        passageForward: passage.forward,
        queryPooling: query.pooled,
        passagePooling: passage.pooled,
        labels,
        loss,
        gradNorm,
      };
    } catch (error) {
      context.dispose();
      throw error;
    }
  }

  private compute(batch: ContrastiveBatch, pass: Pass): Built {
    const { queries: B, passages: P, queryLength, passageLength } = this.options;
    if (batch.queries.lengths.length !== B || batch.passages.lengths.length !== P)
      throw new EngineError(`the graph takes ${B} queries and ${P} passages, got ${batch.queries.lengths.length} and ${batch.passages.lengths.length}`);
    if (batch.queries.tokens.length !== B * queryLength || batch.passages.tokens.length !== P * passageLength)
      throw new EngineError(`padded token arrays must hold ${B} x ${queryLength} and ${P} x ${passageLength} ids`);
    const built = this.prepare(pass);
    built.queryForward.writeInputs(batch.queries.tokens);
    built.passageForward.writeInputs(batch.passages.tokens);
    built.queryPooling.writeInputs(batch.queries.lengths);
    built.passagePooling.writeInputs(batch.passages.lengths);
    const labels = new Float32Array(P * B);
    for (let b = 0; b < B; b++) labels[b * P + b] = 1;
    built.labels.write(labels);
    if (pass === "gradients") built.graph.resetGradients();
    else if (pass === "step") built.graph.seedLossGradient(built.loss, 1);
    this.scheduler.compute(built.graph);
    return built;
  }

  /** The loss, and with `backward` the gradients of every trainable tensor (read back to the host). */
  run(batch: ContrastiveBatch, backward: boolean): ContrastiveResult {
    const built = this.compute(batch, backward ? "gradients" : "loss");
    const loss = built.loss.readFloats()[0]!;
    if (!backward) return { loss };
    const gradients = new Map<string, Float32Array>();
    for (const parameter of this.trainable.parameters) {
      const gradient = built.graph.gradient(parameter.tensor);
      gradients.set(parameter.name, gradient ? gradient.readFloats() : new Float32Array(parameter.tensor.elements));
    }
    return { loss, gradients };
  }

  /** One optimiser step (call OptimizerState.setStep first): forward, backward, clip and AdamW in one compute. */
  step(batch: ContrastiveBatch): ContrastiveResult {
    const built = this.compute(batch, "step");
    return { loss: built.loss.readFloats()[0]!, gradNorm: built.gradNorm!.readFloats()[0]! };
  }

  private release(): void {
    if (!this.built) return;
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
