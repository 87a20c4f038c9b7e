/**
 * Training throughput: LoRA (r=16, all linear modules) and full fine-tuning of a ~26M-parameter
 * llama (V 8192, E 512, 6 blocks, 8 heads, FFN 1280; context 256, 8 sequences per batch, 2 threads,
 * f32) with `train()`, next to the same model and settings in plain PyTorch
 * (bench/train_pytorch.py), each in its own process so peak memory is its own. The first step
 * (graph building, warm-up) is excluded from tokens/s on both sides.
 *
 *   npm run bench:train              # 3 steps per configuration
 *   BENCH_STEPS=5 BENCH_THREADS=1 npm run bench:train   # more steps, another thread count
 *
 * Also measured: LoRA over a q8_0 copy of the frozen weights (QLoRA-style; stated as such, PyTorch
 * stays f32). The last two lines are `lora vs pytorch: R.RRx` and `full vs pytorch: R.RRx` (ours /
 * PyTorch, both f32).
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const config = { vocab: 8192, hidden: 512, layers: 6, heads: 8, ffn: 1280, ctx: 256, batch: 8, threads: Number(process.env.BENCH_THREADS ?? 2), rank: 16, alpha: 32 };
const steps = Number(process.env.BENCH_STEPS ?? 3);

interface Measurement {
  tokensPerSecond: number;
  peakMemoryBytes: number;
  stepSeconds: number[];
}

function peakMemory(): number {
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss;
}

type Mode = "lora" | "full" | "lora-q8";

async function worker(mode: Mode, modelPath: string, out: string): Promise<void> {
  const { train } = await import("../src/train/train.js");
  const { CharTokenizer } = await import("../src/train/testing/charTokenizer.js");
  const corpus = path.join(path.dirname(out), `${mode}-corpus.txt`);
  const words = ["harbor", "ship", "pilot", "cargo", "quay", "tide", "anchor", "berth", "north", "wall", "ledger", "dusk"];
  let text = "";
  for (let i = 0; text.length < (steps + 2) * config.batch * (config.ctx + 1); i++) text += `${words[(i * 7919) % words.length]} `;
  fs.writeFileSync(corpus, text);
  const stepSeconds: number[] = [];
  let last = performance.now();
  await train({
    model: modelPath,
    out,
    data: corpus,
    tokenizer: new CharTokenizer(),
    method: mode === "full" ? "full" : "lora",
    frozenType: mode === "lora-q8" ? "q8_0" : "as-stored",
    lora: { rank: config.rank, alpha: config.alpha },
    steps,
    optimizer: { lr: 1e-4 },
    batch: { sequenceLength: config.ctx, sequences: config.batch },
    checkpoint: { every: 100_000 },
    threads: config.threads,
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
  return `${measurement.tokensPerSecond.toFixed(1).padStart(8)} tok/s  peak ${(measurement.peakMemoryBytes / 2 ** 20).toFixed(0).padStart(5)} MiB  steps ${measurement.stepSeconds.map((s) => s.toFixed(2)).join(" ")} s`;
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
        `context ${config.ctx}, ${config.batch} sequences/batch, ${config.threads} threads, f32, ${steps} steps (first excluded)`,
    );
    const ours: Record<string, Measurement> = {};
    const theirs: Record<string, Measurement | undefined> = {};
    const python = findTorchPython();
    for (const mode of ["lora", "full", "lora-q8"] as const) {
      const output = execFileSync(process.execPath, ["--import", "tsx", path.join(here, "train.ts"), "--worker", mode, modelPath, path.join(directory, mode)], {
        encoding: "utf8",
        env: { ...process.env, VERTICAL_NO_PROGRESS: "1" },
        maxBuffer: 1 << 26,
      });
      const line = output.split("\n").find((candidate) => candidate.startsWith("RESULT "));
      if (!line) throw new Error(`the ${mode} worker printed no result:\n${output}`);
      ours[mode] = JSON.parse(line.slice("RESULT ".length)) as Measurement;
      console.log(`vertical ${mode.padEnd(7)} ${format(ours[mode])}`);
      if (mode === "lora-q8") continue; // compared with PyTorch's f32 LoRA below
      if (python && hasOpenBlas()) {
        const args = [
          path.join(here, "train_pytorch.py"),
          "--mode",
          mode,
          ...Object.entries({ vocab: config.vocab, hidden: config.hidden, layers: config.layers, heads: config.heads, ffn: config.ffn, ctx: config.ctx, batch: config.batch, threads: config.threads, rank: config.rank, alpha: config.alpha, steps }).flatMap(
            ([key, value]) => [`--${key}`, String(value)],
          ),
        ];
        const result = spawnSync(python, args, { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: String(config.threads), OPENBLAS_NUM_THREADS: String(config.threads) } });
        if (result.status !== 0) throw new Error(`PyTorch baseline failed:\n${result.stderr}`);
        theirs[mode] = JSON.parse(result.stdout.trim().split("\n").pop()!) as Measurement;
        console.log(`pytorch  ${mode.padEnd(7)} ${format(theirs[mode])}`);
      }
    }
    if (!python) console.log("PyTorch baseline skipped: no python3 with torch (apt install python3-torch libopenblas0-pthread)");
    else if (!hasOpenBlas()) console.log("PyTorch baseline skipped: libopenblas0-pthread is not installed (reference BLAS would be ~20x slower)");
    if (theirs.lora) {
      console.log(`lora with frozen q8_0 base (ours) vs f32 lora (pytorch): ${(ours["lora-q8"]!.tokensPerSecond / theirs.lora.tokensPerSecond).toFixed(2)}x`);
    }
    for (const mode of ["lora", "full"] as const) {
      const baseline = theirs[mode];
      console.log(`${mode} vs pytorch: ${baseline ? `${(ours[mode]!.tokensPerSecond / baseline.tokensPerSecond).toFixed(2)}x` : "n/a"}`);
    }
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

await main();
