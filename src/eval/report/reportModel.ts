/**
 * The numbers of a report, computed once from the inputs; the HTML and Markdown renderers only
 * format them, so both always show the same values.
 *
 * - Accuracy per system x MCQ set: the value and bootstrap 95% interval from summary.json, as is.
 * - Delta vs the base: value - base value. Its interval is a paired bootstrap over the items both
 *   systems finished (bootstrapPairedDeltaCi), when the per-item files are there; else no interval.
 * - Forgetting: the delta on general sets; summary.json's `forgetting` rows are used when present.
 * - Cost: tokens and wall time summed over all sets (MCQ and open-ended answering), training
 *   tokens/time from the system summaries, plus caller-supplied extra columns (the lab's routes).
 */
import { InputError } from "../../shared/errors.js";
import type { OpenSetResult } from "../open/runOpenEval.js";
import type { RaterAgreement } from "../ratings/agreement.js";
import type { ResultRow, SystemSummary } from "../results.js";
import { bradleyTerryWithIntervals, type RatingInterval } from "../stats/bradleyTerry.js";
import { winRecords, type PairwiseOutcome, type WinRecord } from "../stats/pairwise.js";
import { bootstrapPairedDeltaCi, type Estimate } from "../stats/bootstrap.js";
import type { ReportInput } from "./reportInput.js";

export interface ExtraColumn {
  /** Column header, e.g. "Training tokens". */
  header: string;
  /** Value per system name; missing systems show "–". */
  values: Record<string, string | number | null | undefined>;
  /** How numbers are written. Defaults to "number". */
  unit?: "number" | "tokens" | "seconds" | "text";
}

export interface AccuracyCell {
  system: string;
  set: string;
  status: ResultRow["status"];
  n: number;
  total: number;
  accuracy: Estimate | null;
  accuracyNorm: Estimate | null;
  scoring: ResultRow["scoring"];
  templateApplied: boolean;
  shots: number;
  /** Against the base system on the same set; absent for the base itself or when either is missing. */
  delta?: { value: number; ci95: [number, number] | null; n: number };
}

export interface ForgettingEntry {
  system: string;
  set: string;
  score: number;
  baseScore: number;
  delta: number;
  ci95: [number, number] | null;
  n: number;
}

/** A block of a caller-supplied section: a paragraph, a bullet list or a table (plain text; renderers escape). */
export type ReportBlock =
  | { kind: "paragraph"; text: string }
  | { kind: "list"; items: string[] }
  | { kind: "table"; header: string[]; rows: string[][] };

/** A section the caller adds after the built-in ones (the lab: data summary, training, samples, advisor). */
export interface ReportSection {
  /** Anchor of the HTML section. */
  id: string;
  title: string;
  blocks: ReportBlock[];
}

export interface CostRow {
  system: string;
  promptTokens: number;
  completionTokens: number;
  wallSeconds: number;
  trainingTokens: number | null;
  trainingSeconds: number | null;
  extra: Array<string | number | null>;
}

/** People's pairwise preferences (RatingsStore.pairwiseOutcomes()) and their agreement. */
export interface HumanRatingsInput {
  outcomes: PairwiseOutcome[];
  agreement?: RaterAgreement[];
}

export interface HumanRatingsSummary {
  comparisons: number;
  winRates: WinRecord[];
  bradleyTerry: RatingInterval[];
  agreement: RaterAgreement[];
}

export interface ReportModel {
  title: string;
  generatedAt: string;
  sources: string[];
  base: string;
  systems: SystemSummary[];
  mcqSets: Array<{ name: string; general: boolean; n: number }>;
  cells: AccuracyCell[];
  forgetting: ForgettingEntry[];
  open: OpenSetResult[];
  costs: CostRow[];
  extraColumns: ExtraColumn[];
  human?: HumanRatingsSummary;
  /** Caller-supplied sections, rendered last in the given order. */
  sections: ReportSection[];
  /** Rows that did not finish, shown as a warning. */
  incomplete: Array<{ system: string; set: string; status: string; error: string | null }>;
}

export function cellOf(model: ReportModel, system: string, set: string): AccuracyCell | undefined {
  return model.cells.find((c) => c.system === system && c.set === set);
}

/** Paired delta over the items both systems have, by id. */
function pairedDelta(input: ReportInput, baseInput: ReportInput, system: string, base: string, set: string) {
  const mine = input.items(system, set);
  const theirs = new Map(baseInput.items(base, set).map((r) => [r.id, r.correct ? 1 : 0]));
  const a: number[] = [];
  const b: number[] = [];
  for (const record of mine)
    if (theirs.has(record.id)) {
      a.push(record.correct ? 1 : 0);
      b.push(theirs.get(record.id)!);
    }
  return a.length === 0 ? undefined : { estimate: bootstrapPairedDeltaCi(a, b), n: a.length };
}

