/**
 * Runs the lab's steps in order, resumably: a step already recorded under the same key is skipped, each
 * finished step is recorded at once, and an interruption (Ctrl-C through `signal`, or a kill) loses at
 * most the step in flight. Prints progress for every step and an ETA for the whole run.
 */
import { createHash } from "node:crypto";
import { InterruptedError } from "../shared/errors.js";
import { LabState, type StepRecord } from "./labState.js";

export type StepKind = "model" | "data" | "train" | "eval" | "report";

export interface StepContext {
  outDir: string;
  signal: AbortSignal | undefined;
  /** Outputs of an earlier step (finished in this run or a previous one). */
  outputsOf(step: string): Record<string, unknown>;
  /** Progress within the step: fraction done in [0, 1] and a short detail ("step 40/120, loss 3.2"). */
  progress(fraction: number, detail?: string): void;
  /** A line for the log (kept out of the progress line). */
  log(line: string): void;
}

export interface LabStep {
  /** Unique, shown in progress and used in the state file: "model", "train:cpt", "eval:sft", "report". */
  name: string;
  kind: StepKind;
  /** Everything the output depends on; steps that use another step's output include its key. */
  inputs: unknown;
  /** Names of steps whose outputs this one reads (their keys become part of this step's key). */
  after?: string[];
  /** Expected seconds before anything is measured; refined as steps of the same kind finish. */
  estimateSeconds: number;
  run(context: StepContext): Promise<Record<string, unknown>>;
}

export interface ProgressSink {
  (event: ProgressEvent): void;
}

export type ProgressEvent =
  | { type: "skip"; index: number; total: number; step: string; record: StepRecord }
  | { type: "start"; index: number; total: number; step: string; etaSeconds: number }
  | { type: "progress"; index: number; total: number; step: string; fraction: number; detail?: string; etaSeconds: number }
  | { type: "log"; step: string; line: string }
  | { type: "finish"; index: number; total: number; step: string; seconds: number; etaSeconds: number };

export interface RunStepsOptions {
  outDir: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  /** Injectable clock (ms). */
  now?: () => number;
}

function hash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/**
 * The key each step is recorded under: a hash of its inputs and its upstream steps' keys. Exported so that
 * work done outside the lab (`--import-runs`) is recorded exactly where a run of the lab would look for it.
 */
export function stepKeys(steps: readonly LabStep[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const step of steps) {
    for (const upstream of step.after ?? [])
      if (!keys.has(upstream)) throw new Error(`lab step "${step.name}" runs after "${upstream}", which is not an earlier step`);
    keys.set(step.name, hash({ inputs: step.inputs, after: (step.after ?? []).map((name) => [name, keys.get(name)]) }));
  }
  return keys;
}

/** Runs `steps` in order; returns every step's record (finished now or before). */
export async function runSteps(steps: readonly LabStep[], options: RunStepsOptions): Promise<Record<string, StepRecord>> {
  const now = options.now ?? (() => performance.now());
  const state = new LabState(options.outDir);
  const keys = stepKeys(steps);
  const byName = new Map(steps.map((step) => [step.name, step]));
  const records: Record<string, StepRecord> = {};
  // Measured seconds per unit of estimate, per kind: the ETA learns how fast this machine is.
  const speed = new Map<StepKind, { measured: number; estimated: number }>();
  const pending = new Set(steps.filter((step) => !state.finished(step.name, keys.get(step.name)!)).map((step) => step.name));
  const expected = (step: LabStep) => {
    const observed = speed.get(step.kind);
    return observed && observed.estimated > 0 ? (step.estimateSeconds * observed.measured) / observed.estimated : step.estimateSeconds;
  };
  const remainingAfter = (index: number) =>
    steps.slice(index + 1).reduce((sum, step) => sum + (pending.has(step.name) ? expected(step) : 0), 0);

  for (const [index, step] of steps.entries()) {
    const key = keys.get(step.name)!;
    const total = steps.length;
    const done = state.finished(step.name, key);
    if (done) {
      records[step.name] = done;
      options.onProgress?.({ type: "skip", index, total, step: step.name, record: done });
      continue;
    }
    if (options.signal?.aborted) throw new InterruptedError(`interrupted before step ${step.name}; rerun to continue from here`);
    const started = now();
    const stepEstimate = expected(step);
    options.onProgress?.({ type: "start", index, total, step: step.name, etaSeconds: stepEstimate + remainingAfter(index) });
    const context: StepContext = {
      outDir: options.outDir,
      signal: options.signal,
      outputsOf: (name) => {
        const record = records[name];
        if (!record) throw new Error(`lab step "${step.name}" reads "${name}", which has not run${byName.has(name) ? " yet" : " (no such step)"}`);
        return record.outputs;
      },
      progress: (reported, detail) => {
        const fraction = Math.min(1, Math.max(0, reported));
        const elapsed = (now() - started) / 1000;
        // Within a step, extrapolate from its own progress once there is some.
        const left = fraction > 0.05 ? (elapsed / fraction) * (1 - fraction) : Math.max(0, stepEstimate - elapsed);
        options.onProgress?.({ type: "progress", index, total, step: step.name, fraction, detail, etaSeconds: left + remainingAfter(index) });
      },
      log: (line) => options.onProgress?.({ type: "log", step: step.name, line }),
    };
    const outputs = await step.run(context);
    if (options.signal?.aborted) throw new InterruptedError(`interrupted during step ${step.name}; rerun to continue from it`);
    const seconds = (now() - started) / 1000;
    const record: StepRecord = { key, outputs, seconds, finishedAt: new Date().toISOString() };
    state.record(step.name, record);
    records[step.name] = record;
    pending.delete(step.name);
    const observed = speed.get(step.kind) ?? { measured: 0, estimated: 0 };
    speed.set(step.kind, { measured: observed.measured + seconds, estimated: observed.estimated + step.estimateSeconds });
    options.onProgress?.({ type: "finish", index, total, step: step.name, seconds, etaSeconds: remainingAfter(index) });
  }
  return records;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A progress sink that prints one line per event (and throttled in-step progress) to a stream. */
export function printProgress(write: (text: string) => void, { throttleMs = 5000, now = () => performance.now() } = {}): ProgressSink {
  let lastProgress = -Infinity;
  return (event) => {
    const counter = "index" in event ? `[${event.index + 1}/${event.total}] ` : "";
    switch (event.type) {
      case "skip":
        write(`${counter}${event.step}: done earlier (${formatDuration(event.record.seconds)}), skipped\n`);
        break;
      case "start":
        lastProgress = now();
        write(`${counter}${event.step}: started · total ETA ${formatDuration(event.etaSeconds)}\n`);
        break;
      case "progress":
        if (now() - lastProgress < throttleMs) return;
        lastProgress = now();
        write(`${counter}${event.step}: ${Math.round(event.fraction * 100)}%${event.detail ? ` ${event.detail}` : ""} · total ETA ${formatDuration(event.etaSeconds)}\n`);
        break;
      case "log":
        write(`  ${event.step}: ${event.line}\n`);
        break;
      case "finish":
        write(`${counter}${event.step}: finished in ${formatDuration(event.seconds)} · total ETA ${formatDuration(event.etaSeconds)}\n`);
        break;
    }
  };
}
