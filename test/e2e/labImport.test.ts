/**
 * A lab where one stage is trained elsewhere: `--export llamafactory`, then a stand-in for LLaMA-Factory (our own
 * trainer on the exported data, saved as a PEFT folder with trainer_state.json, as a job leaves it), then
 * `--import-runs`; the next `vertical lab` skips the imported stage, trains the other one, and evaluates and reports
 * both. A tiny llama with a BPE learned from the folder keeps it to seconds.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "lab-import-"));
process.env.VERTICAL_CACHE_DIR = path.join(scratch, "cache");

const { afterAll, describe, expect, it } = await import("vitest");
const { filledLab } = await import("../../src/lab/testing/filledLab.js");
const { exportLlamaFactory } = await import("../../src/lab/llamaFactory/exportLlamaFactory.js");
const { importLlamaFactoryRuns } = await import("../../src/lab/llamaFactory/importRuns.js");
const { runLab } = await import("../../src/lab/runLab.js");
const { LabState } = await import("../../src/lab/labState.js");
const { initModel } = await import("../../src/model/initModel.js");
const { readLoraAdapterFile } = await import("../../src/model/loraAdapterFile.js");
const { readGguf, toF32 } = await import("../../src/engine/gguf/index.js");
const { trainBpe, writeTrainedTokenizer } = await import("../../src/tokenizer/trainBpe.js");
const { train } = await import("../../src/train/train.js");
const { exportRun } = await import("../../src/train/exportRun.js");
type ProgressEvent = import("../../src/lab/runSteps.js").ProgressEvent;

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const LAB_YAML = `
threads: 1
model: { path: models/base.gguf }
routes: [sft, cpt]
training: { method: lora, rank: 4, alpha: 8, lr: 0.01, sequences: 2, sequenceLength: 32 }
budgets: { cpt: { steps: 2 }, sft: { steps: 4 }, mip: { steps: 2 } }
eval: { limit: 1, openLimit: 1, maxTokens: 4 }
`;

async function tinyLab(): Promise<string> {
  const folder = filledLab();
  const texts = ["docs/pilotage.md", "general/text/water.txt"].map((file) => fs.readFileSync(path.join(folder, file), "utf8"));
  const tokenizer = path.join(scratch, "tokenizer", "tokenizer.json");
  fs.mkdirSync(path.dirname(tokenizer), { recursive: true });
  writeTrainedTokenizer(tokenizer, trainBpe({ texts: [...texts, "Pilot? Over 500 GT."], vocabSize: 300, minFrequency: 1 }));
  fs.mkdirSync(path.join(folder, "models"), { recursive: true });
  await initModel({ architecture: "llama", hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 128, seed: 3, tokenizer, out: path.join(folder, "models/base.gguf") });
  fs.writeFileSync(path.join(folder, "lab.yaml"), LAB_YAML);
  return folder;
}

describe("vertical lab --import-runs", () => {
  it("an imported sft stage is evaluated and reported as if the lab had trained it; cpt is still trained by the lab; a re-import redoes only what it affects", async () => {
    const folder = await tinyLab();
    const jobs = path.join(scratch, "jobs");
    const manifest = await exportLlamaFactory(folder, jobs, { onProgress: () => {} });
    expect(manifest.stages.map((stage) => stage.stage)).toEqual(["sft", "cpt"]);

    // the stand-in for `llamafactory-cli train sft.yaml`: the exported data, the job's steps, a PEFT folder
    const run = path.join(scratch, "elsewhere");
    await train({ model: path.join(folder, "models/base.gguf"), out: run, objective: "sft", data: [{ path: path.join(jobs, "data/sft.jsonl"), kind: "chat", weight: 1 }], method: "lora", lora: { rank: 4, alpha: 8 }, steps: 4, optimizer: { lr: 0.01 }, batch: { sequenceLength: 32, sequences: 2 }, validation: { fraction: 0 }, threads: 1, seed: 9 });
    const saved = path.join(jobs, "saves/sft");
    await exportRun(run, { format: "peft", out: saved });
    fs.writeFileSync(path.join(saved, "trainer_state.json"), JSON.stringify({ global_step: 4, log_history: [{ loss: 2.5 }, { loss: 2.25 }] }));
    fs.writeFileSync(path.join(saved, "train_results.json"), JSON.stringify({ train_runtime: 12.5 }));

    const imported = await importLlamaFactoryRuns(folder, jobs);
    expect(imported.map((stage) => [stage.stage, stage.steps])).toEqual([["sft", 4]]);
    // the imported adapter is the run's, matrix for matrix
    const own = path.join(scratch, "own.lora.gguf");
    await exportRun(run, { format: "gguf-lora", out: own });
    const back = readLoraAdapterFile(path.join(folder, "out", imported[0]!.weights));
    const expected = readLoraAdapterFile(own);
    expect(back.pairs.map((pair) => pair.base)).toEqual(expected.pairs.map((pair) => pair.base));
    back.pairs.forEach((pair, i) => expect([...pair.b]).toEqual([...expected.pairs[i]!.b]));

    const events: ProgressEvent[] = [];
    const lab = await runLab(folder, { onProgress: (event) => events.push(event) });
    const kinds = (step: string) => events.filter((event) => "step" in event && event.step === step).map((event) => event.type);
    expect(kinds("train:sft")).toEqual(["skip"]);
    expect(kinds("train:cpt")).toContain("finish");
    expect(kinds("eval:sft")).toContain("finish");
    const sft = lab.rows.find((row) => row.route === "sft")!;
    expect(sft.trainingTokens).toBe(4 * 32 * 2);
    expect(sft.trainingSeconds).toBe(12.5);
    expect(sft.domain).toBeDefined();
    expect(fs.readFileSync(lab.reportMarkdown, "utf8")).toContain("4 / 4 (trained elsewhere, imported)");
    const record = new LabState(path.join(folder, "out")).steps["train:sft"]!;
    expect(record.outputs).toMatchObject({ adapter: "models/sft.lora.gguf", finalLoss: 2.25, importedFrom: saved });

    // importing again replaces the stage: its evaluation is redone, the lab's own cpt is kept
    await importLlamaFactoryRuns(folder, jobs);
    const again: ProgressEvent[] = [];
    await runLab(folder, { onProgress: (event) => again.push(event) });
    const rerun = (step: string) => again.filter((event) => "step" in event && event.step === step).map((event) => event.type);
    expect(rerun("train:sft")).toEqual(["skip"]);
    expect(rerun("train:cpt")).toEqual(["skip"]);
    expect(rerun("eval:cpt")).toEqual(["skip"]);
    expect(rerun("eval:sft")).toContain("finish");
    expect(rerun("report")).toContain("finish");
  }, 120_000);

  it("a full fine-tuned stage comes back as a transformers folder and is converted, evaluated and reported", async () => {
    const folder = await tinyLab();
    fs.writeFileSync(path.join(folder, "lab.yaml"), LAB_YAML.replace("method: lora, rank: 4, alpha: 8", "method: full").replace("routes: [sft, cpt]", "routes: [sft]"));
    const jobs = path.join(scratch, "jobs-full");
    await exportLlamaFactory(folder, jobs, { onProgress: () => {} });
    // the stand-in for a full `llamafactory-cli train sft.yaml`: our full fine-tuning, saved as a transformers folder
    const run = path.join(scratch, "elsewhere-full");
    await train({ model: path.join(folder, "models/base.gguf"), out: run, objective: "sft", data: [{ path: path.join(jobs, "data/sft.jsonl"), kind: "chat", weight: 1 }], method: "full", steps: 3, optimizer: { lr: 0.01 }, batch: { sequenceLength: 32, sequences: 2 }, validation: { fraction: 0 }, threads: 1, seed: 9 });
    await exportRun(run, { format: "hf", out: path.join(jobs, "saves/sft") });

    const imported = await importLlamaFactoryRuns(folder, jobs);
    expect(imported.map((stage) => [stage.stage, stage.weights])).toEqual([["sft", "models/sft.gguf"]]);
    // the converted model holds the run's trained weights, tensor for tensor
    const merged = path.join(scratch, "own-full.gguf");
    await exportRun(run, { format: "gguf-merged", out: merged });
    const values = (file: string) => {
      const model = readGguf(file);
      return new Map(model.tensors.map((tensor) => [tensor.name, [...toF32(tensor.type, model.tensorData(tensor.name))]]));
    };
    const own = values(merged);
    for (const [name, data] of values(path.join(folder, "out/models/sft.gguf"))) expect(data, name).toEqual(own.get(name));

    const events: ProgressEvent[] = [];
    const lab = await runLab(folder, { onProgress: (event) => events.push(event) });
    expect(events.filter((event) => "step" in event && event.step === "train:sft").map((event) => event.type)).toEqual(["skip"]);
    expect(lab.rows.find((row) => row.route === "sft")!.domain).toBeDefined();
    expect(fs.readFileSync(lab.reportMarkdown, "utf8")).toContain("(trained elsewhere, imported)");
  }, 120_000);
});
