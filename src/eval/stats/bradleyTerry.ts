/**
 * Bradley–Terry strengths from pairwise outcomes, fitted with Hunter's (2004) MM algorithm:
 *   p_i <- W_i / sum_{j != i} n_ij / (p_i + p_j),  then normalise so the geometric mean is 1.
 * W_i counts a tie as half a win for each side (the usual convention, also Chatbot Arena's).
 * Ratings are reported on the Elo-like scale 400 * log10(p_i) + 1000 so they read like Elo.
 */
import { InputError } from "../../shared/errors.js";
import { systemsIn, type PairwiseOutcome } from "./pairwise.js";
import { seededRandom } from "../../shared/seededRandom.js";
import { quantileSorted } from "./quantile.js";

export interface BradleyTerryOptions {
  /**
   * Pseudo-comparisons added as ties between every pair that was compared, so a system that never
   * won keeps a finite strength. Defaults to 0.5 (half a tie per pair); 0 gives the plain MLE.
   */
  prior?: number;
  /** Defaults to 10000. */
  maxIterations?: number;
  /** Stop when no log-strength moves more than this. Defaults to 1e-10. */
  tolerance?: number;
}

export interface BradleyTerryFit {
  systems: string[];
  /** Strengths p_i, geometric mean 1; P(i beats j) = p_i / (p_i + p_j). */
  strengths: number[];
  /** 400 * log10(p_i) + 1000. */
  ratings: number[];
  iterations: number;
}

export function fitBradleyTerry(
  outcomes: readonly PairwiseOutcome[],
  options: BradleyTerryOptions = {},
): BradleyTerryFit {
  const { prior = 0.5, maxIterations = 10_000, tolerance = 1e-10 } = options;
  const systems = systemsIn(outcomes);
  const index = new Map(systems.map((s, i) => [s, i]));
  const n = systems.length;
  if (n === 0) throw new InputError("Bradley–Terry needs at least one comparison, got none.");
  // games[i][j] = comparisons between i and j; wins[i] = W_i.
  const games = Array.from({ length: n }, () => new Float64Array(n));
  const wins = new Float64Array(n);
  for (const { a, b, winner } of outcomes) {
    if (a === b) throw new InputError(`A comparison of "${a}" with itself cannot rank anything.`);
    const i = index.get(a)!;
    const j = index.get(b)!;
    games[i]![j]!++;
    games[j]![i]!++;
    if (winner === "a") wins[i]!++;
    else if (winner === "b") wins[j]!++;
    else {
      wins[i]! += 0.5;
      wins[j]! += 0.5;
    }
  }
  if (prior > 0) {
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (i !== j && games[i]![j]! > 0) {
          games[i]![j]! += prior;
          wins[i]! += prior / 2;
        }
  }
  for (let i = 0; i < n; i++)
    if (wins[i] === 0)
      throw new InputError(
        `System "${systems[i]}" never won or tied, so its Bradley–Terry strength is 0 (the MLE does not exist).`,
        {
          hint: "Use a prior > 0 (the default) to rank it anyway.",
        },
      );
  let strengths = new Float64Array(n).fill(1);
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let denominator = 0;
      for (let j = 0; j < n; j++)
        if (j !== i && games[i]![j]! > 0) denominator += games[i]![j]! / (strengths[i]! + strengths[j]!);
      next[i] = denominator === 0 ? strengths[i]! : wins[i]! / denominator;
    }
    let logMean = 0;
    for (let i = 0; i < n; i++) logMean += Math.log(next[i]!) / n;
    const scale = Math.exp(logMean);
    let largestStep = 0;
    for (let i = 0; i < n; i++) {
      next[i]! /= scale;
      largestStep = Math.max(largestStep, Math.abs(Math.log(next[i]!) - Math.log(strengths[i]!)));
    }
    strengths = next;
    if (largestStep < tolerance) {
      iterations++;
      break;
    }
  }
  const values = [...strengths];
  return { systems, strengths: values, ratings: values.map((p) => 400 * Math.log10(p) + 1000), iterations };
}

export interface RatingInterval {
  system: string;
  rating: number;
  /** Percentile bootstrap 95% interval of the rating. */
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Resamples. Defaults to 1000. */
  samples?: number;
  /** Defaults to 0. */
  seed?: number;
}

/**
 * Bradley–Terry ratings with percentile bootstrap intervals: the comparisons are resampled with
 * replacement and refitted. A system absent from a resample does not contribute to that replicate.
 */
export function bradleyTerryWithIntervals(
  outcomes: readonly PairwiseOutcome[],
  options: BradleyTerryOptions & BootstrapOptions = {},
): RatingInterval[] {
  const { samples = 1000, seed = 0 } = options;
  const fit = fitBradleyTerry(outcomes, options);
  return intervalsByResampling(fit.systems, fit.ratings, outcomes, samples, seed, (resample) => {
    const refit = fitBradleyTerry(resample, { ...options, maxIterations: 2000, tolerance: 1e-8 });
    return new Map(refit.systems.map((s, i) => [s, refit.ratings[i]!]));
  });
}

/** Shared by Bradley–Terry and Elo: resample outcomes, recompute, take the 2.5 % and 97.5 % quantiles. */
export function intervalsByResampling(
  systems: string[],
  ratings: number[],
  outcomes: readonly PairwiseOutcome[],
  samples: number,
  seed: number,
  rate: (resample: PairwiseOutcome[], random: () => number) => Map<string, number>,
): RatingInterval[] {
  const random = seededRandom(seed);
  const replicates = new Map<string, number[]>(systems.map((s) => [s, []]));
  for (let sample = 0; sample < samples; sample++) {
    const resample: PairwiseOutcome[] = [];
    for (let k = 0; k < outcomes.length; k++) resample.push(outcomes[Math.floor(random() * outcomes.length)]!);
    for (const [system, rating] of rate(resample, random)) replicates.get(system)?.push(rating);
  }
  return systems.map((system, i) => {
    const sorted = replicates.get(system)!.sort((x, y) => x - y);
    return { system, rating: ratings[i]!, low: quantileSorted(sorted, 0.025), high: quantileSorted(sorted, 0.975) };
  });
}
