/**
 * End-to-end training on a tiny f32 llama with a character tokenizer: CPT overfits a paragraph,
 * SFT on chat JSONL answers the trained questions, an interrupted run resumes to the same weights,
 * bad input leaves no run directory, and the exports agree with the engine.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGguf } from "../engine/gguf/index.js";
import { Backend, defaultBlasLibrary } from "../engine/index.js";
import { Evaluator, loadLoraAdapter, loadModel, tokenLogprobs, type LlamaModel, type LoraWeights } from "../model/index.js";
import { readLoraAdapterFile } from "../model/loraAdapterFile.js";
import { readChatDocuments } from "./documents.js";
import { exportRun } from "./exportRun.js";
import { readCheckpoint, readLatestCheckpoint, readMetrics } from "./runDirectory.js";
import { readSafetensors } from "./safetensors.js";
import { CharTokenizer } from "./testing/charTokenizer.js";
import { writeTinyModel } from "./testing/tinyModel.js";
import { resumeTraining, train, type TrainOptions } from "./train.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-train-"));
const modelPath = path.join(dir, "tiny.gguf");
const tokenizer = new CharTokenizer();

const PARAGRAPH =
  "The harbor master keeps three ledgers: one for ships that arrive at dawn, one for ships that leave at dusk, " +
  "and one for the ships that never come back. Each ledger is bound in blue leather and locked in the north tower.";

const QUESTIONS = [
  { question: "Who keeps the ledgers?", answer: "The harbor master." },
  { question: "What color is the leather?", answer: "Blue." },
  { question: "Where are the ledgers locked?", answer: "In the north tower." },
];

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

beforeAll(async () => {
  await writeTinyModel(modelPath, { vocab: tokenizer.vocabSize, hidden: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, seed: 11, context: 256 });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = (out: string): TrainOptions => ({
  model: modelPath,
  out: path.join(dir, out),
  threads: 1,
  tokenizer,
  data: [],
  steps: 1,
});

/** Character bigram conditional entropy of the text, in nats: what a model without memory of the sequence can reach. */
function bigramEntropy(text: string): number {
  const pairs = new Map<string, number>();
  const firsts = new Map<string, number>();
  for (let i = 0; i + 1 < text.length; i++) {
    pairs.set(text.slice(i, i + 2), (pairs.get(text.slice(i, i + 2)) ?? 0) + 1);
    firsts.set(text[i]!, (firsts.get(text[i]!) ?? 0) + 1);
  }
  let entropy = 0;
  const total = text.length - 1;
  for (const [pair, count] of pairs) entropy -= (count / total) * Math.log(count / firsts.get(pair[0]!)!);
  return entropy;
}

describe("CPT", () => {
  it("overfits a paragraph well below its bigram entropy", async () => {
    const corpus = write("paragraph.txt", PARAGRAPH);
    const result = await train({
      ...base("cpt"),
      data: corpus,
      objective: "cpt",
      method: "full",
      steps: 120,
      optimizer: { lr: 1e-2 },
      schedule: { kind: "cosine", warmupSteps: 10, minLrRatio: 0.1 },
      batch: { sequenceLength: 32, sequences: 4 },
      checkpoint: { every: 1000 },
    });
    // A model that only knew which character tends to follow which (no memory of the paragraph)
    // cannot go below the bigram entropy (1.48 nats here, so the bar is 0.37); uniform guessing costs ln(100) = 4.6.
    // Reaching a quarter of the bigram entropy means the paragraph itself was memorised.
    const threshold = bigramEntropy(PARAGRAPH) / 4;
    expect(result.finalLoss).toBeLessThan(threshold);
    const metrics = readMetrics(result.runDirectory);
    expect(metrics.filter((metric) => metric.type === "train")).toHaveLength(120);
    expect(metrics[0]).toMatchObject({ type: "train", step: 1 });
    expect(metrics[0]!.loss).toBeGreaterThan(3);
  });
});

function greedyAnswer(model: LlamaModel, prompt: number[], lora: LoraWeights): string {
  const tokens = [...prompt];
  for (let i = 0; i < 40; i++) {
    using evaluator = new Evaluator(model, { length: tokens.length, positions: [tokens.length - 1], lora });
    const logits = evaluator.logits(tokens);
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
    if (best === tokenizer.eotId) break;
    tokens.push(best);
  }
  return tokenizer.decode(tokens.slice(prompt.length));
}

