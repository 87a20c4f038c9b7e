/**
 * How small a difference a paired comparison of 0/1 outcomes can resolve: two systems scored on the same
 * items (route vs base on the domain MCQ set). Method: the normal approximation to McNemar's test, i.e. to
 * the mean of the paired differences d_i = a_i - b_i in {-1, 0, 1}. With no true difference Var(d) equals
 * the share of discordant items p (one system right, the other wrong), so a two-sided test at level alpha
 * detects a true difference delta with probability `power` once
 *   delta >= (z_{1-alpha/2} + z_{power}) * sqrt(p / n).
 * That delta is the minimum detectable difference (MDD). It shrinks with more items and with systems
 * that disagree on fewer items; the paired bootstrap interval of the lab has the same width to first order.
 */

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(probability: number): number {
  if (!(probability > 0 && probability < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${probability}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const tail = (q: number) => (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (probability < low) return tail(Math.sqrt(-2 * Math.log(probability)));
  if (probability > 1 - low) return -tail(Math.sqrt(-2 * Math.log(1 - probability)));
  const q = probability - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

export interface PowerOptions {
  /** Two-sided test level. Defaults to 0.05. */
  alpha?: number;
  /** Probability of detecting the difference. Defaults to 0.8. */
  power?: number;
}

/** MDD (accuracy units: 0.1 = 10 points) of a paired test on `n` items whose discordant share is `discordantRate`. */
export function pairedMinimumDetectableDifference(n: number, discordantRate: number, options: PowerOptions = {}): number {
  if (!(n > 0)) return Number.NaN;
  const z = normalQuantile(1 - (options.alpha ?? 0.05) / 2) + normalQuantile(options.power ?? 0.8);
  return z * Math.sqrt(discordantRate / n);
}

/** Items a paired test needs to detect `difference` when a share `discordantRate` of them is discordant. */
export function pairedItemsNeeded(difference: number, discordantRate: number, options: PowerOptions = {}): number {
  const z = normalQuantile(1 - (options.alpha ?? 0.05) / 2) + normalQuantile(options.power ?? 0.8);
  return Math.ceil((z * z * discordantRate) / (difference * difference));
}

/** Share of items on which exactly one of two systems is right (a[i], b[i]: the same item's 0/1 outcomes). */
export function discordantRate(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  if (a.length === 0) return Number.NaN;
  let discordant = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) discordant++;
  return discordant / a.length;
}
