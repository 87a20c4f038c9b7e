/**
 * The endpoint pool against real llama.cpp servers: three `llama-server` processes on loopback
 * serve the harbor example's base model; an MCQ evaluation runs through the pool while one server
 * is killed with SIGKILL, and must finish with the same result, item by item, as the evaluation
 * through one server alone. Skipped (with the reason) when llama-server is not built: it is built by
 * `npm run build:llama-server` (about an hour on 2 shared cores, so CI does not build it; `npm run bench:pool`
 * runs the same scenario with throughput).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readItemRecords, type McqItemRecord } from "../../src/eval/results.js";
import { runEvaluation } from "../../src/eval/runEvaluation.js";
import { defineEvalSpec } from "../../src/eval/spec.js";
import { llamaServerAvailable, llamaServerBinary, startLlamaServer, type LlamaServer } from "./llamaServer.js";

const modelPath = path.resolve("examples/harbor/models/chat.gguf");
const setPath = path.resolve("examples/harbor/eval/mcq.jsonl");
const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-pool-native-"));
const servers: LlamaServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  fs.rmSync(folder, { recursive: true, force: true });
});

const available = llamaServerAvailable();
if (!available)
  console.warn(
    `endpoint pool with llama-server: skipped, ${llamaServerBinary()} is not built (npm run build:llama-server)`,
  );

function specFor(system: Record<string, unknown>) {
  return defineEvalSpec({
    name: "pool-native",
    systems: [
      { name: "base", backend: "openai", model: "base", logprobs: false, maxTokens: 16, timeoutMs: 30_000, ...system },
    ],
    sets: [{ name: "harbor", path: setPath, limit: 24 }],
  });
}

function meaning(records: McqItemRecord[]) {
  return records.map(({ wallMs: _wallMs, ...rest }) => rest).sort((a, b) => a.id.localeCompare(b.id));
}

describe.skipIf(!available)("an evaluation through a pool of real llama-servers", () => {
  it(
    "finishes with one server killed mid-run, with the single server's results item by item",
    { timeout: 120_000 },
    async () => {
      servers.push(
        ...(await Promise.all([0, 1, 2].map(() => startLlamaServer({ modelPath, alias: "base", threads: 1 })))),
      );
      const alone = await runEvaluation(specFor({ baseUrl: servers[0]!.baseUrl, maxConcurrency: 1 }), {
        outDir: path.join(folder, "single"),
      });
      expect(alone.results[0]!.error).toBeNull();
      expect(alone.complete).toBe(true);

      const victim = servers[1]!;
      const victimExit = new Promise((resolve) => victim.process.once("exit", (_code, signal) => resolve(signal)));
      let killedAt: number | undefined;
      const pooled = await runEvaluation(
        specFor({
          pool: { endpoints: servers.map((server) => ({ baseUrl: server.baseUrl })), probeIntervalMs: 60_000 },
        }),
        {
          outDir: path.join(folder, "pool"),
          onProgress: (progress) => {
            if (progress.phase === "item" && progress.done === 4 && killedAt === undefined) {
              killedAt = progress.done;
              victim.process.kill("SIGKILL");
            }
          },
        },
      );
      expect(killedAt).toBe(4);
      expect(await victimExit).toBe("SIGKILL");
      expect(pooled.complete).toBe(true);

      const items = (run: string) => readItemRecords(path.join(folder, run, "items", "base", "harbor.jsonl"));
      expect(items("pool")).toHaveLength(24);
      expect(meaning(items("pool"))).toEqual(meaning(items("single")));
      expect(pooled.results[0]!.accuracy).toEqual(alone.results[0]!.accuracy);

      const counts = pooled.systems[0]!.endpoints!;
      console.log(
        counts
          .map(
            (entry) =>
              `${entry.baseUrl}: ${entry.requests} requests, ${entry.failures} failures, ${entry.retries} retries (${entry.state})`,
          )
          .join("\n"),
      );
      expect(counts[1]!.state).toBe("down");
      // 24 items, one chat request each, all answered; the killed server's last one failed and was sent again.
      const answered = counts.reduce((sum, entry) => sum + entry.requests - entry.failures, 0);
      expect(answered).toBe(24);
      expect(counts.reduce((sum, entry) => sum + entry.retries, 0)).toBe(counts[1]!.failures);
      expect(counts[0]!.requests).toBeGreaterThan(0);
      expect(counts[2]!.requests).toBeGreaterThan(0);
    },
  );
});
