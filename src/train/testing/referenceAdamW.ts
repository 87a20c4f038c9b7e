/**
 * AdamW (decoupled weight decay, as PyTorch's torch.optim.AdamW) and global gradient-norm clipping
 * in plain TypeScript over f32 arrays (f64 arithmetic): the reference that training's in-graph
 * optimiser (optimizerStep.ts, ggml_opt_step_adamw) is tested against, itself checked against a
 * PyTorch step by hand.
 */
import type { AdamWMoments, AdamWOptions } from "../optimizerState.js";

export function createMoments(size: number): AdamWMoments {
  return { m: new Float32Array(size), v: new Float32Array(size) };
}

/** L2 norm of all gradients together (accumulated in f64). */
export function globalNorm(gradients: Iterable<Float32Array>): number {
  let sum = 0;
  for (const gradient of gradients) for (let i = 0; i < gradient.length; i++) sum += gradient[i]! * gradient[i]!;
  return Math.sqrt(sum);
}

/** Scales gradients in place so their global norm is at most `maxNorm` (0 disables); returns the factor. */
export function clipGradients(gradients: Float32Array[], norm: number, maxNorm: number): number {
  if (maxNorm <= 0 || norm <= maxNorm) return 1;
  const factor = maxNorm / (norm + 1e-6);
  for (const gradient of gradients) for (let i = 0; i < gradient.length; i++) gradient[i]! *= factor;
  return factor;
}

/**
 * One AdamW update of `parameter` in place. `step` counts from 1 (bias correction). `decay` false
 * skips weight decay (norm gains).
 */
export function adamwUpdate(
  parameter: Float32Array,
  gradient: Float32Array,
  moments: AdamWMoments,
  step: number,
  options: AdamWOptions,
  decay = true,
): void {
  const { lr, beta1, beta2, eps } = options;
  const weightDecay = decay ? options.weightDecay : 0;
  const correction1 = 1 - Math.pow(beta1, step);
  const correction2 = 1 - Math.pow(beta2, step);
  const stepSize = lr / correction1;
  const shrink = 1 - lr * weightDecay;
  const { m, v } = moments;
  for (let i = 0; i < parameter.length; i++) {
    const g = gradient[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    parameter[i] = parameter[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi / correction2) + eps);
  }
}
