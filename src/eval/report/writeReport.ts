/**
 * `writeReport(results, {outDir, title, extraColumns})` -> OUT/report.html + OUT/report.md.
 * `results` are results-folder paths or already loaded ReportInputs (the lab passes either).
 * Both files are written atomically.
 */
import path from "node:path";
import { writeFileAtomic } from "../../shared/atomicWrite.js";
import { loadReportInput, type ReportInput } from "./reportInput.js";
import { buildReportModel, type ExtraColumn, type HumanRatingsInput, type ReportModel, type ReportSection } from "./reportModel.js";
import { renderHtml } from "./renderHtml.js";
import { renderMarkdown } from "./renderMarkdown.js";

export interface WriteReportOptions {
  outDir: string;
  /** Defaults to the first results folder's eval name. */
  title?: string;
  /** Per-system columns added to the cost table (the lab: training tokens, training wall time per route). */
  extraColumns?: ExtraColumn[];
  /** People's preferences from the ratings database, shown as win rates, Bradley–Terry and agreement. */
  humanRatings?: HumanRatingsInput;
  /** Sections added after the built-in ones (the lab's data summary, training, sample answers, advisor). */
  sections?: ReportSection[];
  /** Injectable clock for the "Generated" line. */
  now?: () => Date;
}

export interface WrittenReport {
  htmlPath: string;
  markdownPath: string;
  model: ReportModel;
}

export function writeReport(results: ReadonlyArray<string | ReportInput>, options: WriteReportOptions): WrittenReport {
  const inputs = results.map((r) => (typeof r === "string" ? loadReportInput(r) : r));
  const model = buildReportModel(inputs, options);
  const htmlPath = path.join(options.outDir, "report.html");
  const markdownPath = path.join(options.outDir, "report.md");
  writeFileAtomic(htmlPath, renderHtml(model));
  writeFileAtomic(markdownPath, renderMarkdown(model));
  return { htmlPath, markdownPath, model };
}
