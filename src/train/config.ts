/**
 * The training run's configuration: one zod schema for the YAML recipe and the quick CLI flags,
 * validated once at load. Every error names the field (`lora.rank`), what was expected and what was
 * found; paths are resolved against the YAML file's folder and checked to exist.
 */
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { settings } from "../config.js";
import { describeIssuePath, valueAt } from "../shared/configIssues.js";
import { ConfigError, InputError } from "../shared/errors.js";
import { ALL_TARGETS, resolveTargetModule, type TargetName } from "../model/loraTargets.js";

const positiveInt = z.number().int().min(1);

const targetName = z.string().transform((name, context): TargetName => {
  const module = resolveTargetModule(name);
  if (!module) {
    context.addIssue({
      code: "custom",
      message: `unknown target module "${name}"; expected one of ${ALL_TARGETS.join(", ")} (or q_proj, attn_q, …)`,
    });
    return z.NEVER;
  }
  return module.short;
});

const dataSourceSchema = z.strictObject({
  /** A text file (.txt/.md: one document per file, or blank-line separated paragraphs), a JSONL file, or a shard folder. */
  path: z.string().min(1),
  /** text: plain text, loss on every token; chat: {"messages": [...]} lines, loss on assistant turns; shards: a data-pipeline folder. Defaults to a guess from the file. */
  kind: z.enum(["text", "chat", "shards"]).optional(),
  /** Mixing weight: the share of training sequences drawn from this source. Defaults to 1. */
  weight: z.number().gt(0).default(1),
});

const dataSchema = z.union([
  z.string().min(1).transform((file) => [{ path: file, weight: 1 }]),
  z.array(z.union([z.string().min(1).transform((file) => ({ path: file, weight: 1 })), dataSourceSchema])).min(1),
]);

export const runConfigSchema = z.strictObject({
  /** GGUF model to start from. */
  model: z.string().min(1),
  /** Run directory: resolved config, metrics, checkpoints. */
  out: z.string().min(1),
  /** cpt: continued pre-training; sft: supervised fine-tuning (assistant tokens only); mip: both in one run. Defaults to cpt. */
  objective: z.enum(["cpt", "sft", "mip"]).default("cpt"),
  data: dataSchema,
  /** What is trained. Defaults to lora. */
  method: z.enum(["lora", "full", "subset", "soft-prompt"]).default("lora"),
  lora: z
    .strictObject({
      /** Defaults to 16. */
      rank: positiveInt.default(16),
      /** Scale = alpha / rank. Defaults to 32. */
      alpha: z.number().gt(0).default(32),
      /** Defaults to every linear module of a block. */
      targets: z.array(targetName).min(1).default([...ALL_TARGETS]),
      /** Block indices to adapt. Defaults to all. */
      layers: z.array(z.number().int().min(0)).optional(),
    })
    .default({ rank: 16, alpha: 32, targets: [...ALL_TARGETS] }),
  subset: z
    .strictObject({
      /** Block indices whose weights are trained. Defaults to all. */
      layers: z.array(z.number().int().min(0)).optional(),
      /** Linear modules trained in those blocks. Defaults to all. */
      targets: z.array(targetName).min(1).default([...ALL_TARGETS]),
    })
    .default({ targets: [...ALL_TARGETS] }),
  softPrompt: z
    .strictObject({
      /** Number of virtual tokens prepended to every sequence. Defaults to 8. */
      tokens: positiveInt.default(8),
    })
    .default({ tokens: 8 }),
  optimizer: z
    .strictObject({
      /** Peak learning rate. Defaults to 2e-4. */
      lr: z.number().gt(0, { message: "lr must be > 0" }).default(2e-4),
      /** Decoupled (AdamW) weight decay, 0..1. Defaults to 0. */
      weightDecay: z.number().min(0).max(1).default(0),
      beta1: z.number().min(0).lt(1).default(0.9),
      beta2: z.number().min(0).lt(1).default(0.999),
      eps: z.number().gt(0).default(1e-8),
      /** Clip the global gradient norm to this; 0 disables. Defaults to 1. */
      gradClip: z.number().min(0).default(1),
    })
    .default({ lr: 2e-4, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, gradClip: 1 }),
  schedule: z
    .strictObject({
      /** Defaults to cosine. */
      kind: z.enum(["cosine", "constant"]).default("cosine"),
      /** Linear warmup from 0. Defaults to 0. */
      warmupSteps: z.number().int().min(0).default(0),
      /** Cosine floor as a fraction of the peak lr. Defaults to 0.1. */
      minLrRatio: z.number().min(0).max(1).default(0.1),
    })
    .default({ kind: "cosine", warmupSteps: 0, minLrRatio: 0.1 }),
  /** Optimiser steps. */
  steps: positiveInt,
  batch: z
    .strictObject({
      /** Tokens per sequence. Defaults to 256. */
      sequenceLength: z.number().int().min(2).default(256),
      /** Packed sequences per micro-batch. Defaults to 8. */
      sequences: positiveInt.default(8),
      /** Micro-batches per optimiser step. Defaults to 1. */
      accumulation: positiveInt.default(1),
      /**
       * Attention inside a packed sequence: "per-document" (a token sees only earlier tokens of its
       * own document or conversation, as LLaMA-Factory's neat_packing) or "across-documents" (plain
       * causal attention over the whole sequence). Defaults to per-document.
       */
      attention: z.enum(["per-document", "across-documents"]).default("per-document"),
    })
    .default({ sequenceLength: 256, sequences: 8, accumulation: 1, attention: "per-document" }),
  validation: z
    .strictObject({
      /** Share of packed sequences held out. Defaults to 0.05 (at least one sequence when every > 0). */
      fraction: z.number().min(0).lt(1).default(0.05),
      /** Evaluate loss and perplexity every N steps; 0 disables. Defaults to 0. */
      every: z.number().int().min(0).default(0),
      /** Micro-batches per evaluation. Defaults to 4. */
      batches: positiveInt.default(4),
    })
    .default({ fraction: 0.05, every: 0, batches: 4 }),
  checkpoint: z
    .strictObject({
      /** Write a checkpoint every N steps (and at the end). Defaults to 50. */
      every: positiveInt.default(50),
      /** Checkpoints kept on disk. Defaults to 2. */
      keep: positiveInt.default(2),
    })
    .default({ every: 50, keep: 2 }),
  /** Storage of frozen base weights: as in the GGUF, or converted. Defaults to as-stored. */
  frozenType: z.enum(["as-stored", "f32", "q8_0", "q4_k"]).default("as-stored"),
  /**
   * Precision of the products through trained weights (full/subset): f32, or bf16 (bf16 working
   * copies of the weights for forward and input gradients, bf16 operands for weight gradients, all
   * accumulated in f32; master weights, gradients and AdamW stay f32). Defaults to f32.
   */
  compute: z.enum(["f32", "bf16"]).default("f32"),
  /**
   * ggml's BLAS backend on the CPU (decision 0003): "auto" uses it when `npm run build:blas` built
   * it and VERTICAL_BLAS is not "off" (compute f32 only); "off" never. Defaults to auto.
   */
  blas: z.enum(["auto", "off"]).default("auto"),
  /** Seed for initialisation, data order and anything random. Defaults to 0. */
  seed: z.number().int().min(0).default(0),
  /** ggml device. Defaults to VERTICAL_DEVICE or cpu. */
  device: z.enum(["cpu", "cuda", "vulkan"]).optional(),
  /** Compute threads. Defaults to VERTICAL_THREADS or the number of cores. */
  threads: positiveInt.optional(),
});

