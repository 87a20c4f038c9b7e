/**
 * `vertical lab DIR --export llamafactory OUT`: the lab's white-box stages as LLaMA-Factory jobs, for a GPU
 * machine or cluster. The data is the lab's own data step (prepareLabData: decontaminated chats with the system
 * prompt, the small SFT set, the general corpus), copied as Vertical would train on it; every stage gets a
 * YAML with the lab's hyper-parameters (stageJob.ts), and train.sh runs them in dependency order.
 *
 *   OUT/data/*.jsonl + data/dataset_info.json   the datasets, registered as LLaMA-Factory reads them
 *   OUT/<stage>.yaml                            one job per stage
 *   OUT/deepspeed/ds_z{2,3}_config.json         ZeRO configs (train.sh ZERO=2|3)
 *   OUT/train.sh                                the launcher
 *   OUT/vertical-export.json                    what --import-runs reads back
 */
import fs from "node:fs";
import path from "node:path";
import { readGguf } from "../../engine/gguf/index.js";
import { ChatTemplate } from "../../data/index.js";
import { writeFileAtomic } from "../../shared/atomicWrite.js";
import { ConfigError } from "../../shared/errors.js";
import { tokenizerFromGguf } from "../../tokenizer/fromGguf.js";
import { readConversations } from "../prepareLabData.js";
import type { LabDataOutputs } from "../prepareLabData.js";
import { loadLabConfig, type LabConfig } from "../labConfig.js";
import { buildLabSteps, plannedStepsOf, refuseOverlongSequences, sequenceLengthOf } from "../labSteps.js";
import { STAGES, stagesFor, type StageName } from "../routes.js";
import { runSteps, type ProgressSink } from "../runSteps.js";
import { stageDataSources } from "../trainStage.js";
import { DEEPSPEED_CONFIGS } from "./deepSpeedConfigs.js";
import { launcherScript } from "./launcherScript.js";
import { llamaFactoryTemplate } from "./llamaFactoryTemplate.js";
import { outputDirOf, stageJobYaml, type JobDataset } from "./stageJob.js";

export const EXPORT_MANIFEST = "vertical-export.json";

export interface ExportLlamaFactoryOptions {
  /** The lab's own out folder (its model and data steps run or are reused there). Defaults to DIR/out. */
  labOutDir?: string;
  /** The base model in Hugging Face form (folder or hub id). Defaults to models/base inside OUT. */
  baseModel?: string;
  /** The chat model in Hugging Face form. Defaults to models/chat inside OUT. */
  chatModel?: string;
  onProgress?: ProgressSink;
}

export interface ExportedStage {
  stage: StageName;
  job: string;
  outputDir: string;
  startsFrom: StageName | null;
  method: "lora" | "full";
  plannedSteps: number;
  sequenceLength: number;
  sequences: number;
}

export interface ExportManifest {
  format: 1;
  lab: string;
  stages: ExportedStage[];
}

/** dataset_info.json names of the lab's data files. */
const DATASET_NAMES: Record<string, string> = {
  "domain.jsonl": "vertical_domain",
  "general.jsonl": "vertical_general",
  "sft.jsonl": "vertical_sft",
  "sft-small.jsonl": "vertical_sft_small",
  "mip-chats.jsonl": "vertical_mip_chats",
};

const SHAREGPT_OPENAI = {
  formatting: "sharegpt",
  columns: { messages: "messages" },
  tags: { role_tag: "role", content_tag: "content", user_tag: "user", assistant_tag: "assistant", system_tag: "system" },
};

