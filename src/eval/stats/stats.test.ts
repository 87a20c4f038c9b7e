import { describe, expect, it } from "vitest";
import { bradleyTerryWithIntervals, fitBradleyTerry } from "./bradleyTerry.js";
import { computeElo, eloWithIntervals } from "./elo.js";
import { averageRanks, cohenKappa, spearman, weightedKappa } from "./agreement.js";
import { winRecords, type PairwiseOutcome } from "./pairwise.js";

const repeat = (count: number, outcome: PairwiseOutcome) => Array.from({ length: count }, () => outcome);

describe("Bradley–Terry (MM)", () => {
  it("two systems: A beats B 3 of 4 times gives p_A / p_B = 3 exactly (plain MLE)", () => {
    const outcomes = [...repeat(3, { a: "A", b: "B", winner: "a" }), { a: "A", b: "B", winner: "b" } as const];
    const fit = fitBradleyTerry(outcomes, { prior: 0 });
    expect(fit.strengths[0]! / fit.strengths[1]!).toBeCloseTo(3, 9);
    // Geometric mean 1: p_A = sqrt(3); rating = 1000 + 400 log10(sqrt 3) = 1095.42.
    expect(fit.strengths[0]).toBeCloseTo(Math.sqrt(3), 9);
    expect(fit.ratings[0]).toBeCloseTo(1095.424, 3);
    expect(fit.ratings[1]).toBeCloseTo(904.576, 3);
  });

  it("three systems: the fit satisfies the likelihood equations W_i = sum_j n_ij p_i / (p_i + p_j)", () => {
    const outcomes: PairwiseOutcome[] = [
      ...repeat(5, { a: "A", b: "B", winner: "a" }),
      ...repeat(2, { a: "A", b: "B", winner: "b" }),
      ...repeat(3, { a: "B", b: "C", winner: "a" }),
      ...repeat(3, { a: "B", b: "C", winner: "b" }),
      ...repeat(4, { a: "C", b: "A", winner: "b" }),
      ...repeat(2, { a: "C", b: "A", winner: "tie" }),
    ];
    const fit = fitBradleyTerry(outcomes, { prior: 0 });
    const p = Object.fromEntries(fit.systems.map((s, i) => [s, fit.strengths[i]!]));
    const expectedWins = (i: string, j: string, n: number) => (n * p[i]!) / (p[i]! + p[j]!);
    // A: 5 wins vs B, 4 + 1 (ties as halves) vs C.
    expect(expectedWins("A", "B", 7) + expectedWins("A", "C", 6)).toBeCloseTo(10, 8);
    expect(expectedWins("B", "A", 7) + expectedWins("B", "C", 6)).toBeCloseTo(5, 8);
    expect(expectedWins("C", "A", 6) + expectedWins("C", "B", 6)).toBeCloseTo(4, 8);
    expect(p.A! > p.B! && p.B! > p.C!).toBe(true);
  });

  it("a system that never won has no MLE without a prior, and a finite low rating with one", () => {
    const outcomes = repeat(4, { a: "A", b: "B", winner: "a" });
    expect(() => fitBradleyTerry(outcomes, { prior: 0 })).toThrow(/never won/);
    const fit = fitBradleyTerry(outcomes);
    // prior 0.5 adds a quarter win each: p_A / p_B = 4.25 / 0.25 = 17.
    expect(fit.strengths[0]! / fit.strengths[1]!).toBeCloseTo(17, 8);
  });

  it("bootstrap intervals contain the point estimate, are repeatable per seed, and shrink with more data", () => {
    const few = [...repeat(6, { a: "A", b: "B", winner: "a" }), ...repeat(4, { a: "A", b: "B", winner: "b" })];
    const many = Array.from({ length: 10 }, () => few).flat();
    const small = bradleyTerryWithIntervals(few, { samples: 300, seed: 7 });
    const again = bradleyTerryWithIntervals(few, { samples: 300, seed: 7 });
    const large = bradleyTerryWithIntervals(many, { samples: 300, seed: 7 });
    expect(again).toEqual(small);
    for (const row of [...small, ...large]) expect(row.low <= row.rating && row.rating <= row.high).toBe(true);
    expect(large[0]!.high - large[0]!.low).toBeLessThan(small[0]!.high - small[0]!.low);
  });
});

