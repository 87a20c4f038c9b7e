import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "../llm/testing/fakeOpenAIServer.js";
import { ConfigError, InterruptedError } from "../shared/errors.js";
import { readItemRecords, type McqItemRecord } from "./results.js";
import { runEvaluation } from "./runEvaluation.js";
import { loadEvalSpec } from "./spec.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-pool-eval-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

/** Eight items; the fake model's preferred letter depends on the question, so predictions differ per item. */
function writeSet(folder: string): void {
  fs.mkdirSync(folder, { recursive: true });
  const rows = Array.from({ length: 8 }, (_, i) =>
    JSON.stringify({ id: `q${i}`, question: `Question ${i}?`, choices: ["w", "x", "y", "z"], answer: i % 4 }),
  );
  fs.writeFileSync(path.join(folder, "set.jsonl"), rows.join("\n") + "\n");
}

/** Log-probability of a letter after a prompt: a pure function of both, as greedy scoring by one model is. */
function fakeModel(prefix: string, token: string): number {
  const question = Number(/Question (\d+)/.exec(prefix)?.[1] ?? 0);
  return "ABCD".indexOf(token) === (question * 3) % 4 ? -0.2 : -2;
}

async function startScorers(n: number): Promise<FakeOpenAIServer[]> {
  const started = await Promise.all(
    Array.from({ length: n }, () => startFakeOpenAIServer({ tokenLogprob: fakeModel, delayMs: 5 })),
  );
  servers.push(...started);
  return started;
}

function writeSpec(folder: string, name: string, system: string): string {
  const file = path.join(folder, `${name}.yaml`);
  fs.writeFileSync(
    file,
    `name: ${name}\nsystems:\n  - { name: scorer, backend: openai, model: m, ${system} }\nsets:\n  - { name: set, path: set.jsonl }\n`,
  );
  return file;
}

/** What an item's result means, without the wall time (which differs between any two runs). */
function meaning(records: McqItemRecord[]) {
  return records.map(({ wallMs: _wallMs, system: _system, ...rest }) => rest).sort((a, b) => a.id.localeCompare(b.id));
}

