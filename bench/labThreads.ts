/**
 * Threads for the lab: one ggml thread or two, on the lab's own work — full training steps (4 sequences x 512
 * tokens, the example's batch) and MCQ option scoring through the engine scorer (the evaluation's inner loop) —
 * at two model sizes: the example's former 1.4M-parameter base (E 128, L 4, F 384) and a ~12M one (E 384,
 * L 6, F 1024), the size range of the shipped base. The tokenizer is a 2048-token BPE trained on the example's
 * text, so token counts are the lab's. 1 and 2 threads alternate within each round (the machine may be shared)
 * and each ratio is the median over rounds. Prints `2 vs 1 threads: train R.RRx, scoring R.RRx` per size.
 *
 *   npm run bench:lab-threads                 # 3 rounds, 4 training steps (first excluded), 64 scored options
 *   BENCH_ROUNDS=5 BENCH_STEPS=6 npm run bench:lab-threads
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineScorer } from "../src/llm/engineScorer.js";
import { initModel } from "../src/model/initModel.js";
import { readTextDocuments } from "../src/rag/readTextDocuments.js";
import { trainBpe, writeTrainedTokenizer } from "../src/tokenizer/trainBpe.js";
import { train } from "../src/train/train.js";

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const steps = Number(process.env.BENCH_STEPS ?? 4);
const sizes = [
  { name: "1.4M", hidden: 128, layers: 4, heads: 4, ffn: 384 },
  { name: "12M", hidden: 384, layers: 6, heads: 6, ffn: 1024 },
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function secondsPerStep(model: string, data: string, out: string, threads: number): Promise<number> {
  const times: number[] = [];
  let last = performance.now();
  await train({
    model,
    out,
    data: [{ path: data, kind: "text", weight: 1 }],
    method: "full",
    steps,
    optimizer: { lr: 1e-3 },
    batch: { sequenceLength: 512, sequences: 4, accumulation: 1 },
    checkpoint: { every: 100_000 },
    validation: { fraction: 0, every: 0, batches: 1 },
    threads,
    onStart: () => {
      last = performance.now();
    },
    onProgress: () => {
      times.push((performance.now() - last) / 1000);
      last = performance.now();
    },
  });
  fs.rmSync(out, { recursive: true, force: true });
  const measured = times.length > 1 ? times.slice(1) : times;
  return measured.reduce((a, b) => a + b, 0) / measured.length;
}

async function secondsPerOption(model: string, requests: { context: string; continuation: string }[], threads: number): Promise<number> {
  const scorer = await EngineScorer.load({ modelPath: model, threads });
  try {
    await scorer.score(requests.slice(0, 4)); // warm-up: graph allocation
    const started = performance.now();
    for (let at = 0; at < requests.length; at += 32) await scorer.score(requests.slice(at, at + 32));
    return (performance.now() - started) / 1000 / requests.length;
  } finally {
    await scorer.dispose();
  }
}

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-bench-lab-threads-"));
try {
  const texts = [...readTextDocuments("examples/harbor/general/text"), ...readTextDocuments("examples/harbor/docs")].map((document) => document.text);
  const tokenizer = path.join(directory, "tokenizer", "tokenizer.json");
  fs.mkdirSync(path.dirname(tokenizer), { recursive: true });
  writeTrainedTokenizer(tokenizer, trainBpe({ texts, vocabSize: 2048 }));
  const data = path.join(directory, "text.jsonl");
  fs.writeFileSync(data, texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");
  const items = fs.readFileSync("examples/harbor/eval/mcq.jsonl", "utf8").trim().split("\n").slice(0, 16).map((line) => JSON.parse(line) as { question: string; choices: string[] });
  const requests = items.flatMap((item) => item.choices.map((choice) => ({ context: `Question: ${item.question}\nAnswer:`, continuation: ` ${choice}` })));
  console.log(`${os.cpus().length} logical CPUs (${os.cpus()[0]?.model ?? "?"}), load average ${os.loadavg().map((value) => value.toFixed(1)).join(" ")}; ${rounds} rounds, ${steps} steps (first excluded), ${requests.length} options`);
  for (const size of sizes) {
    const model = path.join(directory, `${size.name}.gguf`);
    const { parameters } = await initModel({ architecture: "llama", ...size, context: 512, tokenizer, out: model });
    const trainRatios: number[] = [];
    const scoreRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const train1 = await secondsPerStep(model, data, path.join(directory, "run"), 1);
      const train2 = await secondsPerStep(model, data, path.join(directory, "run"), 2);
      const score1 = await secondsPerOption(model, requests, 1);
      const score2 = await secondsPerOption(model, requests, 2);
      trainRatios.push(train1 / train2);
      scoreRatios.push(score1 / score2);
      console.log(
        `${size.name} (${(parameters / 1e6).toFixed(1)}M) round ${round + 1}: train ${train1.toFixed(2)} s/step at 1 thread, ${train2.toFixed(2)} at 2; ` +
          `scoring ${(score1 * 1000).toFixed(1)} ms/option at 1, ${(score2 * 1000).toFixed(1)} at 2`,
      );
    }
    console.log(`${size.name}: 2 vs 1 threads: train ${median(trainRatios).toFixed(2)}x, scoring ${median(scoreRatios).toFixed(2)}x (speed-up; > 1 = two threads faster)`);
  }
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
