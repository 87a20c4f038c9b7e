/**
 * `train(options)`: the training run, top to bottom — load, prepare data, then per step: schedule,
 * forward/backward over the micro-batches, clip, AdamW, log, evaluate, checkpoint. Resumable from
 * the run directory after any interruption (Ctrl-C through `signal`, or kill -9) to the same final
 * weights as an uninterrupted run.
 */
import fs from "node:fs";
import path from "node:path";
import { Backend, GgmlType, Scheduler } from "../engine/index.js";
import { readGguf } from "../engine/gguf/index.js";
import { readHyperparameters } from "../model/hyperparameters.js";
import { loadModel } from "../model/loadModel.js";
import { ALL_TARGETS, targetByShort } from "../model/loraTargets.js";
import { ConfigError, InputError, ModelError } from "../shared/errors.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { BatchLoader, type PackedSequence } from "./batches.js";
import { checkBatchFits, checkModelFits } from "./checkBatchFits.js";
import { parseRunConfig, type RunConfig, type RunConfigInput } from "./config.js";
import { fingerprintOfGguf } from "./fingerprint.js";
import { prepareFrozenModel } from "./frozenModel.js";
import { LossGraph } from "./lossGraph.js";
import { OptimizerState, type AdamWMoments } from "./optimizerState.js";
import type { AccumulationStage } from "./optimizerStep.js";
import { loadModelTokenizer } from "./modelTokenizer.js";
import { prepareData } from "./prepareData.js";
import { Random } from "./random.js";
import {
  CHECKPOINTS_DIR,
  CONFIG_FILE,
  LATEST_FILE,
  METRICS_FILE,
  MetricsLog,
  readLatestCheckpoint,
  readLatestPointer,
  readMetrics,
  readRunConfigFile,
  truncateMetrics,
  writeCheckpoint,
  type CheckpointState,
  type StoredTensor,
  type TrainMetric,
  type ValidationMetric,
} from "./runDirectory.js";
import { learningRateAt } from "./schedule.js";
import { TrainableSet } from "./trainable.js";
import { TransposedWeights } from "./transposedWeights.js";

export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
  /** Seconds left at the current speed. */
  etaSeconds: number;
  validation?: { loss: number; perplexity: number };
}

export interface TrainHooks {
  /** Abort to stop after the current step; the run writes a checkpoint and returns `interrupted: true`. */
  signal?: AbortSignal;
  /** Called after every step (and after each validation). */
  onProgress?: (progress: TrainProgress) => void;
  /** Tokenizer for text and chat data. Defaults to the model's own (from its GGUF). */
  tokenizer?: Tokenizer;
  /** Called once before the first step with what the run will do. */
  onStart?: (info: TrainStartInfo) => void;
}

export interface TrainStartInfo {
  startStep: number;
  steps: number;
  trainableValues: number;
  sequences: number;
  truncated: number;
  /** The ggml backends that compute, in the scheduler's order (e.g. ["BLAS", "CPU"], ["CUDA0", "CPU"]). */
  backends: string[];
}

/**
 * Everything a run needs, as in a YAML recipe (see docs/training.md): `model`, `out`, `data`,
 * `steps` are required; `objective` defaults to cpt, `method` to lora, `lora` to {rank: 16, alpha:
 * 32, targets: all linear modules}, `optimizer` to {lr: 2e-4, weightDecay: 0, gradClip: 1},
 * `schedule` to cosine without warmup, `batch` to {sequenceLength: 256, sequences: 8,
 * accumulation: 1}, `checkpoint.every` to 50, `seed` to 0, `device` to VERTICAL_DEVICE or cpu,
 * `threads` to VERTICAL_THREADS or the core count.
 */
export type TrainOptions = RunConfigInput & TrainHooks;

export interface RunResult {
  runDirectory: string;
  /** Optimiser steps completed (all calls together). */
  steps: number;
  /** True when stopped early by the signal; resume with resumeTraining(runDirectory). */
  interrupted: boolean;
  /** True when resumeTraining found the run finished: nothing was trained, the figures are the run's last. */
  alreadyFinished?: boolean;
  /** Mean loss of the last step. */
  finalLoss: number;
  /** Last validation, when validation ran. */
  validation?: { loss: number; perplexity: number };
  /** Input tokens per second over this call's steps. */
  tokensPerSecond: number;
  /** The newest checkpoint directory. */
  checkpoint: string;
}

/** ne without trailing 1s (at least one dimension). */
function trimShape(shape: readonly number[]): number[] {
  const dims = [...shape];
  while (dims.length > 1 && dims[dims.length - 1] === 1) dims.pop();
  return dims;
}

