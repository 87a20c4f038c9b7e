/**
 * One training stage of the lab with the project's trainer: data and objective from the stage table
 * (routes.ts), budget from lab.yaml (steps, optionally capped by tokens, optionally cut by a wall-clock
 * limit), resumed from its own checkpoint if an earlier lab run was interrupted, then exported to files
 * the evaluation backend loads.
 */
import fs from "node:fs";
import path from "node:path";
import { InterruptedError } from "../shared/errors.js";
import { readLatestCheckpoint } from "../train/runDirectory.js";
import { exportRun } from "../train/exportRun.js";
import { trainOrResume, type RunResult } from "../train/train.js";
import type { LabConfig } from "./labConfig.js";
import type { LabDataOutputs } from "./prepareLabData.js";
import { STAGES, type StageName } from "./routes.js";
import type { StepContext } from "./runSteps.js";
import { timeBudget } from "../shared/timeBudget.js";

export interface TrainStageOptions {
  config: LabConfig;
  stage: StageName;
  startModel: string;
  dataOutputs: Record<string, unknown>;
  dataDir: string;
  runDirectory: string;
  modelsDir: string;
  plannedSteps: number;
  sequenceLength: number;
  threads: number;
  /** Also write base + adapter merged (a later stage starts from this one). */
  keepMerged: boolean;
  context: StepContext;
}

export interface TrainStageOutputs {
  model: string;
  adapter?: string;
  /** Soft-prompt stages: the virtual tokens (`vertical export --format soft-prompt`), put before every sequence. */
  softPrompt?: string;
  merged?: string;
  tokens: number;
  seconds: number;
  steps: number;
  plannedSteps: number;
  stoppedEarly: boolean;
  finalLoss: number;
  /** Set by `--import-runs`: the job output folder the stage's adapter came from (it was not trained here). */
  importedFrom?: string;
}

/** One weighted data file of a stage: text (loss on every token) or chats (loss on the assistant's turns). */
export interface StageDataSource {
  path: string;
  kind: "text" | "chat";
  /** Share of packed sequences drawn from this file, relative to the others. */
  weight: number;
}

/** The files a stage trains on and their mixing weights (the LLaMA-Factory export mixes the same way). */
export function stageDataSources(config: LabConfig, stage: StageName, data: LabDataOutputs, dataDir: string): StageDataSource[] {
  const file = (name: string | null) => path.join(dataDir, name ?? "");
  switch (STAGES[stage].data) {
    case "domain":
      return [{ path: file(data.domainFile), kind: "text", weight: 1 }];
    case "domain+general":
      // Equal-length packed sequences: a 1:N share of sequences is a 1:N share of tokens.
      return [
        { path: file(data.domainFile), kind: "text", weight: 1 },
        { path: file(data.generalFile), kind: "text", weight: config.training.generalPerDomain },
      ];
    case "sft":
      return [{ path: file(data.sftFile), kind: "chat", weight: 1 }];
    case "sft-small":
      return [{ path: file(data.sftSmallFile), kind: "chat", weight: 1 }];
    case "domain+sft":
      // MIP: instruction data inside pre-training, in proportion to how much of each there is.
      return [
        { path: file(data.domainFile), kind: "text", weight: Math.max(1, data.domainTokens) },
        { path: file(data.sftFile), kind: "chat", weight: Math.max(1, data.sftTokens) },
      ];
  }
}

/** Every stage's learning-rate schedule (the LLaMA-Factory export writes the same one). */
export function stageSchedule(plannedSteps: number): { kind: "cosine"; warmupSteps: number; minLrRatio: number } {
  return { kind: "cosine", warmupSteps: Math.min(20, Math.floor(plannedSteps / 10)), minLrRatio: 0.1 };
}

export async function trainStage(options: TrainStageOptions): Promise<TrainStageOutputs> {
  const { config, stage, context } = options;
  const definition = STAGES[stage];
  const data = options.dataOutputs as unknown as LabDataOutputs;
  const sources = stageDataSources(config, stage, data, options.dataDir);
  const budget = config.budgets[definition.budget];
  const limit = timeBudget(context.signal, budget.minutes);
  const hooks = {
    signal: limit.signal,
    onProgress: (progress: { step: number; steps: number; loss: number }) =>
      context.progress(progress.step / progress.steps, `step ${progress.step}/${progress.steps}, loss ${progress.loss.toFixed(3)}`),
  };
  const started = performance.now();
  let result: RunResult;
  try {
    result = await trainOrResume({
      model: options.startModel,
      out: options.runDirectory,
      objective: definition.objective,
      method: definition.method ?? config.training.method,
      data: sources,
      steps: options.plannedSteps,
      lora: { rank: config.training.rank, alpha: config.training.alpha },
      optimizer: { lr: config.training.lr },
      schedule: stageSchedule(options.plannedSteps),
      batch: { sequenceLength: options.sequenceLength, sequences: config.training.sequences, accumulation: 1 },
      checkpoint: { every: Math.max(10, Math.ceil(options.plannedSteps / 4)), keep: 1 },
      validation: { fraction: 0, every: 0, batches: 1 },
      seed: config.seed,
      threads: options.threads,
      ...hooks,
    });
  } finally {
    limit.clear();
  }
  if (context.signal?.aborted) throw new InterruptedError(`interrupted while training ${stage}; rerun to continue from its last checkpoint`);
  const stoppedEarly = result.interrupted;
  if (stoppedEarly) context.log(`stopped by its time budget (${budget.minutes} min) after ${result.steps} of ${options.plannedSteps} steps`);
  fs.mkdirSync(options.modelsDir, { recursive: true });
  const outputs: TrainStageOutputs = {
    model: options.startModel,
    tokens: result.steps * options.sequenceLength * config.training.sequences,
    // A resumed run's checkpoint carries the training time before the interruption too.
    seconds: Math.max((performance.now() - started) / 1000, readLatestCheckpoint(options.runDirectory)?.state.elapsedSeconds ?? 0),
    steps: result.steps,
    plannedSteps: options.plannedSteps,
    stoppedEarly,
    finalLoss: result.finalLoss,
  };
  if (definition.method === "soft-prompt") {
    outputs.softPrompt = path.join(options.modelsDir, `${stage}.soft-prompt.gguf`);
    await exportRun(options.runDirectory, { format: "soft-prompt", out: outputs.softPrompt, base: options.startModel });
  } else if (config.training.method === "full") {
    outputs.model = path.join(options.modelsDir, `${stage}.gguf`);
    await exportRun(options.runDirectory, { format: "gguf-merged", out: outputs.model, base: options.startModel });
  } else {
    outputs.adapter = path.join(options.modelsDir, `${stage}.lora.gguf`);
    await exportRun(options.runDirectory, { format: "gguf-lora", out: outputs.adapter, base: options.startModel });
    if (options.keepMerged) {
      outputs.merged = path.join(options.modelsDir, `${stage}.merged.gguf`);
      await exportRun(options.runDirectory, { format: "gguf-merged", out: outputs.merged, base: options.startModel });
    }
  }
  return outputs;
}
