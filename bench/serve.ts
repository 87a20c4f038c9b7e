/**
 * `vertical serve` under load, on loopback only, bounded in time:
 *   1. baseline: the same tiny model asked directly through node-llama-cpp (no HTTP), tokens/s;
 *   2. load: 64 concurrent autocannon clients on /v1/chat/completions for 30 s against the real CLI
 *      (`vertical serve --model …` in a child process), as two equal halves — every answer must be
 *      200 or 429; prints p50/p99 latency, requests/s, tokens/s (from the server's /metrics) and the
 *      ratio to the baseline. Memory must be flat: the server's JS heap right after a full garbage
 *      collection (SIGUSR2 to a bench-only preload, bench/testing/) is what it really keeps; a leak
 *      grows it with every request, while warm-up (JIT code, caches) grows it once, so with at
 *      least as many requests in the second half it must grow less than in the first. A leak
 *      smaller per request than the first half's growth per request (printed) is below what this
 *      can show; resident memory is printed too (it also holds garbage not yet collected);
 *   3. key checks: a near-miss key, a far-miss key and the right one take the same time (median of many);
 *   4. SIGTERM during load: 64 requests in flight, SIGTERM, and every request the server accepted
 *      must come back whole (200 with a finish_reason, or 429); the rest are refused (503 or no
 *      connection), never cut off mid-answer.
 *
 *   npm run bench:serve [-- --seconds 30 --connections 64]
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { settings } from "../src/config.js";
import { ApiKeys } from "../src/serve/apiKeys.js";
import { LlamaCppBackend } from "../src/llm/llamaCpp.js";
import { initModel } from "../src/model/initModel.js";
import { llamaCppVocab } from "../test/native/fixtures.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    connections: { type: "string", default: "64" },
    "max-tokens": { type: "string", default: "16" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const maxTokens = Number(values["max-tokens"]);

const directory = path.join(settings().cacheDir, "bench");
const modelPath = path.join(directory, "serve-tiny-gpt2.gguf");
const messages = [{ role: "user" as const, content: "Who guides ships into the harbour?" }];
const body = JSON.stringify({ model: "serve-tiny-gpt2", messages, max_tokens: maxTokens });

async function buildModel(): Promise<void> {
  if (fs.existsSync(modelPath)) return;
  fs.mkdirSync(directory, { recursive: true });
  await initModel({ architecture: "llama", tokenizer: llamaCppVocab("ggml-vocab-gpt-2.gguf"), hidden: 128, layers: 4, heads: 4, ffn: 384, context: 512, seed: 5, initStd: 0.05, out: modelPath });
}

/** Completion tokens per second asked directly, one request at a time, for `budgetSeconds`. */
async function baselineTokensPerSecond(budgetSeconds: number): Promise<number> {
  const backend = await LlamaCppBackend.load({ modelPath, threads: 1, contextSize: 512 });
  try {
    let tokens = 0;
    const started = performance.now();
    while (performance.now() - started < budgetSeconds * 1000) tokens += (await backend.chat(messages, { maxTokens })).usage.completionTokens;
    return tokens / ((performance.now() - started) / 1000);
  } finally {
    await backend.dispose();
  }
}

