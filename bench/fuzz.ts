/**
 * `npm run fuzz` — every reader a user's file reaches (GGUF, tokenizer.json, MCQ JSONL/CSV, SFT JSONL, lab/train/eval
 * YAML), fed mutated files (bench/fuzz/cases.ts; GGUF also truncated at every byte). One line per reader:
 *   gguf cases=10640 aborts=0 hangs=0 unnamed=0 (ok 0, named 10640; 2100 cases/s)
 * aborts: the worker died (or an unhandled rejection); hangs: a case gave no answer within --timeout ms; unnamed: an
 * error that is not a VerticalError naming the file. Each failure's input is saved under --out with its error, to
 * reproduce with the reader by hand. Exit status 1 when any count is not 0.
 *
 * Usage: npm run fuzz [-- --cases 10000 --seed 1 --timeout 5000 --target gguf --out fuzz-failures]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { FUZZ_TARGETS } from "./fuzz/targets.js";
import type { WorkerInput, WorkerMessage } from "./fuzz/worker.js";

interface Tally {
  ok: number;
  named: number;
  unnamed: number;
  hangs: number;
  aborts: number;
  total: number;
}

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "10000" },
    seed: { type: "string", default: "1" },
    timeout: { type: "string", default: "5000" },
    target: { type: "string" },
    out: { type: "string", default: "fuzz-failures" },
  },
});
const timeoutMs = Number(values.timeout);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-fuzz-"));

function saveFailure(target: string, index: number, kind: string, detail: string, input?: Uint8Array): void {
  const folder = path.resolve(values.out, target);
  fs.mkdirSync(folder, { recursive: true });
  if (input) fs.writeFileSync(path.join(folder, `case-${index}.input`), input);
  fs.writeFileSync(path.join(folder, `case-${index}.${kind}.txt`), detail + "\n");
  console.log(`  ${target} case ${index}: ${kind}: ${detail.split("\n")[0]} (saved under ${folder})`);
}

/** Runs the cases from `start` in a worker; resolves with the index to restart from, or null when all are done. */
function runWorker(target: string, start: number, tally: Tally): Promise<number | null> {
  return new Promise((resolve) => {
    const input: WorkerInput = { target, cases: Number(values.cases), seed: Number(values.seed), start, folder: path.join(scratch, `${target}-${start}`) };
    // The worker is TypeScript too: a one-line bootstrap registers tsx in the worker (Node 20 workers do not
    // inherit the --import loader), then imports it.
    const workerUrl = new URL("./fuzz/worker.ts", import.meta.url).href;
    const bootstrap = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(workerUrl)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: input });
    let next = start;
    let settled = false;
    let lastAnswer = Date.now();
    const finish = (restartAt: number | null) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      void worker.terminate();
      resolve(restartAt);
    };
    // Generous for the first answer: the worker loads the modules and builds the seed files first.
    const watchdog = setInterval(() => {
      if (Date.now() - lastAnswer <= timeoutMs * (next === start ? 6 : 1)) return;
      tally.hangs++;
      saveFailure(target, next, "hang", `no answer within ${timeoutMs} ms`);
      finish(next + 1);
    }, 100);
    worker.on("message", (message: WorkerMessage) => {
      lastAnswer = Date.now();
      if (message.type === "total") tally.total = message.total;
      else if (message.type === "rejection") {
        tally.aborts++;
        saveFailure(target, message.index, "unhandled-rejection", message.detail);
      } else if (message.type === "case") {
        tally[message.outcome]++;
        if (message.outcome === "unnamed") saveFailure(target, message.index, "unnamed", message.detail ?? "", message.input);
        next = message.index + 1;
      } else finish(null);
    });
    worker.on("error", (error) => {
      // A worker that dies before it has a case list cannot be a case's fault: the harness itself is broken.
      if (tally.total === Number.POSITIVE_INFINITY) throw new Error(`the ${target} fuzz worker failed to start: ${error.message}`);
      tally.aborts++;
      saveFailure(target, next, "abort", `${error.name}: ${error.message}`);
      finish(next + 1);
    });
    worker.on("exit", (code) => {
      if (settled) return;
      tally.aborts++;
      saveFailure(target, next, "abort", `worker exited with code ${code}`);
      finish(next + 1);
    });
  });
}

async function fuzzTarget(target: string): Promise<Tally> {
  const tally: Tally = { ok: 0, named: 0, unnamed: 0, hangs: 0, aborts: 0, total: Number.POSITIVE_INFINITY };
  let start: number | null = 0;
  while (start !== null && start < tally.total) start = await runWorker(target, start, tally);
  return tally;
}

async function main(): Promise<void> {
  const targets = FUZZ_TARGETS.filter((target) => !values.target || target.name === values.target);
  if (targets.length === 0) throw new Error(`--target ${values.target}: no such reader; readers: ${FUZZ_TARGETS.map((target) => target.name).join(", ")}`);
  let failed = false;
  for (const target of targets) {
    const started = performance.now();
    const tally = await fuzzTarget(target.name);
    const seconds = (performance.now() - started) / 1000;
    const cases = tally.ok + tally.named + tally.unnamed + tally.hangs + tally.aborts;
    console.log(
      `${target.name} cases=${cases} aborts=${tally.aborts} hangs=${tally.hangs} unnamed=${tally.unnamed} ` +
        `(ok ${tally.ok}, named ${tally.named}; ${(cases / seconds).toFixed(0)} cases/s)`,
    );
    failed ||= tally.aborts + tally.hangs + tally.unnamed > 0;
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}

await main();
