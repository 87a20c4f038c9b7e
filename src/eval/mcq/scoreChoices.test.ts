import { describe, expect, it } from "vitest";
import { argmax, codePointLength, predictFromLoglikelihoods } from "./scoreChoices.js";

describe("acc and acc_norm as lm-evaluation-harness computes them", () => {
  it("a hand-computed example where length normalisation flips the prediction", () => {
    // choices (no leading space, as lm-eval's doc_to_choice):  code-point lengths 3, 14, 5, 7
    const choices = ["cat", "the harbourage", "quays", "港口国监督检查"];
    expect(choices.map(codePointLength)).toEqual([3, 14, 5, 7]);
    const lls = [-6.0, -14.0, -12.0, -8.4];
    // acc: argmax(lls) = index 0 (-6.0)
    // acc_norm: lls / len = [-2.0, -1.0, -2.4, -1.2] -> argmax = index 1
    expect(predictFromLoglikelihoods(lls, choices)).toEqual({ prediction: 0, predictionNorm: 1 });
  });

  it("counts code points, not UTF-8 bytes or UTF-16 units", () => {
    // "港口" is 2 code points and 6 UTF-8 bytes; "😀" is 1 code point and 2 UTF-16 units.
    expect(codePointLength("港口")).toBe(2);
    expect(codePointLength("😀a")).toBe(2);
    // Bytes would normalise "港口" by 6 and pick "ab"; code points normalise by 2 and pick "港口".
    // lls: 港口 -3.0 (/2 = -1.5, /6 = -0.5); ab -1.2 (/2 = -0.6)
    expect(predictFromLoglikelihoods([-3.0, -1.2], ["港口", "ab"]).predictionNorm).toBe(1);
    expect(predictFromLoglikelihoods([-1.0, -1.5], ["港口", "abc"]).predictionNorm).toBe(0); // -0.5 vs -0.5: tie -> first
  });

  it("argmax takes the first index on ties, like numpy", () => {
    expect(argmax([-1, -0.5, -0.5])).toBe(1);
    expect(argmax([-Infinity, -Infinity])).toBe(0);
    expect(() => predictFromLoglikelihoods([-1], ["a", "b"])).toThrow(RangeError);
  });
});
