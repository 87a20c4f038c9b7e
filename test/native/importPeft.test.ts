/**
 * The way back from PEFT: a LoRA run trained by Vertical on a tiny llama (llama, so the q/k row permutation is
 * exercised), exported as a PEFT folder — standing in for an adapter produced elsewhere — and imported as a GGUF
 * LoRA gives node-llama-cpp the same log-probabilities as the run's own GGUF adapter.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenizerFromGguf } from "../../src/tokenizer/index.js";
import { exportRun } from "../../src/train/exportRun.js";
import { importPeftAdapter } from "../../src/train/importPeft.js";
import { mergeLoraAdapter } from "../../src/model/mergeLoraAdapter.js";
import { readSafetensors, writeSafetensors } from "../../src/train/safetensors.js";
import { train } from "../../src/train/train.js";
import { fromF32, GgmlType, toF32 } from "../../src/engine/gguf/index.js";
import { initModel } from "../../src/model/initModel.js";
import { trainBpe, writeTrainedTokenizer } from "../../src/tokenizer/trainBpe.js";
import { referenceLogprobs } from "./reference.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-import-peft-"));
const modelPath = path.join(directory, "tiny-llama.gguf");
const run = path.join(directory, "run");
const TEXT = "Ships arriving after dusk anchor in the outer basin and wait for the pilot, who boards at first light.";

/** A tiny llama (q/k stored permuted) with a ~300-token byte-level BPE learned from TEXT, so every call is quick. */
async function writeTinyLlama(out: string, hidden: number): Promise<void> {
  const tokenizer = path.join(directory, "tokenizer.json");
  if (!fs.existsSync(tokenizer)) writeTrainedTokenizer(tokenizer, trainBpe({ texts: [TEXT], vocabSize: 300, minFrequency: 1 }));
  await initModel({ architecture: "llama", hidden, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 128, seed: 7, tokenizer, out });
}

beforeAll(async () => {
  await writeTinyLlama(modelPath, 32);
  const corpus = path.join(directory, "corpus.txt");
  fs.writeFileSync(corpus, TEXT.repeat(4));
  await train({ model: modelPath, out: run, data: [corpus], method: "lora", lora: { rank: 4, alpha: 8 }, steps: 12, optimizer: { lr: 1e-2 }, batch: { sequenceLength: 16, sequences: 2 }, validation: { fraction: 0 }, threads: 1, seed: 5 });
}, 60_000);
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const gap = (x: number[], y: number[]) => Math.max(...x.map((value, i) => Math.abs(value - y[i]!)));

describe("importPeftAdapter", () => {
  it("a PEFT export of a trained run, imported, scores like the run's own GGUF adapter", async () => {
    const own = path.join(directory, "own.lora.gguf");
    const peft = path.join(directory, "peft");
    const imported = path.join(directory, "imported.lora.gguf");
    await exportRun(run, { format: "gguf-lora", out: own });
    await exportRun(run, { format: "peft", out: peft });
    await importPeftAdapter(peft, modelPath, imported);

    const tokens = tokenizerFromGguf(modelPath).encode(TEXT);
    const pick = (rows: Float64Array[]) => tokens.slice(1).map((token, i) => rows[i]![token]!);
    const base = pick(await referenceLogprobs(modelPath, tokens, { threads: 1 }));
    const ours = pick(await referenceLogprobs(modelPath, tokens, { lora: own, threads: 1 }));
    const back = pick(await referenceLogprobs(modelPath, tokens, { lora: imported, threads: 1 }));
    // the adapter matters, so agreeing is not trivial
    expect(gap(ours, base)).toBeGreaterThan(1e-2);
    expect(gap(back, ours)).toBeLessThanOrEqual(1e-5);
  }, 60_000);

  it("the imported adapter merged into the base (a later stage's start model) scores like base + adapter", async () => {
    const peft = path.join(directory, "peft");
    const imported = path.join(directory, "imported-2.lora.gguf");
    const merged = path.join(directory, "merged.gguf");
    const adapter = await importPeftAdapter(peft, modelPath, imported);
    await mergeLoraAdapter(modelPath, adapter, merged, "merged");
    const tokens = tokenizerFromGguf(modelPath).encode(TEXT);
    const pick = (rows: Float64Array[]) => tokens.slice(1).map((token, i) => rows[i]![token]!);
    const withAdapter = pick(await referenceLogprobs(modelPath, tokens, { lora: imported, threads: 1 }));
    const folded = pick(await referenceLogprobs(merged, tokens, { threads: 1 }));
    expect(gap(folded, withAdapter)).toBeLessThanOrEqual(1e-3);
  });

  it("reads a bf16 adapter (PEFT saves in the training precision) to within bf16's rounding", async () => {
    const peft = path.join(directory, "peft");
    const bf16 = path.join(directory, "peft-bf16");
    fs.mkdirSync(bf16, { recursive: true });
    fs.copyFileSync(path.join(peft, "adapter_config.json"), path.join(bf16, "adapter_config.json"));
    const { tensors } = readSafetensors(path.join(peft, "adapter_model.safetensors"));
    const rounded = [...tensors.values()].map((tensor) => ({ ...tensor, data: toF32(GgmlType.BF16, fromF32(GgmlType.BF16, tensor.data)) }));
    writeBf16Safetensors(path.join(bf16, "adapter_model.safetensors"), rounded);
    const back = readSafetensors(path.join(bf16, "adapter_model.safetensors")).tensors;
    for (const tensor of rounded) expect([...back.get(tensor.name)!.data]).toEqual([...tensor.data]);
    await expect(importPeftAdapter(bf16, modelPath, path.join(directory, "bf16.lora.gguf"))).resolves.toMatchObject({ rank: 4, alpha: 8 });
  });

  it("refuses what llama.cpp's LoRA format cannot carry, and an adapter for another model", async () => {
    const peft = path.join(directory, "peft");
    const dora = path.join(directory, "peft-dora");
    fs.cpSync(peft, dora, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(peft, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    fs.writeFileSync(path.join(dora, "adapter_config.json"), JSON.stringify({ ...config, use_dora: true }));
    await expect(importPeftAdapter(dora, modelPath, path.join(directory, "x.gguf"))).rejects.toThrow(/use_dora/);
    const other = path.join(directory, "other.gguf");
    await writeTinyLlama(other, 64);
    await expect(importPeftAdapter(peft, other, path.join(directory, "y.gguf"))).rejects.toThrow(/trained for another model/);
  });
});

/** A safetensors file with BF16 tensors, as PEFT writes one from a bf16 run. */
function writeBf16Safetensors(file: string, entries: { name: string; shape: number[]; data: Float32Array }[]): void {
  writeSafetensors(file, entries);
  const bytes = fs.readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const names = Object.keys(header).filter((name) => name !== "__metadata__");
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const name of names) {
    const entry = entries.find((candidate) => candidate.name === name)!;
    const data = Buffer.from(fromF32(GgmlType.BF16, entry.data));
    header[name] = { dtype: "BF16", shape: entry.shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
    chunks.push(data);
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(json), ...chunks]));
}
