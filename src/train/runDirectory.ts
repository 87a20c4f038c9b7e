/**
 * The run directory and everything written into it, each write atomic:
 *
 * ```
 * RUN/
 *   config.json                 the resolved config (every default applied), written when the run starts
 *   metrics.jsonl               one JSON object per line: train steps and validation evaluations
 *   checkpoints/step-000050/    trainable.safetensors (weights, AdamW moments) + state.json (step, loader, RNG)
 *   latest.json                 {"step": 50, "checkpoint": "checkpoints/step-000050"}: the newest complete checkpoint
 * ```
 *
 * A checkpoint folder is written under a temporary name and renamed into place, then latest.json is
 * replaced: a kill at any moment leaves either the old or the new checkpoint, never half of one.
 */
import fs from "node:fs";
import path from "node:path";
import { DiskFullError, InputError } from "../shared/errors.js";
import { temporaryPathFor, writeFileAtomic } from "../shared/atomicWrite.js";
import { readSafetensors, writeSafetensors, type SafetensorsEntry } from "./safetensors.js";
import type { LoaderState } from "./batches.js";
import type { RandomState } from "./random.js";

export const CONFIG_FILE = "config.json";
export const METRICS_FILE = "metrics.jsonl";
export const LATEST_FILE = "latest.json";
export const CHECKPOINTS_DIR = "checkpoints";

export interface TrainMetric {
  type: "train";
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  /** Loss-bearing tokens in this step. */
  targetTokens: number;
  elapsedSeconds: number;
}

export interface ValidationMetric {
  type: "validation";
  step: number;
  loss: number;
  perplexity: number;
  targetTokens: number;
}

export type Metric = TrainMetric | ValidationMetric;

/** A trainable tensor as stored: ggml shape (ne) and f32 values. */
export interface StoredTensor {
  name: string;
  /** ggml ne, innermost first. */
  shape: number[];
  data: Float32Array;
}

export interface CheckpointState {
  /** Optimiser steps completed. */
  step: number;
  loader: LoaderState;
  random: RandomState;
  /** AdamW's step counter (bias correction). */
  adamSteps: number;
  /** Fingerprint of the base model the weights belong to. */
  modelFingerprint: string;
  elapsedSeconds: number;
}

export interface Checkpoint {
  state: CheckpointState;
  parameters: StoredTensor[];
  /** AdamW first and second moments, by parameter name. */
  moments: Map<string, { m: Float32Array; v: Float32Array }>;
  directory: string;
}

function toSafetensorsShape(shape: readonly number[]): number[] {
  return [...shape].reverse();
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/** Appends metric lines; one write per line so a kill loses at most a partial last line (dropped on resume). */
export class MetricsLog {
  private readonly file: string;
  constructor(runDirectory: string) {
    this.file = path.join(runDirectory, METRICS_FILE);
  }
  append(metric: Metric): void {
    fs.appendFileSync(this.file, `${JSON.stringify(metric)}\n`);
  }
}

/** Metrics read back: complete lines only. */
export function readMetrics(runDirectory: string): Metric[] {
  const file = path.join(runDirectory, METRICS_FILE);
  if (!fs.existsSync(file)) return [];
  const metrics: Metric[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      metrics.push(JSON.parse(line) as Metric);
    } catch {
      // a partial last line from a killed run
    }
  }
  return metrics;
}

/** On resume: keep only complete metric lines up to the checkpoint's step (rewritten atomically). */
export function truncateMetrics(runDirectory: string, step: number): void {
  const kept = readMetrics(runDirectory).filter((metric) => metric.step <= step);
  writeFileAtomic(path.join(runDirectory, METRICS_FILE), kept.map((metric) => `${JSON.stringify(metric)}\n`).join(""));
}

export function writeCheckpoint(
  runDirectory: string,
  state: CheckpointState,
  parameters: readonly StoredTensor[],
  moments: ReadonlyMap<string, { m: Float32Array; v: Float32Array }>,
  keep: number,
): string {
  const checkpoints = path.join(runDirectory, CHECKPOINTS_DIR);
  fs.mkdirSync(checkpoints, { recursive: true });
  const name = checkpointName(state.step);
  const final = path.join(checkpoints, name);
  const temporary = temporaryPathFor(final);
  fs.mkdirSync(temporary);
  try {
    const entries: SafetensorsEntry[] = [];
    for (const parameter of parameters) {
      const shape = toSafetensorsShape(parameter.shape);
      entries.push({ name: `param.${parameter.name}`, shape, data: parameter.data });
      const moment = moments.get(parameter.name);
      if (moment) {
        entries.push({ name: `adam_m.${parameter.name}`, shape, data: moment.m });
        entries.push({ name: `adam_v.${parameter.name}`, shape, data: moment.v });
      }
    }
    writeSafetensors(path.join(temporary, "trainable.safetensors"), entries);
    writeFileAtomic(path.join(temporary, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
    fs.rmSync(final, { recursive: true, force: true });
    fs.renameSync(temporary, final);
  } catch (error) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw diskFullOr(error, runDirectory, name);
  }
  writeFileAtomic(
    path.join(runDirectory, LATEST_FILE),
    `${JSON.stringify({ step: state.step, checkpoint: `${CHECKPOINTS_DIR}/${name}` })}\n`,
  );
  pruneCheckpoints(runDirectory, keep, name);
  return final;
}

const DISK_FULL_CODES = new Set(["ENOSPC", "EFBIG", "EDQUOT"]);

/**
 * A checkpoint that did not fit (disk full, file-size limit, quota) as a DiskFullError naming the folder and the
 * checkpoint to resume from: the temporary is gone and latest.json still points at the previous one.
 */
function diskFullOr(error: unknown, runDirectory: string, name: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!code || !DISK_FULL_CODES.has(code)) return error;
  const latest = path.join(runDirectory, LATEST_FILE);
  const previous = fs.existsSync(latest) ? (JSON.parse(fs.readFileSync(latest, "utf8")) as { checkpoint?: string }).checkpoint : undefined;
  return new DiskFullError(`disk full at ${path.join(runDirectory, CHECKPOINTS_DIR)}: checkpoint ${name} could not be written (${code})`, {
    where: runDirectory,
    hint: `Free space (or raise the file-size limit or quota), then rerun with --resume: it continues from ${previous ?? "step 0 (no checkpoint yet)"}, which is intact.`,
    cause: error,
  });
}

