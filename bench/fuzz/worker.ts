/**
 * One fuzz target's cases, run in a worker thread so the runner (bench/fuzz.ts) can stop a hang and survive an
 * abort: it posts one message per case, and the runner restarts it after the case that never answered.
 */
import fs from "node:fs";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { fuzzInputs, judgeCase } from "./cases.js";
import { FUZZ_TARGETS } from "./targets.js";

export interface WorkerInput {
  target: string;
  cases: number;
  seed: number;
  /** First case to run (after a restart). */
  start: number;
  folder: string;
}

export type WorkerMessage =
  | { type: "total"; total: number }
  | { type: "case"; index: number; outcome: "ok" | "named" | "unnamed"; detail?: string; input?: Uint8Array }
  | { type: "rejection"; index: number; detail: string }
  | { type: "done" };

const input = workerData as WorkerInput;
const target = FUZZ_TARGETS.find((candidate) => candidate.name === input.target)!;
const post = (message: WorkerMessage) => parentPort!.postMessage(message);
let current = input.start;
process.on("unhandledRejection", (reason) => post({ type: "rejection", index: current, detail: String(reason).slice(0, 300) }));

fs.mkdirSync(input.folder, { recursive: true });
const seedFile = target.seed(input.folder);
const inputs = fuzzInputs(target, seedFile, input.cases, input.seed);
post({ type: "total", total: inputs.length });
for (let index = input.start; index < inputs.length; index++) {
  current = index;
  const verdict = await judgeCase(target, path.resolve(input.folder), inputs[index]!);
  post(verdict.outcome === "unnamed" ? { type: "case", index, outcome: "unnamed", detail: verdict.detail, input: inputs[index]! } : { type: "case", index, outcome: verdict.outcome });
}
post({ type: "done" });
