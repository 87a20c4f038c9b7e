/**
 * Evaluation through an endpoint pool of real llama.cpp servers, on loopback:
 *   1. three `llama-server` processes (one thread each, one slot, no prompt cache) serve the harbor
 *      example's base model;
 *   2. baseline: the MCQ set through one server alone (maxConcurrency 1), items/s;
 *   3. the same through the pool of three, items/s, printed as a ratio to the baseline;
 *   4. the pool again with one server killed (SIGKILL) a third of the way in: the evaluation must
 *      finish, its items must equal the baseline's one by one, and the per-endpoint counts are printed.
 * The ratio measures the machine as much as the pool: three one-thread servers need three free
 * cores to run three times as fast, so on a 2-core machine (shared, see the load average printed)
 * expect about 1 or below.
 *
 *   npm run build:llama-server && npm run bench:pool [-- --items 96]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { readItemRecords, type McqItemRecord } from "../src/eval/results.js";
import { runEvaluation } from "../src/eval/runEvaluation.js";
import { defineEvalSpec } from "../src/eval/spec.js";
import {
  llamaServerAvailable,
  llamaServerBinary,
  startLlamaServer,
  type LlamaServer,
} from "../test/native/llamaServer.js";

const { values } = parseArgs({ options: { items: { type: "string", default: "96" } } });
const items = Number(values.items);
const modelPath = path.resolve("examples/harbor/models/chat.gguf");
const setPath = path.resolve("examples/harbor/eval/mcq.jsonl");

function specFor(system: Record<string, unknown>) {
  return defineEvalSpec({
    name: "bench-pool",
    systems: [
      { name: "base", backend: "openai", model: "base", logprobs: false, maxTokens: 16, timeoutMs: 60_000, ...system },
    ],
    sets: [{ name: "harbor", path: setPath, limit: items }],
  });
}

function meaning(records: McqItemRecord[]): string[] {
  return records.map(({ wallMs: _wallMs, ...rest }) => JSON.stringify(rest)).sort((a, b) => a.localeCompare(b));
}

async function timedRun(
  label: string,
  outDir: string,
  system: Record<string, unknown>,
  onItem?: (done: number) => void,
) {
  const started = performance.now();
  const summary = await runEvaluation(specFor(system), {
    outDir,
    onProgress: (progress) => progress.phase === "item" && onItem?.(progress.done),
  });
  const seconds = (performance.now() - started) / 1000;
  const perSecond = items / seconds;
  console.log(
    `${label}: ${items} items in ${seconds.toFixed(2)} s = ${perSecond.toFixed(1)} items/s, complete: ${summary.complete}`,
  );
  for (const row of summary.results)
    if (row.error)
      console.log(`  ${row.system} × ${row.set}: ${row.status}, ${row.n}/${row.total} items: ${row.error}`);
  return { summary, perSecond, records: readItemRecords(path.join(outDir, "items", "base", "harbor.jsonl")) };
}

async function main(): Promise<void> {
  if (!llamaServerAvailable()) {
    console.error(`bench:pool needs ${llamaServerBinary()}: run npm run build:llama-server first`);
    process.exitCode = 1;
    return;
  }
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-bench-pool-"));
  const servers: LlamaServer[] = [];
  try {
    console.log(
      `machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")}`,
    );
    servers.push(
      ...(await Promise.all([0, 1, 2].map(() => startLlamaServer({ modelPath, alias: "base", threads: 1 })))),
    );
    const endpoints = servers.map((server) => ({ baseUrl: server.baseUrl }));
    const single = await timedRun("1 endpoint ", path.join(folder, "single"), {
      baseUrl: servers[0]!.baseUrl,
      maxConcurrency: 1,
    });
    const pooled = await timedRun("3 endpoints", path.join(folder, "pool"), { pool: { endpoints } });
    console.log(
      `throughput 3 vs 1 endpoint: ${(pooled.perSecond / single.perSecond).toFixed(2)}× (load average now ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores; each server runs 1 thread)`,
    );

    const victim = servers[2]!;
    const killAfter = Math.max(1, Math.floor(items / 3));
    const killed = await timedRun(
      "3 endpoints, one SIGKILLed",
      path.join(folder, "killed"),
      { pool: { endpoints, probeIntervalMs: 60_000 } },
      (done) => {
        if (done === killAfter && victim.process.exitCode === null && victim.process.signalCode === null) {
          console.log(`  SIGKILL ${victim.baseUrl} after ${done} items`);
          victim.process.kill("SIGKILL");
        }
      },
    );
    for (const entry of killed.summary.systems[0]!.endpoints ?? [])
      console.log(
        `  ${entry.baseUrl}: ${entry.requests} requests, ${entry.failures} failures, ${entry.retries} retries (${entry.state})`,
      );
    const same = (records: McqItemRecord[]) =>
      JSON.stringify(meaning(records)) === JSON.stringify(meaning(single.records));
    console.log(
      `items equal to the single endpoint's, one by one: pool ${same(pooled.records)}, pool with a kill ${same(killed.records)}`,
    );
    if (!killed.summary.complete || !same(pooled.records) || !same(killed.records)) process.exitCode = 1;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

await main();
