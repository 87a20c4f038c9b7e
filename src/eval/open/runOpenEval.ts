/**
 * The open-ended evaluation of one question set: each system answers every question, answers are
 * scored against references (ROUGE-L, character F1), and optionally judged (pairwise both orders
 * against the base, and single-answer 1–10 ratings). Answers and judgements are appended to JSONL
 * files as they finish, so an interrupted run resumes without asking a model twice; the summary
 * `open/<set>.json` is written atomically at the end.
 *
 * Layout under `outDir`:
 *   open/<set>/answers.jsonl     one AnswerRecord per line
 *   open/<set>/judgements.jsonl  one StoredJudgement per line
 *   open/<set>.json              OpenSetResult (what the report reads)
 */
import fs from "node:fs";
import path from "node:path";
import type { ChatMessage, ChatModel, GenerateOptions, ToolCallCounts } from "../../llm/types.js";
import { writeFileAtomic } from "../../shared/atomicWrite.js";
import { ConfigError } from "../../shared/errors.js";
import { readItemRecords } from "../results.js";
import { judgePair, judgeSingle, type PairJudgement } from "../judge/judges.js";
import { bradleyTerryWithIntervals, type RatingInterval } from "../stats/bradleyTerry.js";
import { winRecords, type PairwiseOutcome, type WinRecord } from "../stats/pairwise.js";
import type { OpenQuestion } from "./questions.js";
import { bestOver, rougeL, tokenF1 } from "./referenceMetrics.js";

export interface SystemUnderTest {
  /** The name used in results and reports ("base", "sft"). */
  name: string;
  model: ChatModel;
  /** Put before the question as a system message. */
  systemPrompt?: string;
}

export interface AnswerRecord {
  id: string;
  system: string;
  answer: string;
  promptTokens: number;
  completionTokens: number;
  seconds: number;
  /** A system that answers through a tool loop: the calls it made for this answer. */
  toolUse?: ToolCallCounts;
}

export type StoredJudgement =
  | ({ kind: "pair"; id: string } & Omit<PairJudgement, "replies"> & { replies: [string, string] })
  | { kind: "rating"; id: string; system: string; rating: number | undefined; reply: string };

export interface OpenSystemSummary {
  system: string;
  answered: number;
  /** Mean best-over-references ROUGE-L F over questions that have references; undefined when none do. */
  rougeL?: number;
  /** Mean character/word F1 (see referenceMetrics.ts), same questions. */
  charF1?: number;
  /** Mean judge rating 1–10 over readable ratings. */
  judgeRating?: number;
  ratedCount?: number;
  /** Answers that are empty or only whitespace: they score 0 against any reference, so the report flags them. */
  emptyAnswers?: number;
  promptTokens: number;
  completionTokens: number;
  wallSeconds: number;
}

export interface OpenSetResult {
  set: string;
  kind: "open";
  questions: number;
  withReferences: number;
  judge?: string;
  systems: OpenSystemSummary[];
  /** Pairwise results from the judge, one per question and pair. */
  pairwise: Array<PairwiseOutcome & { id: string; consistent: boolean }>;
  winRates: WinRecord[];
  bradleyTerry: RatingInterval[];
  /** Share of pairwise judgements where both orders agreed. */
  judgeConsistency?: number;
}

export interface OpenEvalOptions {
  set: string;
  questions: OpenQuestion[];
  systems: SystemUnderTest[];
  outDir: string;
  /** A judge enables pairwise and rating judgements. */
  judge?: ChatModel;
  /** Which system the others are compared with pairwise. Defaults to the first. */
  base?: string;
  /** Defaults to true when a judge is given. */
  pairwise?: boolean;
  /** Single-answer 1–10 ratings. Defaults to true when a judge is given. */
  ratings?: boolean;
  /** Generation settings for the systems. Defaults to greedy, 512 tokens. */
  generate?: GenerateOptions;
  /** Injectable clock (ms) for repeatable wall times in tests. */
  now?: () => number;
  onProgress?: (done: number, total: number, stage: "answer" | "judge") => void;
}

/** "2 answers of sft, 1 of mip were empty (only whitespace) and score 0", or "" when none were. */
export function describeEmptyAnswers(result: OpenSetResult): string {
  const empty = result.systems.filter((s) => (s.emptyAnswers ?? 0) > 0);
  if (empty.length === 0) return "";
  return `Empty answers (only whitespace, scored 0): ${empty.map((s) => `${s.system} ${s.emptyAnswers}/${s.answered}`).join(", ")}.`;
}

const mean = (values: number[]) =>
  values.length === 0 ? undefined : values.reduce((s, v) => s + v, 0) / values.length;