describe("evaluating through an endpoint pool", () => {
  it("gives the single endpoint's results item by item, with a dead endpoint in the pool, and reports counts", async () => {
    const folder = path.join(root, "same");
    writeSet(folder);
    const [single, ...pooled] = await startScorers(4);
    const dead = pooled.pop()!;
    const deadUrl = dead.baseUrl;
    await dead.close();
    servers = servers.filter((server) => server !== dead);
    fs.writeFileSync(
      path.join(folder, "pool.yaml"),
      `endpoints:\n${[...pooled.map((server) => server.baseUrl), deadUrl].map((url) => `  - { baseUrl: "${url}", maxConcurrency: 2 }`).join("\n")}\nprobeIntervalMs: 60000\n`,
    );
    const singleSpec = writeSpec(folder, "single", `baseUrl: "${single!.baseUrl}"`);
    const poolSpec = writeSpec(folder, "pooled", "pool: pool.yaml");
    expect(loadEvalSpec(poolSpec).systems[0]!.pool).toMatchObject({ endpoints: [{ maxConcurrency: 2 }, {}, {}] });

    const alone = await runEvaluation(loadEvalSpec(singleSpec), { outDir: path.join(folder, "out-single") });
    const spread = await runEvaluation(loadEvalSpec(poolSpec), { outDir: path.join(folder, "out-pool") });
    expect(spread.complete).toBe(true);
    const items = (out: string) => readItemRecords(path.join(folder, out, "items", "scorer", "set.jsonl"));
    expect(meaning(items("out-pool"))).toEqual(meaning(items("out-single")));
    expect(spread.results[0]!.accuracy).toEqual(alone.results[0]!.accuracy);

    const counts = spread.systems[0]!.endpoints!;
    expect(counts.map((entry) => entry.baseUrl)).toEqual([...pooled.map((server) => server.baseUrl), deadUrl]);
    // The dead endpoint took as many requests as its two slots before the first failed, and no more.
    expect(counts[2]).toMatchObject({ requests: 2, failures: 2, state: "down" });
    // 8 items × 4 letters, all answered by the live two; the two that failed were sent again there.
    expect(counts[0]!.requests + counts[1]!.requests).toBe(32);
    expect(counts[0]!.retries + counts[1]!.retries).toBe(2);
    expect(alone.systems[0]!.endpoints).toBeUndefined();
  });

  it("resumes through a pool what a single endpoint started", async () => {
    const folder = path.join(root, "resume");
    writeSet(folder);
    const [first, second] = await startScorers(2);
    const outDir = path.join(folder, "out");
    const controller = new AbortController();
    const singleSpec = writeSpec(folder, "single", `baseUrl: "${first!.baseUrl}", maxConcurrency: 1`);
    await expect(
      runEvaluation(loadEvalSpec(singleSpec), {
        outDir,
        signal: controller.signal,
        onProgress: (progress) => progress.phase === "item" && progress.done === 3 && controller.abort(),
      }),
    ).rejects.toThrow(InterruptedError);
    fs.writeFileSync(
      path.join(folder, "pool.yaml"),
      `endpoints:\n  - { baseUrl: "${first!.baseUrl}" }\n  - { baseUrl: "${second!.baseUrl}" }\n`,
    );
    const summary = await runEvaluation(loadEvalSpec(writeSpec(folder, "single", "pool: pool.yaml")), { outDir });
    expect(summary.complete).toBe(true);
    const records = readItemRecords(path.join(outDir, "items", "scorer", "set.jsonl"));
    expect(records.map((record) => record.id).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `set/q${i}`));
    // Only the 5 items left were asked, 4 letters each.
    const counts = summary.systems[0]!.endpoints!;
    expect(counts[0]!.requests + counts[1]!.requests).toBe(5 * 4);
  });

  it("summarises items in the set's order, whatever order they finished in", async () => {
    const folder = path.join(root, "order");
    fs.mkdirSync(folder, { recursive: true });
    // A hundred items in two subjects, correct and wrong mixed, so a resample's mean depends on which items it draws.
    const rows = Array.from({ length: 100 }, (_, i) =>
      JSON.stringify({
        id: `q${i}`,
        question: `Question ${i}?`,
        choices: ["w", "x", "y", "z"],
        answer: i % 4,
        subject: i < 50 ? "a" : "b",
      }),
    );
    fs.writeFileSync(path.join(folder, "set.jsonl"), rows.join("\n") + "\n");
    const server = await startFakeOpenAIServer({ tokenLogprob: fakeModel });
    servers.push(server);
    const spec = writeSpec(folder, "order", `baseUrl: "${server.baseUrl}", maxConcurrency: 8`);
    const first = await runEvaluation(loadEvalSpec(spec), { outDir: path.join(folder, "first") });
    // The same records, finished in the opposite order: a rerun only summarises them again.
    const items = (out: string) => path.join(folder, out, "items", "scorer", "set.jsonl");
    fs.mkdirSync(path.dirname(items("reversed")), { recursive: true });
    const lines = fs.readFileSync(items("first"), "utf8").trim().split("\n");
    fs.writeFileSync(items("reversed"), lines.reverse().join("\n") + "\n");
    const again = await runEvaluation(loadEvalSpec(spec), { outDir: path.join(folder, "reversed") });
    expect(again.results[0]!.accuracy).toEqual(first.results[0]!.accuracy);
    expect(again.results[0]!.perSubject).toEqual(first.results[0]!.perSubject);
  });

  it("names the pool file and field of a bad endpoint, and refuses baseUrl together with pool", async () => {
    const folder = path.join(root, "bad");
    writeSet(folder);
    fs.writeFileSync(path.join(folder, "pool.yaml"), "endpoints:\n  - { baseUrl: not-a-url }\n");
    const bad = writeSpec(folder, "bad", "pool: pool.yaml");
    expect(() => loadEvalSpec(bad)).toThrow(ConfigError);
    expect(() => loadEvalSpec(bad)).toThrow(/pool\.yaml: invalid fields:\n\s+endpoints\[0\]\.baseUrl/);
    fs.writeFileSync(path.join(folder, "pool.yaml"), "endpoints:\n  - { baseUrl: 'http://127.0.0.1:9/v1' }\n");
    const both = writeSpec(folder, "both", "baseUrl: 'http://127.0.0.1:9/v1', pool: pool.yaml");
    await expect(runEvaluation(loadEvalSpec(both), { outDir: path.join(folder, "out") })).rejects.toThrow(
      /both `baseUrl` and `pool` are set/,
    );
  });
});
