/**
 * `vertical lab DIR --import-runs OUT`: the stages an exported job folder trained (OUT/saves/<stage>) become the
 * lab's trained stages: a PEFT LoRA adapter is converted to a GGUF LoRA for the stage's start model (plus the merged
 * model a later stage starts from), a full fine-tuned model — a transformers folder — to a GGUF by the Hugging Face
 * import (convertHfToGguf, as `vertical model convert --from hf`); each is placed where the lab's own training would
 * have put it and recorded in lab-state.json under the very key the lab's train step has. The next `vertical lab DIR`
 * then skips those stages, trains the others, and evaluates and reports all of them.
 */
import fs from "node:fs";
import path from "node:path";
import { convertHfToGguf } from "../../model/hf/index.js";
import { mergeLoraAdapter } from "../../model/mergeLoraAdapter.js";
import { ConfigError, InputError } from "../../shared/errors.js";
import { importPeftAdapter } from "../../train/importPeft.js";
import { loadLabConfig, type LabConfig } from "../labConfig.js";
import { LabState } from "../labState.js";
import { buildLabSteps, labPaths, plannedStepsOf, sequenceLengthOf } from "../labSteps.js";
import { STAGES, stagesFor, type StageName } from "../routes.js";
import { runSteps, stepKeys, type LabStep } from "../runSteps.js";
import type { TrainStageOutputs } from "../trainStage.js";
import { outputDirOf } from "./stageJob.js";

export interface ImportRunsOptions {
  /** The lab's out folder. Defaults to DIR/out. */
  labOutDir?: string;
}

export interface ImportedStage {
  stage: StageName;
  /** The GGUF written (relative to the lab's out folder): the LoRA adapter, or the full model. */
  weights: string;
  steps: number;
  /** The job output folder it came from. */
  from: string;
}

/** What the job's trainer says it did (trainer_state.json, train_results.json), when it left them. */
function trainerReport(directory: string, plannedSteps: number): { steps: number; seconds: number; finalLoss: number } {
  const read = (name: string) => {
    const file = path.join(directory, name);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : undefined;
  };
  const state = read("trainer_state.json") as { global_step?: number; log_history?: { loss?: number }[] } | undefined;
  const results = read("train_results.json") as { train_runtime?: number } | undefined;
  const losses = (state?.log_history ?? []).flatMap((entry) => (typeof entry.loss === "number" ? [entry.loss] : []));
  return { steps: state?.global_step ?? plannedSteps, seconds: results?.train_runtime ?? 0, finalLoss: losses.at(-1) ?? Number.NaN };
}

/** Steps whose key depends on any of `names`, transitively (the evaluations and later stages of a replaced stage). */
function dependentsOf(steps: readonly LabStep[], names: ReadonlySet<string>): string[] {
  const affected = new Set(names);
  for (const step of steps) if ((step.after ?? []).some((upstream) => affected.has(upstream))) affected.add(step.name);
  return steps.map((step) => step.name).filter((name) => affected.has(name) && !names.has(name));
}

/** A job's output must be what the lab's training.method makes: a PEFT adapter for lora, a transformers model for full. */
function checkJobOutput(config: LabConfig, stage: StageName, directory: string): void {
  const hasAdapter = fs.existsSync(path.join(directory, "adapter_config.json"));
  const hasModel = fs.existsSync(path.join(directory, "config.json"));
  const full = config.training.method === "full";
  if (full ? hasModel && !hasAdapter : hasAdapter) return;
  const where = `${config.file}: training.method`;
  if (full && hasAdapter)
    throw new ConfigError(`${directory} holds a LoRA adapter, but the lab trains ${stage} with training.method: full`, { where, hint: "set training.method: lora (as the job was run), then import again" });
  if (!full && hasModel)
    throw new ConfigError(`${directory} holds a full fine-tuned model, but the lab trains ${stage} with training.method: ${config.training.method}`, { where, hint: "set training.method: full (as the job was run), then import again" });
  throw new InputError(`${directory} has neither a PEFT adapter (adapter_config.json) nor a transformers model (config.json)`, {
    where: directory,
    hint: "point --import-runs at the export folder whose train.sh ran (it holds saves/<stage>/)",
  });
}

