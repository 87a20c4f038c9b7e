/**
 * Citation recall and precision (ALCE's definitions, src/rag/citations/checkCitations.ts) of every
 * retrieval route's open-ended answers, for the lab report. The passages each answer was shown are
 * retrieved again with the same retriever, query and k as the route step used (BM25 over fixed chunks
 * is deterministic), so the check needs no stored prompts. Judged lexically: the lab loads no extra
 * model for this; the entailment judge is in the library for callers that configure one.
 */
import path from "node:path";
import type { AnswerRecord } from "../eval/open/runOpenEval.js";
import type { OpenQuestion } from "../eval/open/questions.js";
import type { ReportSection } from "../eval/report/reportModel.js";
import { readItemRecords } from "../eval/results.js";
import type { Retriever } from "../llm/retriever.js";
import { checkCitations, summariseCitations, type CitationSummary } from "../rag/citations/checkCitations.js";
import { lexicalSupportJudge, type SupportJudge } from "../rag/citations/supportJudge.js";

export interface RouteCitations {
  route: string;
  summary: CitationSummary;
}

export async function measureLabCitations(options: {
  evalDir: string;
  set: string;
  questions: readonly OpenQuestion[];
  /** Routes whose answers were given with retrieved passages. */
  routes: readonly string[];
  retriever: Retriever;
  k: number;
  judge?: SupportJudge;
}): Promise<RouteCitations[]> {
  if (options.routes.length === 0) return [];
  const judge = options.judge ?? lexicalSupportJudge();
  const answers = readItemRecords<AnswerRecord>(path.join(options.evalDir, "open", options.set, "answers.jsonl"));
  const shown = new Map<string, Awaited<ReturnType<Retriever["retrieve"]>>>();
  for (const question of options.questions)
    shown.set(question.id, await options.retriever.retrieve(question.question, options.k));
  const results: RouteCitations[] = [];
  for (const route of options.routes) {
    const checks = [];
    for (const record of answers.filter((answer) => answer.system === route && shown.has(answer.id)))
      checks.push(await checkCitations(record.answer, shown.get(record.id)!, judge));
    results.push({ route, summary: summariseCitations(checks) });
  }
  return results;
}

const share = (value: number) => `${(value * 100).toFixed(1)}%`;

export function citationsSection(rows: readonly RouteCitations[]): ReportSection | null {
  if (rows.length === 0) return null;
  return {
    id: "lab-citations",
    title: "Citations",
    blocks: [
      {
        kind: "table",
        header: ["Route", "Answers", "Answers citing [n]", "Citation recall", "Citation precision"],
        rows: rows.map(({ route, summary }) => [
          route,
          String(summary.answers),
          String(summary.answersWithCitations),
          share(summary.recall),
          share(summary.precision),
        ]),
      },
      {
        kind: "paragraph",
        text:
          "Per answer (then averaged, as ALCE does): recall = sentences whose cited passages together support them / sentences; " +
          "precision = citations that are needed (they support the sentence alone, or the other citations no longer do) / citations. " +
          "Support here is lexical: at least half of the sentence's distinct content words (jieba words for Chinese) occur in the cited passages. " +
          "An answer that cites nothing scores 0 on both. See docs/eval-results.md, Citations.",
      },
    ],
  };
}
