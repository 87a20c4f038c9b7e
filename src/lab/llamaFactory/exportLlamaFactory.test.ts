/**
 * The LLaMA-Factory export of the shipped harbor lab, pinned by golden files (test/golden/llamafactory-harbor;
 * `npx vitest run -u` rewrites them after a deliberate change), and every key it writes checked against the
 * names LLaMA-Factory's argument dataclasses accept (acceptedKeys.ts).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadLabConfig } from "../labConfig.js";
import { DATASET_COLUMN_KEYS, DATASET_INFO_KEYS, DATASET_TAG_KEYS, LLAMA_FACTORY_ARGUMENTS, unacceptedJobKeys } from "./acceptedKeys.js";
import { exportLlamaFactory, type ExportManifest } from "./exportLlamaFactory.js";
import { interleaveProbabilities, stageJobSections, withPyYamlFloats } from "./stageJob.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "lf-export-"));
const out = path.join(scratch, "jobs");
const golden = path.resolve("test/golden/llamafactory-harbor");
let manifest: ExportManifest;

beforeAll(async () => {
  manifest = await exportLlamaFactory("examples/harbor", out, { labOutDir: path.join(scratch, "lab"), onProgress: () => {} });
}, 60_000);
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const flatten = (text: string) => parse(text) as Record<string, unknown>;

describe("vertical lab --export llamafactory (harbor)", () => {
  it("writes one job per white-box stage, in dependency order, as the golden files have them", async () => {
    expect(manifest.stages.map((stage) => stage.stage)).toEqual(["cpt", "cpt-general", "sft", "sft-small", "mip", "cpt-sft", "chat-sft", "chat-sft-small"]);
    const files = [...manifest.stages.map((stage) => stage.job), "train.sh", "vertical-export.json", "data/dataset_info.json", "deepspeed/ds_z2_config.json", "deepspeed/ds_z3_config.json"];
    for (const file of files) await expect(fs.readFileSync(path.join(out, file), "utf8")).toMatchFileSnapshot(path.join(golden, file));
    // the data files are the lab's own: pinned by digest and line count
    const digests = Object.fromEntries(
      fs.readdirSync(path.join(out, "data")).filter((name) => name.endsWith(".jsonl")).sort().map((name) => {
        const bytes = fs.readFileSync(path.join(out, "data", name));
        return [name, { sha256: createHash("sha256").update(bytes).digest("hex"), lines: bytes.toString("utf8").trimEnd().split("\n").length }];
      }),
    );
    await expect(`${JSON.stringify(digests, null, 2)}\n`).toMatchFileSnapshot(path.join(golden, "data-digests.json"));
  });

  it("ships exactly the files the lab's data step wrote (decontaminated chats with the system prompt)", () => {
    const lab = path.join(scratch, "lab", "data");
    for (const file of ["domain.jsonl", "general.jsonl", "sft.jsonl", "sft-small.jsonl"]) expect(fs.readFileSync(path.join(out, "data", file)).equals(fs.readFileSync(path.join(lab, file))), file).toBe(true);
    const first = JSON.parse(fs.readFileSync(path.join(out, "data", "sft.jsonl"), "utf8").split("\n")[0]!) as { messages: { role: string; content: string }[] };
    expect(first.messages[0]).toEqual({ role: "system", content: loadLabConfig("examples/harbor").model.systemPrompt });
  });

  it("uses only keys LLaMA-Factory accepts, and datasets its dataset_info.json registers", () => {
    const info = JSON.parse(fs.readFileSync(path.join(out, "data", "dataset_info.json"), "utf8")) as Record<string, Record<string, Record<string, string>>>;
    for (const entry of Object.values(info)) {
      for (const key of Object.keys(entry)) expect(DATASET_INFO_KEYS).toContain(key);
      for (const key of Object.keys(entry.columns ?? {})) expect(DATASET_COLUMN_KEYS).toContain(key);
      for (const key of Object.keys(entry.tags ?? {})) expect(DATASET_TAG_KEYS).toContain(key);
      expect(fs.existsSync(path.join(out, "data", String(entry.file_name)))).toBe(true);
    }
    for (const stage of manifest.stages) {
      const job = flatten(fs.readFileSync(path.join(out, stage.job), "utf8"));
      expect(unacceptedJobKeys(job), stage.job).toEqual([]);
      const datasets = String(job.dataset).split(",");
      for (const name of datasets) expect(info).toHaveProperty(name);
      if (datasets.length > 1) {
        const probabilities = String(job.interleave_probs).split(",").map(Number);
        expect(probabilities).toHaveLength(datasets.length);
        expect(probabilities.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 9);
      }
    }
  });

  it("a LoRA lab's jobs carry rank, alpha, targets and, for cpt-sft, the earlier adapter merged under a new one", () => {
    const base = loadLabConfig("examples/harbor");
    const config = { ...base, training: { ...base.training, method: "lora" as const, rank: 8, alpha: 16 } };
    const job = Object.assign({}, ...Object.values(stageJobSections({ config, stage: "cpt-sft", model: "models/base", adapter: "saves/cpt-general", datasets: [{ name: "vertical_sft", weight: 1, documents: 1, tokens: 1 }], template: "qwen", plannedSteps: 40, sequenceLength: 512 }))) as Record<string, unknown>;
    expect(unacceptedJobKeys(job)).toEqual([]);
    expect(job).toMatchObject({ finetuning_type: "lora", lora_rank: 8, lora_alpha: 16, lora_target: "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", adapter_name_or_path: "saves/cpt-general", create_new_adapter: true, template: "qwen", stage: "sft" });
  });

  it("writes every float so PyYAML (YAML 1.1: a dot is required) reads a number, not a string", () => {
    const pyYamlNumber = /^[-+]?(?:0|[1-9][0-9_]*)$|^[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?$/;
    for (const stage of manifest.stages) {
      const text = fs.readFileSync(path.join(out, stage.job), "utf8");
      const parsed = flatten(text);
      for (const line of text.split("\n")) {
        const match = /^([a-z_]+): (.+)$/.exec(line);
        if (match && typeof parsed[match[1]!] === "number") expect(match[2], `${stage.job}: ${line}`).toMatch(pyYamlNumber);
      }
    }
    expect(withPyYamlFloats("adam_epsilon: 1e-8\nlearning_rate: 0.001\nx: 2.5e-7")).toBe("adam_epsilon: 1.0e-8\nlearning_rate: 0.001\nx: 2.5e-7");
  });

  it("the key check fails on a name LLaMA-Factory does not have and on a value outside its choices", () => {
    expect(LLAMA_FACTORY_ARGUMENTS.has("lora_rank")).toBe(true);
    expect(unacceptedJobKeys({ lora_rnak: 8, stage: "cpt", finetuning_type: "lora" })).toEqual(["lora_rnak", "stage: cpt"]);
  });

  it("mixes by tokens: documents are drawn in proportion to weight over mean document length", () => {
    // 1:5 by tokens, general documents twice as long: 1/1 : 5/2 = 2 : 5
    const [domain, general] = interleaveProbabilities([{ name: "d", weight: 1, documents: 10, tokens: 1000 }, { name: "g", weight: 5, documents: 10, tokens: 2000 }]);
    expect(domain).toBeCloseTo(2 / 7, 6);
    expect(general).toBeCloseTo(5 / 7, 6);
  });
});
