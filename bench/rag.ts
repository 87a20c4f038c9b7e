/**
 * Retrieval-index benchmark: the persistent RagIndex (SQLite FTS5 over jieba terms + Float32 BLOB vectors,
 * brute-force cosine) against today's in-memory Bm25Retriever as the baseline, on the same synthetic
 * mixed Chinese/English chunks, at 1k and 100k chunks, each size in a fresh child process so peak memory
 * is its own. Reports index build docs/s and MB/s (one chunk per document), query p50/p99 for BM25 (both),
 * dense and hybrid, memory, and how query time grows with index size (100k / 1k ratios).
 *
 *   npm run bench:rag                        # 1k and 100k chunks
 *   npm run bench:rag -- --chunks 20000      # one size
 *
 * Vectors are seeded random unit vectors of the harbor base model's width (the index's cost does not
 * depend on what they mean); embedding time is the embedder's and is not measured here.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chineseText, englishText } from "../src/data/syntheticText.js";
import type { Embedder } from "../src/llm/types.js";
import {
  Bm25Retriever,
  DenseRetriever,
  HybridRetriever,
  IndexBm25Retriever,
  RagIndex,
  type StructuredChunk,
} from "../src/rag/index.js";
import { SeededRandom } from "../src/shared/seededRandom.js";

const DIMENSIONS = 256;
const QUERIES = 200;

interface Latency {
  p50: number;
  p99: number;
}

interface RunResult {
  chunks: number;
  megabytes: number;
  buildSeconds: { index: number; memory: number };
  query: { memoryBm25: Latency; indexBm25: Latency; dense: Latency; hybrid: Latency };
  /** The first dense query loads the vector matrix (once per index change); timed apart from the p50/p99. */
  firstDenseMs: number;
  indexFileMb: number;
  peakRssMb: number;
  liveHeapMb: { baseline: number; afterIndex: number; afterMemoryBm25: number };
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const liveHeapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

function unitVector(random: SeededRandom): Float32Array {
  const vector = Float32Array.from({ length: DIMENSIONS }, () => random.next() - 0.5);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** Query vectors come from the same seeded stream, so dense queries cost what a real one would (embedding aside). */
class RandomEmbedder implements Embedder {
  readonly id = "bench-random";
  readonly dimensions = DIMENSIONS;
  constructor(private readonly random: SeededRandom) {}
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map(() => unitVector(this.random));
  }
}

async function latency(queries: readonly string[], run: (query: string) => Promise<unknown>): Promise<Latency> {
  const times: number[] = [];
  for (const query of queries) {
    const started = performance.now();
    await run(query);
    times.push(performance.now() - started);
  }
  times.sort((left, right) => left - right);
  return {
    p50: times[Math.floor(0.5 * times.length)]!,
    p99: times[Math.min(times.length - 1, Math.floor(0.99 * times.length))]!,
  };
}