export function buildReportModel(
  inputs: readonly ReportInput[],
  options: { title?: string; extraColumns?: ExtraColumn[]; now?: () => Date; humanRatings?: HumanRatingsInput; sections?: ReportSection[] } = {},
): ReportModel {
  if (inputs.length === 0) throw new InputError("a report needs at least one results folder.");
  const base = inputs[0]!.summary.baseSystem;
  const systems = new Map<string, SystemSummary>();
  const sets = new Map<string, { name: string; general: boolean; n: number }>();
  // system\0set -> the row and the input it came from (later inputs win).
  const rows = new Map<string, { row: ResultRow; input: ReportInput }>();
  const forgettingRows = new Map<string, ForgettingEntry>();
  const open = new Map<string, OpenSetResult>();
  for (const input of inputs) {
    for (const system of input.summary.systems) systems.set(system.name, { ...system, isBase: system.name === base });
    for (const set of input.summary.sets)
      if (set.kind === "mcq") sets.set(set.name, { name: set.name, general: set.general, n: set.n });
    for (const row of input.summary.results)
      if (row.kind === "mcq") rows.set(`${row.system}\u0000${row.set}`, { row, input });
    for (const f of input.summary.forgetting ?? [])
      if (input.summary.baseSystem === base) forgettingRows.set(`${f.system}\u0000${f.set}`, { ...f });
    for (const result of input.open) open.set(result.set, result);
  }
  if (!systems.has(base))
    throw new InputError(`the base system "${base}" is not among the systems of the results.`, {
      where: inputs[0]!.source,
    });

  const cells: AccuracyCell[] = [];
  for (const { row, input } of rows.values()) {
    const cell: AccuracyCell = {
      system: row.system,
      set: row.set,
      status: row.status,
      n: row.n,
      total: row.total,
      accuracy: row.accuracy,
      accuracyNorm: row.accuracyNorm ?? null,
      scoring: row.scoring,
      templateApplied: row.templateApplied,
      shots: row.shots,
    };
    const baseRow = rows.get(`${base}\u0000${row.set}`);
    if (row.system !== base && baseRow && row.accuracy && baseRow.row.accuracy) {
      const paired = pairedDelta(input, baseRow.input, row.system, base, row.set);
      cell.delta = paired
        ? { value: paired.estimate.value, ci95: paired.estimate.ci95, n: paired.n }
        : { value: row.accuracy.value - baseRow.row.accuracy.value, ci95: null, n: Math.min(row.n, baseRow.row.n) };
    }
    cells.push(cell);
  }

  const forgetting: ForgettingEntry[] = [];
  for (const cell of cells) {
    if (!sets.get(cell.set)?.general || cell.system === base || !cell.delta || !cell.accuracy) continue;
    const stored = forgettingRows.get(`${cell.system}\u0000${cell.set}`);
    const baseCell = cells.find((c) => c.system === base && c.set === cell.set)!;
    forgetting.push(
      stored ?? {
        system: cell.system,
        set: cell.set,
        score: cell.accuracy.value,
        baseScore: baseCell.accuracy!.value,
        delta: cell.delta.value,
        ci95: cell.delta.ci95,
        n: cell.delta.n,
      },
    );
  }

  // Extra columns that carry the training figures (the lab's "Training tokens" / "Training wall time")
  // fill the built-in columns instead of repeating them; numbers from summary.json win where both exist.
  const trainingColumn = (column: ExtraColumn) => {
    const header = column.header.trim().toLowerCase();
    return header === "training tokens"
      ? "tokens"
      : ["training time", "training wall time", "training seconds"].includes(header)
        ? "seconds"
        : undefined;
  };
  const trainingFrom = (kind: "tokens" | "seconds", system: string): number | null => {
    for (const column of options.extraColumns ?? []) {
      const value = column.values[system];
      if (trainingColumn(column) === kind && typeof value === "number") return value;
    }
    return null;
  };
  const extraColumns = (options.extraColumns ?? []).filter((column) => trainingColumn(column) === undefined);
  const systemOrder = [...systems.keys()].sort((x, y) => (x === base ? -1 : y === base ? 1 : 0));
  const costs: CostRow[] = systemOrder.map((name) => {
    const system = systems.get(name)!;
    let promptTokens = 0;
    let completionTokens = 0;
    let wallSeconds = 0;
    for (const cell of rows.values())
      if (cell.row.system === name) {
        promptTokens += cell.row.tokens.prompt;
        completionTokens += cell.row.tokens.completion;
        wallSeconds += cell.row.wallSeconds;
      }
    for (const result of open.values())
      for (const summary of result.systems)
        if (summary.system === name) {
          promptTokens += summary.promptTokens;
          completionTokens += summary.completionTokens;
          wallSeconds += summary.wallSeconds;
        }
    return {
      system: name,
      promptTokens,
      completionTokens,
      wallSeconds,
      trainingTokens: system.trainingTokens ?? trainingFrom("tokens", name),
      trainingSeconds: system.trainingSeconds ?? trainingFrom("seconds", name),
      extra: extraColumns.map((column) => column.values[name] ?? null),
    };
  });

  const setOrder = [...sets.values()].sort((x, y) => Number(x.general) - Number(y.general));
  return {
    title: options.title ?? inputs[0]!.summary.name ?? "Evaluation report",
    generatedAt: (options.now ?? (() => new Date()))().toISOString(),
    sources: inputs.map((i) => i.source),
    base,
    systems: systemOrder.map((name) => systems.get(name)!),
    mcqSets: setOrder,
    cells,
    forgetting,
    open: [...open.values()],
    costs,
    extraColumns,
    sections: options.sections ?? [],
    ...(options.humanRatings && options.humanRatings.outcomes.length > 0
      ? {
          human: {
            comparisons: options.humanRatings.outcomes.length,
            winRates: winRecords(options.humanRatings.outcomes),
            bradleyTerry: bradleyTerryWithIntervals(options.humanRatings.outcomes, { samples: 500 }),
            agreement: options.humanRatings.agreement ?? [],
          },
        }
      : {}),
    incomplete: [...rows.values()]
      .filter(({ row }) => row.status !== "complete")
      .map(({ row }) => ({ system: row.system, set: row.set, status: row.status, error: row.error })),
  };
}
