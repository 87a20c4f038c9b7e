/**
 * Maximal marginal relevance (Carbonell & Goldstein 1998): pick, one at a time, the candidate with the
 * best λ·sim(query, d) − (1 − λ)·max sim(d, already picked), so near-duplicate passages (the same fact
 * in several notices) do not fill the top k. Vectors are unit length, so sim is a dot product.
 */
import { ConfigError } from "../shared/errors.js";

/** Positions of the chosen candidates, in the order chosen. */
export function selectByMmr(
  query: Float32Array,
  candidates: readonly Float32Array[],
  k: number,
  lambda: number,
): number[] {
  if (!(lambda >= 0 && lambda <= 1))
    throw new ConfigError(`MMR lambda must be in [0, 1], got ${lambda}`, { where: "retrieval.mmrLambda" });
  const relevance = candidates.map((vector) => dot(query, vector));
  const redundancy = candidates.map(() => -Infinity);
  const chosen: number[] = [];
  const left = new Set(candidates.keys());
  while (chosen.length < k && left.size > 0) {
    let best = -1;
    let bestScore = -Infinity;
    for (const position of left) {
      const penalty = chosen.length === 0 ? 0 : redundancy[position]!;
      const score = lambda * relevance[position]! - (1 - lambda) * penalty;
      if (score > bestScore) [best, bestScore] = [position, score];
    }
    chosen.push(best);
    left.delete(best);
    for (const position of left)
      redundancy[position] = Math.max(redundancy[position]!, dot(candidates[position]!, candidates[best]!));
  }
  return chosen;
}

function dot(left: Float32Array, right: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += left[index]! * right[index]!;
  return sum;
}
