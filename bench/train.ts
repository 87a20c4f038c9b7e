/**
 * Training throughput: LoRA (r=16, all linear modules) and full fine-tuning of a ~26M-parameter
 * llama (V 8192, E 512, 6 blocks, 8 heads, FFN 1280; context 256, 8 sequences per batch, 2 threads)
 * with `train()`, next to the same model and settings in plain PyTorch (bench/train_pytorch.py, f32,
 * OpenBLAS), each in its own process so peak memory is its own. The first step (graph building,
 * warm-up) is excluded from tokens/s on both sides.
 *
 *   npm run build:blas && npm run bench:train     # 3 steps per configuration, 1 round
 *   BENCH_STEPS=5 BENCH_ROUNDS=3 BENCH_THREADS=1 npm run bench:train
 *
 * Our f32 products run on ggml's BLAS backend (OpenBLAS, decision 0003) when `npm run build:blas`
 * built it, else on ggml's CPU kernels; the output says which. Both sides use the same OpenBLAS with
 * the same settings (OPENBLAS_THREAD_TIMEOUT=4: its threads sleep right after a product instead of
 * spinning; PyTorch's f32 LoRA and full runs are ~10-20% faster with it here).
 *
 * Configurations, each line states its precision:
 *   vertical lora-f32   LoRA over the f32 base weights, adapters f32: like for like with PyTorch's LoRA
 *   vertical lora-q8    LoRA over a q8_0 copy of the frozen base (adapters, gradients, AdamW f32):
 *                       QLoRA-style (frozenType: q8_0)
 *   vertical full-f32   full fine-tuning, f32 weights, gradients and AdamW: like for like
 *   vertical full-bf16  full fine-tuning with `compute: bf16` (bf16 products on ggml's CPU kernels,
 *                       f32 master weights, gradients, AdamW): for machines without BLAS
 *   pytorch  lora-f32 / full-f32
 * Runs are interleaved (ours, then PyTorch's, per configuration and round) because the machine may be
 * shared; each ratio is taken within a round and the median over rounds is printed. The last two
 * lines are like for like, f32 against f32: `lora vs pytorch: R.RRx` and `full vs pytorch: R.RRx`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const config = { vocab: 8192, hidden: 512, layers: 6, heads: 8, ffn: 1280, ctx: 256, batch: 8, threads: Number(process.env.BENCH_THREADS ?? 2), rank: 16, alpha: 32 };
const steps = Number(process.env.BENCH_STEPS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);

interface Measurement {
  tokensPerSecond: number;
  peakMemoryBytes: number;
  stepSeconds: number[];
  /** ggml backends of our run (e.g. BLAS + CPU); absent for PyTorch. */
  backends?: string[];
}

function peakMemory(): number {
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss;
}

type Mode = "lora" | "full" | "lora-q8" | "full-bf16";

const PRECISION: Record<Mode, string> = {
  lora: "lora-f32",
  "lora-q8": "lora-q8",
  full: "full-f32",
  "full-bf16": "full-bf16",
};

