/**
 * The report's Tools section: for each route that answers through the tool loop, per evaluation set,
 * how many answers it gave, how many of them made at least one tool call, the calls made and failed,
 * and the calls per tool — read back from the scored items and open answers, which record them. A
 * route whose count is 0 answered without ever using a tool: its score is the model's alone.
 */
import path from "node:path";
import type { AnswerRecord } from "../eval/open/runOpenEval.js";
import type { ReportSection } from "../eval/report/reportModel.js";
import { itemsFile, readItemRecords, type McqItemRecord } from "../eval/results.js";
import type { ToolCallCounts } from "../llm/types.js";

export interface ToolUseSummary {
  route: string;
  set: string;
  answers: number;
  /** Answers that made at least one call. */
  withCalls: number;
  made: number;
  failed: number;
  byTool: Record<string, number>;
}

/** Sums the tool use recorded on `records` (records without any are answers given with no tools offered). */
export function summariseToolUse(route: string, set: string, records: readonly { toolUse?: ToolCallCounts }[]): ToolUseSummary {
  const summary: ToolUseSummary = { route, set, answers: records.length, withCalls: 0, made: 0, failed: 0, byTool: {} };
  for (const { toolUse } of records) {
    if (!toolUse) continue;
    if (toolUse.made > 0) summary.withCalls++;
    summary.made += toolUse.made;
    summary.failed += toolUse.failed;
    for (const [tool, count] of Object.entries(toolUse.byTool)) summary.byTool[tool] = (summary.byTool[tool] ?? 0) + count;
  }
  return summary;
}

/** Each tools route's use per MCQ set (`mcqSets`) and on the open set, from the results folder. */
export function readToolUse(evalDir: string, routes: readonly string[], mcqSets: readonly string[], openSet: string): ToolUseSummary[] {
  const answers = readItemRecords<AnswerRecord>(path.join(evalDir, "open", openSet, "answers.jsonl"));
  return routes.flatMap((route) => [
    ...mcqSets.map((set) => summariseToolUse(route, set, readItemRecords<McqItemRecord>(itemsFile(evalDir, route, set)))),
    summariseToolUse(route, openSet, answers.filter((answer) => answer.system === route)),
  ]);
}

export function toolsSection(summaries: readonly ToolUseSummary[], toolNames: readonly string[]): ReportSection | null {
  if (summaries.length === 0) return null;
  const byTool = (summary: ToolUseSummary) => Object.entries(summary.byTool).map(([tool, count]) => `${tool} ${count}`).join(", ") || "–";
  return {
    id: "lab-tools",
    title: "Tools",
    blocks: [
      {
        kind: "table",
        header: ["Route", "Set", "Answers", "Answers with a tool call", "Tool calls", "Failed calls", "Calls per tool"],
        rows: summaries.map((summary) => [summary.route, summary.set, String(summary.answers), String(summary.withCalls), String(summary.made), String(summary.failed), byTool(summary)]),
      },
      {
        kind: "paragraph",
        text:
          `Offered: ${toolNames.join(", ") || "no tools"} (the lab folder's tools.yaml). A failed call is one the loop could not run — an unknown tool, arguments that fail the tool's schema, a refused or failed query — and whose error the model read back. ` +
          "MCQ items are answered by generation and the letter extracted from the final answer; a route with 0 calls answered from the model alone.",
      },
    ],
  };
}
