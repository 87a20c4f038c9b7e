import { describe, expect, it } from "vitest";
import { buildMcqPrompt, detectLanguage, selectExemplars } from "./buildPrompt.js";
import type { McqItem } from "./types.js";

function item(id: string, subject: string, question: string, answer: string): McqItem {
  return {
    id,
    subject,
    question,
    options: ["A", "B", "C", "D"].map((letter) => ({
      letter,
      text: `${question.slice(0, 3)}-${letter.toLowerCase()}`,
    })),
    answer,
    source: { file: "x.csv", row: 2 },
  };
}

describe("buildMcqPrompt", () => {
  const test = item("port/9", "port_law", "Who assigns berths?", "C");
  const dev = [item("port/1", "port_law", "What is a berth?", "B"), item("ship/1", "ship", "What is draft?", "A")];

  it("uses lm-evaluation-harness's MMLU wording, exemplars with answers, and ' A' continuations", () => {
    const prompt = buildMcqPrompt({
      item: test,
      exemplars: selectExemplars(test, dev, 2),
      language: "en",
      mode: "letter",
    });
    expect(prompt.userText).toBe(
      "The following are multiple choice questions (with answers) about port law.\n\n" +
        "What is a berth?\nA. Wha-a\nB. Wha-b\nC. Wha-c\nD. Wha-d\nAnswer: B\n\n" +
        "What is draft?\nA. Wha-a\nB. Wha-b\nC. Wha-c\nD. Wha-d\nAnswer: A\n\n" +
        "Who assigns berths?\nA. Who-a\nB. Who-b\nC. Who-c\nD. Who-d\nAnswer:",
    );
    expect(prompt.continuations.map((continuation) => continuation.text)).toEqual([" A", " B", " C", " D"]);
    // After a chat template's assistant prefix there is no space to continue.
    expect(
      buildMcqPrompt({ item: test, language: "en", mode: "letter", templateApplied: true }).continuations[0]!.text,
    ).toBe("A");
  });

  it("uses C-Eval's wording in Chinese, and lm-eval's cloze form for option scoring", () => {
    const zh = item("港口/1", "港口", "泊位是什么？", "A");
    expect(detectLanguage(zh)).toBe("zh");
    expect(buildMcqPrompt({ item: zh, language: "zh", mode: "letter" }).userText).toBe(
      "以下是中国关于港口考试的单项选择题，请选出其中的正确答案。\n\n泊位是什么？\nA. 泊位是-a\nB. 泊位是-b\nC. 泊位是-c\nD. 泊位是-d\n答案：",
    );
    const option = buildMcqPrompt({ item: test, exemplars: [dev[0]!], language: "en", mode: "option" });
    expect(option.userText).toBe("Question: What is a berth?\nAnswer: Wha-b\n\nQuestion: Who assigns berths?\nAnswer:");
    expect(option.continuations[2]).toEqual({ letter: "C", text: " Who-c", choice: "Who-c" });
    expect(buildMcqPrompt({ item: zh, language: "zh", mode: "option" }).continuations[0]).toEqual({
      letter: "A",
      text: "泊位是-a",
      choice: "泊位是-a",
    });
  });

  it("puts retrieved passages first and asks for a letter in generate mode", () => {
    const prompt = buildMcqPrompt({
      item: test,
      language: "en",
      mode: "generate",
      retrieved: [{ text: " Berths are assigned by the harbour master. ", source: "rules.md#3", score: 2 }],
    });
    expect(
      prompt.userText.startsWith(
        "Reference material:\n[1] (rules.md#3) Berths are assigned by the harbour master.\n\nThe following are multiple choice questions about port law. Reply with the letter of the correct answer.\n\n",
      ),
    ).toBe(true);
    expect(prompt.continuations).toEqual([]);
  });
});

describe("selectExemplars", () => {
  it("takes the same subject first, in file order, never the item itself", () => {
    const dev = [
      item("a/1", "a", "q1", "A"),
      item("b/1", "b", "q2", "B"),
      item("a/2", "a", "q3", "C"),
      item("a/3", "a", "q4", "D"),
    ];
    expect(selectExemplars(dev[2]!, dev, 3).map((exemplar) => exemplar.id)).toEqual(["a/1", "a/3", "b/1"]);
    expect(selectExemplars(dev[0]!, dev, 0)).toEqual([]);
  });
});
