import { describe, expect, it } from "vitest";
import { calibrate, estimateOptionBias, optionProbabilities } from "./contextualCalibration.js";

describe("contextual calibration", () => {
  it("divides by the content-free bias: a prompt that doubles A's odds gets them halved back", () => {
    // Content-free inputs see A twice as likely as each other letter.
    const bias = estimateOptionBias([[Math.log(2), 0, 0, 0], [Math.log(2), 0, 0, 0]]);
    expect(bias.map((value) => value.toFixed(3))).toEqual(["0.400", "0.200", "0.200", "0.200"]);
    // An item whose scores are only that bias becomes uniform; one with real evidence for C keeps C.
    expect(calibrate([Math.log(2), 0, 0, 0], bias).map((value) => value.toFixed(3))).toEqual(["0.250", "0.250", "0.250", "0.250"]);
    const item = calibrate([Math.log(3), 0, Math.log(2), 0], bias);
    expect(item.indexOf(Math.max(...item))).toBe(2);
    expect(optionProbabilities([0, 0]).reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });
});
