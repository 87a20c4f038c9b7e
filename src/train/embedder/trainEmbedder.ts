/**
 * `trainEmbedder(options)`: fine-tunes a llama-family GGUF as a bi-encoder on (query, passage) pairs
 * and writes a GGUF that llama.cpp's embedding context loads with the same pooling. Top to bottom:
 * load and check, then per step: schedule, one batch (B queries, their positives, K hard negatives
 * each), forward + InfoNCE + backward + clip + AdamW in one ggml compute (ContrastiveGraph), progress;
 * at the end (or when `signal` aborts) the merged GGUF with `<arch>.pooling_type`.
 *
 * Not resumable: a run is minutes on the example's model, and an aborted run still writes the
 * weights it reached.
 */
import fs from "node:fs";
import path from "node:path";
import { settings } from "../../config.js";
import { Backend, Scheduler } from "../../engine/index.js";
import { loadModel } from "../../model/loadModel.js";
import { InputError } from "../../shared/errors.js";
import { embeddingTokens, tokenizerFromGguf } from "../../tokenizer/index.js";
import { OptimizerState } from "../optimizerState.js";
import { Random } from "../random.js";
import { learningRateAt } from "../schedule.js";
import { TrainableSet } from "../trainable.js";
import { ContrastiveGraph } from "./contrastiveGraph.js";
import { EmbedderBatches, type EmbedderPair } from "./embedderBatches.js";
import { parseEmbedderOptions, type EmbedderOptions, type EmbedderOptionsInput } from "./embedderOptions.js";
import { writeEmbedderGguf } from "./writeEmbedderGguf.js";

export interface EmbedderProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  elapsedSeconds: number;
  /** Seconds left at the current speed. */
  etaSeconds: number;
}

export type TrainEmbedderOptions = EmbedderOptionsInput & {
  /** Base GGUF (llama, qwen2, qwen3). */
  model: string;
  pairs: readonly EmbedderPair[];
  /** The embedder GGUF to write. */
  out: string;
  /** Abort to stop after the current step; the weights reached so far are written. */
  signal?: AbortSignal;
  onProgress?: (progress: EmbedderProgress) => void;
};

export interface TrainEmbedderResult {
  out: string;
  steps: number;
  interrupted: boolean;
  /** Mean InfoNCE of the first and the last step (nats; ln(P) is chance). */
  firstLoss: number;
  finalLoss: number;
  /** ln(passages per batch): the loss of embeddings that tell nothing apart. */
  chanceLoss: number;
  pairs: number;
  /** Texts cut to maxQueryTokens / maxPassageTokens. */
  truncated: number;
  seconds: number;
  options: EmbedderOptions;
}

export async function trainEmbedder(input: TrainEmbedderOptions): Promise<TrainEmbedderResult> {
  const { model: modelPath, pairs, out, signal, onProgress, ...raw } = input;
  const options = parseEmbedderOptions(raw, "train-embedder options");
  if (!fs.existsSync(modelPath)) throw new InputError("model not found", { where: modelPath });
  if (pairs.length === 0) throw new InputError("no training pairs", { hint: "point --docs at a folder of .md or .txt documents" });

  // ---- load and check everything before the first step -----------------------------------------
  using backend = Backend.create({ threads: options.threads ?? settings().threads, device: settings().device });
  // a GPU run keeps a CPU backend last in the scheduler for ops the GPU lacks (as train.ts)
  using cpu = backend.isCpu ? undefined : Backend.cpu(options.threads ?? settings().threads);
  using scheduler = new Scheduler(cpu ? [backend, cpu] : [backend], 65536);
  using model = loadModel(modelPath, { backend });
  const tokenizer = tokenizerFromGguf(model.file);
  const addEos = model.file.getBool("tokenizer.ggml.add_eos_token") ?? false;
  const limit = model.hparams.contextLength;
  const batches = new EmbedderBatches(
    pairs,
    (text) => embeddingTokens(tokenizer, text, addEos),
    { maxQueryTokens: Math.min(options.maxQueryTokens, limit), maxPassageTokens: Math.min(options.maxPassageTokens, limit), eosId: tokenizer.eosId },
    { batch: options.batch, hardNegatives: options.hardNegatives },
    Random.derive(options.seed, "embedder-batches"),
  );
  using trainable = TrainableSet.create(model, backend, {
    method: options.method,
    lora: { rank: options.lora.rank, alpha: options.lora.alpha, targets: options.lora.targets },
    subset: { targets: [] },
    softPrompt: { tokens: 1 },
    seed: options.seed,
  });
  using optimizer = new OptimizerState(backend, trainable.parameters, { accumulate: false });
  using graph = new ContrastiveGraph(model, trainable, scheduler, {
    queries: options.batch,
    passages: batches.passagesPerBatch,
    queryLength: batches.queryLength,
    passageLength: batches.passageLength,
    pooling: options.pooling,
    temperature: options.temperature,
    optimizer,
  });

  // ---- the loop ------------------------------------------------------------------------------------
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let firstLoss = Number.NaN;
  let finalLoss = Number.NaN;
  let step = 0;
  while (step < options.steps && !signal?.aborted) {
    const lr = learningRateAt(step, { kind: "cosine", peak: options.lr, warmupSteps: options.warmupSteps, totalSteps: options.steps, minLrRatio: 0.1 });
    optimizer.setStep(step + 1, { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: options.weightDecay }, options.gradClip);
    const result = graph.step(batches.next());
    if (!Number.isFinite(result.loss)) throw new InputError(`the contrastive loss became ${result.loss} at step ${step + 1}`, { hint: "lower --lr or raise --temperature" });
    step++;
    if (step === 1) firstLoss = result.loss;
    finalLoss = result.loss;
    const elapsedSeconds = seconds();
    onProgress?.({ step, steps: options.steps, loss: result.loss, lr, gradNorm: result.gradNorm ?? 0, elapsedSeconds, etaSeconds: (elapsedSeconds / step) * (options.steps - step) });
    // let signal handlers and progress rendering run between steps
    await new Promise((resolve) => setImmediate(resolve));
  }

  // ---- the embedder GGUF -----------------------------------------------------------------------------
  const tensors = new Map(trainable.parameters.map((parameter) => [parameter.name, parameter.tensor.readFloats().slice()]));
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  await writeEmbedderGguf(
    modelPath,
    { tensors, ...(options.method === "lora" ? { lora: { rank: options.lora.rank, alpha: options.lora.alpha } } : {}) },
    options.pooling,
    out,
    `${model.file.getString("general.name") ?? path.basename(modelPath, ".gguf")} embedder (${options.pooling}, ${step} steps)`,
  );
  return {
    out: path.resolve(out),
    steps: step,
    interrupted: step < options.steps,
    firstLoss,
    finalLoss,
    chanceLoss: Math.log(batches.passagesPerBatch),
    pairs: pairs.length,
    truncated: batches.truncated,
    seconds: seconds(),
    options,
  };
}
