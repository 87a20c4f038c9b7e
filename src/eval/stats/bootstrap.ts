/**
 * Percentile bootstrap intervals for accuracies (mean of 0/1 outcomes) and for paired differences
 * between two systems on the same items (forgetting). Seeded, so the same results file always gives
 * the same interval in every report.
 */
import { seededRandom } from "../../shared/seededRandom.js";
import { quantileSorted } from "./quantile.js";

export interface Estimate {
  /** The statistic on the full sample (NaN when the sample is empty). */
  value: number;
  /** Lower and upper bound of the 95% (or `level`) percentile bootstrap interval. */
  ci95: [number, number];
}

export interface BootstrapOptions {
  /** Number of resamples. Defaults to 2000. */
  resamples?: number;
  /** Seed of the resampling generator. Defaults to 20251125. */
  seed?: number;
  /** Coverage of the interval. Defaults to 0.95. */
  level?: number;
}

const DEFAULT_RESAMPLES = 2000;
const DEFAULT_SEED = 20251125;

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function percentileInterval(statistics: number[], level: number): [number, number] {
  statistics.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return [quantileSorted(statistics, tail), quantileSorted(statistics, 1 - tail)];
}

/** Mean of `values` with a percentile bootstrap interval (resampling items with replacement). */
export function bootstrapMeanCi(values: readonly number[], options: BootstrapOptions = {}): Estimate {
  const n = values.length;
  if (n === 0) return { value: Number.NaN, ci95: [Number.NaN, Number.NaN] };
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const random = seededRandom(options.seed ?? DEFAULT_SEED);
  const statistics = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[Math.floor(random() * n)]!;
    statistics[r] = sum / n;
  }
  return { value: mean(values), ci95: percentileInterval(statistics, options.level ?? 0.95) };
}

/**
 * mean(a) - mean(b) over paired observations (a[i] and b[i] are the same item scored by two systems),
 * with a paired bootstrap interval: each resample draws items, keeping both systems' outcomes together.
 */
export function bootstrapPairedDeltaCi(
  a: readonly number[],
  b: readonly number[],
  options: BootstrapOptions = {},
): Estimate {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} vs ${b.length}`);
  const differences = a.map((value, i) => value - b[i]!);
  return bootstrapMeanCi(differences, options);
}
