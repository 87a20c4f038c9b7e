/**
 * Forward-pass throughput: Vertical's ggml graph against node-llama-cpp's batch evaluation on the same
 * ~25M-parameter GGUF, the same thread count and 512-token batches. Both compute the full forward
 * over all 512 positions and the logits of the last one (what a prompt evaluation does).
 *
 *   npm run bench:forward [-- --threads 2 --tokens 512 --repeats 5 --type f32]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { Backend, GgmlType } from "../src/engine/index.js";
import { ggmlTypeFromName } from "../src/engine/gguf/index.js";
import { Evaluator, createModel, loadModel, readTokenizerMetadata, writeModel } from "../src/model/index.js";
import { llamaCppVocab } from "../test/native/fixtures.js";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: "2" },
    tokens: { type: "string", default: "512" },
    repeats: { type: "string", default: "5" },
    type: { type: "string", default: "f32" },
  },
});
const threads = Number(values.threads);
const T = Number(values.tokens);
const repeats = Number(values.repeats);
const type = ggmlTypeFromName(values.type!) ?? GgmlType.F32;

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-bench-"));
const modelPath = path.join(directory, "bench.gguf");
const tokenizer = readTokenizerMetadata(llamaCppVocab("ggml-vocab-llama-spm.gguf"));
const spec = { architecture: "llama", hidden: 384, layers: 6, heads: 6, kvHeads: 6, ffn: 1024, context: 1024, tiedOutput: true, seed: 1 };
const initialised = createModel(spec, tokenizer);
const parameters = initialised.tensors.reduce((sum, tensor) => sum + tensor.values.length, 0);
await writeModel(modelPath, initialised, type);

const tokens = Array.from({ length: T }, (_, i) => 100 + ((i * 7919) % 30000));

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// Both engines are loaded side by side and measured in alternation, so background load on a shared
// machine hits both alike.
const backend = Backend.cpu(threads);
const model = loadModel(modelPath, { backend });
const evaluator = new Evaluator(model, { length: T, positions: [T - 1] });
const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
const reference = await llama.loadModel({ modelPath });
// node-llama-cpp's defaults (F16 KV cache), and an F32 KV cache like our graph keeps K and V in.
const context = await reference.createContext({ contextSize: T, batchSize: T, threads });
const sequence = context.getSequence();
const contextF32 = await reference.createContext({
  contextSize: T,
  batchSize: T,
  threads,
  experimentalKvCacheKeyType: "F32",
  experimentalKvCacheValueType: "F32",
});
const sequenceF32 = contextF32.getSequence();

function runOurs(): number {
  const start = performance.now();
  evaluator.logits(tokens);
  return (performance.now() - start) / 1000;
}
async function runTheirs(target: typeof sequence): Promise<number> {
  await target.clearHistory();
  const start = performance.now();
  await target.controlledEvaluate(tokens.map((token) => token as Token));
  return (performance.now() - start) / 1000;
}

runOurs(); // warm-up
await runTheirs(sequence);
await runTheirs(sequenceF32);
const oursSamples: number[] = [];
const theirsSamples: number[] = [];
const theirsF32Samples: number[] = [];
for (let r = 0; r < repeats; r++) {
  oursSamples.push(runOurs());
  theirsSamples.push(await runTheirs(sequence));
  theirsF32Samples.push(await runTheirs(sequenceF32));
}
const oursSeconds = median(oursSamples);
const theirsSeconds = median(theirsSamples);
const theirsF32Seconds = median(theirsF32Samples);
evaluator.dispose();
model.dispose();
backend.dispose();
await context.dispose();
await contextF32.dispose();
await reference.dispose();

fs.rmSync(directory, { recursive: true, force: true });
const ours = T / oursSeconds;
const theirs = T / theirsSeconds;
console.log(
  `model: llama ${spec.hidden}x${spec.layers}, ${(parameters / 1e6).toFixed(1)}M parameters, ${values.type} weights; ${T}-token batch, ${threads} threads, median of ${repeats}`,
);
console.log(`vertical forward:                             ${ours.toFixed(0)} tokens/s`);
const theirsF32 = T / theirsF32Seconds;
console.log(`node-llama-cpp (batch, default F16 KV cache): ${theirs.toFixed(0)} tokens/s`);
console.log(`node-llama-cpp (batch, F32 KV cache):         ${theirsF32.toFixed(0)} tokens/s`);
console.log(`ratio (vertical / node-llama-cpp default): ${(ours / theirs).toFixed(2)}x`);
console.log(`ratio (vertical / node-llama-cpp F32 KV):  ${(ours / theirsF32).toFixed(2)}x`);