async function worker(mode: Mode, modelPath: string, out: string): Promise<void> {
  const { train } = await import("../src/train/train.js");
  const { CharTokenizer } = await import("../src/train/testing/charTokenizer.js");
  const corpus = path.join(path.dirname(out), `${mode}-corpus.txt`);
  const words = ["harbor", "ship", "pilot", "cargo", "quay", "tide", "anchor", "berth", "north", "wall", "ledger", "dusk"];
  let text = "";
  for (let i = 0; text.length < (steps + 2) * config.batch * (config.ctx + 1); i++) text += `${words[(i * 7919) % words.length]} `;
  fs.writeFileSync(corpus, text);
  const stepSeconds: number[] = [];
  let backends: string[] = [];
  let last = performance.now();
  await train({
    model: modelPath,
    out,
    data: corpus,
    tokenizer: new CharTokenizer(),
    method: mode === "full" || mode === "full-bf16" ? "full" : "lora",
    compute: mode === "full-bf16" ? "bf16" : "f32",
    frozenType: mode === "lora-q8" ? "q8_0" : "as-stored",
    lora: { rank: config.rank, alpha: config.alpha },
    steps,
    optimizer: { lr: 1e-4 },
    batch: { sequenceLength: config.ctx, sequences: config.batch },
    checkpoint: { every: 100_000 },
    threads: config.threads,
    onStart: (info) => {
      backends = info.backends;
      last = performance.now();
    },
    onProgress: () => {
      const now = performance.now();
      stepSeconds.push((now - last) / 1000);
      last = now;
    },
  });
  const measured = stepSeconds.length > 1 ? stepSeconds.slice(1) : stepSeconds;
  const result: Measurement = {
    tokensPerSecond: (config.batch * config.ctx * measured.length) / measured.reduce((a, b) => a + b, 0),
    peakMemoryBytes: peakMemory(),
    stepSeconds,
    backends,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

function findTorchPython(): string | undefined {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(candidate, ["-c", "import torch"], { stdio: "ignore" });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

function hasOpenBlas(): boolean {
  return ["/usr/lib/x86_64-linux-gnu/openblas-pthread", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"].some((file) => fs.existsSync(file));
}

function format(measurement: Measurement | undefined): string {
  if (!measurement) return "skipped";
  return (
    `${measurement.tokensPerSecond.toFixed(1).padStart(8)} tok/s  peak ${(measurement.peakMemoryBytes / 2 ** 20).toFixed(0).padStart(5)} MiB  ` +
    `steps ${measurement.stepSeconds.map((s) => s.toFixed(2)).join(" ")} s${measurement.backends ? `  on ${measurement.backends.join(" + ")}` : ""}`
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function runOurs(mode: Mode, modelPath: string, directory: string, round: number): Measurement {
  const output = execFileSync(process.execPath, ["--import", "tsx", path.join(here, "train.ts"), "--worker", mode, modelPath, path.join(directory, `${mode}-${round}`)], {
    encoding: "utf8",
    env: { ...process.env, VERTICAL_NO_PROGRESS: "1" },
    maxBuffer: 1 << 26,
  });
  const line = output.split("\n").find((candidate) => candidate.startsWith("RESULT "));
  if (!line) throw new Error(`the ${mode} worker printed no result:\n${output}`);
  return JSON.parse(line.slice("RESULT ".length)) as Measurement;
}

function runPytorch(python: string, mode: "lora" | "full"): Measurement {
  const args = [
    path.join(here, "train_pytorch.py"),
    "--mode",
    mode,
    ...Object.entries({ vocab: config.vocab, hidden: config.hidden, layers: config.layers, heads: config.heads, ffn: config.ffn, ctx: config.ctx, batch: config.batch, threads: config.threads, rank: config.rank, alpha: config.alpha, steps }).flatMap(
      ([key, value]) => [`--${key}`, String(value)],
    ),
  ];
  const result = spawnSync(python, args, { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: String(config.threads), OPENBLAS_NUM_THREADS: String(config.threads), OPENBLAS_THREAD_TIMEOUT: "4" } });
  if (result.status !== 0) throw new Error(`PyTorch baseline failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as Measurement;
}

async function main(): Promise<void> {
  const workerIndex = process.argv.indexOf("--worker");
  if (workerIndex >= 0) {
    await worker(process.argv[workerIndex + 1] as Mode, process.argv[workerIndex + 2]!, process.argv[workerIndex + 3]!);
    return;
  }
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-bench-train-"));
  try {
    const { writeTinyModel } = await import("../src/train/testing/tinyModel.js");
    const modelPath = path.join(directory, "llama-26m.gguf");
    await writeTinyModel(modelPath, {
      vocab: config.vocab,
      hidden: config.hidden,
      layers: config.layers,
      heads: config.heads,
      kvHeads: config.heads,
      ffn: config.ffn,
      context: config.ctx,
      scale: 0.02,
    });
    const parameters = config.vocab * config.hidden * 2 + config.layers * (4 * config.hidden ** 2 + 3 * config.hidden * config.ffn);
    console.log(
      `llama ${(parameters / 1e6).toFixed(1)}M parameters (V ${config.vocab}, E ${config.hidden}, L ${config.layers}, H ${config.heads}, F ${config.ffn}), ` +
        `context ${config.ctx}, ${config.batch} sequences/batch, ${config.threads} threads, ${steps} steps (first excluded), ${rounds} round(s), interleaved`,
    );
    console.log("precision: *-f32 = f32 weights, activations, gradients, AdamW; lora-q8 = frozen base weights q8_0 (activations quantised to q8_0 in their products), adapters/gradients/AdamW f32; full-bf16 = bf16 operands in every product of the trained weights (f32 accumulation), f32 master weights, gradients, AdamW");
    const { defaultBlasLibrary } = await import("../src/engine/index.js");
    console.log(
      fs.existsSync(defaultBlasLibrary())
        ? "ours: f32 products on ggml's BLAS backend (OpenBLAS, built by npm run build:blas); PyTorch uses the same OpenBLAS"
        : "ours: ggml's BLAS backend is not built (npm run build:blas), so our f32 products run on ggml's CPU kernels (~2.7x slower GEMM than OpenBLAS here)",
    );
    const python = findTorchPython();
    const baselineReady = python !== undefined && hasOpenBlas();
    if (!python) console.log("PyTorch baseline skipped: no python3 with torch (apt install python3-torch libopenblas0-pthread)");
    else if (!hasOpenBlas()) console.log("PyTorch baseline skipped: libopenblas0-pthread is not installed (reference BLAS would be ~20x slower)");
    const ratios: Record<"lora-f32" | "lora-q8" | "full-f32" | "full-bf16", number[]> = { "lora-f32": [], "lora-q8": [], "full-f32": [], "full-bf16": [] };
    for (let round = 0; round < rounds; round++) {
      for (const baselineMode of ["lora", "full"] as const) {
        const ourModes: Mode[] = baselineMode === "lora" ? ["lora", "lora-q8"] : ["full", "full-bf16"];
        const ours = new Map<Mode, Measurement>();
        // ours, PyTorch's, then our second setting: each of ours ran next to the baseline
        ours.set(ourModes[0]!, runOurs(ourModes[0]!, modelPath, directory, round));
        console.log(`vertical ${PRECISION[ourModes[0]!].padEnd(9)} ${format(ours.get(ourModes[0]!))}`);
        const theirs = baselineReady ? runPytorch(python!, baselineMode) : undefined;
        if (theirs) console.log(`pytorch  ${`${baselineMode}-f32`.padEnd(9)} ${format(theirs)}`);
        for (const mode of ourModes.slice(1)) {
          ours.set(mode, runOurs(mode, modelPath, directory, round));
          console.log(`vertical ${PRECISION[mode].padEnd(9)} ${format(ours.get(mode))}`);
        }
        if (theirs) for (const [mode, measurement] of ours) ratios[PRECISION[mode] as keyof typeof ratios].push(measurement.tokensPerSecond / theirs.tokensPerSecond);
      }
    }
    const ratio = (key: keyof typeof ratios) => (ratios[key].length > 0 ? `${median(ratios[key]).toFixed(2)}x` : "n/a");
    console.log(`lora-q8 (ours, frozen base q8_0) vs lora-f32 (pytorch): ${ratio("lora-q8")} (not like for like)`);
    console.log(`full-bf16 (ours, bf16 products) vs full-f32 (pytorch): ${ratio("full-bf16")} (not like for like)`);
    console.log("the two lines below: like for like, f32 against f32, median over rounds");
    console.log(`lora vs pytorch: ${ratio("lora-f32")}`);
    console.log(`full vs pytorch: ${ratio("full-f32")}`);
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

await main();