interface Server {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Starts `vertical serve` and resolves with its URL once it prints it (models loaded). */
function startServer(): Promise<Server> {
  const preload = path.resolve("bench/testing/collectGarbageOnSignal.cjs");
  const child = spawn(process.execPath, ["--expose-gc", "--require", preload, "bin/vertical.js", "serve", "--model", modelPath, "--port", "0", "--queue", "16"], {
    env: { ...process.env, VERTICAL_THREADS: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /serving .* at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(stderr)?.[1];
      if (url) resolve({ child, url, stderr: () => stderr });
    });
    child.on("exit", (code) => reject(new Error(`vertical serve exited with ${code}:\n${stderr}`)));
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(name));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** One autocannon run, sampling the server's resident memory once a second while it lasts. */
async function loadHalf(url: string, duration: number) {
  const samples: number[] = [];
  const sampler = setInterval(() => void metric(url, "process_resident_memory_bytes").then((rss) => samples.push(rss), () => {}), 1000);
  try {
    const result = await autocannon({ url: `${url}/v1/chat/completions`, connections, duration, method: "POST", headers: { "content-type": "application/json" }, body, timeout: 60 });
    return { result, samples };
  } finally {
    clearInterval(sampler);
  }
}

/** The server's JS heap in use right after a full garbage collection: what it really retains. */
async function retainedHeap(server: Server): Promise<number> {
  const collections = () => server.stderr().split("bench: garbage collected").length;
  const before = collections();
  server.child.kill("SIGUSR2");
  while (collections() === before) await new Promise((resolve) => setTimeout(resolve, 20));
  return metric(server.url, "nodejs_heap_size_used_bytes");
}

async function loadRun(server: Server): Promise<void> {
  const { url } = server;
  // Warm-up, so "before" is the memory of a server that has answered, not of one just loaded.
  for (let i = 0; i < 3; i++) await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const heapBefore = await retainedHeap(server);
  const rssBefore = await metric(url, "process_resident_memory_bytes");
  const tokensBefore = await metric(url, "vertical_generated_tokens_total");
  process.stderr.write(`load: ${connections} connections for ${seconds} s, in two halves…\n`);
  const first = await loadHalf(url, seconds / 2);
  const heapAfterFirst = await retainedHeap(server);
  const rssAfterFirst = await metric(url, "process_resident_memory_bytes");
  const second = await loadHalf(url, seconds / 2);
  const tokens = (await metric(url, "vertical_generated_tokens_total")) - tokensBefore;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const heapAfter = await retainedHeap(server);
  const rssAfter = await metric(url, "process_resident_memory_bytes");
  const halves = [first.result, second.result];
  const statuses: Record<string, number> = {};
  for (const result of halves)
    for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = (statuses[code] ?? 0) + (stats.count ?? 0);
  const errors = halves.reduce((sum, result) => sum + result.errors, 0);
  const timeouts = halves.reduce((sum, result) => sum + result.timeouts, 0);
  console.log(`statuses: ${JSON.stringify(statuses)}; errors ${errors}, timeouts ${timeouts}`);
  for (const [index, result] of halves.entries())
    console.log(`half ${index + 1}: latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ${result.requests.average.toFixed(1)} requests/s; ${result.requests.total} requests`);
  console.log(`server tokens/s under load: ${(tokens / seconds).toFixed(1)}`);
  console.log(`server memory: after warm-up ${mib(rssBefore)}, peak during half 1 ${mib(Math.max(0, ...first.samples))}, after half 1 ${mib(rssAfterFirst)}, peak during half 2 ${mib(Math.max(0, ...second.samples))}, after the run ${mib(rssAfter)}`);
  const unexpected = Object.keys(statuses).filter((code) => code !== "200" && code !== "429");
  if (unexpected.length > 0 || errors > 0) throw new Error(`answers other than 200/429: ${JSON.stringify(statuses)}, ${errors} errors`);
  // Resident memory mixes garbage not yet collected with what is kept; the heap after a full GC is what is kept.
  const growth = [heapAfterFirst - heapBefore, heapAfter - heapAfterFirst];
  const requests = halves.map((result) => result.requests.total);
  const perRequest = growth.map((bytes, index) => `${(bytes / Math.max(1, requests[index]!)).toFixed(0)} B/request`);
  console.log(`JS heap after a full GC: after warm-up ${mib(heapBefore)}, after half 1 ${mib(heapAfterFirst)}, after the run ${mib(heapAfter)}`);
  console.log(`retained heap growth: half 1 ${mib(growth[0]!)} over ${requests[0]} requests (${perRequest[0]}), half 2 ${mib(growth[1]!)} over ${requests[1]} (${perRequest[1]})`);
  if (requests[1]! < requests[0]!) console.log("memory flat: not shown (the second half served fewer requests than the first)");
  else if (growth[1]! >= growth[0]! && growth[1]! > 0) throw new Error(`memory not flat: the second half grew it by ${mib(growth[1]!)}, the first by ${mib(growth[0]!)}`);
  else console.log("memory flat: the second half, with as many requests or more, grew it less than the first");
  return void (loadTokensPerSecond = tokens / seconds);
}
let loadTokensPerSecond = 0;

/** 64 requests in flight, SIGTERM, then every answer is checked. */
async function sigtermRun(): Promise<void> {
  const { child, url, stderr } = await startServer();
  const outcomes = await new Promise<string[]>((resolve) => {
    const requests = Array.from({ length: connections }, () =>
      fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body }).then(
        async (response) => {
          if (response.status !== 200) return String(response.status);
          const answer = (await response.json()) as { choices: { finish_reason: string }[] };
          return answer.choices[0]?.finish_reason ? "200 whole" : "200 CUT";
        },
        (error: Error) => `no connection (${(error.cause as { code?: string })?.code ?? error.message})`,
      ),
    );
    setTimeout(() => child.kill("SIGTERM"), 300);
    void Promise.all(requests).then(resolve);
  });
  const exit = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on("exit", resolve)));
  const counts = outcomes.reduce<Record<string, number>>((all, outcome) => ({ ...all, [outcome]: (all[outcome] ?? 0) + 1 }), {});
  console.log(`SIGTERM with ${connections} requests in flight: ${JSON.stringify(counts)}; server exit code ${exit}`);
  // What the server accepted is what its access log says it answered: each of those must have arrived whole.
  const answered = stderr()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { url: string; status: number; aborted: boolean })
    .filter((entry) => entry.url === "/v1/chat/completions");
  const servedWhole = answered.filter((entry) => entry.status === 200 && !entry.aborted).length;
  console.log(`server answered ${servedWhole} with 200; clients received ${counts["200 whole"] ?? 0} whole answers`);
  if (outcomes.includes("200 CUT") || servedWhole !== (counts["200 whole"] ?? 0) || answered.some((entry) => entry.aborted))
    throw new Error("an accepted request was cut off by the shutdown");
}

