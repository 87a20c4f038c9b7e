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
import { discordantRate, pairedItemsNeeded, pairedMinimumDetectableDifference } from "../eval/stats/power.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { createLabBackend } from "./labBackend.js";
import { labToolsFile, type LabConfig } from "./labConfig.js";
import { offeredToolNames, readToolsConfig } from "../tools/toolsConfig.js";
import { DOMAIN_MCQ, DOMAIN_OPEN, GENERAL_MCQ, type LabPaths } from "./labSteps.js";
import { adviseLab, type Advice } from "./adviseLab.js";
import { measureLabCitations } from "./labCitations.js";
import { labReportSections, type PowerSummary } from "./labReportSections.js";
import type { LabDataOutputs } from "./prepareLabData.js";
import { answeredModel } from "./routeChatModels.js";
import { measuredRetrieverKinds, retrieverKindsOf } from "./labRetrievalSteps.js";
import { readToolUse, toolsSection } from "./labToolsReport.js";
import type { LabEmbedderOutputs } from "./trainLabEmbedder.js";
import { retrievalSection, type RetrievalMetrics } from "./labRetrievalMetrics.js";
import type { Retriever } from "../llm/retriever.js";
import { ROUTES, retrieverKindOf, routeGenerates, routeUsesTools, type RetrieverKind, stageChain, stagesFor, type RouteDefinition, type RouteName } from "./routes.js";
import type { TrainStageOutputs } from "./trainStage.js";
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
  /** Open answers that were empty (only whitespace): scored 0, flagged. */
  openEmpty: number | null;
  trainingTokens: number | null;
  trainingSeconds: number | null;
  /** From the domain interval: "better than base", "worse than base", "no clear difference", or "baseline". */
  verdict: string;
}

export interface LabReportOutputs {
  reportHtml: string;
  reportMarkdown: string;
  rows: ComparisonRow[];
  /** Minimum detectable difference of the paired test vs the base, domain and general MCQ. */
  power: PowerSummary[];
  advice: Advice;
}

const outcomes = (evalDir: string, system: string, set: string) =>
  new Map(readItemRecords(itemsFile(evalDir, system, set)).map((record) => [record.id, record.correct ? 1 : 0]));

/** `first` - `second` over the items both scored, with its paired interval and discordant share. */
export function pairedBetween(evalDir: string, first: string, second: string, set: string): (Estimate & { n: number; discordantRate: number }) | null {
  const mine = outcomes(evalDir, first, set);
  const theirs = outcomes(evalDir, second, set);
  const a: number[] = [];
  const b: number[] = [];
  for (const [id, value] of mine)
    if (theirs.has(id)) {
      a.push(value);
      b.push(theirs.get(id)!);
    }
  if (a.length === 0) return null;
  return { ...bootstrapPairedDeltaCi(a, b), n: a.length, discordantRate: discordantRate(a, b) };
}

function pairedEstimate(evalDir: string, system: string, set: string) {
  const records = [...outcomes(evalDir, system, set).values()];
  if (records.length === 0) return { score: null, delta: null };
  const score = bootstrapMeanCi(records);
  return { score, delta: system === "base" ? null : pairedBetween(evalDir, system, "base", set) };
}

/** The power of the paired test vs the base on a set, at the largest discordant share among the routes. */
function powerOf(set: string, deltas: readonly ({ n: number; discordantRate: number } | null)[], items: number): PowerSummary {
  const measured = deltas.filter((delta) => delta !== null);
  if (measured.length === 0) return { set, items, discordantRate: null, mdd: null, itemsFor10Points: null };
  const rate = Math.max(...measured.map((delta) => delta.discordantRate));
  const n = Math.min(...measured.map((delta) => delta.n));
  return { set, items: n, discordantRate: rate, mdd: pairedMinimumDetectableDifference(n, rate), itemsFor10Points: rate > 0 ? pairedItemsNeeded(0.1, rate) : 0 };
}

