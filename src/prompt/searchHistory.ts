/**
 * The optimiser's search history, one JSON object a line, appended as the search goes: every
 * candidate when it is proposed, every score when it is measured. It is also the checkpoint: a rerun
 * reads it back, keeps the candidates it lists and never re-scores a (candidate, rung) it has a score for.
 * A torn last line (the process killed mid-write) is dropped.
 */
import fs from "node:fs";
import path from "node:path";
import type { PromptTemplate } from "./promptTemplate.js";

export interface CandidateRecord {
  type: "candidate";
  id: string;
  template: PromptTemplate;
  /** seed: the starting prompt or a --seed; rewrite: the rewriter's proposal from `parent`. */
  source: "seed" | "rewrite";
  parent?: string;
  /** Set when a rewrite was empty or repeated an earlier candidate: it used its budget slot, it is not scored. */
  rejected?: "empty" | "repeat" | "too-long";
  /** Rewriter tokens spent proposing it. */
  tokens?: { prompt: number; completion: number };
}

export interface ScoreRecord {
  type: "score";
  id: string;
  /** Successive-halving rung: rung r is scored on the first `items` dev items. */
  rung: number;
  items: number;
  mean: number;
  ci95: [number, number];
  /** Per dev item, in dev order: the paired comparisons and the final pick use them. */
  scores: number[];
  /** Model tokens the scoring read (context + continuation). */
  tokens: number;
}

export type HistoryRecord = CandidateRecord | ScoreRecord;

export function readHistory(file: string): HistoryRecord[] {
  if (!fs.existsSync(file)) return [];
  const records: HistoryRecord[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line) as HistoryRecord);
    } catch {
      // A line torn by a kill: what it described is simply done again.
      break;
    }
  }
  return records;
}

export function appendHistory(file: string, record: HistoryRecord): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${JSON.stringify(record)}\n`);
}