describe("SFT", () => {
  it("LoRA on chat JSONL answers the trained questions", async () => {
    const lines = QUESTIONS.map(({ question, answer }) =>
      JSON.stringify({ messages: [{ role: "system", content: "Answer briefly." }, { role: "user", content: question }, { role: "assistant", content: answer }] }),
    );
    const data = write("chat.jsonl", `${lines.join("\n")}\n`);
    const result = await train({
      ...base("sft"),
      data,
      objective: "sft",
      method: "lora",
      lora: { rank: 16, alpha: 32 },
      steps: 150,
      optimizer: { lr: 1e-2 },
      schedule: { kind: "constant", warmupSteps: 5 },
      batch: { sequenceLength: 96, sequences: 3 },
      checkpoint: { every: 1000 },
    });
    expect(result.finalLoss).toBeLessThan(0.1);
    const adapterPath = path.join(dir, "sft-adapter.gguf");
    await exportRun(result.runDirectory, { format: "gguf-lora", out: adapterPath });
    using backend = Backend.cpu(1);
    using model = loadModel(modelPath, { backend });
    using adapter = loadLoraAdapter(adapterPath, model);
    for (const { question, answer } of QUESTIONS) {
      const prompt = tokenizer.encode(
        `<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\n${question}<|im_end|>\n<|im_start|>assistant\n`,
      );
      expect(greedyAnswer(model, prompt, adapter.weights)).toBe(answer);
    }
  });

  it("renders chat with the template and masks everything but the assistant replies", async () => {
    const file = write("one.jsonl", `${JSON.stringify({ messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Yo" }] })}\n`);
    const [document] = await readChatDocuments(file, tokenizer);
    const text = tokenizer.decode([...document!.tokens]);
    expect(text).toBe("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n");
    const trained = tokenizer.decode([...document!.tokens].filter((_, i) => document!.lossMask[i]));
    expect(trained).toBe("Yo<|im_end|>");
  });
});

describe("QLoRA and validation", () => {
  it("LoRA over q8_0 frozen weights learns, with validation loss and perplexity logged", async () => {
    const corpus = write("qlora.txt", `${PARAGRAPH} ${PARAGRAPH.toUpperCase()} ${PARAGRAPH.split("").reverse().join("")}`);
    const result = await train({
      ...base("qlora"),
      data: corpus,
      frozenType: "q8_0",
      lora: { rank: 8, alpha: 16 },
      steps: 30,
      optimizer: { lr: 1e-2 },
      batch: { sequenceLength: 32, sequences: 2 },
      validation: { fraction: 0.2, every: 10, batches: 1 },
    });
    const metrics = readMetrics(result.runDirectory);
    const train0 = metrics.find((metric) => metric.type === "train")!;
    expect(result.finalLoss).toBeLessThan(train0.loss - 0.5);
    const validations = metrics.filter((metric) => metric.type === "validation");
    expect(validations.map((metric) => metric.step)).toEqual([10, 20, 30]);
    for (const validation of validations) expect(validation.perplexity).toBeCloseTo(Math.exp(validation.loss), 6);
    expect(result.validation?.loss).toBe(validations[2]!.loss);

    // The same run over the f32 weights: q8_0 (the recommended LoRA setting on CPU, bench/train.ts)
    // changes numerics only slightly, so the loss curves stay close step by step.
    const exact = await train({
      ...base("qlora-f32"),
      data: corpus,
      lora: { rank: 8, alpha: 16 },
      steps: 30,
      optimizer: { lr: 1e-2 },
      batch: { sequenceLength: 32, sequences: 2 },
      validation: { fraction: 0.2, every: 10, batches: 1 },
    });
    const quantisedCurve = metrics.filter((metric) => metric.type === "train").map((metric) => metric.loss);
    const exactCurve = readMetrics(exact.runDirectory)
      .filter((metric) => metric.type === "train")
      .map((metric) => metric.loss);
    expect(quantisedCurve).toHaveLength(30);
    expect(exactCurve).toHaveLength(30);
    const gaps = quantisedCurve.map((loss, step) => Math.abs(loss - exactCurve[step]!) / exactCurve[step]!);
    if (process.env.VERTICAL_DEBUG_GRADIENTS) console.log("q8_0 vs f32 relative loss gaps", gaps.map((gap) => gap.toExponential(1)).join(" "));
    // stated tolerance: every step within 1% of the f32 loss, the final loss within 0.5% (measured:
    // at most 0.21% and 0.17% over these 30 steps)
    expect(Math.max(...gaps)).toBeLessThan(0.01);
    expect(Math.abs(result.finalLoss - exact.finalLoss) / exact.finalLoss).toBeLessThan(0.005);
  });
});

