/**
 * Learning-rate schedule: linear warmup from 0 to the peak over `warmupSteps`, then either constant
 * or a cosine decay to `minLrRatio * peak` at the last step. Steps are 0-based: step 0 is the first
 * optimiser update.
 */
export interface ScheduleOptions {
  kind: "cosine" | "constant";
  /** Peak learning rate. */
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Cosine floor as a fraction of the peak. */
  minLrRatio: number;
}

export function learningRateAt(step: number, options: ScheduleOptions): number {
  const { kind, peak, warmupSteps, totalSteps, minLrRatio } = options;
  // (step + 1) so that the first update already moves: lr = peak / warmup at step 0, peak at the end of warmup.
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  if (kind === "constant") return peak;
  const decaySteps = Math.max(1, totalSteps - warmupSteps - 1);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  const floor = peak * minLrRatio;
  return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