/** Open questions whose answers the report shows for every route. */
const SAMPLE_QUESTIONS = 3;

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
  /** The retriever of each kind, as the route steps used it (the Citations check retrieves again). */
  retrieverOf: (kind: RetrieverKind) => Retriever;
}): Promise<LabReportOutputs> {
  const { config, paths } = options;
  const spec = defineEvalSpec({ name: config.name, systems: options.systems, sets: options.sets, baseSystem: "base" });
  // Every item was scored by the route steps: this only rewrites summary.json with all routes in it.
  await runEvaluation(spec, { outDir: paths.eval, createBackend: createLabBackend, resolveRetriever: async () => ({ id: "unused", retrieve: async () => [] }) });
  const questions = readOpenQuestions(config.data.open).slice(0, config.eval.openLimit ?? Infinity);
  const open = await runOpenEval({
    set: DOMAIN_OPEN,
    questions,
    systems: config.routes.filter(routeGenerates).map((route) => ({ name: route, model: answeredModel(route) })),
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
      openEmpty: openSummary?.emptyAnswers ?? null,
      trainingTokens: typeof system.trainingTokens === "number" ? system.trainingTokens : null,
      trainingSeconds: typeof system.trainingSeconds === "number" ? system.trainingSeconds : null,
      verdict: verdictOf(route, domain.delta),
    };
  });
  const power = [
    powerOf(DOMAIN_MCQ, rows.map((row) => row.domainDelta as ReturnType<typeof pairedBetween>), rows[0]?.domain ? outcomes(paths.eval, "base", DOMAIN_MCQ).size : 0),
    powerOf(GENERAL_MCQ, rows.map((row) => row.generalDelta as ReturnType<typeof pairedBetween>), outcomes(paths.eval, "base", GENERAL_MCQ).size),
  ];
  const domainPower = power[0]!;
  const stages = Object.fromEntries(stagesFor(config.routes).map((stage) => [stage, options.context.outputsOf(`train:${stage}`) as unknown as TrainStageOutputs]));
  const cutStages = (route: RouteName) =>
    stageChain((ROUTES[route] as RouteDefinition).stage)
      .filter((stage) => stages[stage]?.stoppedEarly)
      .map((stage) => `${stage} ${stages[stage]!.steps}/${stages[stage]!.plannedSteps}`);
  const advice = adviseLab({
    routes: rows.map((row) => ({ ...row, cutStages: cutStages(row.route as RouteName) })),
    paired: (first, second, set) => pairedBetween(paths.eval, first, second, set === "domain" ? DOMAIN_MCQ : GENERAL_MCQ),
    domainMdd: domainPower.mdd === null ? null : { value: domainPower.mdd, items: domainPower.items },
  });
  const retrievalRoutes = config.routes.filter((route) => (ROUTES[route] as RouteDefinition).prompting === "retrieval");
  const citations = await measureCitationsPerRetriever(config, retrievalRoutes, questions, paths, options.retrieverOf);
  const retrieval = retrievalSection(
    retrievalRoutes,
    (kind) => options.context.outputsOf(`retrieval:${kind}`) as unknown as RetrievalMetrics,
    (route) => rows.find((row) => row.route === route)?.domain?.value ?? null,
    measuredRetrieverKinds(retrievalRoutes),
  );
  if (retrieval && retrieverKindsOf(retrievalRoutes).includes("embedder"))
    retrieval.blocks.push({ kind: "paragraph", text: describeEmbedderTraining(options.context.outputsOf("train:embedder") as unknown as LabEmbedderOutputs) });
  const toolRoutes = config.routes.filter(routeUsesTools);
  const tools = toolsSection(readToolUse(paths.eval, toolRoutes, [DOMAIN_MCQ, GENERAL_MCQ], DOMAIN_OPEN), toolRoutes.length > 0 ? offeredTools(config) : []);
  const sections = labReportSections({
    evalDir: paths.eval,
    data: options.context.outputsOf("data") as unknown as LabDataOutputs,
    stages,
    counts: { domainMcq: outcomes(paths.eval, "base", DOMAIN_MCQ).size, generalMcq: outcomes(paths.eval, "base", GENERAL_MCQ).size, open: questions.length },
    openSet: DOMAIN_OPEN,
    sampleQuestions: questions.slice(0, SAMPLE_QUESTIONS),
    routes: config.routes,
    power,
    advice,
    citations,
    retrieval,
    tools,
  });
  const written = writeReport([paths.eval], {
    sections,
    outDir: paths.out,
    title: `Vertical lab: ${config.name}`,
    extraColumns: [
      { header: "Training tokens", unit: "tokens", values: Object.fromEntries(rows.map((row) => [row.route, row.trainingTokens])) },
      { header: "Training wall time", unit: "seconds", values: Object.fromEntries(rows.map((row) => [row.route, row.trainingSeconds])) },
      { header: "Domain verdict (paired 95% CI vs base)", unit: "text", values: Object.fromEntries(rows.map((row) => [row.route, row.verdict])) },
    ],
  });
  writeFileAtomic(path.join(paths.out, "comparison.json"), JSON.stringify(rows, null, 2) + "\n");
  return { reportHtml: path.relative(paths.out, written.htmlPath), reportMarkdown: path.relative(paths.out, written.markdownPath), rows, power, advice };
}

/** One sentence on the trained embedder behind the retrieval-embedder route. */
function describeEmbedderTraining(embedder: LabEmbedderOutputs): string {
  return (
    `The trained embedder: ${embedder.steps} of ${embedder.plannedSteps} steps${embedder.stoppedEarly ? " (cut by budgets.embedder.minutes)" : ""} on ${embedder.pairs} pairs mined from docs/ ` +
    `(${embedder.droppedPairs} dropped: their query overlaps an evaluation item), InfoNCE ${embedder.firstLoss.toFixed(3)} -> ${embedder.finalLoss.toFixed(3)} (chance ${embedder.chanceLoss.toFixed(3)}), ${embedder.seconds.toFixed(0)} s.`
  );
}

/** The tool names tools.yaml offers (as the route was asked with them). */
function offeredTools(config: LabConfig): string[] {
  return offeredToolNames(readToolsConfig(labToolsFile(config)));
}

/** Citation checks re-retrieve each route's passages with the retriever that route was asked with. */
async function measureCitationsPerRetriever(config: LabConfig, routes: readonly RouteName[], questions: Parameters<typeof measureLabCitations>[0]["questions"], paths: LabPaths, retrieverOf: (kind: RetrieverKind) => Retriever) {
  const measured: Awaited<ReturnType<typeof measureLabCitations>> = [];
  for (const kind of retrieverKindsOf(routes))
    measured.push(...(await measureLabCitations({ evalDir: paths.eval, set: DOMAIN_OPEN, questions, routes: routes.filter((route) => retrieverKindOf(route) === kind), retriever: retrieverOf(kind), k: config.retrieval.topK })));
  return routes.map((route) => measured.find((entry) => entry.route === route)!);
}
