/**
 * LLM-as-judge through the ChatModel interface.
 *
 * Pairwise: every pair is judged twice, once in each order, because judges favour a position
 * (MT-Bench measured this). A system wins only if both orders agree; any disagreement — one order
 * says A, the other B, or one says tie, or one verdict is unreadable — counts as a tie and is
 * marked `consistent: false` so the report can show how often the judge contradicted itself.
 *
 * Single answer: one 1–10 rating per answer (rubric in prompts.ts); an unreadable verdict is kept
 * as `rating: undefined` and excluded from means, never guessed.
 */
import type { ChatModel, GenerateOptions } from "../../llm/types.js";
import { parsePairVerdict, parseRating, type PairVerdict } from "./parseVerdict.js";
import { pairwiseMessages, singleMessages, type JudgeQuestion } from "./prompts.js";

/** Greedy and long enough for a short explanation plus the verdict. */
const judgeDefaults: GenerateOptions = { temperature: 0, maxTokens: 512 };

export interface PairJudgement {
  /** The two systems; `winner` refers to them, not to positions. */
  a: string;
  b: string;
  winner: "a" | "b" | "tie";
  /** Both orders gave the same verdict. */
  consistent: boolean;
  /** Verdicts as the judge gave them: [order a-then-b, order b-then-a], undefined if unreadable. */
  verdicts: [PairVerdict | undefined, PairVerdict | undefined];
  /** The judge's full replies, same order. */
  replies: [string, string];
}

/** Maps a positional verdict back to a system: in order a-then-b "A" means a. */
function toSystem(verdict: PairVerdict | undefined, swapped: boolean): "a" | "b" | "tie" | undefined {
  if (verdict === undefined || verdict === "tie") return verdict === "tie" ? "tie" : undefined;
  return (verdict === "A") !== swapped ? "a" : "b";
}

export async function judgePair(
  judge: ChatModel,
  question: JudgeQuestion,
  pair: { a: string; b: string; answerA: string; answerB: string },
  options: GenerateOptions = {},
): Promise<PairJudgement> {
  const generate = { ...judgeDefaults, ...options };
  const forward = await judge.chat(pairwiseMessages(question, pair.answerA, pair.answerB), generate);
  const backward = await judge.chat(pairwiseMessages(question, pair.answerB, pair.answerA), generate);
  const verdicts: [PairVerdict | undefined, PairVerdict | undefined] = [
    parsePairVerdict(forward.text),
    parsePairVerdict(backward.text),
  ];
  const first = toSystem(verdicts[0], false);
  const second = toSystem(verdicts[1], true);
  const consistent = first !== undefined && first === second;
  return {
    a: pair.a,
    b: pair.b,
    winner: consistent ? first : "tie",
    consistent,
    verdicts,
    replies: [forward.text, backward.text],
  };
}

export interface RatingJudgement {
  system: string;
  /** 1–10, undefined when the judge's reply had no readable rating. */
  rating: number | undefined;
  reply: string;
}

export async function judgeSingle(
  judge: ChatModel,
  question: JudgeQuestion,
  answer: { system: string; text: string },
  options: GenerateOptions = {},
): Promise<RatingJudgement> {
  const reply = await judge.chat(singleMessages(question, answer.text), { ...judgeDefaults, ...options });
  return { system: answer.system, rating: parseRating(reply.text), reply: reply.text };
}