function pruneCheckpoints(runDirectory: string, keep: number, newest: string): void {
  const checkpoints = path.join(runDirectory, CHECKPOINTS_DIR);
  const names = fs
    .readdirSync(checkpoints)
    .filter((entry) => /^step-\d+$/.test(entry))
    .sort();
  const removable = names.filter((entry) => entry !== newest);
  for (const entry of removable.slice(0, Math.max(0, names.length - keep))) {
    fs.rmSync(path.join(checkpoints, entry), { recursive: true, force: true });
  }
  // Temporaries of checkpoints interrupted by a kill.
  for (const entry of fs.readdirSync(checkpoints)) {
    if (entry.startsWith(".") && entry.endsWith(".tmp")) fs.rmSync(path.join(checkpoints, entry), { recursive: true, force: true });
  }
}

/**
 * A JSON file of the run, parsed. A broken one (a full disk, an edit by hand) is an InputError
 * naming the file and what to do, not a bare SyntaxError.
 */
function readRunJson(file: string, hint: string): unknown {
  const text = fs.readFileSync(file, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`corrupt JSON: ${(error as Error).message}`, { where: file, hint, cause: error });
  }
}

/** latest.json's pointer: {"step": 50, "checkpoint": "checkpoints/step-000050"}. */
export function readLatestPointer(runDirectory: string): { step: number; checkpoint: string } | undefined {
  const latestFile = path.join(runDirectory, LATEST_FILE);
  if (!fs.existsSync(latestFile)) return undefined;
  const checkpoints = path.join(runDirectory, CHECKPOINTS_DIR);
  const newest = fs.existsSync(checkpoints) ? fs.readdirSync(checkpoints).filter((entry) => /^step-\d+$/.test(entry)).sort().at(-1) : undefined;
  const hint = newest
    ? `it points at the newest checkpoint: write {"step": ${Number(newest.slice(5))}, "checkpoint": "${CHECKPOINTS_DIR}/${newest}"} into it, or delete it to train again from step 0`
    : "no checkpoint folder is left: delete it to train again from step 0";
  const latest = readRunJson(latestFile, hint) as { step?: unknown; checkpoint?: unknown } | null;
  if (typeof latest?.checkpoint !== "string" || typeof latest.step !== "number") {
    throw new InputError('expected {"step": N, "checkpoint": "checkpoints/step-…"}', { where: latestFile, hint });
  }
  return { step: latest.step, checkpoint: latest.checkpoint };
}

/** The newest complete checkpoint of a run, or undefined when it has none yet. */
export function readLatestCheckpoint(runDirectory: string): Checkpoint | undefined {
  const latest = readLatestPointer(runDirectory);
  return latest && readCheckpoint(path.join(runDirectory, latest.checkpoint));
}

export function readCheckpoint(directory: string): Checkpoint {
  const stateFile = path.join(directory, "state.json");
  if (!fs.existsSync(stateFile)) throw new InputError("not a checkpoint (no state.json)", { where: directory });
  const state = readRunJson(stateFile, `the checkpoint is damaged; point ${LATEST_FILE} at an older folder under ${CHECKPOINTS_DIR}/`) as CheckpointState;
  const file = readSafetensors(path.join(directory, "trainable.safetensors"));
  const parameters: StoredTensor[] = [];
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const [name, entry] of file.tensors) {
    if (!name.startsWith("param.")) continue;
    const parameterName = name.slice("param.".length);
    parameters.push({ name: parameterName, shape: toSafetensorsShape(entry.shape), data: entry.data });
    const m = file.tensors.get(`adam_m.${parameterName}`);
    const v = file.tensors.get(`adam_v.${parameterName}`);
    if (m && v) moments.set(parameterName, { m: m.data, v: v.data });
  }
  return { state, parameters, moments, directory };
}

/** The resolved config a run was started with. */
export function readRunConfigFile<T>(runDirectory: string): T {
  const file = path.join(runDirectory, CONFIG_FILE);
  if (!fs.existsSync(file)) {
    throw new InputError(`not a training run directory (no ${CONFIG_FILE})`, {
      where: runDirectory,
      hint: "pass the --out folder of a `vertical train` run",
    });
  }
  return readRunJson(file, `${CONFIG_FILE} holds the run's resolved config: restore it, or start a new run with another --out`) as T;
}
