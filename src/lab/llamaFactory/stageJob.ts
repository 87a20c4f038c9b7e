/**
 * One lab stage as a LLaMA-Factory training job (the YAML `llamafactory-cli train` reads): the same objective,
 * method, data mixture and hyper-parameters as the lab's own trainer (trainStage.ts), in LLaMA-Factory's names.
 * Where the two cannot mean the same thing the job says so in a comment instead of pretending.
 */
import { stringify } from "yaml";
import { targetByShort, ALL_TARGETS } from "../../model/loraTargets.js";
import type { LabConfig } from "../labConfig.js";
import { STAGES, type StageName } from "../routes.js";
import { stageSchedule } from "../trainStage.js";
import { unacceptedJobKeys } from "./acceptedKeys.js";

/** A dataset of dataset_info.json the job reads, with its mixing weight (share of packed sequences) and size. */
export interface JobDataset {
  name: string;
  weight: number;
  documents: number;
  tokens: number;
}

export interface StageJobInput {
  config: LabConfig;
  stage: StageName;
  /** model_name_or_path: a Hugging Face folder or hub id. */
  model: string;
  /** LoRA adapter folder of the stage this one starts from (merged, then a new adapter is trained). */
  adapter?: string;
  datasets: JobDataset[];
  /** LLaMA-Factory template name; undefined = LLaMA-Factory parses the tokenizer's own chat template. */
  template: string | undefined;
  plannedSteps: number;
  sequenceLength: number;
}

/** Where a stage's job writes its model (relative to the export folder). */
export const outputDirOf = (stage: StageName) => `saves/${stage}`;

/**
 * Sampling probabilities for `mix_strategy: interleave_under`. LLaMA-Factory interleaves *documents* before
 * packing; Vertical draws *packed sequences* by weight, i.e. tokens. Drawing documents with p ∝ weight / mean
 * document length gives the same expected share of tokens. Rounded to 6 digits, summing to exactly 1.
 */
export function interleaveProbabilities(datasets: readonly JobDataset[]): number[] {
  const raw = datasets.map((dataset) => dataset.weight / Math.max(1, dataset.tokens / Math.max(1, dataset.documents)));
  const total = raw.reduce((sum, value) => sum + value, 0);
  const rounded = raw.map((value) => Math.round((value / total) * 1e6) / 1e6);
  rounded[rounded.length - 1] = Math.round((1 - rounded.slice(0, -1).reduce((sum, value) => sum + value, 0)) * 1e6) / 1e6;
  return rounded;
}

function methodSection(input: StageJobInput): Record<string, unknown> {
  const { config, stage } = input;
  const objective = STAGES[stage].objective;
  const section: Record<string, unknown> = {
    // mip is text + chats in one run: LLaMA-Factory's pt stage takes both once the chats are rendered to text
    stage: objective === "sft" ? "sft" : "pt",
    do_train: true,
    finetuning_type: config.training.method,
  };
  if (config.training.method === "lora") {
    Object.assign(section, {
      lora_rank: config.training.rank,
      lora_alpha: config.training.alpha,
      lora_dropout: 0,
      // the lab's trainer adapts every linear module of every block (train/config.ts lora.targets default)
      lora_target: ALL_TARGETS.map((target) => targetByShort(target).hf.split(".")[1]).join(","),
    });
    // Vertical merges the earlier stage's adapter into its start model and trains a new one on top.
    if (input.adapter) section.create_new_adapter = true;
  }
  return section;
}

function datasetSection(input: StageJobInput): Record<string, unknown> {
  const chats = STAGES[input.stage].objective === "sft";
  const section: Record<string, unknown> = {
    dataset: input.datasets.map((dataset) => dataset.name).join(","),
    dataset_dir: "data",
    ...(chats && input.template ? { template: input.template } : {}),
    // The lab's packed sequence holds T+1 tokens (T predictions). LLaMA-Factory packs blocks of cutoff_len - 1
    // tokens (data_args.py __post_init__ "avoid pad_to_multiple_of"): one token fewer than the lab's, per block.
    cutoff_len: input.sequenceLength + 1,
    packing: true,
    // the lab packs conversations whole with attention inside each one (train/config.ts batch.attention per-document)
    ...(chats ? { neat_packing: true } : {}),
    overwrite_cache: true,
  };
  if (input.datasets.length > 1) {
    section.mix_strategy = "interleave_under";
    section.interleave_probs = interleaveProbabilities(input.datasets).join(",");
  }
  return section;
}

function trainSection(input: StageJobInput): Record<string, unknown> {
  const { config, plannedSteps } = input;
  const schedule = stageSchedule(plannedSteps);
  return {
    per_device_train_batch_size: config.training.sequences,
    gradient_accumulation_steps: 1,
    learning_rate: config.training.lr,
    max_steps: plannedSteps,
    lr_scheduler_type: "cosine_with_min_lr",
    lr_scheduler_kwargs: { min_lr_rate: schedule.minLrRatio },
    warmup_steps: schedule.warmupSteps,
    // the lab trainer's AdamW (train/config.ts optimizer defaults)
    weight_decay: 0,
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_epsilon: 1e-8,
    max_grad_norm: 1,
    seed: config.seed,
    bf16: true,
    ddp_timeout: 180000000,
  };
}

/**
 * PyYAML (LLaMA-Factory's loader) follows YAML 1.1, where a float needs a dot: `1e-8` loads as the *string*
 * "1e-8" and the optimiser fails on it. LLaMA-Factory's own examples write `1.0e-4`; so does this.
 */
export function withPyYamlFloats(text: string): string {
  return text.replace(/^(\s*[a-z_]+: )(-?\d+)e([-+]?)(\d+)$/gm, (_, key: string, mantissa: string, sign: string, exponent: string) => `${key}${mantissa}.0e${sign || "+"}${exponent}`);
}

/** The job as an object, keys grouped in the sections LLaMA-Factory's own examples use. */
export function stageJobSections(input: StageJobInput): Record<string, Record<string, unknown>> {
  return {
    model: { model_name_or_path: input.model, ...(input.adapter ? { adapter_name_or_path: input.adapter } : {}) },
    method: methodSection(input),
    dataset: datasetSection(input),
    output: {
      output_dir: outputDirOf(input.stage),
      logging_steps: 1,
      save_steps: Math.max(10, Math.ceil(input.plannedSteps / 4)),
      save_total_limit: 1,
      overwrite_output_dir: true,
      plot_loss: true,
      report_to: "none",
    },
    train: trainSection(input),
  };
}

/** The job's YAML text: a header, then one commented section per group. */
export function stageJobYaml(input: StageJobInput, notes: readonly string[]): string {
  const job = stageJobSections(input);
  const unaccepted = unacceptedJobKeys(Object.assign({}, ...Object.values(job)) as Record<string, unknown>);
  // a programming error here, not the user's: LLaMA-Factory would refuse the job on the cluster
  if (unaccepted.length > 0) throw new Error(`the ${input.stage} job has keys LLaMA-Factory does not accept: ${unaccepted.join(", ")} (acceptedKeys.ts)`);
  const header = [`# LLaMA-Factory job for the lab stage "${input.stage}", written by vertical lab --export llamafactory.`, ...notes.map((note) => `# ${note}`)];
  const sections = Object.entries(job).map(([name, values]) => `### ${name}\n${withPyYamlFloats(stringify(values, { lineWidth: 0 }))}`);
  return `${header.join("\n")}\n\n${sections.join("\n")}`;
}
