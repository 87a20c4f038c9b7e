/**
 * `vertical lab DIR`: validate DIR/lab.yaml (every error before any work), then run the lab's steps
 * resumably into DIR/out (or --out), printing progress and a total ETA, and end with the comparison
 * table and the path of report.html.
 */
import path from "node:path";
import Table from "cli-table3";
import { loadLabConfig, type LabConfig } from "./labConfig.js";
import { recordLabProgress } from "./labProgressFile.js";
import { buildLabSteps, refuseOverlongSequences } from "./labSteps.js";
import { printProgress, runSteps, formatDuration, type ProgressSink } from "./runSteps.js";
import type { Advice } from "./adviseLab.js";
import { describePower, POWER_METHOD, type PowerSummary } from "./labReportSections.js";
import type { ComparisonRow, LabReportOutputs } from "./writeLabReport.js";

export interface RunLabOptions {
  /** Defaults to DIR/out. */
  outDir?: string;
  signal?: AbortSignal;
  /** Defaults to printing lines on stderr. */
  onProgress?: ProgressSink;
  /** Overrides applied after loading lab.yaml (the e2e test shrinks budgets this way). */
  adjust?: (config: LabConfig) => LabConfig;
}

export interface LabRun {
  config: LabConfig;
  outDir: string;
  reportHtml: string;
  reportMarkdown: string;
  rows: ComparisonRow[];
  power: PowerSummary[];
  advice: Advice;
  seconds: number;
}

export async function runLab(folder: string, options: RunLabOptions = {}): Promise<LabRun> {
  const loaded = loadLabConfig(folder);
  const config = options.adjust ? options.adjust(loaded) : loaded;
  const outDir = path.resolve(options.outDir ?? path.join(config.folder, "out"));
  refuseOverlongSequences(config);
  const steps = buildLabSteps(config, outDir);
  const started = performance.now();
  const print = options.onProgress ?? printProgress((text) => process.stderr.write(text));
  // The console's Lab runs page reads the progress file while the lab runs.
  const record = recordLabProgress(outDir);
  const records = await runSteps(steps, {
    outDir,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (event) => (print(event), record(event)),
  });
  const report = records.report!.outputs as unknown as LabReportOutputs;
  return {
    config,
    outDir,
    reportHtml: path.join(outDir, report.reportHtml),
    reportMarkdown: path.join(outDir, report.reportMarkdown),
    rows: report.rows,
    power: report.power,
    advice: report.advice,
    seconds: (performance.now() - started) / 1000,
  };
}

const percent = (value: number | undefined | null) => (value === undefined || value === null || Number.isNaN(value) ? "–" : `${(value * 100).toFixed(1)}`);
const points = (value: number | undefined | null) => (value === undefined || value === null ? "–" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}`);

/**
 * The comparison table as printed at the end of the run (accuracies in %, differences in points), with a
 * footer: the minimum detectable difference of its paired test and any empty open answers.
 */
export function formatComparisonTable(rows: readonly ComparisonRow[], power: readonly PowerSummary[] = []): string {
  const table = new Table({
    head: ["route", "domain MCQ % [95% CI]", "vs base (pts)", "general MCQ %", "vs base (pts) [95% CI]", "open ROUGE-L", "open char-F1", "train tokens", "train time", "domain verdict"],
    style: { head: [], border: [] },
  });
  for (const row of rows) {
    table.push([
      row.route,
      row.domain ? `${percent(row.domain.value)} [${percent(row.domain.ci95[0])}, ${percent(row.domain.ci95[1])}]` : "–",
      row.domainDelta ? points(row.domainDelta.value) : "–",
      row.general ? percent(row.general.value) : "–",
      row.generalDelta ? `${points(row.generalDelta.value)} [${points(row.generalDelta.ci95[0])}, ${points(row.generalDelta.ci95[1])}]` : "–",
      row.openRougeL === null ? "–" : row.openRougeL.toFixed(3),
      row.openCharF1 === null ? "–" : row.openCharF1.toFixed(3),
      row.trainingTokens === null ? "–" : row.trainingTokens.toLocaleString("en-US"),
      row.trainingSeconds === null ? "–" : formatDuration(row.trainingSeconds),
      row.verdict,
    ]);
  }
  const empty = rows.filter((row) => (row.openEmpty ?? 0) > 0).map((row) => `${row.route} ${row.openEmpty}`);
  const footer = [
    ...power.map(describePower),
    ...(power.length > 0 ? [POWER_METHOD] : []),
    ...(empty.length > 0 ? [`Empty open answers (only whitespace, scored 0): ${empty.join(", ")}.`] : []),
  ];
  return [table.toString(), ...footer].join("\n");
}
