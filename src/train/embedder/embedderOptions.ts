/**
 * The bi-encoder run's numeric and choice options, validated once with zod (library callers and the
 * CLI's flags alike); every default is documented on the field and in docs/training.md.
 */
import { z } from "zod";
import { describeIssuePath, valueAt } from "../../shared/configIssues.js";
import { ConfigError } from "../../shared/errors.js";
import { ALL_TARGETS, type TargetName } from "../../model/loraTargets.js";
import { POOLINGS } from "../../model/poolEmbeddings.js";

const positiveInt = z.number().int().positive();

export const embedderOptionsSchema = z.strictObject({
  /** Optimiser steps. Defaults to 100. */
  steps: positiveInt.default(100),
  /** B: queries per step (each brings its positive and its hard negatives). Defaults to 8. */
  batch: z.number().int().min(2).default(8),
  /** tau of InfoNCE over cosine similarities. Defaults to 0.05 (sentence-transformers' scale 20). */
  temperature: z.number().positive().max(10).default(0.05),
  /** BM25-mined hard negatives per query (0: in-batch negatives only). Defaults to 1. */
  hardNegatives: z.number().int().min(0).max(8).default(1),
  /** lora (default) or full. */
  method: z.enum(["lora", "full"]).default("lora"),
  /** LoRA rank (alpha defaults to 2 x rank) and targets (default: every linear module). */
  lora: z
    .strictObject({
      rank: positiveInt.default(8),
      alpha: z.number().positive().optional(),
      targets: z.array(z.enum(ALL_TARGETS as [TargetName, ...TargetName[]])).min(1).default([...ALL_TARGETS]),
    })
    .default({ rank: 8, targets: [...ALL_TARGETS] }),
  /** Peak learning rate. Defaults to 5e-4 for LoRA, 5e-5 for full fine-tuning. */
  lr: z.number().positive().optional(),
  weightDecay: z.number().min(0).max(1).default(0),
  /** Global gradient-norm clip. Defaults to 1. */
  gradClip: z.number().positive().default(1),
  /** Linear warmup steps. Defaults to a tenth of the steps. */
  warmupSteps: z.number().int().min(0).optional(),
  /** mean (default) or last-token pooling. */
  pooling: z.enum(POOLINGS as ["mean", "last"]).default("mean"),
  /** Queries and passages longer than this many tokens are cut. Defaults to 64 and 256. */
  maxQueryTokens: positiveInt.default(64),
  maxPassageTokens: positiveInt.default(256),
  seed: z.number().int().min(0).default(0),
  /** ggml threads. Defaults to settings().threads. */
  threads: positiveInt.optional(),
});

export type EmbedderOptionsInput = z.input<typeof embedderOptionsSchema>;
export type EmbedderOptions = z.output<typeof embedderOptionsSchema> & { lr: number; warmupSteps: number; lora: { alpha: number } };

export function parseEmbedderOptions(input: EmbedderOptionsInput, where: string): EmbedderOptions {
  const parsed = embedderOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = describeIssuePath(issue.path);
    throw new ConfigError(`${field || "options"}: ${issue.message} (got ${JSON.stringify(valueAt(input, issue.path))})`, { where: `${where}: ${field}` });
  }
  const options = parsed.data;
  return {
    ...options,
    lr: options.lr ?? (options.method === "lora" ? 5e-4 : 5e-5),
    warmupSteps: options.warmupSteps ?? Math.floor(options.steps / 10),
    lora: { ...options.lora, alpha: options.lora.alpha ?? 2 * options.lora.rank },
  };
}
