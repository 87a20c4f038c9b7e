/**
 * The `kind: "open"` rows an evaluation run puts in summary.json `results` for an open-ended set,
 * one per system (docs/eval-results.md, "Open-ended results"). The full detail stays in
 * open/<set>.json; these rows let a reader of summary.json alone see the headline numbers.
 */
import type { OpenSetResult } from "./runOpenEval.js";

export interface OpenResultRow {
  system: string;
  set: string;
  kind: "open";
  general: false;
  status: "complete";
  n: number;
  total: number;
  rougeL: number | null;
  charF1: number | null;
  judgeRating: number | null;
  /** Against the other systems this one was compared with (pairwise judge), ties as half. */
  winRate: number | null;
  bradleyTerry: { rating: number; ci95: [number, number] } | null;
  tokens: { prompt: number; completion: number };
  wallSeconds: number;
}

export function openResultRows(result: OpenSetResult): OpenResultRow[] {
  return result.systems.map((summary) => {
    const win = result.winRates.find((w) => w.system === summary.system);
    const rating = result.bradleyTerry.find((b) => b.system === summary.system);
    return {
      system: summary.system,
      set: result.set,
      kind: "open",
      general: false,
      status: "complete",
      n: summary.answered,
      total: result.questions,
      rougeL: summary.rougeL ?? null,
      charF1: summary.charF1 ?? null,
      judgeRating: summary.judgeRating ?? null,
      winRate: win?.winRate ?? null,
      bradleyTerry: rating ? { rating: rating.rating, ci95: [rating.low, rating.high] } : null,
      tokens: { prompt: summary.promptTokens, completion: summary.completionTokens },
      wallSeconds: summary.wallSeconds,
    };
  });
}