/** Starts a new run (the `out` directory must not hold a run already). */
export async function train(options: TrainOptions): Promise<RunResult> {
  const { signal, onProgress, onStart, tokenizer, ...raw } = options;
  const config = parseRunConfig(raw, "train options");
  if (fs.existsSync(config.out) && !fs.statSync(config.out).isDirectory()) {
    throw new ConfigError(`${config.out} is a file; a run directory is a folder`, {
      where: "out",
      hint: "choose another --out (a new or empty folder)",
    });
  }
  if (fs.existsSync(path.join(config.out, CONFIG_FILE))) {
    throw new ConfigError(`${config.out} already holds a training run`, {
      where: "out",
      hint: "resume it with `vertical train --resume RUN` or choose another --out",
    });
  }
  const existed = fs.existsSync(config.out);
  try {
    return await runTraining(config, false, { signal, onProgress, onStart, tokenizer });
  } catch (error) {
    removeFailedStart(config.out, existed);
    throw error;
  }
}

/**
 * After a new run failed before its first checkpoint, removes what it wrote, so that the same
 * command can run again (a leftover config.json would read as "already holds a training run").
 */
function removeFailedStart(out: string, existed: boolean): void {
  if (fs.existsSync(path.join(out, LATEST_FILE))) return; // a checkpoint was written: the run is resumable
  if (!existed) fs.rmSync(out, { recursive: true, force: true });
  else for (const entry of [CONFIG_FILE, METRICS_FILE, CHECKPOINTS_DIR]) fs.rmSync(path.join(out, entry), { recursive: true, force: true });
}

/**
 * Starts the run, or continues it from its newest checkpoint when `out` already holds one — what a resumable
 * job (the lab's stages, the example's model builds) calls, so that a rerun after a kill picks up where it stopped.
 */
export async function trainOrResume(options: TrainOptions): Promise<RunResult> {
  if (!fs.existsSync(path.join(path.resolve(options.out), CONFIG_FILE))) return train(options);
  const { signal, onProgress, onStart, tokenizer } = options;
  return resumeTraining(options.out, { signal, onProgress, onStart, tokenizer });
}

export interface ResumeOptions {
  /**
   * Steps in all. More than the run was started with extends it (the schedule is recomputed for
   * the new total, so later steps' learning rates change); fewer than it has taken is refused.
   * Defaults to the run's own.
   */
  steps?: number;
}

/**
 * Continues a run from its newest checkpoint (or from the start when it has none yet). A run that
 * has taken all its steps is not trained again: the result says so (`alreadyFinished`) and carries
 * its last loss from metrics.jsonl.
 */
export async function resumeTraining(runDirectory: string, hooks: TrainHooks = {}, options: ResumeOptions = {}): Promise<RunResult> {
  const out = path.resolve(runDirectory);
  const stored = readRunConfigFile<RunConfig>(out);
  const latest = readLatestPointer(out);
  const done = latest?.step ?? 0;
  const steps = options.steps ?? stored.steps;
  if (!Number.isInteger(steps) || steps < 1) throw new ConfigError(`steps must be a positive integer, got ${steps}`, { where: "--steps" });
  if (steps < done) {
    throw new ConfigError(`the run has taken ${done} steps already; --steps ${steps} would end it before that`, {
      where: "--steps",
      hint: `pass more than ${done} steps to train it further, or leave --steps out`,
    });
  }
  const config: RunConfig = { ...stored, steps, out };
  if (latest && done >= steps) return finishedRun(config, latest);
  return runTraining(config, true, hooks, steps !== stored.steps);
}

/** The result of a run that had finished already: its last loss and validation, from metrics.jsonl. */
function finishedRun(config: RunConfig, latest: { step: number; checkpoint: string }): RunResult {
  const metrics = readMetrics(config.out).filter((metric) => metric.step <= latest.step);
  const lastTrain = metrics.findLast((metric): metric is TrainMetric => metric.type === "train" && Number.isFinite(metric.loss));
  const lastValidation = metrics.findLast((metric): metric is ValidationMetric => metric.type === "validation");
  return {
    runDirectory: config.out,
    steps: latest.step,
    interrupted: false,
    alreadyFinished: true,
    finalLoss: lastTrain?.loss ?? Number.NaN,
    ...(lastValidation ? { validation: { loss: lastValidation.loss, perplexity: lastValidation.perplexity } } : {}),
    tokensPerSecond: 0,
    checkpoint: path.join(config.out, latest.checkpoint),
  };
}