/** What a YAML recipe or a set of flags says; defaults not yet applied. */
export type RunConfigInput = z.input<typeof runConfigSchema>;

export interface DataSource {
  path: string;
  kind: "text" | "chat" | "shards";
  weight: number;
}

/** A validated run configuration with every default applied and every path absolute. */
export type RunConfig = Omit<z.output<typeof runConfigSchema>, "data" | "device" | "threads"> & {
  data: DataSource[];
  device: "cpu" | "cuda" | "vulkan";
  threads: number;
};

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Guesses a data source's kind from its file: folders are shards, .jsonl lines with "messages" are chat. */
export function guessDataKind(file: string): DataSource["kind"] {
  const stat = fs.statSync(file);
  if (stat.isDirectory()) return "shards";
  if (/\.jsonl?$/i.test(file)) {
    const firstLine = fs.readFileSync(file, "utf8").split("\n").find((line) => line.trim() !== "");
    if (firstLine !== undefined) {
      try {
        const parsed = JSON.parse(firstLine) as Record<string, unknown>;
        if (Array.isArray(parsed.messages) || Array.isArray(parsed.conversations) || "instruction" in parsed) return "chat";
      } catch {
        // a broken first line is reported with its line number when the file is read
      }
    }
  }
  return "text";
}

/**
 * Validates a raw config (parsed YAML or flags). `source` names where it came from for messages;
 * relative paths resolve against `baseDir`. Throws ConfigError naming the field, InputError for a
 * missing model or data file.
 */