export async function runOpenEval(options: OpenEvalOptions): Promise<OpenSetResult> {
  const { set, questions, systems, outDir, judge, now = () => performance.now() } = options;
  if (systems.length === 0)
    throw new ConfigError("an open-ended evaluation needs at least one system.", { where: `set "${set}"` });
  const base = options.base ?? systems[0]!.name;
  if (!systems.some((s) => s.name === base))
    throw new ConfigError(
      `the base system "${base}" is not among the systems (${systems.map((s) => s.name).join(", ")}).`,
      { where: `set "${set}"` },
    );
  const folder = path.join(outDir, "open", set);
  fs.mkdirSync(folder, { recursive: true });
  const answersFile = path.join(folder, "answers.jsonl");
  const judgementsFile = path.join(folder, "judgements.jsonl");
  const key = (id: string, system: string) => `${system}\u0000${id}`;

  // 1. Answers (resumable).
  const answers = new Map<string, AnswerRecord>();
  for (const record of readItemRecords<AnswerRecord>(answersFile, { repair: true }))
    answers.set(key(record.id, record.system), record);
  const total = questions.length * systems.length;
  let done = answers.size;
  for (const system of systems)
    for (const question of questions) {
      if (answers.has(key(question.id, system.name))) continue;
      const messages: ChatMessage[] = [];
      if (system.systemPrompt) messages.push({ role: "system", content: system.systemPrompt });
      messages.push({ role: "user", content: question.question });
      const started = now();
      const generation = await system.model.chat(messages, { temperature: 0, maxTokens: 512, ...options.generate });
      const record: AnswerRecord = {
        id: question.id,
        system: system.name,
        answer: generation.text,
        promptTokens: generation.usage.promptTokens,
        completionTokens: generation.usage.completionTokens,
        seconds: (now() - started) / 1000,
        ...(generation.toolUse ? { toolUse: generation.toolUse } : {}),
      };
      fs.appendFileSync(answersFile, JSON.stringify(record) + "\n");
      answers.set(key(question.id, system.name), record);
      options.onProgress?.(++done, total, "answer");
    }

  // 2. Judgements (resumable).
  const judgements = readItemRecords<StoredJudgement>(judgementsFile, { repair: true });
  const judgementKey = (j: StoredJudgement) =>
    j.kind === "pair" ? `pair\u0000${j.id}\u0000${j.a}\u0000${j.b}` : `rating\u0000${j.id}\u0000${j.system}`;
  const judged = new Set(judgements.map(judgementKey));
  if (judge) {
    const pairs =
      (options.pairwise ?? true) ? systems.filter((s) => s.name !== base).map((s) => [base, s.name] as const) : [];
    const rate = options.ratings ?? true;
    const judgeTotal = questions.length * (pairs.length + (rate ? systems.length : 0));
    let judgeDone = 0;
    const store = (judgement: StoredJudgement) => {
      fs.appendFileSync(judgementsFile, JSON.stringify(judgement) + "\n");
      judgements.push(judgement);
      judged.add(judgementKey(judgement));
    };
    for (const question of questions) {
      for (const [a, b] of pairs) {
        judgeDone++;
        if (judged.has(`pair\u0000${question.id}\u0000${a}\u0000${b}`)) continue;
        const judgement = await judgePair(judge, question, {
          a,
          b,
          answerA: answers.get(key(question.id, a))!.answer,
          answerB: answers.get(key(question.id, b))!.answer,
        });
        store({ kind: "pair", id: question.id, ...judgement });
        options.onProgress?.(judgeDone, judgeTotal, "judge");
      }
      if (rate)
        for (const system of systems) {
          judgeDone++;
          if (judged.has(`rating\u0000${question.id}\u0000${system.name}`)) continue;
          const rating = await judgeSingle(judge, question, {
            system: system.name,
            text: answers.get(key(question.id, system.name))!.answer,
          });
          store({ kind: "rating", id: question.id, ...rating });
          options.onProgress?.(judgeDone, judgeTotal, "judge");
        }
    }
  }

  // 3. Summary.
  const questionIds = new Set(questions.map((q) => q.id));
  const summaries: OpenSystemSummary[] = systems.map(({ name }) => {
    const records = questions.map((q) => ({ question: q, answer: answers.get(key(q.id, name))! }));
    const referenced = records.filter((r) => r.question.references.length > 0);
    const ratings = judgements
      .filter(
        (j): j is Extract<StoredJudgement, { kind: "rating" }> =>
          j.kind === "rating" && j.system === name && questionIds.has(j.id),
      )
      .map((j) => j.rating)
      .filter((r): r is number => r !== undefined && r !== null);
    const summary: OpenSystemSummary = {
      system: name,
      answered: records.length,
      promptTokens: records.reduce((s, r) => s + r.answer.promptTokens, 0),
      completionTokens: records.reduce((s, r) => s + r.answer.completionTokens, 0),
      wallSeconds: records.reduce((s, r) => s + r.answer.seconds, 0),
      emptyAnswers: records.filter((r) => r.answer.answer.trim() === "").length,
    };
    if (referenced.length > 0) {
      summary.rougeL = mean(referenced.map((r) => bestOver(rougeL, r.answer.answer, r.question.references)));
      summary.charF1 = mean(referenced.map((r) => bestOver(tokenF1, r.answer.answer, r.question.references)));
    }
    if (ratings.length > 0) {
      summary.judgeRating = mean(ratings);
      summary.ratedCount = ratings.length;
    }
    return summary;
  });
  const pairwise = judgements
    .filter((j): j is Extract<StoredJudgement, { kind: "pair" }> => j.kind === "pair" && questionIds.has(j.id))
    .map((j) => ({ id: j.id, a: j.a, b: j.b, winner: j.winner, consistent: j.consistent }));
  const result: OpenSetResult = {
    set,
    kind: "open",
    questions: questions.length,
    withReferences: questions.filter((q) => q.references.length > 0).length,
    ...(judge ? { judge: judge.id } : {}),
    systems: summaries,
    pairwise,
    winRates: winRecords(pairwise),
    bradleyTerry: pairwise.length > 0 ? bradleyTerryWithIntervals(pairwise, { samples: 500 }) : [],
    ...(pairwise.length > 0 ? { judgeConsistency: pairwise.filter((p) => p.consistent).length / pairwise.length } : {}),
  };
  writeFileAtomic(path.join(outDir, "open", `${set}.json`), JSON.stringify(result, null, 2) + "\n");
  return result;
}
