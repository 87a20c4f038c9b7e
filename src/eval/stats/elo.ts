/**
 * Online Elo over a sequence of comparisons: expected score E_a = 1 / (1 + 10^((R_b - R_a) / 400)),
 * R_a += K (S_a - E_a) with S = 1, 0.5, 0. Elo depends on the order of the games, so the bootstrap
 * both resamples and shuffles; Bradley–Terry is the order-free ranking the report leads with.
 */
import type { PairwiseOutcome } from "./pairwise.js";
import { systemsIn } from "./pairwise.js";
import { intervalsByResampling, type BootstrapOptions, type RatingInterval } from "./bradleyTerry.js";

export interface EloOptions {
  /** Defaults to 32 (the textbook value for few games). */
  k?: number;
  /** Defaults to 1000. */
  initial?: number;
}

export function computeElo(outcomes: readonly PairwiseOutcome[], options: EloOptions = {}): Map<string, number> {
  const { k = 32, initial = 1000 } = options;
  const ratings = new Map<string, number>(systemsIn(outcomes).map((s) => [s, initial]));
  for (const { a, b, winner } of outcomes) {
    const ra = ratings.get(a)!;
    const rb = ratings.get(b)!;
    const expectedA = 1 / (1 + 10 ** ((rb - ra) / 400));
    const scoreA = winner === "a" ? 1 : winner === "b" ? 0 : 0.5;
    ratings.set(a, ra + k * (scoreA - expectedA));
    ratings.set(b, rb + k * (1 - scoreA - (1 - expectedA)));
  }
  return ratings;
}

export function eloWithIntervals(
  outcomes: readonly PairwiseOutcome[],
  options: EloOptions & BootstrapOptions = {},
): RatingInterval[] {
  const { samples = 1000, seed = 0 } = options;
  const ratings = computeElo(outcomes, options);
  const systems = [...ratings.keys()];
  return intervalsByResampling(
    systems,
    systems.map((s) => ratings.get(s)!),
    outcomes,
    samples,
    seed,
    (resample, random) => {
      // Fisher–Yates: a resample keeps the original order's bias otherwise.
      for (let i = resample.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [resample[i], resample[j]] = [resample[j]!, resample[i]!];
      }
      return computeElo(resample, options);
    },
  );
}
