/**
 * The base model of a lab that has no GGUF of its own (the shipped example): a byte-level BPE tokenizer
 * trained on the folder's text (general corpus + domain documents, so domain words tokenise sensibly),
 * a freshly initialised llama-family model, pre-trained on the GENERAL corpus only — it knows common
 * facts and nothing of the domain. Built once and cached under settings().cacheDir by a hash of the
 * recipe, the seed and the text, so a second lab run (or a fresh --out folder) reuses it.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { GgmlType } from "../engine/gguf/index.js";
import { createModel, writeModel } from "../model/index.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { InterruptedError } from "../shared/errors.js";
import { tokenizerGgufMetadata } from "../tokenizer/huggingFace.js";
import { trainBpe, writeTrainedTokenizer } from "../tokenizer/trainBpe.js";
import { trainOrResume, type RunResult, type TrainProgress } from "../train/train.js";
import type { LabConfig } from "./labConfig.js";
import { timeBudget } from "../shared/timeBudget.js";

export type BuildRecipe = NonNullable<LabConfig["model"]["build"]>;

export interface BuiltBaseModel {
  modelPath: string;
  /** Folder holding tokenizer.json, the pre-training run and the GGUFs. */
  folder: string;
  parameters: number;
  pretrainSteps: number;
  pretrainTokens: number;
  pretrainSeconds: number;
  /** True when the time budget (pretrain.minutes) stopped pre-training before its steps. */
  stoppedEarly: boolean;
  cached: boolean;
}

export interface BuildBaseModelOptions {
  recipe: BuildRecipe;
  generalFolder: string;
  docsFolder: string;
  seed: number;
  threads: number;
  cacheDir: string;
  signal?: AbortSignal;
  progress?: (fraction: number, detail: string) => void;
  log?: (line: string) => void;
}

/** Documents as one JSONL of {"text"} lines: the trainer's text format. */
export function writeTextJsonl(file: string, texts: readonly string[]): void {
  writeFileAtomic(file, texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");
}

export async function buildBaseModel(options: BuildBaseModelOptions): Promise<BuiltBaseModel> {
  const { recipe } = options;
  const general = readTextDocuments(options.generalFolder);
  const docs = readTextDocuments(options.docsFolder);
  const contentHash = createHash("sha256");
  for (const document of [...general, ...docs]) contentHash.update(document.id).update("\0").update(document.text).update("\0");
  const key = createHash("sha256")
    .update(JSON.stringify({ recipe, seed: options.seed, content: contentHash.digest("hex"), version: 1 }))
    .digest("hex")
    .slice(0, 16);
  const folder = path.join(options.cacheDir, "lab-models", key);
  const modelPath = path.join(folder, "base.gguf");
  const infoPath = path.join(folder, "base.json");
  if (fs.existsSync(modelPath) && fs.existsSync(infoPath)) {
    options.log?.(`using the cached base model ${modelPath}`);
    return { ...(JSON.parse(fs.readFileSync(infoPath, "utf8")) as BuiltBaseModel), modelPath, folder, cached: true };
  }
  fs.mkdirSync(folder, { recursive: true });

  // 1. Tokenizer (cheap; redone if the folder has no tokenizer yet).
  const tokenizerPath = path.join(folder, "tokenizer", "tokenizer.json");
  if (!fs.existsSync(tokenizerPath)) {
    options.progress?.(0, "training the BPE tokenizer");
    const trained = trainBpe({
      texts: [...general, ...docs].map((document) => document.text),
      vocabSize: recipe.tokenizer.vocabSize,
      onProgress: (size, target) => options.progress?.(0.05 * (size / target), `tokenizer ${size}/${target}`),
    });
    fs.mkdirSync(path.dirname(tokenizerPath), { recursive: true });
    writeTrainedTokenizer(tokenizerPath, trained);
    options.log?.(`tokenizer: ${trained.vocabSize} tokens (${trained.mergeCount} merges)`);
  }

  // 2. Initial weights.
  const initPath = path.join(folder, "init.gguf");
  const spec = {
    architecture: recipe.architecture,
    hidden: recipe.hidden,
    layers: recipe.layers,
    heads: recipe.heads,
    ...(recipe.kvHeads !== undefined ? { kvHeads: recipe.kvHeads } : {}),
    ffn: recipe.ffn,
    context: recipe.context,
    seed: options.seed,
    name: "vertical-lab-base",
  };
  const initial = createModel(spec, tokenizerGgufMetadata(tokenizerPath));
  const parameters = initial.tensors.reduce((sum, tensor) => sum + tensor.values.length, 0);
  if (!fs.existsSync(initPath)) await writeModel(initPath, initial, GgmlType.F32);
  options.log?.(`model: ${recipe.architecture}, ${(parameters / 1e6).toFixed(2)}M parameters, context ${recipe.context}`);

  // 3. Pre-training on the general corpus (resumable: an interrupted build continues from its checkpoint).
  const dataPath = path.join(folder, "general.jsonl");
  if (!fs.existsSync(dataPath)) writeTextJsonl(dataPath, general.map((document) => document.text));
  const runDirectory = path.join(folder, "pretrain");
  const budget = timeBudget(options.signal, recipe.pretrain.minutes);
  const onProgress = (progress: TrainProgress) =>
    options.progress?.(0.05 + 0.95 * (progress.step / progress.steps), `pre-training step ${progress.step}/${progress.steps}, loss ${progress.loss.toFixed(3)}`);
  let result: RunResult;
  const started = performance.now();
  try {
    result = await trainOrResume({
      model: initPath,
      out: runDirectory,
      objective: "cpt",
      method: "full",
      data: [{ path: dataPath, kind: "text", weight: 1 }],
      steps: recipe.pretrain.steps,
      optimizer: { lr: recipe.pretrain.lr, weightDecay: 0.1 },
      schedule: { kind: "cosine", warmupSteps: Math.min(50, Math.floor(recipe.pretrain.steps / 10)), minLrRatio: 0.1 },
      batch: { sequenceLength: recipe.context, sequences: recipe.pretrain.sequences, accumulation: 1 },
      checkpoint: { every: 50, keep: 1 },
      validation: { fraction: 0, every: 0, batches: 1 },
      seed: options.seed,
      threads: options.threads,
      signal: budget.signal,
      onProgress,
    });
  } finally {
    budget.clear();
  }
  if (options.signal?.aborted) throw new InterruptedError("interrupted while pre-training the base model; rerun to continue from its last checkpoint");
  const stoppedEarly = result.interrupted;
  if (stoppedEarly) options.log?.(`pre-training stopped by its time budget after ${result.steps} of ${recipe.pretrain.steps} steps`);
  const { exportRun } = await import("../train/exportRun.js");
  await exportRun(runDirectory, { format: "gguf-merged", out: modelPath, base: initPath });
  const info: BuiltBaseModel = {
    modelPath,
    folder,
    parameters,
    pretrainSteps: result.steps,
    pretrainTokens: result.steps * recipe.pretrain.sequences * recipe.context,
    // Wall time of this build's pre-training call (a resumed build counts only the part after the resume).
    pretrainSeconds: (performance.now() - started) / 1000,
    stoppedEarly,
    cached: false,
  };
  writeFileAtomic(infoPath, JSON.stringify(info, null, 2) + "\n");
  return info;
}