export function parseRunConfig(raw: unknown, source: string, baseDir = process.cwd()): RunConfig {
  const result = runConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = describeIssuePath(issue.path) || "(root)";
      const found = issue.code === "unrecognized_keys" ? "" : ` (got ${describeValue(valueAt(raw, issue.path))})`;
      return `${field}: ${issue.message}${found}`;
    });
    throw new ConfigError(`invalid training config\n  ${lines.join("\n  ")}`, {
      where: source,
      hint: "fix the fields above; `docs/training.md` lists every field and its default",
    });
  }
  const parsed = result.data;
  const resolve = (file: string) => path.resolve(baseDir, file);
  const model = resolve(parsed.model);
  if (!fs.existsSync(model)) {
    throw new InputError(`model file ${model} does not exist`, { where: `${source}: model`, hint: "pass a GGUF model path" });
  }
  const data = parsed.data.map((entry, index): DataSource => {
    const file = resolve(entry.path);
    if (!fs.existsSync(file)) {
      throw new InputError(`data file ${file} does not exist`, { where: `${source}: data[${index}].path` });
    }
    const kind = ("kind" in entry && entry.kind) || guessDataKind(file);
    return { path: file, kind, weight: entry.weight };
  });
  if (parsed.objective === "sft" && !data.some((entry) => entry.kind === "chat" || entry.kind === "shards")) {
    throw new ConfigError("objective sft needs chat data (JSONL lines with a messages array) or shards", {
      where: `${source}: data`,
    });
  }
  if (parsed.objective === "cpt" && data.some((entry) => entry.kind === "chat")) {
    throw new ConfigError("objective cpt trains on every token; chat data belongs to sft or mip", {
      where: `${source}: objective`,
      hint: "use objective: mip to mix text and chat data",
    });
  }
  if (parsed.method === "lora") {
    const layers = parsed.lora.layers;
    if (layers && new Set(layers).size !== layers.length) {
      throw new ConfigError("lora.layers lists a layer twice", { where: `${source}: lora.layers` });
    }
  }
  const current = settings();
  return {
    ...parsed,
    model,
    out: resolve(parsed.out),
    data,
    device: parsed.device ?? current.device,
    threads: parsed.threads ?? current.threads,
  };
}

/** Merges `overrides` into `base` object by object (arrays and values replace). */
export function mergeRawConfig(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    const isObject = (candidate: unknown): candidate is Record<string, unknown> =>
      typeof candidate === "object" && candidate !== null && !Array.isArray(candidate);
    merged[key] = isObject(current) && isObject(value) ? mergeRawConfig(current, value) : value;
  }
  return merged;
}

/**
 * Reads and validates a YAML recipe; paths in it are relative to the file. `overrides` (quick
 * flags given beside the file) win over the file's fields.
 */
export function loadRunConfig(file: string, overrides: Record<string, unknown> = {}): RunConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(absolute, "utf8");
  } catch (error) {
    throw new InputError(`cannot read config ${absolute}`, { where: absolute, cause: error });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigError(`not valid YAML: ${(error as Error).message.split("\n")[0]}`, {
      where: line ? `${absolute}:${line}` : absolute,
      cause: error,
    });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("a training config is a YAML mapping of fields (model, data, steps, ...)", { where: absolute });
  }
  const relativeOverrides = { ...overrides };
  // Flag paths are relative to the working directory, not to the YAML file.
  for (const key of ["model", "out"] as const) {
    if (typeof relativeOverrides[key] === "string") relativeOverrides[key] = path.resolve(relativeOverrides[key]);
  }
  if (Array.isArray(relativeOverrides.data)) relativeOverrides.data = relativeOverrides.data.map((file) => path.resolve(String(file)));
  return parseRunConfig(mergeRawConfig(raw as Record<string, unknown>, relativeOverrides), absolute, path.dirname(absolute));
}

/** The quick flags of `vertical train --model M --data F ...`, turned into a raw config. */
export interface QuickFlags {
  model?: string;
  data?: string[];
  objective?: string;
  method?: string;
  rank?: number;
  alpha?: number;
  targets?: string[];
  steps?: number;
  lr?: number;
  out?: string;
  sequenceLength?: number;
  batchSize?: number;
  accumulation?: number;
  attention?: string;
  compute?: string;
  blas?: string;
  seed?: number;
  device?: string;
  threads?: number;
  checkpointEvery?: number;
  softPromptTokens?: number;
}

/** Turns quick flags into a raw config; fields left out take the schema's defaults. */
export function rawConfigFromFlags(flags: QuickFlags): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) raw[key] = value;
  };
  set("model", flags.model);
  set("out", flags.out);
  set("data", flags.data);
  set("objective", flags.objective);
  set("method", flags.method);
  set("steps", flags.steps);
  set("seed", flags.seed);
  set("device", flags.device);
  set("threads", flags.threads);
  set("compute", flags.compute);
  set("blas", flags.blas);
  const lora: Record<string, unknown> = {};
  if (flags.rank !== undefined) lora.rank = flags.rank;
  if (flags.alpha !== undefined) lora.alpha = flags.alpha;
  if (flags.targets !== undefined) lora.targets = flags.targets;
  if (Object.keys(lora).length > 0) raw.lora = lora;
  if (flags.lr !== undefined) raw.optimizer = { lr: flags.lr };
  const batch: Record<string, unknown> = {};
  if (flags.sequenceLength !== undefined) batch.sequenceLength = flags.sequenceLength;
  if (flags.batchSize !== undefined) batch.sequences = flags.batchSize;
  if (flags.accumulation !== undefined) batch.accumulation = flags.accumulation;
  if (flags.attention !== undefined) batch.attention = flags.attention;
  if (Object.keys(batch).length > 0) raw.batch = batch;
  if (flags.checkpointEvery !== undefined) raw.checkpoint = { every: flags.checkpointEvery };
  if (flags.softPromptTokens !== undefined) raw.softPrompt = { tokens: flags.softPromptTokens };
  return raw;
}
