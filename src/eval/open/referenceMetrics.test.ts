import { describe, expect, it } from "vitest";
import { bestOver, lcsLength, rougeL, scoringTokens, tokenF1 } from "./referenceMetrics.js";

describe("scoring tokens", () => {
  it("splits CJK into characters and keeps Latin/digit runs as lower-case words, dropping punctuation", () => {
    expect(scoringTokens("GPT-4 是一个模型。")).toEqual(["gpt", "4", "是", "一", "个", "模", "型"]);
    expect(scoringTokens("The Cat, sat!")).toEqual(["the", "cat", "sat"]);
    expect(scoringTokens("abc中文def")).toEqual(["abc", "中", "文", "def"]);
    // NFKC folds full-width forms: "ＡＢＣ１２" reads as "abc12".
    expect(scoringTokens("ＡＢＣ１２")).toEqual(["abc12"]);
  });
});

describe("ROUGE-L", () => {
  it("Lin (2004)'s examples: S2 'police kill the gunman' scores 3/4, S3 'the gunman kill police' 2/4 against S1", () => {
    const reference = "police killed the gunman";
    expect(rougeL("police kill the gunman", reference).f).toBeCloseTo(0.75, 12);
    expect(rougeL("the gunman kill police", reference).f).toBeCloseTo(0.5, 12);
  });

  it("uneven lengths: P = LCS/|pred|, R = LCS/|ref| (worked by hand)", () => {
    // pred 3 tokens, ref 6, LCS("the cat sat", "the black cat sat down there") = 3 -> P 1, R 0.5, F 2/3.
    const score = rougeL("the cat sat", "the black cat sat down there");
    expect(score.precision).toBe(1);
    expect(score.recall).toBe(0.5);
    expect(score.f).toBeCloseTo(2 / 3, 12);
  });

  it("Chinese is character-level: reordered sentence keeps the LCS 中国的首都 (5 of 8)", () => {
    expect(rougeL("北京是中国的首都", "中国的首都是北京").f).toBeCloseTo(5 / 8, 12);
    expect(lcsLength([..."ABCBDAB"], [..."BDCABA"])).toBe(4); // CLRS's textbook example.
  });

  it("empty prediction or reference scores 0", () => {
    expect(rougeL("", "something").f).toBe(0);
    expect(rougeL("。。", "北京").f).toBe(0);
  });
});

describe("character F1 (multiset overlap)", () => {
  it("counts the overlap per character: 上海浦东机场 vs 浦东国际机场 -> 4/6 each way, F1 2/3", () => {
    expect(tokenF1("上海浦东机场", "浦东国际机场").f).toBeCloseTo(2 / 3, 12);
  });
  it("a reordering costs nothing, unlike ROUGE-L", () => {
    expect(tokenF1("北京是中国的首都", "中国的首都是北京").f).toBe(1);
  });
  it("repeated tokens count at most as often as in the reference: 哈哈哈 vs 哈 -> P 1/3, R 1, F1 0.5", () => {
    const score = tokenF1("哈哈哈", "哈");
    expect(score.precision).toBeCloseTo(1 / 3, 12);
    expect(score.f).toBeCloseTo(0.5, 12);
  });
  it("the best reference counts", () => {
    expect(bestOver(tokenF1, "浦东机场", ["虹桥机场", "浦东机场"])).toBe(1);
  });
});
