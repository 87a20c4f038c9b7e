/**
 * Checks, before any ggml call, that a run (checkModelFits) and a micro-batch (checkBatchFits) fit the model and
 * the machine. ggml's allocator
 * is handed whatever sizes the graph asks for: a sequence of 100000 tokens or a batch of 200000
 * sequences made it allocate (or overflow) until the process died with a segfault JS cannot catch.
 */
import os from "node:os";
import type { GgufFile } from "../engine/gguf/index.js";
import { readHyperparameters, type ModelHyperparameters } from "../model/hyperparameters.js";
import { ConfigError } from "../shared/errors.js";

export interface MicroBatchShape {
  /** B: sequences per micro-batch. */
  sequences: number;
  /** T: tokens per sequence (soft-prompt tokens included). */
  length: number;
}

/**
 * Rough f32 bytes one training micro-batch's graph holds at once: per block the attention scores
 * and probabilities with their gradients (~3 x B·H·T²) and the other activations kept for the
 * backward with their gradients (~B·T·(12E + 6F)), then the LM head's logits and their gradient
 * (2 x B·T·V). Close to the peaks measured in docs/training.md (~1 GiB for B 8, T 256 on the
 * 26.5M model); an order of magnitude is what the check needs.
 */
export function estimateMicroBatchBytes(hparams: ModelHyperparameters, shape: MicroBatchShape): number {
  const { sequences: B, length: T } = shape;
  const H = hparams.headCount;
  const E = hparams.embeddingLength;
  const F = hparams.feedForwardLength;
  const perBlock = 3 * B * H * T * T + B * T * (12 * E + 6 * F);
  return 4 * (hparams.blockCount * perBlock + 2 * B * T * hparams.vocabSize);
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(bytes < 2 ** 30 ? 2 : 1)} GiB`;

/**
 * Refuses a sequence longer than the model's context (RoPE positions past it were never trained,
 * and the attention's T² memory grows without bound) and a micro-batch whose estimated memory
 * exceeds the machine's. `lengthField` names where T came from for the message.
 */
export function checkBatchFits(
  hparams: ModelHyperparameters,
  shape: MicroBatchShape,
  lengthField: string,
  machineBytes: number = os.totalmem(),
): void {
  if (shape.length > hparams.contextLength) {
    throw new ConfigError(
      `${shape.length} tokens per sequence is longer than the model's context length of ${hparams.contextLength}`,
      {
        where: lengthField,
        hint: `use a sequence length of at most ${hparams.contextLength}`,
      },
    );
  }
  const needed = estimateMicroBatchBytes(hparams, shape);
  if (needed <= machineBytes) return;
  const perSequence = estimateMicroBatchBytes(hparams, { ...shape, sequences: 1 });
  const fitting = Math.floor(machineBytes / perSequence);
  throw new ConfigError(
    `a micro-batch of ${shape.sequences} sequences x ${shape.length} tokens needs about ${gib(needed)} for activations and gradients; this machine has ${gib(machineBytes)}`,
    {
      where: "batch.sequences (--batch-size)",
      hint:
        fitting >= 1
          ? `use --batch-size ${fitting} or less (at most about ${fitting} sequences fit) and raise --accumulation to keep the tokens per step`
          : `even one sequence does not fit: lower --seq-len (batch.sequenceLength)`,
    },
  );
}

export interface TrainingMemoryPlan {
  method: "lora" | "full" | "subset" | "soft-prompt";
  /** LoRA rank (method lora). */
  rank: number;
  /** Tensors trained in full by method subset. */
  subsetNames: ReadonlySet<string>;
  shape: MicroBatchShape;
}

export interface TrainingMemoryEstimate {
  /** The model's weights as they are held: trained ones as f32 master copies, frozen ones as stored. */
  weights: number;
  /** Gradients and AdamW's two moments of every trained value (3 x f32 each). */
  optimiser: number;
  /** One micro-batch's activations and their gradients (estimateMicroBatchBytes). */
  activations: number;
  total: number;
}

/**
 * What a training run holds at once, from the GGUF's tensor table alone (no weight is read): weights, optimiser
 * state and a micro-batch's activations. LoRA counts an adapter pair (rank x (rows + columns)) on every 2-D block
 * weight, an upper bound for any target list; soft prompts are too small to count.
 */
export function estimateTrainingMemory(file: GgufFile, hparams: ModelHyperparameters, plan: TrainingMemoryPlan): TrainingMemoryEstimate {
  let weights = 0;
  let trainedValues = 0;
  for (const tensor of file.tensors) {
    const trained = plan.method === "full" || plan.subsetNames.has(tensor.name);
    weights += trained ? 4 * tensor.elements : tensor.byteSize;
    if (trained) trainedValues += tensor.elements;
    if (plan.method === "lora" && tensor.name.startsWith("blk.") && tensor.shape.length === 2) {
      const adapterValues = plan.rank * (tensor.shape[0]! + tensor.shape[1]!);
      weights += 4 * adapterValues;
      trainedValues += adapterValues;
    }
  }
  const optimiser = 3 * 4 * trainedValues;
  const activations = estimateMicroBatchBytes(hparams, plan.shape);
  return { weights, optimiser, activations, total: weights + optimiser + activations };
}

/**
 * Refuses, before the model is loaded, a run whose weights + optimiser state + activations exceed the machine's
 * memory: past that point the kernel's OOM killer ends the process with no message at all. A micro-batch that alone
 * does not fit is left to checkBatchFits, whose message names the batch field.
 */
export function checkModelFits(file: GgufFile, plan: TrainingMemoryPlan, machineBytes: number = os.totalmem()): void {
  const hparams = readHyperparameters(file);
  const estimate = estimateTrainingMemory(file, hparams, plan);
  if (estimate.total <= machineBytes) return;
  // A sequence past the context or a micro-batch too large on its own: checkBatchFits names the exact field.
  if (plan.shape.length > hparams.contextLength || estimate.activations > machineBytes) return;
  const hint =
    plan.method === "full" || plan.method === "subset"
      ? "train LoRA adapters instead (--method lora keeps the base frozen as stored: no f32 copy, no optimiser state for it), or use a machine with more memory"
      : "lower --batch-size or --seq-len, store the frozen base in a smaller type (frozenType: q8_0), or use a machine with more memory";
  throw new ConfigError(
    `training ${file.path} (method ${plan.method}) needs about ${gib(estimate.total)}: weights ${gib(estimate.weights)}, ` +
      `gradients + AdamW moments ${gib(estimate.optimiser)}, activations of a micro-batch ${gib(estimate.activations)}; this machine has ${gib(machineBytes)}`,
    { where: "method (--method)", hint },
  );
}
