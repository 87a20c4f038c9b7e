import { describe, expect, it } from "vitest";
import { ndcgAtK, recallAtK, reciprocalRank } from "./retrievalMetrics.js";

describe("retrieval metrics, against values computed by hand", () => {
  const relevant = new Set(["a", "c"]);
  // Ranks: x(1) a(2) a(again, ignored) y(3) c(4) z(5).
  const ranked = ["x", "a", "a", "y", "c", "z"];

  it("recall@k counts distinct relevant ids in the first k distinct ids", () => {
    expect(recallAtK(ranked, relevant, 1)).toBe(0);
    expect(recallAtK(ranked, relevant, 2)).toBe(0.5);
    expect(recallAtK(ranked, relevant, 3)).toBe(0.5);
    expect(recallAtK(ranked, relevant, 4)).toBe(1);
    expect(recallAtK(ranked, new Set(), 4)).toBe(0);
  });

  it("reciprocal rank is 1 / rank of the first relevant id", () => {
    expect(reciprocalRank(ranked, relevant)).toBe(0.5);
    expect(reciprocalRank(["c"], relevant)).toBe(1);
    expect(reciprocalRank(["x", "y"], relevant)).toBe(0);
  });

  it("nDCG@10 = (1/log2(3) + 1/log2(5)) / (1 + 1/log2(3))", () => {
    const expected = (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3));
    expect(ndcgAtK(ranked, relevant, 10)).toBeCloseTo(expected, 12);
    expect(ndcgAtK(["a", "c"], relevant, 10)).toBe(1);
    // Cut at k=3: only a (rank 2) counts; the ideal still has both in ranks 1-2.
    expect(ndcgAtK(ranked, relevant, 3)).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 12);
    expect(ndcgAtK(["x"], relevant, 10)).toBe(0);
  });
});