describe("BLAS backend", () => {
  // Runs when `npm run build:blas` built the library (.ci/run does).
  it.skipIf(!fs.existsSync(defaultBlasLibrary()))("full fine-tuning and LoRA with ggml's BLAS backend follow the plain CPU run", async () => {
    const corpus = write("blas.txt", `${PARAGRAPH} ${PARAGRAPH.toUpperCase()}`);
    for (const method of ["full", "lora"] as const) {
      const backends: string[][] = [];
      const run = (out: string, blas: "auto" | "off") =>
        train({
          ...base(out),
          data: corpus,
          method,
          blas,
          steps: 12,
          optimizer: { lr: 3e-3 },
          batch: { sequenceLength: 32, sequences: 2 },
          checkpoint: { every: 1000 },
          onStart: (info) => backends.push(info.backends),
        });
      const withBlas = await run(`${method}-blas`, "auto");
      const plain = await run(`${method}-plain`, "off");
      expect(backends).toEqual([["BLAS", "CPU"], ["CPU"]]);
      const curve = (directory: string) =>
        readMetrics(directory)
          .filter((metric) => metric.type === "train")
          .map((metric) => metric.loss);
      const blasCurve = curve(withBlas.runDirectory);
      const plainCurve = curve(plain.runDirectory);
      // Same arithmetic in another summation order (OpenBLAS vs ggml's kernels): measured gaps
      // ~1e-7 relative; 1e-4 allows AdamW's normalised steps to amplify them over 12 steps, while a
      // wrong product (e.g. a transposed operand) changes the loss by > 1e-1 from step 1.
      expect(blasCurve).toHaveLength(12);
      const gaps = blasCurve.map((loss, step) => Math.abs(loss - plainCurve[step]!) / plainCurve[step]!);
      if (process.env.VERTICAL_DEBUG_GRADIENTS) console.log(`${method} BLAS vs plain relative loss gaps`, gaps.map((gap) => gap.toExponential(1)).join(" "));
      expect(Math.max(...gaps)).toBeLessThan(1e-4);
      // ...and BLAS really computed products: ggml's kernels would give identical losses (measured ~1e-7 apart)
      expect(Math.max(...gaps)).toBeGreaterThan(0);
      expect(blasCurve.at(-1)!).toBeLessThan(blasCurve[0]! - 0.5);
    }
  });
});

describe("mixed precision", () => {
  it("full fine-tuning with compute bf16 follows the f32 run's loss within 0.5%, and only full/subset accept it", async () => {
    const corpus = write("bf16.txt", `${PARAGRAPH} ${PARAGRAPH.toUpperCase()}`);
    const run = (out: string, compute: "f32" | "bf16") =>
      train({
        ...base(out),
        data: corpus,
        method: "full",
        compute,
        steps: 20,
        optimizer: { lr: 3e-3 },
        batch: { sequenceLength: 32, sequences: 2 },
        checkpoint: { every: 1000 },
      });
    const mixed = await run("full-bf16", "bf16");
    const exact = await run("full-f32", "f32");
    const curve = (directory: string) =>
      readMetrics(directory)
        .filter((metric) => metric.type === "train")
        .map((metric) => metric.loss);
    const mixedCurve = curve(mixed.runDirectory);
    const exactCurve = curve(exact.runDirectory);
    expect(mixedCurve).toHaveLength(20);
    expect(exactCurve).toHaveLength(20);
    const gaps = mixedCurve.map((loss, step) => Math.abs(loss - exactCurve[step]!) / exactCurve[step]!);
    if (process.env.VERTICAL_DEBUG_GRADIENTS) console.log("bf16 vs f32 relative loss gaps", gaps.map((gap) => gap.toExponential(1)).join(" "));
    // The forward really ran through the BF16 copies: the very first loss differs from f32's.
    expect(gaps[0]).toBeGreaterThan(0);
    // The run learns like the f32 one. Stated tolerance: every step within 0.5% of the f32 loss, the
    // final loss within 0.3% (measured: at most 0.11% and 0.08% over these 20 steps; the same run
    // with f32 working copies is bit-identical to compute f32, so the gaps are bf16 rounding alone).
    expect(mixed.finalLoss).toBeLessThan(mixedCurve[0]! - 1.5);
    expect(Math.max(...gaps)).toBeLessThan(0.005);
    expect(Math.abs(mixed.finalLoss - exact.finalLoss) / exact.finalLoss).toBeLessThan(0.003);
    // The checkpoint holds the f32 master weights, not values rounded to bf16.
    const stored = readLatestCheckpoint(mixed.runDirectory)!.parameters.find((tensor) => tensor.name === "blk.0.attn_q.weight")!;
    expect(stored.data.some((value) => (new Uint32Array(Float32Array.of(value).buffer)[0]! & 0xffff) !== 0)).toBe(true);

    await expect(train({ ...base("lora-bf16"), data: corpus, compute: "bf16" })).rejects.toThrow(/compute: bf16 applies to trained model weights/);
    expect(fs.existsSync(path.join(dir, "lora-bf16"))).toBe(false);
  });
});

