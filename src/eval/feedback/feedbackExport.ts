/**
 * User feedback as the files the rest of Vertical reads unchanged, one JSON object a line:
 * - eval: the open-ended set (`{id, question, reference, subject}`, src/eval/open/questions.ts) — a
 *   correction is the reference; an answer with a thumbs up and no correction is one too;
 * - sft: conversations in OpenAI format (`{messages}`, src/data/conversations.ts) ending with the
 *   corrected answer — only corrections teach;
 * - preference: TRL's conversational preference format (`{prompt, chosen, rejected}`), the correction
 *   chosen over the answer the system gave.
 * When one response got feedback more than once, the latest says what counts.
 */
import type { FeedbackRecord } from "./feedbackStore.js";

export type FeedbackExportKind = "eval" | "sft" | "preference";

/** The latest feedback per response, in the order responses first got feedback. */
function latestPerResponse(records: readonly FeedbackRecord[]): FeedbackRecord[] {
  const latest = new Map<string, FeedbackRecord>();
  for (const record of records) {
    const merged = { ...latest.get(record.response.id), ...record };
    latest.set(record.response.id, merged);
  }
  return [...latest.values()];
}

const corrected = (record: FeedbackRecord) => record.correction !== undefined && record.correction.trim() !== record.response.answer.trim();

function evalLine(record: FeedbackRecord): object | undefined {
  const reference = record.correction ?? (record.rating === 1 ? record.response.answer : undefined);
  if (reference === undefined) return undefined;
  return { id: record.response.id, question: record.response.question, reference, subject: record.response.system };
}

function sftLine(record: FeedbackRecord): object | undefined {
  if (!corrected(record)) return undefined;
  return { messages: [...record.response.messages, { role: "assistant", content: record.correction }] };
}

function preferenceLine(record: FeedbackRecord): object | undefined {
  if (!corrected(record)) return undefined;
  return {
    prompt: record.response.messages,
    chosen: [{ role: "assistant", content: record.correction }],
    rejected: [{ role: "assistant", content: record.response.answer }],
  };
}

const lineMakers: Record<FeedbackExportKind, (record: FeedbackRecord) => object | undefined> = {
  eval: evalLine,
  sft: sftLine,
  preference: preferenceLine,
};

/** JSONL text (ends with a newline when not empty) and how many lines it holds. */
export function exportFeedback(records: readonly FeedbackRecord[], kind: FeedbackExportKind): { text: string; lines: number } {
  const lines = latestPerResponse(records)
    .map(lineMakers[kind])
    .filter((line): line is object => line !== undefined)
    .map((line) => JSON.stringify(line));
  return { text: lines.length ? `${lines.join("\n")}\n` : "", lines: lines.length };
}
