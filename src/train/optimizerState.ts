/**
 * AdamW's state on the backend, beside the weights it updates: the moments m and v of every
 * trainable tensor, gradient accumulators when a step spans several micro-batches, and the step's
 * hyper-parameters as small input tensors (rewritten every step, so one graph serves a whole run).
 * The update runs inside the training graph (appendOptimizerStep): weights, gradients and moments
 * never cross to the host during training, which keeps the CPU's cores on ggml work and a GPU's
 * tensors on the GPU. Checkpoints read the moments back; resuming writes them.
 */
import { Context, GgmlType, type Backend, type BackendBuffer, type Tensor } from "../engine/index.js";
import { EngineError } from "../shared/errors.js";
import type { TrainableParameter } from "./trainable.js";

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamWMoments {
  m: Float32Array;
  v: Float32Array;
}

/** The constant the clip factor's denominator adds to the norm (as PyTorch's clip_grad_norm_). */
export const CLIP_EPSILON = 1e-6;

export class OptimizerState implements Disposable {
  private readonly context: Context;
  private readonly buffer: BackendBuffer;
  private readonly momentsByName = new Map<string, { m: Tensor; v: Tensor }>();
  private readonly accumulatorsByName = new Map<string, Tensor>();
  /** F32 [7] in ggml_opt_step_adamw's order, for tensors with weight decay and without. */
  readonly hyperWithDecay: Tensor;
  readonly hyperWithoutDecay: Tensor;
  /** F32 [1] each: the clipping norm and CLIP_EPSILON. */
  readonly clipLimit: Tensor;
  readonly clipEpsilon: Tensor;

  /** `accumulate`: keep a gradient accumulator per tensor (steps of several micro-batches). */
  constructor(backend: Backend, parameters: readonly TrainableParameter[], options: { accumulate: boolean }) {
    this.context = new Context({ maxTensors: parameters.length * 3 + 4 });
    for (const { name, tensor } of parameters) {
      const shape = [...tensor.shape] as [number, number, number, number];
      const tag = name.slice(0, 56);
      this.momentsByName.set(name, {
        m: this.context.tensor(GgmlType.F32, shape, `${tag}.adam_m`),
        v: this.context.tensor(GgmlType.F32, shape, `${tag}.adam_v`),
      });
      if (options.accumulate) this.accumulatorsByName.set(name, this.context.tensor(GgmlType.F32, shape, `${tag}.grad_acc`));
    }
    this.hyperWithDecay = this.context.tensor(GgmlType.F32, [7], "adamw_decay");
    this.hyperWithoutDecay = this.context.tensor(GgmlType.F32, [7], "adamw_no_decay");
    this.clipLimit = this.context.tensor(GgmlType.F32, [1], "clip_limit");
    this.clipEpsilon = this.context.tensor(GgmlType.F32, [1], "clip_epsilon");
    this.buffer = backend.allocate(this.context);
    this.buffer.clear(0);
    this.clipEpsilon.write(Float32Array.of(CLIP_EPSILON));
  }

  moments(name: string): { m: Tensor; v: Tensor } {
    const moments = this.momentsByName.get(name);
    if (!moments) throw new EngineError(`no optimiser state for ${name}`);
    return moments;
  }

  accumulator(name: string): Tensor | undefined {
    return this.accumulatorsByName.get(name);
  }

  /**
   * The hyper-parameters of AdamW step `step` (counted from 1) at learning rate `options.lr`, as
   * torch.optim.AdamW: decoupled weight decay, bias corrections 1 - beta^step; `gradClip` 0 disables
   * clipping (the factor is then exactly 1).
   */
  setStep(step: number, options: AdamWOptions, gradClip: number): void {
    const { lr, beta1, beta2, eps, weightDecay } = options;
    const corrections = [1 / (1 - Math.pow(beta1, step)), 1 / (1 - Math.pow(beta2, step))];
    this.hyperWithDecay.write(Float32Array.of(lr, beta1, beta2, eps, weightDecay, ...corrections));
    this.hyperWithoutDecay.write(Float32Array.of(lr, beta1, beta2, eps, 0, ...corrections));
    // An infinite limit makes the clip factor min(1, inf / (norm + eps)) = 1 exactly.
    this.clipLimit.write(Float32Array.of(gradClip > 0 ? gradClip : Number.POSITIVE_INFINITY));
  }

  read(name: string): AdamWMoments {
    const { m, v } = this.moments(name);
    return { m: m.readFloats().slice(), v: v.readFloats().slice() };
  }

  write(name: string, moments: AdamWMoments): void {
    const target = this.moments(name);
    target.m.write(moments.m);
    target.v.write(moments.v);
  }

  dispose(): void {
    this.buffer.dispose();
    this.context.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
