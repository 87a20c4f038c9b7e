import { describe, expect, it } from "vitest";
import type { RetrievedPassage } from "../../llm/retriever.js";
import type { ContinuationScore, ScoreRequest, TokenScorer } from "../../llm/types.js";
import { checkCitations, summariseCitations } from "./checkCitations.js";
import { splitCitedSentences } from "./splitCitedSentences.js";
import { entailmentSupportJudge, lexicalCoverage, lexicalSupportJudge } from "./supportJudge.js";

const passage = (source: string, text: string): RetrievedPassage => ({ source, text, score: 1 });

const english = [
  passage("pilotage", "Pilotage is compulsory for every vessel longer than 150 metres entering the inner harbour."),
  passage("waste", "Oily waste must be delivered to the reception facility before the ship departs."),
  passage("hours", "The harbour office is open from 08:00 to 18:00 on weekdays."),
];
const chinese = [
  passage("引航", "长度超过150米的船舶进入内港必须申请引航。"),
  passage("污染", "船舶离港前必须将含油废物交至港口接收设施。"),
];

describe("splitCitedSentences", () => {
  it("reads [n], [1][3] and [1, 3], and gives a marker after the full stop to the sentence before it", () => {
    expect(
      splitCitedSentences("Pilots are needed [1]. Waste goes ashore. [2][3] Office hours are 8 to 6 [1, 3]."),
    ).toEqual([
      { text: "Pilots are needed [1].", claim: "Pilots are needed.", cited: [1] },
      { text: "Waste goes ashore. [2][3]", claim: "Waste goes ashore.", cited: [2, 3] },
      { text: "Office hours are 8 to 6 [1, 3].", claim: "Office hours are 8 to 6.", cited: [1, 3] },
    ]);
    expect(splitCitedSentences("超过150米的船舶必须引航[1]。离港前交付废物。[2]").map((s) => s.cited)).toEqual([
      [1],
      [2],
    ]);
  });
});

describe("checkCitations with the lexical judge", () => {
  const judge = lexicalSupportJudge();

  it("English: a right citation is supported and precise; a wrong one and a missing one are not", async () => {
    const answer =
      "Pilotage is compulsory for vessels longer than 150 metres [1]. Oily waste must be delivered before departure [3]. The office opens at 08:00 [9].";
    const check = await checkCitations(answer, english, judge);
    expect(check.sentences.map((s) => [s.supported, s.precise, s.missing])).toEqual([
      [true, [true], []],
      [false, [false], []],
      [false, [false], [9]],
    ]);
    expect(check.recall).toBeCloseTo(1 / 3);
    expect(check.precision).toBeCloseTo(1 / 3);
  });

  it("English: a needless extra citation costs precision but not recall", async () => {
    const check = await checkCitations(
      "Oily waste must be delivered to the reception facility [2][3].",
      english,
      judge,
    );
    expect(check.sentences[0]).toMatchObject({ supported: true, precise: [true, false] });
    expect(check).toMatchObject({ recall: 1, precision: 0.5 });
  });

  it("English: an uncited sentence counts against recall; an answer citing nothing has precision 0", async () => {
    const check = await checkCitations("Pilotage is compulsory for long vessels.", english, judge);
    expect(check).toMatchObject({ recall: 0, precision: 0, citations: 0 });
  });

  it("Chinese: jieba words decide support", async () => {
    expect(lexicalCoverage("超过150米的船舶进入内港必须申请引航", [chinese[0]!.text])).toBe(1);
    const check = await checkCitations(
      "超过150米的船舶进入内港必须申请引航[1]。离港前必须将含油废物交至接收设施[1]。",
      chinese,
      judge,
    );
    expect(check.sentences.map((s) => s.supported)).toEqual([true, false]);
    const fixed = await checkCitations(
      "超过150米的船舶进入内港必须申请引航[1]。离港前必须将含油废物交至接收设施[2]。",
      chinese,
      judge,
    );
    expect(fixed).toMatchObject({ recall: 1, precision: 1 });
    expect(summariseCitations([check, fixed])).toEqual({
      answers: 2,
      recall: 0.75,
      precision: 0.75,
      answersWithCitations: 2,
    });
  });
});

/** Scores " yes" above " no" when the premise contains the hypothesis' key phrase; records every request. */
class KeywordEntailmentScorer implements TokenScorer {
  readonly id = "keyword-entailment";
  readonly requests: ScoreRequest[] = [];
  constructor(private readonly entails: (premise: string, hypothesis: string) => boolean) {}
  async score(requests: ScoreRequest[]): Promise<ContinuationScore[]> {
    this.requests.push(...requests);
    return requests.map(({ context, continuation }) => {
      const premise = /(?:Premise|前提)[:：]([\s\S]*?)\n(?:Hypothesis|假设)/.exec(context)![1]!;
      const hypothesis = /(?:Hypothesis|假设)[:：](.*)\n/.exec(context)![1]!;
      const yes = this.entails(premise, hypothesis);
      const isYes = continuation === " yes" || continuation === "是";
      const logprob = isYes === yes ? -0.1 : -3;
      return { logprob, tokenLogprobs: [logprob], isGreedy: isYes === yes, tokenCount: 1 };
    });
  }
}

describe("checkCitations with the entailment judge", () => {
  it("asks the scorer yes/no for the cited passages and follows its log-probabilities", async () => {
    // Entailed when the premise mentions the hypothesis' number: the judge only compares two scores.
    const scorer = new KeywordEntailmentScorer((premise, hypothesis) => {
      const number = /\d+/.exec(hypothesis)?.[0];
      return number !== undefined && premise.includes(number);
    });
    const judge = entailmentSupportJudge(scorer);
    const check = await checkCitations(
      "Vessels over 150 m need a pilot [1][2]. The office opens at 08 [1].",
      english,
      judge,
    );
    expect(check.sentences.map((s) => [s.supported, s.precise])).toEqual([
      [true, [true, false]],
      [false, [false]],
    ]);
    expect(scorer.requests[0]).toMatchObject({ continuation: " yes" });
    expect(scorer.requests[0]!.context).toContain("Hypothesis: Vessels over 150 m need a pilot.\n");
    expect(scorer.requests[0]!.context).toContain(english[0]!.text);
  });

  it("uses the Chinese prompt and 是/否 when asked", async () => {
    const scorer = new KeywordEntailmentScorer((premise) => premise.includes("引航"));
    const check = await checkCitations("超过150米的船舶必须引航[1]。", chinese, entailmentSupportJudge(scorer, "zh"));
    expect(check.recall).toBe(1);
    expect(scorer.requests.map((request) => request.continuation)).toEqual(["是", "否"]);
  });
});
