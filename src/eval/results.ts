/**
 * The results folder of `vertical eval run` (format: docs/eval-results.md): record and summary types,
 * the append-only per-item JSONL that makes runs resumable, and readers for the report and the lab.
 */
import fs from "node:fs";
import path from "node:path";
import type { EndpointCounts } from "../llm/endpointPool.js";
import type { RetrievedPassage } from "../llm/retriever.js";
import type { ToolCallCounts } from "../llm/types.js";
import { InputError } from "../shared/errors.js";
import type { Estimate } from "./stats/bootstrap.js";

export const RESULTS_FORMAT_VERSION = 1;

export interface OptionScore {
  /** Natural log; null when the option was not among the alternatives a chat endpoint returned (logprobs: chat). */
  logprob: number | null;
  tokenCount: number;
  isGreedy: boolean;
  /** Code points of the choice text (what acc_norm divides by); option mode only. */
  chars?: number;
}

export interface McqItemRecord {
  id: string;
  set: string;
  system: string;
  subject: string;
  kind: "mcq";
  row: number;
  prompt: string;
  letters: string[];
  gold: string;
  prediction: string | null;
  correct: boolean;
  predictionNorm?: string | null;
  correctNorm?: boolean;
  scores?: Record<string, OptionScore>;
  generation?: string;
  retrieved?: RetrievedPassage[];
  /** Contextual calibration (a template's calibration: contextual): the option bias and the prediction before it. */
  calibration?: { bias: Record<string, number>; uncalibrated: string | null };
  /** Whether this item's prompt went through the chat template (absent in results written before it was recorded). */
  templateApplied?: boolean;
  /** A system that answers through a tool loop: the calls it made for this item. */
  toolUse?: ToolCallCounts;
  tokens: { prompt: number; completion: number };
  wallMs: number;
}

export type ScoringModeName = "letter" | "option" | "generate";

export interface SystemSummary {
  name: string;
  isBase: boolean;
  backend: string;
  model: string;
  adapters: { path: string; scale: number }[];
  /** Backend id, when the backend was built. */
  id: string | null;
  scoring: ScoringModeName;
  templateApplied: boolean;
  trainingTokens: number | null;
  trainingSeconds: number | null;
  /** Through an endpoint pool: requests, failures and retries per endpoint in the last run. */
  endpoints?: EndpointCounts[];
}

export interface SetSummary {
  name: string;
  kind: "mcq" | "open";
  general: boolean;
  path: string;
  n: number;
}

export interface ResultRow {
  system: string;
  set: string;
  kind: "mcq";
  general: boolean;
  status: "complete" | "partial" | "failed";
  error: string | null;
  scoring: ScoringModeName;
  templateApplied: boolean;
  shots: number;
  n: number;
  total: number;
  accuracy: Estimate | null;
  accuracyNorm: Estimate | null;
  perSubject: Record<string, { n: number; accuracy: Estimate }>;
  unanswered: number;
  tokens: { prompt: number; completion: number };
  wallSeconds: number;
}

export interface ForgettingRow {
  system: string;
  set: string;
  metric: "accuracy";
  score: number;
  baseScore: number;
  delta: number;
  ci95: [number, number];
  n: number;
}

export interface EvalSummary {
  formatVersion: number;
  name: string;
  createdAt: string;
  updatedAt: string;
  complete: boolean;
  baseSystem: string;
  systems: SystemSummary[];
  sets: SetSummary[];
  results: ResultRow[];
  forgetting: ForgettingRow[];
}

export function itemsFile(outDir: string, system: string, set: string): string {
  return path.join(outDir, "items", system, `${set}.jsonl`);
}

/**
 * Records already in an items file. A last line cut off by a crash is dropped from the file, so the
 * next append starts on a fresh line; every other bad line is an error naming the file and line.
 */
export function readItemRecords<T extends { id: string } = McqItemRecord>(file: string, { repair = false } = {}): T[] {
  if (!fs.existsSync(file)) return [];
  let text = fs.readFileSync(file, "utf8");
  if (text.length > 0 && !text.endsWith("\n")) {
    const cut = text.lastIndexOf("\n") + 1;
    if (repair) fs.truncateSync(file, Buffer.byteLength(text.slice(0, cut)));
    text = text.slice(0, cut);
  }
  const records: T[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      records.push(JSON.parse(line) as T);
    } catch (error) {
      throw new InputError(`not valid JSON: ${(error as Error).message}`, {
        where: `${file}:${index + 1}`,
        hint: "Delete this line (or the file) and run again: the items on it will be scored again.",
      });
    }
  });
  return records;
}

/** Appends one record as a line; the write is a single append, so a crash leaves at most one partial line. */
export function appendItemRecord(file: string, record: object): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(record) + "\n");
}

export interface LoadedResults {
  outDir: string;
  summary: EvalSummary;
  /** Parsed per-item records of one system on one set (empty if none). */
  items(system: string, set: string): McqItemRecord[];
}

/** Reads a results folder written by runEvaluation. */
export function readResults(outDir: string): LoadedResults {
  const summaryFile = path.join(outDir, "summary.json");
  if (!fs.existsSync(summaryFile))
    throw new InputError("no summary.json: not a results folder of `vertical eval run`", { where: outDir });
  const summary = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as EvalSummary;
  if (summary.formatVersion !== RESULTS_FORMAT_VERSION)
    throw new InputError(`results format ${summary.formatVersion}, this version reads ${RESULTS_FORMAT_VERSION}`, {
      where: summaryFile,
    });
  return { outDir, summary, items: (system, set) => readItemRecords(itemsFile(outDir, system, set)) };
}
