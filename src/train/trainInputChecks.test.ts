/**
 * Bad sizes and bad run states are refused with messages before ggml sees them (a user's reports:
 * segfaults on --seq-len 100000 or --batch-size 200000, loss NaN on SFT cut to nothing, "final
 * loss: NaN" on resuming a finished run), and a failed start leaves nothing that blocks a rerun.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHyperparameters } from "../model/hyperparameters.js";
import { readGguf } from "../engine/gguf/index.js";
import { checkBatchFits, checkModelFits, estimateMicroBatchBytes, estimateTrainingMemory } from "./checkBatchFits.js";
import { errorOf } from "./testing/errorOf.js";
import { CharTokenizer } from "./testing/charTokenizer.js";
import { writeTinyModel } from "./testing/tinyModel.js";
import { resumeTraining, train, type TrainOptions } from "./train.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-train-checks-"));
const modelPath = path.join(dir, "tiny.gguf");
const tokenizer = new CharTokenizer();
const TEXT = "The pilot boards at first light and brings each ship to its berth in the order of arrival. ".repeat(4);

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const base = (out: string): TrainOptions => ({
  model: modelPath,
  out: path.join(dir, out),
  threads: 1,
  tokenizer,
  data: write(`${out}.txt`, TEXT),
  steps: 2,
  batch: { sequenceLength: 16, sequences: 2 },
});

beforeAll(async () => {
  await writeTinyModel(modelPath, {
    vocab: tokenizer.vocabSize,
    hidden: 32,
    layers: 1,
    heads: 4,
    kvHeads: 2,
    ffn: 64,
    seed: 5,
    context: 256,
  });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("sizes are checked before ggml allocates", () => {
  it("a sequence longer than the model's context is refused with both lengths, and no run directory is left", async () => {
    const options = base("long");
    await expect(train({ ...options, batch: { sequenceLength: 100_000, sequences: 2 } })).rejects.toThrow(
      /batch\.sequenceLength \(--seq-len\): 100000 tokens per sequence is longer than the model's context length of 256/,
    );
    expect(fs.existsSync(options.out)).toBe(false);
  });

  it("an absurd batch is refused with its estimated memory and a batch size that fits", async () => {
    const options = base("wide");
    await expect(train({ ...options, batch: { sequenceLength: 16, sequences: 1e8 } })).rejects.toThrow(
      /a micro-batch of 100000000 sequences x 16 tokens needs about [\d.]+ GiB for activations and gradients; this machine has/,
    );
    expect(fs.existsSync(options.out)).toBe(false);

    const hparams = readHyperparameters(readGguf(modelPath));
    const perSequence = estimateMicroBatchBytes(hparams, { sequences: 1, length: 256 });
    const machine = 1000 * perSequence;
    expect(() => checkBatchFits(hparams, { sequences: 200_000, length: 256 }, "--seq-len", machine)).toThrow(
      /use --batch-size 1000 or less/,
    );
    expect(() => checkBatchFits(hparams, { sequences: 1000, length: 256 }, "--seq-len", machine)).not.toThrow();
    expect(() => checkBatchFits(hparams, { sequences: 1, length: 256 }, "--seq-len", perSequence / 2)).toThrow(
      /even one sequence does not fit: lower --seq-len/,
    );
  });

  it("--out naming a file is refused", async () => {
    const file = write("a-file", "x");
    await expect(train({ ...base("file-out"), out: file })).rejects.toThrow(
      `${file} is a file; a run directory is a folder`,
    );
  });

  it("a start that fails after the run directory was made removes it, so the same command can run again", async () => {
    // lr 1e30 sends the weights to infinity at the first update; the second step's loss is not finite
    const options: TrainOptions = {
      ...base("diverges"),
      method: "full",
      steps: 3,
      optimizer: { lr: 1e30, gradClip: 0 },
    };
    await expect(train(options)).rejects.toThrow(/loss became (NaN|Infinity) at step [23]/);
    expect(fs.existsSync(options.out)).toBe(false);
    await expect(train({ ...options, optimizer: { lr: 1e-3 } })).resolves.toMatchObject({ steps: 3 });
  });
});

describe("SFT examples cut to nothing", () => {
  it("are refused with their count and the sequence length that keeps a reply", async () => {
    const prompt = "Tell me, in the words of the harbor rules, what a ship does when it arrives after dusk?";
    const lines = ["Anchor.", "Wait.", "Signal."].map((answer) =>
      JSON.stringify({
        messages: [
          { role: "user", content: prompt },
          { role: "assistant", content: answer },
        ],
      }),
    );
    const data = write("cut.jsonl", `${lines.join("\n")}\n`);
    const options: TrainOptions = {
      ...base("cut"),
      data,
      objective: "sft",
      batch: { sequenceLength: 64, sequences: 2 },
    };
    const error = await train(options).catch((caught: Error) => caught);
    expect(String(error)).toMatch(/3 of 3 chat examples have no assistant token left within sequences of 64 tokens/);
    const needed = Number(/raise --seq-len \(batch\.sequenceLength\) to at least (\d+)/.exec(String(error))?.[1]);
    expect(needed).toBeGreaterThan(64);
    expect(fs.existsSync(options.out)).toBe(false);
    // the suggested length is enough: the run trains with finite losses
    const result = await train({ ...options, batch: { sequenceLength: needed, sequences: 2 } });
    expect(Number.isFinite(result.finalLoss)).toBe(true);
  });
});

describe("resume", () => {
  it("a finished run says so with its real final loss; --steps extends it; fewer steps than taken are refused", async () => {
    const first = await train(base("finished"));
    expect(Number.isFinite(first.finalLoss)).toBe(true);
    const again = await resumeTraining(first.runDirectory, { tokenizer });
    expect(again).toMatchObject({
      alreadyFinished: true,
      steps: 2,
      finalLoss: first.finalLoss,
      checkpoint: first.checkpoint,
    });

    const extended = await resumeTraining(first.runDirectory, { tokenizer }, { steps: 4 });
    expect(extended.steps).toBe(4);
    expect(extended.alreadyFinished).toBeUndefined();
    expect(Number.isFinite(extended.finalLoss)).toBe(true);
    const stored = JSON.parse(fs.readFileSync(path.join(first.runDirectory, "config.json"), "utf8")) as {
      steps: number;
    };
    expect(stored.steps).toBe(4);
    await expect(resumeTraining(first.runDirectory, { tokenizer }, { steps: 3 })).rejects.toThrow(
      /the run has taken 4 steps already; --steps 3/,
    );
  });

  it("a corrupt latest.json is named before anything loads", async () => {
    const run = await train(base("corrupt"));
    fs.writeFileSync(path.join(run.runDirectory, "latest.json"), "{");
    await expect(resumeTraining(run.runDirectory, { tokenizer })).rejects.toThrow(
      `${path.join(run.runDirectory, "latest.json")}: corrupt JSON`,
    );
  });
});

describe("a run too large for the machine's memory", () => {
  // The shipped 5.3M example base: f32 weights, 21.4 MB on disk.
  const shipped = readGguf(path.resolve(import.meta.dirname, "../../examples/harbor/models/base.gguf"));
  const plan = (method: "lora" | "full") => ({ method, rank: 8, subsetNames: new Set<string>(), shape: { sequences: 1, length: 64 } });

  it("is estimated from the tensor table: full fine-tuning holds f32 weights plus three f32 optimiser values each", () => {
    const parameters = shipped.tensors.reduce((sum, tensor) => sum + tensor.elements, 0);
    const full = estimateTrainingMemory(shipped, readHyperparameters(shipped), plan("full"));
    expect(full.weights).toBe(4 * parameters);
    expect(full.optimiser).toBe(12 * parameters);
    const lora = estimateTrainingMemory(shipped, readHyperparameters(shipped), plan("lora"));
    expect(lora.weights).toBeGreaterThan(shipped.tensors.reduce((sum, tensor) => sum + tensor.byteSize, 0));
    expect(lora.optimiser).toBeLessThan(full.optimiser / 10);
    expect(lora.activations).toBe(full.activations);
  });

  it("is refused before loading, with the estimate's parts and what to change", () => {
    const machine = 64 * 2 ** 20;
    expect(() => checkModelFits(shipped, plan("full"), machine)).toThrow(
      /training .*base\.gguf \(method full\) needs about 0\.\d\d GiB: weights 0\.\d\d GiB, gradients \+ AdamW moments 0\.\d\d GiB, activations of a micro-batch 0\.\d\d GiB; this machine has 0\.06 GiB/,
    );
    expect(errorOf(() => checkModelFits(shipped, plan("full"), machine)).message).toContain("Hint: train LoRA adapters instead (--method lora");
    expect(() => checkModelFits(shipped, plan("lora"), machine)).not.toThrow();
  });
});