/** Median nanoseconds of one ApiKeys.check for each kind of presented key. */
function keyCheckTimes(): void {
  const right = "sk-vertical-0123456789abcdef0123456789abcdef";
  const keys = new ApiKeys([right, "sk-second-key"]);
  const presented = { right, "near miss (last char)": `${right.slice(0, -1)}0`, "far miss": "x", missing: "" };
  const median = (key: string) => {
    const samples: number[] = [];
    for (let round = 0; round < 20_000; round++) {
      const started = process.hrtime.bigint();
      try {
        keys.check(key ? `Bearer ${key}` : undefined);
      } catch {
        // a wrong key throws: that is the case being timed
      }
      samples.push(Number(process.hrtime.bigint() - started));
    }
    return samples.sort((a, b) => a - b)[samples.length >> 1]!;
  };
  const times = Object.entries(presented).map(([name, key]) => [name, median(key)] as const);
  const fastest = Math.min(...times.map(([, time]) => time));
  console.log(`key check, median ns: ${times.map(([name, time]) => `${name} ${time} (${(time / fastest).toFixed(2)}x)`).join(", ")}`);
}

await buildModel();
keyCheckTimes();
const baseline = await baselineTokensPerSecond(5);
console.log(`baseline (node-llama-cpp directly, 1 thread): ${baseline.toFixed(1)} tokens/s`);
const server = await startServer();
try {
  await loadRun(server);
} finally {
  server.child.kill("SIGTERM");
  await new Promise((resolve) => server.child.on("exit", resolve));
}
console.log(`ratio server under load / direct: ${(loadTokensPerSecond / baseline).toFixed(2)}x (machine: ${(await import("node:os")).cpus()[0]?.model ?? "?"})`);
await sigtermRun();
