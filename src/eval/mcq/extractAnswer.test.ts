import { describe, expect, it } from "vitest";
import { extractAnswerLetter } from "./extractAnswer.js";

/**
 * Real-world reply shapes seen from chat models on C-Eval/CMMLU/MMLU-style prompts, with and without
 * reasoning. `null` rows are replies that do not commit to one option: extracting anything from them
 * would be a false positive. Precision must be 1.0: every non-null extraction equals the expected letter.
 */
const TABLE: [reply: string, expected: string | null][] = [
  // English, bare or short
  ["B", "B"],
  ["B.", "B"],
  ["(C)", "C"],
  ["D) 1945", "D"],
  ["A. Paris", "A"],
  ["Option C", "C"],
  ["**B**", "B"],
  ["Answer: D", "D"],
  ["**Answer: D**", "D"],
  ["The answer is (C).", "C"],
  ["The answer is C", "C"],
  ["The correct answer is B. Berths are allocated by the harbour master.", "B"],
  ["The correct answer would be option A.", "A"],
  ["Final Answer: B", "B"],
  ["Final answer: \\boxed{C}", "C"],
  ["$\\boxed{\\text{D}}$", "D"],
  ["I'd go with B.", "B"],
  ["I choose option A because it matches the definition.", "A"],
  ["B is the correct answer.", "B"],
  ["Option (D) is correct.", "D"],
  ["Ａ", "A"],
  // English, with reasoning
  [
    "Let's think step by step. Option A describes pilotage, which is not the question. Option B is about demurrage. Option C matches the definition of laytime. Therefore, the answer is C.",
    "C",
  ],
  ["A is wrong because pilots do not set tariffs. B is also wrong. So the best answer is D.", "D"],
  [
    "<think>The user asks about TEU. A twenty-foot equivalent unit... so the answer is B? Wait, B is FEU. Let me recheck: it's A.</think>\nThe answer is A.",
    "A",
  ],
  ["Reasoning: 2 + 2 = 4, which is option B.\n\n**Answer: B**", "B"],
  ["The answer is (B). Explanation: B defines the draft of a vessel.", "B"],
  ["First, the answer is not A, since A is a tariff. The answer is C.", "C"],
  // Chinese, bare or short
  ["答案是B", "B"],
  ["答案：C", "C"],
  ["答案为 D。", "D"],
  ["正确答案是（A）", "A"],
  ["正确答案应该是B", "B"],
  ["选B", "B"],
  ["我选C。", "C"],
  ["【答案】D", "D"],
  ["答：A", "A"],
  ["答案选C", "C"],
  ["B选项正确。", "B"],
  ["C．港口国监督", "C"],
  ["答案：Ｂ", "B"],
  // Chinese, with reasoning
  ["解析：A项是引航费，B项是滞期费，C项描述的是装卸时间，符合题意。故选C。", "C"],
  ["首先，选项A错误，因为港口费不由船长决定；选项B也不对；因此正确答案是D。", "D"],
  ["本题考查集装箱单位。TEU指二十英尺标准箱，所以答案为A。", "A"],
  ["<think>题目问的是吃水。吃水是船舶浸入水中的深度，对应选项B。</think>\n答案是B", "B"],
  ["综上所述，本题正确答案选A。", "A"],
  ["不选A，也不选B，应选D。", "D"],
  ["答案：A项错误，B项正确。", "B"],
  // English, ruling options out before concluding
  ["The answer: A is wrong, C is correct.", "C"],
  ["A. is incorrect. B. is incorrect. C. is correct.", "C"],
  ["B is incorrect; the answer is D", "D"],
  ["正确选项是C", "C"],
  ["选项A、B、C均错误，故本题选D。", "D"],
  // Replies that commit to nothing (must give null)
  ["The answer is A or B, depending on the port.", null],
  ["答案是A或B", null],
  ["I'm not sure; it could be several of these.", null],
  ["A common mistake is to confuse draft and freeboard.", null],
  ["The answer is E.", null],
  ["<think>Let me think about option A and option B...", null],
  ["A、B", null],
  ["这道题我不确定。", null],
  ["答案不是A。", null],
  ["The answer is A and C.", null],
  ["Answer: None of the above", null],
  ["I think the answer might be B, but I'm not certain.", null],
];

describe("extractAnswerLetter", () => {
  it("has a table of at least 40 phrasings in both languages", () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(40);
    expect(TABLE.filter(([reply]) => /[\u4e00-\u9fff]/.test(reply)).length).toBeGreaterThanOrEqual(15);
  });

  it.each(TABLE)("%j -> %s", (reply, expected) => {
    expect(extractAnswerLetter(reply)).toBe(expected);
  });

  it("has precision 1.0 and recall on the committed replies", () => {
    const extracted = TABLE.map(([reply, expected]) => ({ got: extractAnswerLetter(reply), expected }));
    const predictions = extracted.filter((row) => row.got !== null);
    const precision = predictions.filter((row) => row.got === row.expected).length / predictions.length;
    expect(precision).toBe(1);
  });

  it("only returns letters among the item's options", () => {
    expect(extractAnswerLetter("The answer is F.", ["A", "B", "C", "D", "E", "F"])).toBe("F");
    expect(extractAnswerLetter("The answer is D.", ["A", "B", "C"])).toBeNull();
  });
});