describe("methods and objectives", () => {
  it("subset fine-tuning changes only the chosen weights; soft prompts train alone and export; MIP mixes text and chat", async () => {
    const corpus = write("methods.txt", PARAGRAPH);
    const subset = await train({
      ...base("subset"),
      data: corpus,
      method: "subset",
      subset: { layers: [1], targets: ["q"] },
      steps: 2,
      optimizer: { lr: 1e-2 },
      batch: { sequenceLength: 16, sequences: 2 },
    });
    const mergedPath = path.join(dir, "subset-merged.gguf");
    await exportRun(subset.runDirectory, { format: "gguf-merged", out: mergedPath });
    const original = readGguf(modelPath);
    const merged = readGguf(mergedPath);
    const changed = original.tensors
      .filter((info) => !Buffer.from(original.tensorData(info.name)).equals(Buffer.from(merged.tensorData(info.name))))
      .map((info) => info.name);
    expect(changed).toEqual(["blk.1.attn_q.weight"]);

    const prompt = await train({
      ...base("soft"),
      data: corpus,
      method: "soft-prompt",
      softPrompt: { tokens: 4 },
      steps: 20,
      optimizer: { lr: 5e-2 },
      batch: { sequenceLength: 16, sequences: 2 },
    });
    const metrics = readMetrics(prompt.runDirectory).filter((metric) => metric.type === "train");
    expect(metrics[metrics.length - 1]!.loss).toBeLessThan(metrics[0]!.loss);
    const promptPath = path.join(dir, "soft.gguf");
    await exportRun(prompt.runDirectory, { format: "soft-prompt", out: promptPath });
    expect(readGguf(promptPath).tensor("soft_prompt")!.shape).toEqual([64, 4]);
    await exportRun(prompt.runDirectory, { format: "soft-prompt", out: path.join(dir, "soft-peft") });
    expect(readSafetensors(path.join(dir, "soft-peft", "adapter_model.safetensors")).tensors.get("prompt_embeddings")!.shape).toEqual([4, 64]);
    await expect(exportRun(prompt.runDirectory, { format: "gguf-lora", out: path.join(dir, "x.gguf") })).rejects.toThrow(/needs a LoRA run/);

    const chat = write(
      "mip-chat.jsonl",
      `${QUESTIONS.map(({ question, answer }) => JSON.stringify({ messages: [{ role: "user", content: question }, { role: "assistant", content: answer }] })).join("\n")}\n`,
    );
    const mip = await train({
      ...base("mip"),
      objective: "mip",
      data: [
        { path: corpus, weight: 3 },
        { path: chat, weight: 1 },
      ],
      steps: 4,
      batch: { sequenceLength: 48, sequences: 2 },
    });
    expect(Number.isFinite(mip.finalLoss)).toBe(true);
    const config = JSON.parse(fs.readFileSync(path.join(mip.runDirectory, "config.json"), "utf8"));
    expect(config.data.map((source: { kind: string; weight: number }) => [source.kind, source.weight])).toEqual([
      ["text", 3],
      ["chat", 1],
    ]);
  });
});

