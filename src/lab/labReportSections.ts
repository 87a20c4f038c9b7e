/**
 * The lab's own sections of report.html / report.md, after the evaluation tables:
 *   Data              what the routes trained and were measured on (documents, items, conversations dropped and why)
 *   Training          per stage: steps reached vs planned (a time cap that cut training shows here), tokens, loss
 *   Statistical power the minimum detectable difference of the paired test vs the base
 *   Sample answers    a few open questions, every route's answer (empty answers flagged)
 *   Retrieval         recall@k, MRR, nDCG@10 of each retrieval route's retriever next to its accuracy (labRetrievalMetrics.ts)
 *   Citations         citation recall/precision of the retrieval routes' open answers (labCitations.ts)
 *   Tools             tool calls made and failed by the tools route, per set (labToolsReport.ts)
 *   What this lab says the advisor (adviseLab.ts)
 */
import path from "node:path";
import type { AnswerRecord } from "../eval/open/runOpenEval.js";
import type { OpenQuestion } from "../eval/open/questions.js";
import type { ReportSection } from "../eval/report/reportModel.js";
import { readItemRecords } from "../eval/results.js";
import type { Advice } from "./adviseLab.js";
import { citationsSection, type RouteCitations } from "./labCitations.js";
import { describeDrops, type LabDataOutputs } from "./prepareLabData.js";
import type { TrainStageOutputs } from "./trainStage.js";

/** Power of the paired comparison against the base on one MCQ set. */
export interface PowerSummary {
  set: string;
  items: number;
  /** Largest discordant share among the routes (the conservative one), or null when no route was compared. */
  discordantRate: number | null;
  /** Minimum detectable difference at alpha 0.05 (two-sided), power 0.8, in accuracy units. */
  mdd: number | null;
  /** Items needed to resolve 10 points at that discordant share. */
  itemsFor10Points: number | null;
}

const pts = (value: number) => `${(value * 100).toFixed(1)} pts`;

export function describePower(power: PowerSummary): string {
  if (power.mdd === null || power.discordantRate === null) return `${power.set}: ${power.items} items; no route was compared with the base, so the power of the paired test is not known.`;
  const verdict = power.mdd <= 0.1 ? "a 10-point difference is resolvable" : `a 10-point difference is NOT resolvable (it needs ${power.itemsFor10Points} items)`;
  return (
    `${power.set}: with ${power.items} paired items and up to ${(power.discordantRate * 100).toFixed(0)}% of them discordant (the largest share among the routes), ` +
    `the paired test vs the base resolves ${pts(power.mdd)} (minimum detectable difference, alpha 0.05 two-sided, power 0.8): ${verdict}.`
  );
}

export const POWER_METHOD =
  "Method: normal approximation to McNemar's test on the paired 0/1 outcomes; with no true difference the variance of the paired difference is the discordant share p, so MDD = (z_0.975 + z_0.8) × sqrt(p / n).";

function dataSection(data: LabDataOutputs, counts: { domainMcq: number; generalMcq: number; open: number }): ReportSection {
  return {
    id: "lab-data",
    title: "Data",
    blocks: [
      {
        kind: "list",
        items: [
          `Domain documents: ${data.domainDocuments} (${data.domainTokens.toLocaleString("en-US")} tokens); ${data.domainDocumentsOverlappingEval} share a 13-gram with an evaluation item (kept: they are the knowledge source).`,
          `General text: ${data.generalDocuments} documents (${data.generalTokens.toLocaleString("en-US")} tokens).`,
          `SFT conversations: ${data.sftConversations} kept (${data.sftTokens.toLocaleString("en-US")} tokens); ${describeDrops(data.sftDroppedWhy ?? (data.sftDropped > 0 ? { "overlap an eval item": data.sftDropped } : {}))}; the small-data routes train on ${data.sftSmallConversations ?? 0} of them.`,
          `Evaluation: ${counts.domainMcq} domain MCQ items, ${counts.generalMcq} general MCQ items, ${counts.open} open questions.`,
        ],
      },
    ],
  };
}