async function runTraining(config: RunConfig, resuming: boolean, hooks: TrainHooks, rewriteConfig = false): Promise<RunResult> {
  const { batch, optimizer, schedule } = config;
  // ---- load everything and check it before writing anything --------------------------------
  using backend = Backend.create({ threads: config.threads, device: config.device });
  // A GPU run keeps a CPU backend last in the scheduler for ops the GPU lacks.
  using cpu = backend.isCpu ? undefined : Backend.cpu(config.threads);
  // ggml's BLAS backend (OpenBLAS GEMM, decision 0003) when built: first in the scheduler, it takes
  // the f32 matrix products, forward and backward (its out_prod is a GEMM too). Not for compute
  // bf16, whose bf16 products it would convert back to f32 on every call.
  using blas = backend.isCpu && config.compute === "f32" && config.blas === "auto" ? Backend.blasFromSettings(config.threads) : undefined;
  // Headroom for deep models: forward, backward (~3x) and the optimiser's nodes (32 blocks fit 8192).
  using scheduler = new Scheduler(cpu ? [backend, cpu] : blas ? [blas, backend] : [backend], 65536);
  const modelFile = readGguf(config.model);
  const fingerprint = fingerprintOfGguf(modelFile);
  const trainedNames = new Set(
    config.method === "subset"
      ? (config.subset.layers ?? [...Array(readHyperparameters(modelFile).blockCount).keys()]).flatMap((layer) =>
          config.subset.targets.map((target) => `blk.${layer}.${targetByShort(target).gguf}.weight`),
        )
      : [],
  );
  if (config.compute === "bf16" && !backend.isCpu) {
    throw new ConfigError(`compute: bf16 is a CPU setting (bf16 products on ggml's CPU kernels); device ${config.device} runs f32 products on its own fast kernels`, {
      where: "compute",
      hint: "leave compute at f32 on a GPU",
    });
  }
  if (config.compute === "bf16" && config.method !== "full" && config.method !== "subset") {
    throw new ConfigError(`compute: bf16 applies to trained model weights (method full or subset), not to method ${config.method}`, {
      where: "compute",
      hint: "for LoRA, store the frozen base in a faster type with frozenType: q8_0",
    });
  }
  if (config.method === "full" && config.frozenType !== "as-stored") {
    throw new ConfigError("frozenType applies to frozen weights; full fine-tuning freezes none", { where: "frozenType" });
  }
  checkModelFits(modelFile, {
    method: config.method,
    rank: config.lora.rank,
    subsetNames: trainedNames,
    shape: { sequences: batch.sequences, length: batch.sequenceLength + (config.method === "soft-prompt" ? config.softPrompt.tokens : 0) },
  });
  const frozen = await prepareFrozenModel(config.model, config.frozenType, trainedNames);
  using _frozenCopy = { [Symbol.dispose]: frozen.dispose };
  using model = loadModel(frozen.path, { backend });
  const needsTokenizer = config.data.some((source) => source.kind !== "shards");
  const tokenizer = needsTokenizer ? (hooks.tokenizer ?? (await loadModelTokenizer(config.model))) : undefined;
  const data = await prepareData({
    sources: config.data,
    objective: config.objective,
    length: batch.sequenceLength,
    tokenizer,
    vocabSize: model.hparams.vocabSize,
    seed: config.seed,
    validationFraction: config.validation.every > 0 ? config.validation.fraction : 0,
    validationWanted: config.validation.every > 0,
  });
  const fromShards = config.data.some((source) => source.kind === "shards");
  checkBatchFits(
    model.hparams,
    { sequences: batch.sequences, length: data.length + (config.method === "soft-prompt" ? config.softPrompt.tokens : 0) },
    fromShards ? "data (the shards' sequence length)" : "batch.sequenceLength (--seq-len)",
  );
  using trainable = TrainableSet.create(model, backend, { ...config, method: config.method });
  const checkpoint = resuming ? readLatestCheckpoint(config.out) : undefined;
  if (checkpoint && checkpoint.state.modelFingerprint !== fingerprint) {
    throw new ModelError(`the run was trained on another model (fingerprint ${checkpoint.state.modelFingerprint}, this one ${fingerprint})`, {
      where: config.model,
      hint: "resume with the model file the run started from",
    });
  }

  // ---- trainable values, optimiser state, data position -------------------------------------
  // The master values live in the trainable tensors, AdamW's moments beside them on the backend.
  using optimizerState = new OptimizerState(backend, trainable.parameters, { accumulate: batch.accumulation > 1 });
  let startStep = 0;
  let adamSteps = 0;
  let elapsedBefore = 0;
  let loader = new BatchLoader(data.train, config.seed);
  let random = Random.derive(config.seed, "run");
  if (checkpoint) {
    const byName = new Map(trainable.parameters.map((parameter) => [parameter.name, parameter]));
    for (const stored of checkpoint.parameters) {
      const target = byName.get(stored.name);
      if (!target || target.tensor.elements !== stored.data.length) {
        throw new ModelError(`checkpoint tensor ${stored.name} does not fit this run's trainable set`, { where: checkpoint.directory });
      }
      target.tensor.write(stored.data);
      const storedMoments = checkpoint.moments.get(stored.name);
      if (storedMoments) optimizerState.write(stored.name, storedMoments);
    }
    startStep = checkpoint.state.step;
    adamSteps = checkpoint.state.adamSteps;
    elapsedBefore = checkpoint.state.elapsedSeconds;
    loader = new BatchLoader(data.train, config.seed, checkpoint.state.loader);
    random = new Random(checkpoint.state.random);
  }

  // The graph rewrites work around ggml's CPU kernels, whose out_prod (the backward of W x) is slow:
  // transposed copies of the linear weights turn input gradients into mul_mat, other out_prods become
  // mul_mat of transposed copies. BLAS runs f32 out_prod as a GEMM (only q8_0 weights keep copies);
  // a GPU backend runs ggml's own backward (cuBLAS), as scripts/gpu-check.ts verifies it.
  const cpuKernels = backend.isCpu && !blas;
  const linearNames = [model.outputWeightName];
  for (let layer = 0; layer < model.hparams.blockCount; layer++)
    for (const target of ALL_TARGETS) linearNames.push(`blk.${layer}.${targetByShort(target).gguf}.weight`);
  const copiedNames = !backend.isCpu ? [] : linearNames.filter((name) => cpuKernels || model.weight(name).type !== GgmlType.F32);
  // compute: bf16 -> BF16 working copies of the trained weights for the forward and input-gradient products.
  const bf16Names = new Set(config.compute === "bf16" ? trainable.parameters.map((parameter) => parameter.name) : []);
  using transposedWeights = new TransposedWeights(model, backend, copiedNames, bf16Names);
  using lossGraph = new LossGraph(model, trainable, scheduler, {
    batch: batch.sequences,
    length: data.length,
    // runs written before this option existed attended across documents
    documentAttention: (batch.attention ?? "across-documents") === "per-document",
    transposedWeights,
    matMulBackward: cpuKernels,
    bf16WeightGradients: config.compute === "bf16",
    optimizer: optimizerState,
  });

  // ---- the run directory: created only now that everything checked out ----------------------
  fs.mkdirSync(config.out, { recursive: true });
  if (!resuming || rewriteConfig || !fs.existsSync(path.join(config.out, CONFIG_FILE))) {
    writeFileAtomic(path.join(config.out, CONFIG_FILE), `${JSON.stringify({ ...config, modelFingerprint: fingerprint }, null, 2)}\n`);
  }
  truncateMetrics(config.out, startStep);
  const metrics = new MetricsLog(config.out);

  const saveCheckpoint = (step: number, elapsedSeconds: number): string => {
    const state: CheckpointState = {
      step,
      loader: loader.state,
      random: random.state,
      adamSteps,
      modelFingerprint: fingerprint,
      elapsedSeconds,
    };
    const parameters: StoredTensor[] = trainable.parameters.map((parameter) => ({
      name: parameter.name,
      shape: trimShape(parameter.tensor.shape),
      data: parameter.tensor.readFloats().slice(),
    }));
    const moments = new Map<string, AdamWMoments>(trainable.parameters.map((parameter) => [parameter.name, optimizerState.read(parameter.name)]));
    return writeCheckpoint(config.out, state, parameters, moments, config.checkpoint.keep);
  };

  const evaluate = (): { loss: number; perplexity: number; targetTokens: number } => {
    let lossSum = 0;
    let count = 0;
    const wanted = config.validation.batches * batch.sequences;
    const sequences: PackedSequence[] = [];
    for (let i = 0; i < Math.min(wanted, Math.ceil(data.validation.length / batch.sequences) * batch.sequences); i++) {
      sequences.push(data.validation[i % data.validation.length]!);
    }
    for (let start = 0; start < sequences.length; start += batch.sequences) {
      const result = lossGraph.run(sequences.slice(start, start + batch.sequences), false);
      lossSum += result.meanLoss * result.targetCount;
      count += result.targetCount;
    }
    const loss = count > 0 ? lossSum / count : Number.NaN;
    return { loss, perplexity: Math.exp(loss), targetTokens: count };
  };

  hooks.onStart?.({
    startStep,
    steps: config.steps,
    trainableValues: trainable.size,
    sequences: data.train.reduce((sum, source) => sum + source.sequences.length, 0),
    truncated: data.truncated,
    backends: scheduler.backends.map((computing) => computing.name),
  });

  // ---- the loop ---------------------------------------------------------------------------------
  const started = performance.now();
  const tokensPerStep = batch.sequences * data.length * batch.accumulation;
  let finalLoss = Number.NaN;
  let lastValidation: { loss: number; perplexity: number } | undefined;
  let lastCheckpoint = checkpoint?.directory ?? "";
  let step = startStep;
  const seconds = () => elapsedBefore + (performance.now() - started) / 1000;
  while (step < config.steps) {
    const stepStarted = performance.now();
    const lr = learningRateAt(step, {
      kind: schedule.kind,
      peak: optimizer.lr,
      warmupSteps: schedule.warmupSteps,
      totalSteps: config.steps,
      minLrRatio: schedule.minLrRatio,
    });

    // forward, backward and AdamW in one graph per micro-batch; each micro-batch's gradients are
    // weighted by its share of the step's targets (one without targets adds nothing and is skipped)
    const microBatches = Array.from({ length: batch.accumulation }, () => loader.nextBatch(batch.sequences))
      .map((sequences) => ({ sequences, targets: LossGraph.countTargets(sequences) }))
      .filter((micro) => micro.targets > 0);
    const targetTotal = microBatches.reduce((sum, micro) => sum + micro.targets, 0);
    let lossSum = 0;
    let gradNorm = 0;
    if (targetTotal > 0) {
      adamSteps++;
      optimizerState.setStep(adamSteps, { ...optimizer, lr }, optimizer.gradClip);
      microBatches.forEach((micro, index) => {
        const stage: AccumulationStage =
          microBatches.length === 1 ? "only" : index === 0 ? "first" : index === microBatches.length - 1 ? "last" : "middle";
        const result = lossGraph.step(micro.sequences, stage, micro.targets / targetTotal);
        lossSum += result.meanLoss * result.targetCount;
        if (result.gradNorm !== undefined) gradNorm = result.gradNorm;
      });
    }
    const loss = targetTotal > 0 ? lossSum / targetTotal : Number.NaN;
    if (!Number.isFinite(loss) && targetTotal > 0) {
      throw new InputError(`loss became ${loss} at step ${step + 1}`, { hint: "lower optimizer.lr or raise warmup; resume from the last checkpoint" });
    }
    step++;
    // a step whose micro-batches held no target has no loss: keep the last real one
    if (targetTotal > 0) finalLoss = loss;

    const stepSeconds = (performance.now() - stepStarted) / 1000;
    const tokensPerSecond = tokensPerStep / stepSeconds;
    const elapsedSeconds = seconds();
    metrics.append({ type: "train", step, loss, lr, gradNorm, tokensPerSecond, targetTokens: targetTotal, elapsedSeconds });
    const progress: TrainProgress = {
      step,
      steps: config.steps,
      loss,
      lr,
      gradNorm,
      tokensPerSecond,
      elapsedSeconds,
      etaSeconds: ((elapsedSeconds - elapsedBefore) / (step - startStep)) * (config.steps - step),
    };
    if (config.validation.every > 0 && data.validation.length > 0 && (step % config.validation.every === 0 || step === config.steps)) {
      const { targetTokens, ...validation } = evaluate();
      lastValidation = validation;
      metrics.append({ type: "validation", step, ...validation, targetTokens });
      progress.validation = validation;
    }
    hooks.onProgress?.(progress);
    const interrupted = hooks.signal?.aborted === true;
    if (step % config.checkpoint.every === 0 || step === config.steps || interrupted) {
      lastCheckpoint = saveCheckpoint(step, elapsedSeconds);
    }
    if (interrupted) break;
    // Let the event loop run between steps: signal handlers (Ctrl-C), progress rendering, timers.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!lastCheckpoint) lastCheckpoint = saveCheckpoint(step, seconds());
  const ranSteps = step - startStep;
  return {
    runDirectory: config.out,
    steps: step,
    interrupted: step < config.steps,
    finalLoss,
    ...(lastValidation ? { validation: lastValidation } : {}),
    tokensPerSecond: ranSteps > 0 ? (tokensPerStep * ranSteps) / ((performance.now() - started) / 1000) : 0,
    checkpoint: lastCheckpoint,
  };
}