describe("resume", () => {
  it("an interrupted run resumed reaches the same weights as an uninterrupted one", async () => {
    const corpus = write("resume.txt", PARAGRAPH);
    const options = (out: string): TrainOptions => ({
      ...base(out),
      data: corpus,
      method: "lora",
      lora: { rank: 4, alpha: 8 },
      steps: 10,
      optimizer: { lr: 5e-3, weightDecay: 0.01 },
      schedule: { kind: "cosine", warmupSteps: 2 },
      batch: { sequenceLength: 16, sequences: 2, accumulation: 2 },
      checkpoint: { every: 3 },
    });
    const straight = await train(options("straight"));
    const controller = new AbortController();
    const first = await train({
      ...options("interrupted"),
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.step === 5) controller.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    expect(first.steps).toBe(5);
    expect(readLatestCheckpoint(first.runDirectory)!.state.step).toBe(5);
    const resumed = await resumeTraining(first.runDirectory, { tokenizer });
    expect(resumed.steps).toBe(10);
    const a = readCheckpoint(straight.checkpoint);
    const b = readCheckpoint(resumed.checkpoint);
    expect(b.parameters.map((p) => p.name)).toEqual(a.parameters.map((p) => p.name));
    for (const [index, parameter] of a.parameters.entries()) expect(b.parameters[index]!.data).toEqual(parameter.data);
    // metrics: one line per step, no duplicates after the resume
    expect(readMetrics(resumed.runDirectory).map((metric) => metric.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe("bad input", () => {
  it("a broken JSONL line is reported with file and line, and no run directory is left", async () => {
    const data = write("broken.jsonl", `${JSON.stringify({ messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }] })}\n{"messages": [\n`);
    const out = path.join(dir, "broken-run");
    await expect(train({ ...base("broken-run"), data, objective: "sft", steps: 2 })).rejects.toThrow(`${data}:2: invalid JSON`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it("a layer the model does not have is named", async () => {
    const corpus = write("layers.txt", PARAGRAPH);
    await expect(train({ ...base("layers-run"), data: corpus, lora: { layers: [7] } })).rejects.toThrow(/lora\.layers: layer 7 does not exist/);
    expect(fs.existsSync(path.join(dir, "layers-run"))).toBe(false);
  });
});

describe("exports", () => {
  it("GGUF LoRA, PEFT and merged GGUF agree with the engine", async () => {
    const corpus = write("export.txt", PARAGRAPH);
    const run = await train({
      ...base("export"),
      data: corpus,
      lora: { rank: 4, alpha: 16, targets: ["q", "k", "v", "o", "gate", "up", "down"] },
      steps: 6,
      optimizer: { lr: 2e-2 },
      batch: { sequenceLength: 16, sequences: 2 },
    });
    const adapterPath = path.join(dir, "export-adapter.gguf");
    const mergedPath = path.join(dir, "export-merged.gguf");
    const peftDir = path.join(dir, "export-peft");
    await exportRun(run.runDirectory, { format: "gguf-lora", out: adapterPath });
    await exportRun(run.runDirectory, { format: "gguf-merged", out: mergedPath });
    await exportRun(run.runDirectory, { format: "peft", out: peftDir });

    const adapterFile = readLoraAdapterFile(adapterPath);
    expect(adapterFile.pairs).toHaveLength(2 * 7);
    expect(adapterFile.alpha).toBe(16);
    const peft = readSafetensors(path.join(peftDir, "adapter_model.safetensors"));
    // llama q rows are un-permuted, so compare an unpermuted module: v_proj
    const v = adapterFile.pairs.find((pair) => pair.base === "blk.1.attn_v.weight")!;
    expect(peft.tensors.get("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight")!.data).toEqual(v.b);
    expect(peft.tensors.get("base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight")!.shape).toEqual([4, 64]);

    using backend = Backend.cpu(1);
    using model = loadModel(modelPath, { backend });
    using merged = loadModel(mergedPath, { backend });
    using adapter = loadLoraAdapter(adapterPath, model);
    const tokens = tokenizer.encode(PARAGRAPH.slice(0, 40));
    const withAdapter = tokenLogprobs(model, tokens, { lora: adapter.weights });
    const withoutAdapter = tokenLogprobs(model, tokens);
    const fromMerged = tokenLogprobs(merged, tokens);
    const gap = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
    expect(gap(withAdapter, withoutAdapter)).toBeGreaterThan(1e-2);
    expect(gap(withAdapter, fromMerged)).toBeLessThan(1e-4);

    // merging onto another model is refused before anything is written
    const otherPath = path.join(dir, "other.gguf");
    await writeTinyModel(otherPath, { vocab: tokenizer.vocabSize, hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 128 });
    const refused = path.join(dir, "refused.gguf");
    await expect(exportRun(run.runDirectory, { format: "gguf-merged", out: refused, base: otherPath })).rejects.toThrow(/--base: the run was trained on another model/);
    expect(fs.existsSync(refused)).toBe(false);
  });
});
