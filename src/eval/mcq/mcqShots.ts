/**
 * MCQ items as few-shot candidates (src/prompt/selectShots.ts) and as the test items the shot pool is
 * decontaminated against: similarity on the question with its options, the gold letter as the label.
 */
import type { EvalItem } from "../../data/decontaminate.js";
import type { ShotCandidate } from "../../prompt/selectShots.js";
import type { McqItem } from "./types.js";

export function mcqShotCandidate(item: McqItem): ShotCandidate<McqItem> {
  const options = item.options.map((option) => `${option.letter}. ${option.text}`).join("\n");
  return { id: item.id, text: `${item.question}\n${options}`, label: item.answer, subject: item.subject, item };
}

/** Test items reduced to what a shot must not overlap: the question, and the options as answers. */
export function mcqEvalItems(items: readonly McqItem[]): EvalItem[] {
  return items.map((item) => ({
    file: item.source.file,
    item: item.id,
    questionTexts: [item.question],
    answerTexts: item.options.map((option) => option.text),
  }));
}
