/**
 * Judge prompts, after MT-Bench's (Zheng et al., 2023, "Judging LLM-as-a-judge") pairwise and
 * single-answer prompts: the judge explains briefly, then gives a verdict in double brackets so it
 * can be parsed reliably — "[[A]]", "[[B]]" or "[[C]]" (tie) for pairs, "[[rating]]" 1–10 for
 * single answers. Written in English; they work for Chinese questions too (the judge is told to
 * judge in the question's language). A reference answer, when the question set has one, is shown
 * to the judge as guidance (MT-Bench's "reference-guided" variant).
 */
import type { ChatMessage } from "../../llm/types.js";

export const pairwiseSystemPrompt = [
  "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants to the user question displayed below.",
  "Choose the assistant that follows the user's instructions and answers the question better: consider correctness, helpfulness, relevance, depth and level of detail.",
  "If a reference answer is given, use it to check correctness.",
  "Avoid any position bias: the order in which the responses were presented must not influence your decision. Do not let the length of the responses or the assistants' names influence you. Be as objective as possible.",
  'Begin with a short explanation, in the language of the question. After it, output your final verdict strictly in this format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.',
].join(" ");

export const singleSystemPrompt = [
  "Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question displayed below.",
  "Consider correctness, helpfulness, relevance, depth and level of detail. If a reference answer is given, use it to check correctness; a wrong answer must score low however well written.",
  'Begin with a short explanation, in the language of the question. After it, rate the response on a scale of 1 to 10 strictly in this format: "Rating: [[5]]".',
  "Rubric: 1–2 wrong or off-topic; 3–4 partly correct with major errors or omissions; 5–6 correct but incomplete or vague; 7–8 correct and useful with minor issues; 9–10 correct, complete and clear.",
].join(" ");

export interface JudgeQuestion {
  question: string;
  /** Reference answers; the first is shown to the judge. */
  references?: readonly string[];
}

function referenceBlock(question: JudgeQuestion): string {
  const reference = question.references?.[0];
  return reference ? `\n\n[The Start of Reference Answer]\n${reference}\n[The End of Reference Answer]` : "";
}

export function pairwiseMessages(question: JudgeQuestion, answerA: string, answerB: string): ChatMessage[] {
  return [
    { role: "system", content: pairwiseSystemPrompt },
    {
      role: "user",
      content:
        `[User Question]\n${question.question}${referenceBlock(question)}\n\n` +
        `[The Start of Assistant A's Answer]\n${answerA}\n[The End of Assistant A's Answer]\n\n` +
        `[The Start of Assistant B's Answer]\n${answerB}\n[The End of Assistant B's Answer]`,
    },
  ];
}

export function singleMessages(question: JudgeQuestion, answer: string): ChatMessage[] {
  return [
    { role: "system", content: singleSystemPrompt },
    {
      role: "user",
      content:
        `[Question]\n${question.question}${referenceBlock(question)}\n\n` +
        `[The Start of Assistant's Answer]\n${answer}\n[The End of Assistant's Answer]`,
    },
  ];
}
