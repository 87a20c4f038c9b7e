import { describe, expect, it } from "vitest";
import { parsePairVerdict, parseRating } from "./parseVerdict.js";

describe("pairwise verdicts", () => {
  const table: Array<[string, "A" | "B" | "tie" | undefined]> = [
    ["Assistant A is more accurate.\n\n[[A]]", "A"],
    ["Both are fine. [[C]]", "tie"],
    ["[[B]]", "B"],
    ["Options are [[A]], [[B]] or [[C]]. After review: [[B]]", "B"],
    ["Final verdict: A", "A"],
    ["**Final Verdict:** [B]", "B"],
    ["My verdict is tie.", "tie"],
    ["最终裁决：[[A]]", "A"],
    ["最终裁决：B", "B"],
    ["两个回答都正确。结论：平局", "tie"],
    ["综合来看，助手B的回答更好。", "B"],
    ["A更好，因为它引用了正确的规定。", "A"],
    ["Overall, Assistant B is clearly better.", "B"],
    ["Both responses are equally good.", "tie"],
    ["I cannot decide.", undefined],
    ["", undefined],
  ];
  it.each(table)("%j -> %s", (text, expected) => {
    expect(parsePairVerdict(text)).toBe(expected);
  });
});

describe("ratings", () => {
  const table: Array<[string, number | undefined]> = [
    ["Good answer. Rating: [[8]]", 8],
    ["Rating: [[7.5]]", 7.5],
    ["[[9/10]]", 9],
    ["The answer lists 3 steps; rating: 6", 6],
    ["Score: 4/10", 4],
    ["I would give it 7 out of 10.", 7],
    ["评分：8分", 8],
    ["回答基本正确，给 6 分（满分10分）。", 6],
    ["得分: [[10]]", 10],
    ["Rating: [[0]]", undefined],
    ["Rating: [[11]]", undefined],
    ["No rating here, 3 points were made.", undefined],
  ];
  it.each(table)("%j -> %s", (text, expected) => {
    expect(parseRating(text)).toBe(expected);
  });
});
