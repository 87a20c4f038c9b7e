/**
 * Agreement between two raters (two people, or a judge and a person): Cohen's kappa for nominal
 * labels (A / B / tie), weighted kappa for ordinal 1–5 scores, and Spearman's rank correlation.
 */
import { InputError } from "../../shared/errors.js";

function checkPaired(first: readonly unknown[], second: readonly unknown[], what: string): void {
  if (first.length !== second.length)
    throw new InputError(`${what} needs paired ratings: got ${first.length} and ${second.length} values.`);
  if (first.length === 0) throw new InputError(`${what} needs at least one pair of ratings, got none.`);
}

/** Cohen's kappa = (p_o - p_e) / (1 - p_e) over nominal labels; 1 when both raters use one same label. */
export function cohenKappa<T>(first: readonly T[], second: readonly T[]): number {
  checkPaired(first, second, "Cohen's kappa");
  const n = first.length;
  const labels = [...new Set([...first, ...second])];
  let observed = 0;
  for (let i = 0; i < n; i++) if (first[i] === second[i]) observed++;
  observed /= n;
  let expected = 0;
  for (const label of labels) {
    const p1 = first.filter((x) => x === label).length / n;
    const p2 = second.filter((x) => x === label).length / n;
    expected += p1 * p2;
  }
  if (expected === 1) return 1;
  return (observed - expected) / (1 - expected);
}

/**
 * Weighted kappa for ordinal categories 1..k (or any integer range): 1 - sum(w O) / sum(w E) with
 * disagreement weights w_ij = |i-j| (linear) or (i-j)^2 (quadratic), O the observed and E the
 * chance-expected joint distribution. Categories span min..max of the given range.
 */
export function weightedKappa(
  first: readonly number[],
  second: readonly number[],
  options: { weights?: "linear" | "quadratic"; min?: number; max?: number } = {},
): number {
  checkPaired(first, second, "Weighted kappa");
  const { weights = "quadratic" } = options;
  const min = options.min ?? Math.min(...first, ...second);
  const max = options.max ?? Math.max(...first, ...second);
  const k = max - min + 1;
  const n = first.length;
  const observed = Array.from({ length: k }, () => new Float64Array(k));
  const rowTotals = new Float64Array(k);
  const columnTotals = new Float64Array(k);
  for (let index = 0; index < n; index++) {
    const i = first[index]! - min;
    const j = second[index]! - min;
    if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= k || j >= k)
      throw new InputError(
        `Weighted kappa: rating pair #${index + 1} (${first[index]}, ${second[index]}) is not an integer in ${min}..${max}.`,
      );
    observed[i]![j]!++;
    rowTotals[i]!++;
    columnTotals[j]!++;
  }
  let weightedObserved = 0;
  let weightedExpected = 0;
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      const w = weights === "linear" ? Math.abs(i - j) : (i - j) ** 2;
      weightedObserved += (w * observed[i]![j]!) / n;
      weightedExpected += (w * rowTotals[i]! * columnTotals[j]!) / (n * n);
    }
  if (weightedExpected === 0) return 1;
  return 1 - weightedObserved / weightedExpected;
}

/** Ranks 1..n with ties given their average rank (the convention Spearman's rho needs). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((x, y) => x.value - y.value);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]!.value === order[start]!.value) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!.index] = rank;
    start = end + 1;
  }
  return ranks;
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y, "Pearson correlation");
  const n = x.length;
  const meanX = x.reduce((s, v) => s + v, 0) / n;
  const meanY = y.reduce((s, v) => s + v, 0) / n;
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let i = 0; i < n; i++) {
    covariance += (x[i]! - meanX) * (y[i]! - meanY);
    varianceX += (x[i]! - meanX) ** 2;
    varianceY += (y[i]! - meanY) ** 2;
  }
  // Undefined when one side is constant; NaN says so rather than pretending to a value.
  return covariance / Math.sqrt(varianceX * varianceY);
}

/** Spearman's rho: Pearson correlation of average ranks (correct with ties). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  checkPaired(x, y, "Spearman correlation");
  return pearson(averageRanks(x), averageRanks(y));
}