function trainingSection(stages: Record<string, TrainStageOutputs>): ReportSection | null {
  const names = Object.keys(stages);
  if (names.length === 0) return null;
  // an imported stage ran elsewhere (--import-runs): no time cap of this lab applied to it
  const cut = names.filter((name) => stages[name]!.stoppedEarly && !stages[name]!.importedFrom);
  return {
    id: "lab-training",
    title: "Training",
    blocks: [
      {
        kind: "table",
        header: ["Stage", "Steps reached / planned", "Tokens", "Wall time", "Final loss"],
        rows: names.map((name) => {
          const stage = stages[name]!;
          return [
            name,
            `${stage.steps} / ${stage.plannedSteps}${stage.importedFrom ? " (trained elsewhere, imported)" : stage.stoppedEarly ? " (cut by its time cap)" : ""}`,
            stage.tokens.toLocaleString("en-US"),
            `${Math.round(stage.seconds)} s`,
            Number.isFinite(stage.finalLoss) ? stage.finalLoss.toFixed(3) : "–",
          ];
        }),
      },
      ...(cut.length > 0
        ? [{ kind: "paragraph" as const, text: `A time cap (budgets.*.minutes) stopped ${cut.join(", ")} before their planned steps: those routes are less trained than lab.yaml asked, and their scores depend on this machine's speed.` }]
        : []),
    ],
  };
}

function samplesSection(evalDir: string, set: string, questions: readonly OpenQuestion[], routes: readonly string[]): ReportSection | null {
  if (questions.length === 0) return null;
  const answers = new Map(readItemRecords<AnswerRecord>(path.join(evalDir, "open", set, "answers.jsonl")).map((record) => [`${record.system}\u0000${record.id}`, record.answer]));
  const shown = (text: string | undefined) => {
    if (text === undefined) return "(not answered)";
    if (text.trim() === "") return "(EMPTY: only whitespace — scored 0)";
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  };
  return {
    id: "lab-samples",
    title: "Sample answers",
    blocks: questions.flatMap((question) => [
      { kind: "paragraph" as const, text: `${question.id}: ${question.question}${question.references[0] ? ` — reference: ${question.references[0]}` : ""}` },
      { kind: "table" as const, header: ["Route", "Answer"], rows: routes.map((route) => [route, shown(answers.get(`${route}\u0000${question.id}`))]) },
    ]),
  };
}

function adviceSection(advice: Advice, power: PowerSummary[]): ReportSection {
  return {
    id: "lab-advice",
    title: "What this lab says",
    blocks: [
      { kind: "paragraph", text: "Generated from the numbers above: a rule is supported or contradicted only where the paired 95% interval excludes 0; otherwise it is not resolved." },
      { kind: "list", items: advice.perRoute },
      { kind: "list", items: advice.rules.map((finding) => finding.sentence) },
      { kind: "list", items: [...advice.closing, ...power.map(describePower)] },
    ],
  };
}

export function labReportSections(options: {
  evalDir: string;
  data: LabDataOutputs;
  stages: Record<string, TrainStageOutputs>;
  counts: { domainMcq: number; generalMcq: number; open: number };
  openSet: string;
  sampleQuestions: readonly OpenQuestion[];
  routes: readonly string[];
  power: PowerSummary[];
  advice: Advice;
  citations?: readonly RouteCitations[];
  retrieval?: ReportSection | null;
  tools?: ReportSection | null;
}): ReportSection[] {
  return [
    dataSection(options.data, options.counts),
    trainingSection(options.stages),
    { id: "lab-power", title: "Statistical power", blocks: [{ kind: "list" as const, items: options.power.map(describePower) }, { kind: "paragraph" as const, text: POWER_METHOD }] },
    samplesSection(options.evalDir, options.openSet, options.sampleQuestions, options.routes),
    options.retrieval ?? null,
    citationsSection(options.citations ?? []),
    options.tools ?? null,
    adviceSection(options.advice, options.power),
  ].filter((section): section is ReportSection => section !== null);
}