async function runOnce(chunkCount: number): Promise<RunResult> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-bench-rag-"));
  try {
    const random = new SeededRandom(7);
    const texts = Array.from({ length: chunkCount }, (_, index) =>
      index % 2 === 0 ? englishText(random, 40) : chineseText(random, 80),
    );
    const vectors = texts.map(() => unitVector(random));
    const megabytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / 1e6;
    const queries = Array.from({ length: QUERIES }, (_, index) =>
      index % 2 === 0 ? englishText(random, 6) : chineseText(random, 10),
    );
    const baseline = liveHeapMb();

    let started = performance.now();
    const file = path.join(folder, "index.db");
    const embedder = new RandomEmbedder(random);
    const index = RagIndex.open(file, { embedderId: embedder.id, dimensions: DIMENSIONS, chunking: "bench" });
    // 100 chunks per "file", so the per-file transaction is what an indexed folder of documents pays.
    for (let first = 0; first < chunkCount; first += 100) {
      const chunks: StructuredChunk[] = texts
        .slice(first, first + 100)
        .map((text, offset) => ({
          id: `d${first + offset}#0`,
          documentId: `d${first + offset}`,
          sourcePath: `f${first}.md`,
          headings: [],
          text,
          start: 0,
          end: text.length,
          tokenCount: 0,
        }));
      index.replaceFile(`f${first}.md`, String(first), chunks, vectors.slice(first, first + 100));
    }
    const indexSeconds = (performance.now() - started) / 1000;
    const afterIndex = liveHeapMb();

    started = performance.now();
    const memoryBm25 = new Bm25Retriever(
      texts.map((text, position) => ({ id: `d${position}#0`, documentId: `d${position}`, text })),
    );
    const memorySeconds = (performance.now() - started) / 1000;
    const afterMemoryBm25 = liveHeapMb();

    const indexBm25 = new IndexBm25Retriever(index);
    const dense = new DenseRetriever(index, embedder);
    const hybrid = new HybridRetriever([
      { retriever: indexBm25, weight: 1 },
      { retriever: dense, weight: 1 },
    ]);
    started = performance.now();
    await dense.retrieve("warm-up", 10);
    const firstDenseMs = performance.now() - started;
    const result: RunResult = {
      chunks: chunkCount,
      megabytes,
      buildSeconds: { index: indexSeconds, memory: memorySeconds },
      query: {
        memoryBm25: await latency(queries, (query) => memoryBm25.retrieve(query, 10)),
        indexBm25: await latency(queries, (query) => indexBm25.retrieve(query, 10)),
        dense: await latency(queries, (query) => dense.retrieve(query, 10)),
        hybrid: await latency(queries, (query) => hybrid.retrieve(query, 10)),
      },
      firstDenseMs,
      indexFileMb:
        (fs.statSync(file).size + (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0)) / 2 ** 20,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      liveHeapMb: { baseline, afterIndex, afterMemoryBm25 },
    };
    index.close();
    return result;
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

function runChild(chunks: number): RunResult {
  const child = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "--child", String(chunks)],
    {
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
      maxBuffer: 1 << 20,
    },
  );
  if (child.status !== 0) throw new Error(`benchmark child for ${chunks} chunks failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as RunResult;
}

function report(result: RunResult): string {
  const rate = (seconds: number) =>
    `${(result.chunks / seconds).toFixed(0).padStart(7)} docs/s ${(result.megabytes / seconds).toFixed(2).padStart(6)} MB/s`;
  const line = (name: string, value: Latency) =>
    `  ${name.padEnd(28)} p50 ${value.p50.toFixed(2).padStart(8)} ms  p99 ${value.p99.toFixed(2).padStart(8)} ms`;
  return [
    `${result.chunks} chunks (one per document), ${result.megabytes.toFixed(1)} MB of zh+en text, ${DIMENSIONS}-dim vectors`,
    `  build  index (FTS5 + vectors) ${rate(result.buildSeconds.index)} | in-memory BM25 (baseline) ${rate(result.buildSeconds.memory)}`,
    line("query in-memory BM25 (base)", result.query.memoryBm25),
    line("query index BM25 (FTS5)", result.query.indexBm25),
    line("query dense (brute force)", result.query.dense),
    line("query hybrid (RRF, 50+50)", result.query.hybrid),
    `  first dense query (loads the vector matrix) ${result.firstDenseMs.toFixed(0)} ms`,
    `  memory: peak RSS ${result.peakRssMb.toFixed(0)} MB; live heap ${result.liveHeapMb.baseline.toFixed(0)} MB at start (texts + vectors), ${result.liveHeapMb.afterIndex.toFixed(0)} MB after indexing, ${result.liveHeapMb.afterMemoryBm25.toFixed(0)} MB with the in-memory BM25; index file ${result.indexFileMb.toFixed(1)} MB`,
  ].join("\n");
}

const child = argument("--child");
if (child) {
  process.stdout.write(`${JSON.stringify(await runOnce(Number(child)))}\n`);
} else {
  const single = argument("--chunks");
  const sizes = single ? [Number(single)] : [1_000, 100_000];
  process.stdout.write(
    `node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((value) => value.toFixed(1))
      .join(" ")}\n`,
  );
  const results: RunResult[] = [];
  for (const size of sizes) {
    process.stderr.write(`running ${size} chunks…\n`);
    const result = runChild(size);
    results.push(result);
    process.stdout.write(`${report(result)}\n`);
  }
  if (results.length === 2) {
    const [small, large] = results as [RunResult, RunResult];
    const growth = (name: keyof RunResult["query"]) =>
      `${name} ${(large.query[name].p50 / small.query[name].p50).toFixed(1)}x`;
    process.stdout.write(
      `query p50 growth for ${(large.chunks / small.chunks).toFixed(0)}x the chunks: ${(["memoryBm25", "indexBm25", "dense", "hybrid"] as const).map(growth).join(", ")}\n` +
        `index vs in-memory BM25 query p50 at ${large.chunks}: ${(large.query.indexBm25.p50 / large.query.memoryBm25.p50).toFixed(2)}x; build ${(large.buildSeconds.index / large.buildSeconds.memory).toFixed(2)}x the time\n`,
    );
  }
  process.stdout.write(
    `load average after: ${os
      .loadavg()
      .map((value) => value.toFixed(1))
      .join(" ")}\n`,
  );
}