/**
 * The stage's weights as GGUF files where the lab's training puts them: a full model as models/<stage>.gguf; an
 * adapter as models/<stage>.lora.gguf for `startModel`, and merged into it when a later stage starts from this one.
 */
async function importStageWeights(
  config: LabConfig,
  stage: StageName,
  directory: string,
  startModel: string,
  modelsDir: string,
  stages: readonly StageName[],
): Promise<{ model?: string; adapter?: string; merged?: string }> {
  if (config.training.method === "full") {
    const model = path.join(modelsDir, `${stage}.gguf`);
    await convertHfToGguf(directory, model, { name: `${config.name} ${stage} (imported)` });
    return { model };
  }
  const adapter = path.join(modelsDir, `${stage}.lora.gguf`);
  const converted = await importPeftAdapter(directory, startModel, adapter);
  if (!stages.some((other) => STAGES[other].startsFrom === stage)) return { adapter };
  const merged = path.join(modelsDir, `${stage}.merged.gguf`);
  await mergeLoraAdapter(startModel, converted, merged, `${config.name} ${stage} (imported)`);
  return { adapter, merged };
}

export async function importLlamaFactoryRuns(folder: string, from: string, options: ImportRunsOptions = {}): Promise<ImportedStage[]> {
  const config = loadLabConfig(folder);
  const paths = labPaths(path.resolve(options.labOutDir ?? path.join(config.folder, "out")));
  const stages = stagesFor(config.routes);
  const found = stages.filter((stage) => fs.existsSync(path.join(from, outputDirOf(stage))));
  if (found.length === 0)
    throw new InputError(`no trained stage in ${from} (looked for ${stages.map(outputDirOf).join(", ")})`, { where: from, hint: "run the export's train.sh first" });
  for (const stage of found) checkJobOutput(config, stage, path.join(from, outputDirOf(stage)));

  const steps = buildLabSteps(config, paths.out);
  const keys = stepKeys(steps);
  const records = await runSteps(steps.filter((step) => step.name === "model" || step.name === "data"), { outDir: paths.out, onProgress: () => {} });
  const state = new LabState(paths.out);
  const trainSteps = new Set(found.map((stage) => `train:${stage}`));
  for (const name of dependentsOf(steps, trainSteps)) state.forget(name);

  const imported: ImportedStage[] = [];
  fs.mkdirSync(paths.models, { recursive: true });
  for (const stage of found) {
    const definition = STAGES[stage];
    const directory = path.resolve(from, outputDirOf(stage));
    const model = records.model!.outputs;
    let startModel = String(definition.model === "chat" ? model.chatModelPath : model.modelPath);
    if (definition.startsFrom) {
      const earlier = state.finished(`train:${definition.startsFrom}`, keys.get(`train:${definition.startsFrom}`)!);
      if (!earlier) throw new InputError(`${stage} starts from ${definition.startsFrom}, which is neither imported nor trained by the lab yet`, { where: directory, hint: `import ${outputDirOf(definition.startsFrom)} too, or run the lab once to train it` });
      const outputs = earlier.outputs as unknown as TrainStageOutputs;
      startModel = path.resolve(paths.out, outputs.merged ?? outputs.model);
    }
    const weights = await importStageWeights(config, stage, directory, startModel, paths.models, stages);
    const plannedSteps = plannedStepsOf(config, stage);
    const report = trainerReport(directory, plannedSteps);
    const relative = (file: string) => path.relative(paths.out, file);
    const outputs = {
      model: relative(weights.model ?? startModel),
      ...(weights.adapter ? { adapter: relative(weights.adapter) } : {}),
      ...(weights.merged ? { merged: relative(weights.merged) } : {}),
      tokens: report.steps * sequenceLengthOf(config) * config.training.sequences,
      seconds: report.seconds,
      steps: report.steps,
      plannedSteps,
      stoppedEarly: report.steps < plannedSteps,
      finalLoss: report.finalLoss,
      importedFrom: directory,
    };
    state.record(`train:${stage}`, { key: keys.get(`train:${stage}`)!, outputs, seconds: report.seconds, finishedAt: new Date().toISOString() });
    imported.push({ stage, weights: outputs.adapter ?? outputs.model, steps: report.steps, from: directory });
  }
  return imported;
}
