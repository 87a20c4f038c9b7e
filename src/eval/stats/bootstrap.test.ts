import { describe, expect, it } from "vitest";
import { bootstrapMeanCi, bootstrapPairedDeltaCi } from "./bootstrap.js";

describe("bootstrapMeanCi", () => {
  it("brackets the mean and matches the normal approximation for a large 0/1 sample", () => {
    // 600 correct out of 1000: the binomial standard error is sqrt(.6*.4/1000) = 0.0155, so a 95%
    // interval is about ±0.030.
    const values = Array.from({ length: 1000 }, (_, i) => (i % 5 < 3 ? 1 : 0));
    const { value, ci95 } = bootstrapMeanCi(values);
    expect(value).toBeCloseTo(0.6, 12);
    expect(ci95[0]).toBeGreaterThan(0.6 - 0.036);
    expect(ci95[0]).toBeLessThan(0.6 - 0.024);
    expect(ci95[1]).toBeGreaterThan(0.6 + 0.024);
    expect(ci95[1]).toBeLessThan(0.6 + 0.036);
  });

  it("is repeatable for a seed and degenerate for a constant sample", () => {
    const values = [1, 0, 1, 1, 0, 1, 0, 1];
    expect(bootstrapMeanCi(values)).toEqual(bootstrapMeanCi(values));
    expect(bootstrapMeanCi([1, 1, 1]).ci95).toEqual([1, 1]);
    expect(Number.isNaN(bootstrapMeanCi([]).value)).toBe(true);
  });

  it("pairs items for deltas", () => {
    const base = [1, 1, 0, 1, 0, 1, 1, 0, 1, 1];
    const tuned = [1, 0, 0, 1, 0, 1, 0, 0, 1, 1];
    const { value, ci95 } = bootstrapPairedDeltaCi(tuned, base);
    expect(value).toBeCloseTo(-0.2, 12);
    // Paired: differences are only 0 or -1, so the interval can never go above 0.
    expect(ci95[1]).toBeLessThanOrEqual(0);
    expect(() => bootstrapPairedDeltaCi([1], [1, 0])).toThrow(/length/);
  });
});
