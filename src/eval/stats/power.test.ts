import { describe, expect, it } from "vitest";
import { seededRandom } from "../../shared/seededRandom.js";
import { discordantRate, normalQuantile, pairedItemsNeeded, pairedMinimumDetectableDifference } from "./power.js";

describe("normalQuantile", () => {
  it("matches the standard normal table", () => {
    // Reference values: R's qnorm().
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212, 6);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 5);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });
});

describe("paired minimum detectable difference", () => {
  it("is (z_0.975 + z_0.8) * sqrt(p / n)", () => {
    // 2.8016 * sqrt(0.3 / 240) = 0.0990
    expect(pairedMinimumDetectableDifference(240, 0.3)).toBeCloseTo(2.801585 * Math.sqrt(0.3 / 240), 5);
    expect(pairedMinimumDetectableDifference(240, 0.3)).toBeLessThan(0.1);
    expect(pairedMinimumDetectableDifference(160, 0.5)).toBeCloseTo(0.1566, 3);
    expect(pairedItemsNeeded(0.1, 0.3)).toBe(236);
    expect(pairedMinimumDetectableDifference(pairedItemsNeeded(0.1, 0.3), 0.3)).toBeLessThanOrEqual(0.1);
    expect(discordantRate([1, 0, 1, 1], [1, 1, 0, 1])).toBe(0.5);
  });

  it("has the stated power: a simulated paired test at the MDD rejects about 80% of the time", () => {
    // Two systems on n items; a true difference = the MDD, discordant share p. The test: |mean d| / sqrt(p_hat / n) > 1.96.
    const random = seededRandom(7);
    const n = 400;
    const p = 0.3;
    const delta = pairedMinimumDetectableDifference(n, p);
    // Discordant items go +1 with probability (p + delta) / (2p), so E[d] = delta and P(d != 0) = p.
    const plus = (p + delta) / (2 * p);
    let rejected = 0;
    const trials = 2000;
    for (let trial = 0; trial < trials; trial++) {
      let sum = 0;
      let discordant = 0;
      for (let i = 0; i < n; i++) {
        if (random() >= p) continue;
        discordant++;
        sum += random() < plus ? 1 : -1;
      }
      const mean = sum / n;
      const variance = discordant / n - mean * mean;
      if (Math.abs(mean) / Math.sqrt(variance / n) > 1.959964) rejected++;
    }
    // 2000 trials: the standard error of a rejection rate near 0.8 is 0.009; +-0.04 is over four of them.
    expect(rejected / trials).toBeGreaterThan(0.76);
    expect(rejected / trials).toBeLessThan(0.84);
  });
});