describe("Elo", () => {
  it("follows the textbook update (K = 32, both start at 1000)", () => {
    const one = computeElo([{ a: "A", b: "B", winner: "a" }]);
    expect(one.get("A")).toBeCloseTo(1016, 9);
    expect(one.get("B")).toBeCloseTo(984, 9);
    // Then B wins: E_B = 1 / (1 + 10^(32/400)) = 0.45400, B += 32 * 0.54600 = 17.472.
    const two = computeElo([
      { a: "A", b: "B", winner: "a" },
      { a: "B", b: "A", winner: "a" },
    ]);
    expect(two.get("B")).toBeCloseTo(1001.472, 2);
    expect(two.get("A")).toBeCloseTo(998.528, 2);
  });

  it("a tie between equals changes nothing; intervals bracket the rating", () => {
    expect(computeElo([{ a: "A", b: "B", winner: "tie" }]).get("A")).toBe(1000);
    const outcomes = [...repeat(8, { a: "A", b: "B", winner: "a" }), ...repeat(2, { a: "A", b: "B", winner: "b" })];
    const rows = eloWithIntervals(outcomes, { samples: 200, seed: 1 });
    expect(rows.find((r) => r.system === "A")!.low).toBeGreaterThan(1000);
  });
});

describe("win records", () => {
  it("counts a tie as half a win", () => {
    const records = winRecords([
      { a: "A", b: "B", winner: "a" },
      { a: "A", b: "B", winner: "tie" },
    ]);
    expect(records).toEqual([
      { system: "A", wins: 1, losses: 0, ties: 1, winRate: 0.75 },
      { system: "B", wins: 0, losses: 1, ties: 1, winRate: 0.25 },
    ]);
  });
});

describe("agreement", () => {
  it("Cohen's kappa: Wikipedia's 50-item example (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no) is 0.4", () => {
    const first = [...Array(25).fill("yes"), ...Array(25).fill("no")];
    const second = [
      ...Array(20).fill("yes"),
      ...Array(5).fill("no"),
      ...Array(10).fill("yes"),
      ...Array(15).fill("no"),
    ];
    expect(cohenKappa(first, second)).toBeCloseTo(0.4, 12);
  });

  it("weighted kappa on 1..5 with one adjacent swap: linear 0.75, quadratic 0.9, unweighted 0.5 (worked by hand)", () => {
    // Observed: 3 agreements + (4,5) and (5,4). Uniform marginals: E_ij = 1/25.
    // Linear: sum w O = 2/5, sum w E = 40/25 -> 1 - 0.4/1.6 = 0.75. Quadratic: 0.4 / (100/25) -> 0.9.
    const first = [1, 2, 3, 4, 5];
    const second = [1, 2, 3, 5, 4];
    expect(weightedKappa(first, second, { weights: "linear" })).toBeCloseTo(0.75, 12);
    expect(weightedKappa(first, second, { weights: "quadratic" })).toBeCloseTo(0.9, 12);
    expect(cohenKappa(first, second)).toBeCloseTo(0.5, 12);
  });

  it("weighted kappa: a 3-category case worked by hand is 0.25; an out-of-range score names the pair", () => {
    expect(weightedKappa([1, 1, 2, 2, 3, 3], [1, 2, 2, 3, 3, 1], { weights: "linear" })).toBeCloseTo(0.25, 12);
    expect(() => weightedKappa([1, 6], [1, 2], { min: 1, max: 5 })).toThrow(/pair #2 \(6, 2\)/);
    expect(() => cohenKappa([1], [1, 2])).toThrow(/paired/);
  });

  it("Spearman: Wikipedia's IQ vs TV-hours example gives -29/165", () => {
    const iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110];
    const tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17];
    expect(spearman(iq, tv)).toBeCloseTo(-29 / 165, 12);
  });

  it("Spearman uses average ranks for ties", () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    // Ranks x = [1, 2.5, 2.5, 4], y = [1, 2, 3, 4]: cov = 4.5, var_x = 4.5, var_y = 5 -> 4.5 / sqrt(22.5).
    expect(spearman([10, 20, 20, 30], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(22.5), 12);
  });
});
