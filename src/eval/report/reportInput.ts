/**
 * What a report is made from: one or more results folders of `vertical eval run` (summary.json,
 * per-item JSONL) plus the open-ended summaries under `open/`. Several folders merge by system and
 * set name (a later folder's row for the same system and set replaces an earlier one), so the lab
 * can evaluate routes in separate runs and still get one table.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../../shared/errors.js";
import type { OpenSetResult } from "../open/runOpenEval.js";
import { readResults, type EvalSummary, type McqItemRecord } from "../results.js";

export interface ReportInput {
  /** Where it came from (a folder path, or a name the caller chooses). */
  source: string;
  summary: EvalSummary;
  /** Open-ended set summaries (open/<set>.json). */
  open: OpenSetResult[];
  /** Per-item records, used for paired intervals of deltas; may return [] when unknown. */
  items: (system: string, set: string) => McqItemRecord[];
}

/** Reads one results folder: summary.json (via readResults) and every open/<set>.json. */
export function loadReportInput(folder: string): ReportInput {
  const loaded = readResults(folder);
  const openDir = path.join(folder, "open");
  const open: OpenSetResult[] = [];
  if (fs.existsSync(openDir))
    for (const name of fs.readdirSync(openDir).sort()) {
      if (!name.endsWith(".json")) continue;
      const file = path.join(openDir, name);
      try {
        const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as OpenSetResult;
        if (parsed.kind !== "open" || !Array.isArray(parsed.systems))
          throw new Error('expected {kind: "open", systems: [...]}');
        open.push(parsed);
      } catch (error) {
        throw new InputError(`not an open-ended result: ${(error as Error).message}`, { where: file, cause: error });
      }
    }
  return { source: folder, summary: loaded.summary, open, items: loaded.items };
}
