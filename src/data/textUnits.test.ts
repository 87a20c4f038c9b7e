import { describe, expect, it } from "vitest";
import { textUnits, unitNgrams } from "./textUnits.js";

describe("textUnits", () => {
  it("splits CJK into characters and other scripts into lower-cased words, dropping punctuation", () => {
    expect(textUnits("Berth７, 港口enter码头！ ＡＢＣ-def")).toEqual(["berth7", "港", "口", "enter", "码", "头", "abc", "def"]);
  });
  it("makes n-grams, or one gram of everything when shorter than n", () => {
    expect(unitNgrams(["a", "b", "c"], 2)).toEqual(["a b", "b c"]);
    expect(unitNgrams(["a", "b"], 5)).toEqual(["a b"]);
  });
});
