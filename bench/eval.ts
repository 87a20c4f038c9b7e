/**
 * Multiple-choice scoring throughput (items/s): Vertical's engine scorer against node-llama-cpp's
 * per-token path (controlledEvaluate with next-token probabilities), on the same ~25M-parameter GGUF
 * (GPT-2's 50k BPE vocabulary, 4 layers of width 384, tied output), the same thread count and the
 * same items. Two workloads:
 *   - letter: log-likelihood of " A".." D" after the MMLU-style prompt (one context pass per item)
 *   - option: log-likelihood of each option's text (lm-eval acc/acc_norm; one pass per option)
 * node-llama-cpp runs with its defaults (F16 KV cache, flash attention) and, for the agreement
 * column, the largest per-token difference against the engine is printed too.
 *
 *   npm run bench:eval [-- --threads 1 --items 24]
 *
 * Threads default to 1: on a shared 2-core machine, ggml's spinning worker threads make 2-thread
 * timings swing by 10x with the load of other processes.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { settings } from "../src/config.js";
import { buildMcqPrompt, type ScoringMode } from "../src/eval/mcq/buildPrompt.js";
import type { McqItem } from "../src/eval/mcq/types.js";
import { EngineScorer } from "../src/llm/engineScorer.js";
import { LlamaCppBackend } from "../src/llm/llamaCpp.js";
import type { ScoreRequest, TokenScorer } from "../src/llm/types.js";
import { createModel, readTokenizerMetadata, writeModel } from "../src/model/index.js";
import { llamaCppVocab } from "../test/native/fixtures.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: "1" },
    items: { type: "string", default: "24" },
  },
});
const threads = Number(values.threads);
const itemCount = Number(values.items);

const directory = path.join(settings().cacheDir, "bench");
const modelPath = path.join(directory, "eval-25m-gpt2.gguf");
const spec = {
  architecture: "llama",
  hidden: 384,
  layers: 4,
  heads: 6,
  kvHeads: 6,
  ffn: 1024,
  context: 1024,
  tiedOutput: true,
  seed: 7,
  initStd: 0.05,
};
const initialised = createModel(spec, readTokenizerMetadata(llamaCppVocab("ggml-vocab-gpt-2.gguf")));
const parameters = initialised.tensors.reduce((sum, tensor) => sum + tensor.values.length, 0);
if (!fs.existsSync(modelPath)) {
  fs.mkdirSync(directory, { recursive: true });
  await writeModel(modelPath, initialised);
}

// Synthetic harbour-operations items of realistic length (a ~60-token question, four short options).
const topics = [
  "berth allocation",
  "pilotage",
  "demurrage",
  "container stacking",
  "port state control",
  "tidal windows",
  "bunkering",
  "customs clearance",
];
const items: McqItem[] = Array.from({ length: itemCount }, (_, i) => {
  const topic = topics[i % topics.length]!;
  return {
    id: `bench/${i}`,
    subject: "harbour_operations",
    question: `In the port of Qinglan, which statement about ${topic} is correct when a vessel of ${150 + i} metres arrives during the night shift and the harbour master has issued notice ${1000 + i}?`,
    options: ["A", "B", "C", "D"].map((letter, j) => ({
      letter,
      text: `${topic} is handled by ${["the pilot station", "the terminal operator", "the shipping agent", "the port authority"][(i + j) % 4]} within ${j + 2} hours`,
    })),
    answer: "ABCD"[i % 4]!,
    source: { file: "bench", row: i + 1 },
  };
});

function requestsFor(mode: ScoringMode): ScoreRequest[][] {
  return items.map((item) => {
    const prompt = buildMcqPrompt({ item, language: "en", mode });
    return prompt.continuations.map((continuation) => ({ context: prompt.userText, continuation: continuation.text }));
  });
}

/**
 * Items go to both backends in chunks of 8 per score() call (as `vertical eval run` sends them to the
 * engine, which batches them into shared forward passes; node-llama-cpp evaluates them one after the
 * other), alternating engine / node-llama-cpp chunk by chunk so a change in machine load hits both alike.
 */
async function measureInterleaved(
  scorers: TokenScorer[],
  perItem: ScoreRequest[][],
): Promise<{ itemsPerSecond: number; logprobs: number[][] }[]> {
  for (const scorer of scorers) await scorer.score(perItem.slice(0, 8).flat()); // warm-up: graphs, caches
  const seconds = scorers.map(() => 0);
  const logprobs: number[][][] = scorers.map(() => []);
  const chunks: ScoreRequest[][] = [];
  for (let start = 0; start < perItem.length; start += 8) chunks.push(perItem.slice(start, start + 8).flat());
  for (const requests of chunks)
    for (const [index, scorer] of scorers.entries()) {
      const started = performance.now();
      const scores = await scorer.score(requests);
      seconds[index]! += (performance.now() - started) / 1000;
      logprobs[index]!.push(...scores.map((score) => score.tokenLogprobs));
    }
  return scorers.map((_, index) => ({ itemsPerSecond: perItem.length / seconds[index]!, logprobs: logprobs[index]! }));
}

console.log(
  `model: ${(parameters / 1e6).toFixed(1)}M parameters (f32, vocab 50257), ${itemCount} items, ${threads} threads`,
);
const engine = await EngineScorer.load({ modelPath, threads });
const llama = await LlamaCppBackend.load({ modelPath, threads, contextSize: 1024 });
const rows: string[][] = [["mode", "engine items/s", "node-llama-cpp items/s", "ratio", "max |Δ logprob|/token"]];
for (const mode of ["letter", "option"] as ScoringMode[]) {
  const perItem = requestsFor(mode);
  const [ours, theirs] = (await measureInterleaved([engine, llama], perItem)) as [
    { itemsPerSecond: number; logprobs: number[][] },
    { itemsPerSecond: number; logprobs: number[][] },
  ];
  let worst = 0;
  ours.logprobs.forEach((tokens, i) =>
    tokens.forEach((value, j) => (worst = Math.max(worst, Math.abs(value - theirs.logprobs[i]![j]!)))),
  );
  rows.push([
    mode,
    ours.itemsPerSecond.toFixed(2),
    theirs.itemsPerSecond.toFixed(2),
    `${(ours.itemsPerSecond / theirs.itemsPerSecond).toFixed(2)}x`,
    worst.toExponential(1),
  ]);
}
engine.dispose();
await llama.dispose();
const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "));
