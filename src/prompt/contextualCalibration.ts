/**
 * Contextual calibration (Zhao et al. 2021, "Calibrate Before Use"): a prompt makes a model favour some
 * answers whatever the question. Ask the same prompt with content-free inputs ("N/A", "", "[MASK]") in
 * place of the question, average the option probabilities they get — the prompt's bias p_cf — and
 * divide every real prediction's option probabilities by it (W = diag(p_cf)^-1, b = 0), renormalised.
 */

/** The content-free inputs of the paper. */
export const CONTENT_FREE_INPUTS = ["N/A", "", "[MASK]"] as const;

/** Option probabilities from summed log-likelihoods (softmax, shifted by the maximum for stability). */
export function optionProbabilities(logprobs: readonly number[]): number[] {
  const top = Math.max(...logprobs);
  const weights = logprobs.map((logprob) => Math.exp(logprob - top));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

/** p_cf: the mean of the content-free inputs' option probabilities, renormalised. */
export function estimateOptionBias(contentFreeLogprobs: readonly (readonly number[])[]): number[] {
  if (contentFreeLogprobs.length === 0) throw new RangeError("need the option scores of at least one content-free input");
  const width = contentFreeLogprobs[0]!.length;
  const mean = new Array<number>(width).fill(0);
  for (const logprobs of contentFreeLogprobs) {
    if (logprobs.length !== width) throw new RangeError(`content-free inputs scored ${logprobs.length} and ${width} options`);
    optionProbabilities(logprobs).forEach((probability, i) => (mean[i]! += probability / contentFreeLogprobs.length));
  }
  const total = mean.reduce((sum, value) => sum + value, 0);
  return mean.map((value) => value / total);
}

/** Calibrated option probabilities: p / p_cf, renormalised. */
export function calibrate(logprobs: readonly number[], bias: readonly number[]): number[] {
  if (logprobs.length !== bias.length) throw new RangeError(`${logprobs.length} options scored, bias has ${bias.length}`);
  const scaled = optionProbabilities(logprobs).map((probability, i) => probability / Math.max(bias[i]!, Number.MIN_VALUE));
  const total = scaled.reduce((sum, value) => sum + value, 0);
  return scaled.map((value) => value / total);
}
