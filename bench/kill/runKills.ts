/**
 * The kill harness's loop for one command (bench/kill.ts prints it): a reference run, then trials that SIGKILL the
 * command at seeded random moments, inspect the outputs after each kill, resume, and compare the final outputs with the
 * reference.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { SeededRandom } from "../../src/shared/seededRandom.js";
import { inspectOutputs } from "./inspectOutputs.js";
import type { KillTarget } from "./targets.js";

export interface KillOptions {
  /** Kills in all (at least). */
  kills: number;
  /** Kills before a trial is let run to its end and compared. */
  killsPerTrial: number;
  seed: number;
  /** Folder for the runs' directories. */
  scratch: string;
  /** Keep every trial's directory (for a look at a mismatch). */
  keep?: boolean;
}

const vertical = path.resolve(import.meta.dirname, "../../bin/vertical.js");

interface Attempt {
  /** Exit code, or null when the harness killed it. */
  code: number | null;
  stderr: string;
}

/** Runs `vertical argv`; after `killAfterMs` (when given) SIGKILLs its whole process group. */
function attempt(argv: string[], killAfterMs?: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vertical, ...argv], { detached: true, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    let killed = false;
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = true;
            try {
              process.kill(-child.pid!, "SIGKILL");
            } catch {
              // It ended in the same instant: then it was not killed.
              killed = false;
            }
          }, killAfterMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: killed ? null : code, stderr });
    });
  });
}

export interface KillTally {
  kills: number;
  trials: number;
  mismatches: string[];
  halfWritten: string[];
  corrupt: string[];
  resumeErrors: string[];
  temporaryFiles: number;
}

/**
 * The folder every run of `target` happens in, emptied before each: the same absolute path for the reference and
 * every trial, so outputs that record their inputs' paths (a recipe's hash, a manifest's sources) compare equal.
 */
function freshWorkFolder(target: KillTarget, scratch: string): string {
  const dir = path.join(scratch, target.name.replace(/\s/g, "-"));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  target.prepare(dir);
  return dir;
}

async function referenceRun(target: KillTarget, scratch: string): Promise<{ digest: Record<string, string>; ms: number }> {
  const dir = freshWorkFolder(target, scratch);
  const started = performance.now();
  const result = await attempt(target.argv(dir));
  const ms = performance.now() - started;
  if (result.code !== 0) throw new Error(`${target.name}: the uninterrupted run failed (exit ${result.code}):\n${result.stderr}`);
  return { digest: target.digest(dir), ms };
}

function compareDigests(reference: Record<string, string>, actual: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(reference), ...Object.keys(actual)])].sort();
  return keys
    .filter((key) => reference[key] !== actual[key])
    .map((key) => `${key}: ${actual[key] ?? "missing"} instead of ${reference[key] ?? "absent"}`);
}

interface Trial {
  index: number;
  kills: number;
  reference: { digest: Record<string, string>; ms: number };
  random: SeededRandom;
  options: KillOptions;
}

/** One trial: kill up to `kills` times at random moments, resuming after each, then run to the end and compare. */
async function trial(
  target: KillTarget,
  { index, kills, reference, random, options }: Trial,
  tally: KillTally,
): Promise<void> {
  const dir = freshWorkFolder(target, options.scratch);
  let killsLeft = kills;
  for (let attempts = 0; attempts < 200; attempts++) {
    const killAfter = killsLeft > 0 ? Math.round((0.02 + 0.98 * random.next()) * reference.ms) : undefined;
    const result = await attempt(target.argv(dir), killAfter);
    if (result.code === null) {
      tally.kills++;
      killsLeft--;
      const inspection = await inspectOutputs(dir);
      tally.halfWritten.push(...inspection.halfWritten.map((problem) => `after kill at ${killAfter} ms: ${problem}`));
      tally.corrupt.push(...inspection.corruptDatabases);
      continue;
    }
    if (result.code !== 0) {
      tally.resumeErrors.push(
        `trial ${index}, attempt ${attempts + 1}: exit ${result.code}: ${result.stderr.trim().split("\n").slice(-3).join(" | ")}`,
      );
      return;
    }
    const inspection = await inspectOutputs(dir);
    tally.halfWritten.push(...inspection.halfWritten);
    tally.corrupt.push(...inspection.corruptDatabases);
    tally.temporaryFiles += inspection.temporaryFiles;
    tally.mismatches.push(
      ...compareDigests(reference.digest, target.digest(dir)).map((line) => `trial ${index}: ${line}`),
    );
    tally.trials++;
    if (options.keep) fs.renameSync(dir, `${dir}-trial${index}`);
    return;
  }
  tally.resumeErrors.push(`trial ${index}: did not finish in 200 attempts`);
}

/** Runs the whole harness for one command and returns its counts. */
export async function runKillTarget(
  target: KillTarget,
  options: KillOptions,
): Promise<KillTally & { referenceMs: number }> {
  const random = new SeededRandom(options.seed);
  const reference = await referenceRun(target, options.scratch);
  const tally: KillTally = {
    kills: 0,
    trials: 0,
    mismatches: [],
    halfWritten: [],
    corrupt: [],
    resumeErrors: [],
    temporaryFiles: 0,
  };
  for (let index = 1; tally.kills < options.kills && index <= options.kills * 2; index++) {
    const kills = Math.min(options.killsPerTrial, options.kills - tally.kills);
    await trial(target, { index, kills, reference, random, options }, tally);
  }
  return { ...tally, referenceMs: reference.ms };
}

/** Whether a tally shows nothing wrong and as many kills as asked. */
export function killTallyPassed(tally: KillTally, killsWanted: number): boolean {
  return (
    tally.mismatches.length + tally.halfWritten.length + tally.corrupt.length + tally.resumeErrors.length === 0 &&
    tally.kills >= killsWanted
  );
}
