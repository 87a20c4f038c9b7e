/**
 * Checks, before any ggml call, that a micro-batch fits the model and the machine. ggml's allocator
 * is handed whatever sizes the graph asks for: a sequence of 100000 tokens or a batch of 200000
 * sequences made it allocate (or overflow) until the process died with a segfault JS cannot catch.
 */
import os from "node:os";
import type { ModelHyperparameters } from "../model/hyperparameters.js";
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
