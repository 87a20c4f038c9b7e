/**
 * The optimiser's part of a training graph, appended after the backward pass: gradient
 * accumulation over micro-batches, the global gradient norm, clipping, AdamW on every trainable
 * tensor in place (ggml_opt_step_adamw), and the refresh of the weights' transposed and bf16
 * working copies from the updated values. Everything runs where the weights live, on all threads.
 *
 * Stages of one optimiser step: "only" (one micro-batch), or "first", "middle"..., "last". The
 * micro-batch's weight (its share of the step's target tokens) is the loss gradient the backward
 * starts from (Graph.seedLossGradient), so the gradients arrive already weighted.
 */
import type { Context, Graph, Tensor } from "../engine/index.js";
import { EngineError } from "../shared/errors.js";
import type { OptimizerState } from "./optimizerState.js";
import type { TrainableParameter } from "./trainable.js";
import type { TransposedWeights } from "./transposedWeights.js";

export type AccumulationStage = "only" | "first" | "middle" | "last";

export interface OptimizerStepParts {
  parameters: readonly TrainableParameter[];
  state: OptimizerState;
  /** Copies of trained weights to rewrite after the update. */
  copies?: TransposedWeights;
}

/**
 * Adds the stage's nodes to `graph` (after expandBackward) and returns the global gradient norm
 * (before clipping) for "only" and "last", which update the weights; the other stages only accumulate.
 */
export function appendOptimizerStep(context: Context, graph: Graph, stage: AccumulationStage, parts: OptimizerStepParts): Tensor | undefined {
  const { parameters, state } = parts;
  // A tensor the loss does not reach has a zero gradient (it still decays, as in torch's AdamW).
  const gradientOf = (parameter: TrainableParameter) => graph.gradient(parameter.tensor) ?? context.scale(parameter.tensor, 0);
  const accumulatorOf = (parameter: TrainableParameter) => {
    const accumulator = state.accumulator(parameter.name);
    if (!accumulator) throw new EngineError(`stage ${stage} needs gradient accumulators (OptimizerState with accumulate)`);
    return accumulator;
  };

  if (stage === "first" || stage === "middle") {
    for (const parameter of parameters) {
      const accumulator = accumulatorOf(parameter);
      const gradient = gradientOf(parameter);
      graph.expand(context.copy(stage === "first" ? gradient : context.add(accumulator, gradient), accumulator));
    }
    return undefined;
  }

  const totals = parameters.map((parameter) => (stage === "last" ? context.add(accumulatorOf(parameter), gradientOf(parameter)) : gradientOf(parameter)));
  // ||g|| over all tensors together
  let squares: Tensor | undefined;
  for (const total of totals) {
    const sum = context.sum(context.sqr(total));
    squares = squares ? context.add(squares, sum) : sum;
  }
  const norm = context.sqrt(squares!).setName("grad_norm").markOutput();
  // min(1, limit / (norm + eps)): PyTorch's clip_grad_norm_ factor, 1 when the limit is infinite
  const factor = context.clamp(context.div(state.clipLimit, context.add(norm, state.clipEpsilon)), 0, 1);
  parameters.forEach((parameter, index) => {
    const { m, v } = state.moments(parameter.name);
    const hyper = parameter.decay ? state.hyperWithDecay : state.hyperWithoutDecay;
    const updated = context.adamwStep(parameter.tensor, context.mul(totals[index]!, factor), m, v, hyper);
    graph.expand(updated);
    for (const node of parts.copies?.refreshNodes(context, parameter.name, updated) ?? []) graph.expand(node);
  });
  // norm is in the graph already: the clip factor of every update depends on it
  return norm;
}
