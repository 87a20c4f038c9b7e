/**
 * The lab's last step: one results folder with every route (the harness recomputes the summary from the
 * items already scored; no model is loaded), the open-ended summary over every route, report.html +
 * report.md via the report writer, and the comparison table printed at the end of `vertical lab`.
 * Each route gets a verdict from its paired 95% interval against the base: the numbers decide, and a
 * route that does not help is reported as such.
 */
import path from "node:path";
import { readOpenQuestions } from "../eval/open/questions.js";
import { runOpenEval } from "../eval/open/runOpenEval.js";
import { writeReport } from "../eval/report/writeReport.js";
import { itemsFile, readItemRecords } from "../eval/results.js";
import { runEvaluation } from "../eval/runEvaluation.js";
import { defineEvalSpec } from "../eval/spec.js";
import { bootstrapMeanCi, bootstrapPairedDeltaCi, type Estimate } from "../eval/stats/bootstrap.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { createLabBackend } from "./labBackend.js";
import type { LabConfig } from "./labConfig.js";
import { DOMAIN_MCQ, DOMAIN_OPEN, GENERAL_MCQ, type LabPaths } from "./labSteps.js";
import { answeredModel } from "./routeChatModels.js";
import { ROUTES, type RouteName } from "./routes.js";
import type { StepContext } from "./runSteps.js";

export interface ComparisonRow {
  route: string;
  description: string;
  domain: Estimate | null;
  /** Paired difference to the base on the same items, in accuracy (0.05 = 5 points). */
  domainDelta: Estimate | null;
  general: Estimate | null;
  generalDelta: Estimate | null;
  openRougeL: number | null;
  openCharF1: number | null;
  trainingTokens: number | null;
  trainingSeconds: number | null;
  /** From the domain interval: "better than base", "worse than base", "no clear difference", or "baseline". */
  verdict: string;
}

export interface LabReportOutputs {
  reportHtml: string;
  reportMarkdown: string;
  rows: ComparisonRow[];
}

function pairedEstimate(evalDir: string, system: string, set: string): { score: Estimate | null; delta: Estimate | null } {
  const records = readItemRecords(itemsFile(evalDir, system, set));
  if (records.length === 0) return { score: null, delta: null };
  const score = bootstrapMeanCi(records.map((record) => (record.correct ? 1 : 0)));
  if (system === "base") return { score, delta: null };
  const base = new Map(readItemRecords(itemsFile(evalDir, "base", set)).map((record) => [record.id, record.correct ? 1 : 0]));
  const pairs = records.filter((record) => base.has(record.id));
  if (pairs.length === 0) return { score, delta: null };
  const delta = bootstrapPairedDeltaCi(
    pairs.map((record) => (record.correct ? 1 : 0)),
    pairs.map((record) => base.get(record.id)!),
  );
  return { score, delta };
}

export function verdictOf(route: string, delta: Estimate | null): string {
  if (route === "base") return "baseline";
  if (!delta) return "not measured";
  if (delta.ci95[0] > 0) return "better than base";
  if (delta.ci95[1] < 0) return "worse than base";
  return "no clear difference";
}

export async function writeLabReport(options: {
  config: LabConfig;
  systems: Record<string, unknown>[];
  sets: Record<string, unknown>[];
  paths: LabPaths;
  context: StepContext;
}): Promise<LabReportOutputs> {
  const { config, paths } = options;
  const spec = defineEvalSpec({ name: config.name, systems: options.systems, sets: options.sets, baseSystem: "base" });
  // Every item was scored by the route steps: this only rewrites summary.json with all routes in it.
  await runEvaluation(spec, { outDir: paths.eval, createBackend: createLabBackend, resolveRetriever: async () => ({ id: "unused", retrieve: async () => [] }) });
  const questions = readOpenQuestions(config.data.open).slice(0, config.eval.openLimit ?? Infinity);
  const open = await runOpenEval({
    set: DOMAIN_OPEN,
    questions,
    systems: config.routes.map((route) => ({ name: route, model: answeredModel(route) })),
    outDir: paths.eval,
    base: "base",
  });
  const costs = new Map(options.systems.map((system) => [String(system.name), system]));
  const rows: ComparisonRow[] = config.routes.map((route: RouteName) => {
    const domain = pairedEstimate(paths.eval, route, DOMAIN_MCQ);
    const general = pairedEstimate(paths.eval, route, GENERAL_MCQ);
    const openSummary = open.systems.find((entry) => entry.system === route);
    const system = costs.get(route) ?? {};
    return {
      route,
      description: ROUTES[route].description,
      domain: domain.score,
      domainDelta: domain.delta,
      general: general.score,
      generalDelta: general.delta,
      openRougeL: openSummary?.rougeL ?? null,
      openCharF1: openSummary?.charF1 ?? null,
      trainingTokens: typeof system.trainingTokens === "number" ? system.trainingTokens : null,
      trainingSeconds: typeof system.trainingSeconds === "number" ? system.trainingSeconds : null,
      verdict: verdictOf(route, domain.delta),
    };
  });
  const written = writeReport([paths.eval], {
    outDir: paths.out,
    title: `Vertical lab: ${config.name}`,
    extraColumns: [
      { header: "Training tokens", unit: "tokens", values: Object.fromEntries(rows.map((row) => [row.route, row.trainingTokens])) },
      { header: "Training wall time", unit: "seconds", values: Object.fromEntries(rows.map((row) => [row.route, row.trainingSeconds])) },
      { header: "Domain verdict (paired 95% CI vs base)", unit: "text", values: Object.fromEntries(rows.map((row) => [row.route, row.verdict])) },
    ],
  });
  writeFileAtomic(path.join(paths.out, "comparison.json"), JSON.stringify(rows, null, 2) + "\n");
  return { reportHtml: path.relative(paths.out, written.htmlPath), reportMarkdown: path.relative(paths.out, written.markdownPath), rows };
}