export async function exportLlamaFactory(folder: string, out: string, options: ExportLlamaFactoryOptions = {}): Promise<ExportManifest> {
  const config = loadLabConfig(folder);
  refuseOverlongSequences(config);
  const stages = stagesFor(config.routes);
  if (stages.length === 0) throw new ConfigError("the lab's routes train nothing, so there is no job to export", { where: `${config.file}: routes`, hint: "add a white-box route (cpt, sft, mip, …)" });
  const labOut = path.resolve(options.labOutDir ?? path.join(config.folder, "out"));
  const { data, modelPath, chatModelPath } = await prepareLabInputs(config, labOut, options.onProgress);
  const target = path.resolve(out);
  fs.mkdirSync(path.join(target, "data"), { recursive: true });
  const sizes = copyData(config, data, path.join(labOut, "data"), path.join(target, "data"), modelPath, stages);

  const models = { base: options.baseModel ?? "models/base", chat: options.chatModel ?? "models/chat" };
  const exported: ExportedStage[] = [];
  for (const stage of stages) {
    const definition = STAGES[stage];
    const root = rootModelOf(stage);
    const ggufOfRoot = root === "chat" ? chatModelPath! : modelPath;
    const from = definition.startsFrom;
    const full = config.training.method === "full";
    const datasets: JobDataset[] = stageDataSources(config, stage, data, "").map((source) => {
      const file = stage === "mip" && source.kind === "chat" ? "mip-chats.jsonl" : path.basename(source.path);
      return { name: DATASET_NAMES[file]!, weight: source.weight, ...sizes[path.basename(source.path)]! };
    });
    const plannedSteps = plannedStepsOf(config, stage);
    const sequenceLength = sequenceLengthOf(config);
    const template = llamaFactoryTemplate(readGguf(ggufOfRoot));
    const job = `${stage}.yaml`;
    const yaml = stageJobYaml(
      {
        config,
        stage,
        model: from && full ? outputDirOf(from) : models[root],
        ...(from && !full ? { adapter: outputDirOf(from) } : {}),
        datasets,
        template: template.name,
        plannedSteps,
        sequenceLength,
      },
      stageNotes(config, stage, template.note),
    );
    writeFileAtomic(path.join(target, job), yaml);
    exported.push({ stage, job, outputDir: outputDirOf(stage), startsFrom: from ?? null, method: config.training.method, plannedSteps, sequenceLength, sequences: config.training.sequences });
  }
  writeDatasetInfo(path.join(target, "data"), Object.keys(sizes));
  fs.mkdirSync(path.join(target, "deepspeed"), { recursive: true });
  for (const [name, value] of Object.entries(DEEPSPEED_CONFIGS)) writeFileAtomic(path.join(target, "deepspeed", name), `${JSON.stringify(value, null, 2)}\n`);
  const localModels = [
    ...(options.baseModel === undefined && stages.some((stage) => rootModelOf(stage) === "base") ? [models.base] : []),
    ...(options.chatModel === undefined && stages.some((stage) => rootModelOf(stage) === "chat") ? [models.chat] : []),
  ];
  const launcher = path.join(target, "train.sh");
  writeFileAtomic(launcher, launcherScript({ labName: config.name, labFolder: folder, stages, localModels }));
  fs.chmodSync(launcher, 0o755);
  const manifest: ExportManifest = { format: 1, lab: config.name, stages: exported };
  writeFileAtomic(path.join(target, EXPORT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The model at the root of a stage's chain: the base, or lab.yaml's chat model. */
function rootModelOf(stage: StageName): "base" | "chat" {
  let at = stage;
  while (STAGES[at].startsFrom) at = STAGES[at].startsFrom!;
  return STAGES[at].model === "chat" ? "chat" : "base";
}

/** Runs (or reuses) the lab's model and data steps: the export ships exactly the data the lab trains on. */
async function prepareLabInputs(config: LabConfig, labOut: string, onProgress: ProgressSink | undefined) {
  const steps = buildLabSteps(config, labOut).filter((step) => step.name === "model" || step.name === "data");
  const records = await runSteps(steps, { outDir: labOut, ...(onProgress ? { onProgress } : {}) });
  const model = records.model!.outputs;
  return {
    data: records.data!.outputs as unknown as LabDataOutputs,
    modelPath: String(model.modelPath),
    chatModelPath: model.chatModelPath === undefined ? undefined : String(model.chatModelPath),
  };
}

/** Documents and tokens of each data file the lab's data step wrote (token counts from the base model's tokenizer). */
function sizesOf(data: LabDataOutputs): Record<string, { documents: number; tokens: number }> {
  const sizes: Record<string, { documents: number; tokens: number }> = {
    [data.domainFile]: { documents: data.domainDocuments, tokens: data.domainTokens },
    [data.generalFile]: { documents: data.generalDocuments, tokens: data.generalTokens },
  };
  if (data.sftFile) sizes[data.sftFile] = { documents: data.sftConversations, tokens: data.sftTokens };
  // the small set's tokens are not counted by the data step; it is never mixed, so its share is never needed
  if (data.sftSmallFile) sizes[data.sftSmallFile] = { documents: data.sftSmallConversations, tokens: Math.round((data.sftTokens * data.sftSmallConversations) / Math.max(1, data.sftConversations)) };
  return sizes;
}

/**
 * Copies the lab's data files the stages read, and for mip renders the chats to text with the base model's
 * chat template (LLaMA-Factory's pt stage reads text only). Returns documents and tokens per file written.
 */
function copyData(config: LabConfig, data: LabDataOutputs, from: string, to: string, modelPath: string, stages: StageName[]) {
  const all = sizesOf(data);
  const needed = [...new Set(stages.flatMap((stage) => stageDataSources(config, stage, data, "").map((source) => path.basename(source.path))))];
  const sizes = Object.fromEntries(needed.map((file) => [file, all[file]!]));
  for (const file of needed) fs.copyFileSync(path.join(from, file), path.join(to, file));
  if (stages.includes("mip") && data.sftFile) {
    const tokenizer = tokenizerFromGguf(modelPath);
    const template = new ChatTemplate(tokenizer.chatTemplate ?? "", tokenizer);
    const lines = readConversations(path.join(from, data.sftFile)).map(({ conversation }) => JSON.stringify({ text: template.render(conversation.messages, false) }));
    writeFileAtomic(path.join(to, "mip-chats.jsonl"), `${lines.join("\n")}\n`);
    sizes["mip-chats.jsonl"] = all[data.sftFile]!;
  }
  return sizes;
}

function writeDatasetInfo(dataDir: string, files: string[]): void {
  const info: Record<string, unknown> = {};
  for (const file of files.sort()) {
    const chats = file === "sft.jsonl" || file === "sft-small.jsonl";
    info[DATASET_NAMES[file]!] = { file_name: file, ...(chats ? SHAREGPT_OPENAI : { columns: { prompt: "text" } }) };
  }
  writeFileAtomic(path.join(dataDir, "dataset_info.json"), `${JSON.stringify(info, null, 2)}\n`);
}

/** What a job cannot carry over from the lab, said in its header. */
function stageNotes(config: LabConfig, stage: StageName, templateNote: string | undefined): string[] {
  const definition = STAGES[stage];
  const budget = config.budgets[definition.budget];
  const notes = [`Lab "${config.name}", ${config.training.method} training, ${definition.objective} on ${definition.data}.`];
  if (budget.minutes !== undefined) notes.push(`The lab also stops this stage after ${budget.minutes} min; LLaMA-Factory has no wall-clock limit, so max_steps alone bounds it here.`);
  if (stage === "mip") notes.push("The chats are rendered to text with the base model's chat template (data/mip-chats.jsonl): pt trains on every token, where the lab's mip trains only the assistant turns of the chats.");
  if (STAGES[stage].objective === "cpt" || stage === "mip") notes.push("pt packs documents into one stream (attention across documents, as the lab's text packing).");
  if (templateNote && definition.objective === "sft") notes.push(templateNote);
  notes.push("per_device_train_batch_size is the lab's whole batch: on N GPUs divide it by N (or use gradient_accumulation_steps) to keep the recipe's.");
  return notes;
}
