/**
 * Checks of a GPU backend (CUDA or Vulkan) against the CPU backend, in one process: forward
 * log-probabilities, gradients of every trainable kind, short training runs with an adapter export,
 * and training throughput. Used by scripts/gpu-check.ts (the device report) and test/gpu/ (vitest).
 *
 * One process holds both backends when ggml's backends are loadable libraries in one folder (a
 * GGML_BACKEND_DL=ON build via VERTICAL_GGML_DIR, or node-llama-cpp's package): the GPU's libraries
 * must be loaded first (`openDevice`), since the registry is loaded once per process.
 *
 * Every check compares the device under test with the CPU backend, so run with VERTICAL_DEVICE=cpu
 * it compares the CPU with itself (a smoke test of this code, not of a GPU).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Backend, Scheduler, type Device } from "../src/engine/index.js";
import { loadGgml } from "../src/engine/ffi.js";
import { Evaluator, loadLoraAdapter, loadModel, tokenLogprobs } from "../src/model/index.js";
import { ALL_TARGETS } from "../src/model/loraTargets.js";
import { GgmlType } from "../src/engine/gguf/index.js";
import type { PackedSequence } from "../src/train/batches.js";
import { exportRun } from "../src/train/exportRun.js";
import { LossGraph } from "../src/train/lossGraph.js";
import { OptimizerState } from "../src/train/optimizerState.js";
import { adamwUpdate, clipGradients, createMoments, globalNorm } from "../src/train/testing/referenceAdamW.js";
import type { AccumulationStage } from "../src/train/optimizerStep.js";
import { Random } from "../src/train/random.js";
import { CharTokenizer } from "../src/train/testing/charTokenizer.js";
import { writeTinyModel, type TinyModelOptions } from "../src/train/testing/tinyModel.js";
import { TrainableSet, type TrainableSetOptions } from "../src/train/trainable.js";
import { train } from "../src/train/train.js";

export interface CheckResult {
  /** Short id, e.g. "forward llama f32". */
  name: string;
  /** What was compared, in words. */
  compares: string;
  /** The measured figure (max |diff| or max relative error). */
  value: number;
  threshold: number;
  pass: boolean;
  /** Extra figures (scheduler splits, loss curves, ...). */
  detail?: Record<string, unknown>;
}

export interface Throughput {
  name: string;
  precision: string;
  tokensPerSecond: number;
  stepSeconds: number[];
}

/** Loads the device's ggml libraries before anything else touches the engine; returns the backend's name. */
export function openDevice(device: Device, threads: number): string {
  loadGgml(device);
  using backend = Backend.create({ device, threads });
  return backend.name;
}

function check(
  name: string,
  compares: string,
  value: number,
  threshold: number,
  detail?: Record<string, unknown>,
): CheckResult {
  // NaN must fail, so compare in the passing direction.
  return { name, compares, value, threshold, pass: value <= threshold, ...(detail ? { detail } : {}) };
}

/** Row-wise log-softmax of [rows x vocab] logits, in double precision. */
function logSoftmaxRows(logits: Float32Array, vocab: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let offset = 0; offset < logits.length; offset += vocab) {
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]!);
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i]! - max);
    const logSum = max + Math.log(sum);
    for (let i = 0; i < vocab; i++) out[offset + i] = logits[offset + i]! - logSum;
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i]! - b[i]!);
    max = Number.isNaN(diff) ? Infinity : Math.max(max, diff);
  }
  return max;
}

function maxAbs(a: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]!));
  return max;
}

export interface CheckOptions {
  /** The device under test. */
  device: Device;
  /** CPU threads (the CPU reference and the CPU part of GPU graphs). */
  threads: number;
  /** Folder for the tiny models and runs (created by the caller, removed by the caller). */
  directory: string;
}

/** Tiny model shapes: Q8_0 needs row lengths divisible by 32 (E and FFN). */
const tinyShape = { vocab: 128, hidden: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, context: 64 } as const;

async function tinyModel(directory: string, name: string, options: TinyModelOptions): Promise<string> {
  const file = path.join(directory, `${name}.gguf`);
  if (!fs.existsSync(file)) await writeTinyModel(file, { ...tinyShape, seed: 7, ...options });
  return file;
}

/**
 * (a) Log-softmax over the whole vocabulary at every position of two sequences, device vs CPU.
 * f32: ggml's CUDA backend runs f32 matrix products as TF32 (cuBLAS is set to
 * CUBLAS_TF32_TENSOR_OP_MATH and the small-batch mmf kernels use TF32 mma): operands keep 10
 * mantissa bits, ~5e-4 relative per product, which moves log-probabilities of O(log V) size by
 * ~1e-3 through two blocks (the CPU side is plain f32; with VERTICAL_DEVICE=cpu the difference is
 * 0). 1e-2 allows that and still catches a wrong op (which moves them by >= 1e-1: the q8_0 weight
 * quantisation alone moves them by ~0.1, reported as quantisationGapOnCpu).
 * q8_0: the weights are the same bytes on both sides; the CPU quantises activations to q8_0 and
 * CUDA's MMQ to q8_1 blocks of the same 32 values with the same rounding, so the integer dot
 * products agree and only accumulation order and fp16 scales differ; 2e-2 is a fifth of the
 * quantisation gap itself.
 */
export async function checkForward(options: CheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  using cpu = Backend.cpu(options.threads);
  using device = Backend.create({ device: options.device, threads: options.threads });
  const random = new Random(11);
  const length = 48;
  const tokens = Int32Array.from({ length: 2 * length }, () => random.int(tinyShape.vocab));
  for (const architecture of ["llama", "qwen3"] as const) {
    const reference = new Map<string, Float64Array>();
    for (const [typeName, matrixType] of [
      ["f32", GgmlType.F32],
      ["q8_0", GgmlType.Q8_0],
    ] as const) {
      const file = await tinyModel(options.directory, `${architecture}-${typeName}`, { architecture, matrixType });
      const logprobs = [cpu, device].map((backend) => {
        using model = loadModel(file, { backend });
        using evaluator = new Evaluator(model, { batch: 2, length });
        return logSoftmaxRows(evaluator.logits(tokens), tinyShape.vocab);
      });
      reference.set(typeName, logprobs[0]!);
      if (typeName === "f32") {
        results.push(
          check(
            `forward ${architecture} f32`,
            `log-softmax over all ${tinyShape.vocab} tokens at ${2 * length} positions, ${options.device} vs cpu, max |diff|`,
            maxAbsDiff(logprobs[1]!, logprobs[0]!),
            1e-2,
          ),
        );
        continue;
      }
      // q8_0: each backend rounds activations its own way (CPU: q8_0 blocks; CUDA: q8_1 blocks in
      // MMQ or f16 in its dequantise + cuBLAS path), so the two q8_0 results need not agree more
      // closely than either agrees with the exact f32 answer (measured on H200: 0.07-0.11 apart, as
      // far as q8_0 is from f32). The check: the device's q8_0 is as close to the CPU's f32 answer
      // as the CPU's q8_0 is (x1.5 + 1e-2); a wrong op lands O(1) away.
      const exact = reference.get("f32")!;
      const cpuGap = maxAbsDiff(logprobs[0]!, exact);
      results.push(
        check(
          `forward ${architecture} q8_0`,
          `log-softmax, ${options.device} q8_0 vs cpu f32, max |diff| (threshold: 1.5 x cpu q8_0 vs cpu f32 + 1e-2)`,
          maxAbsDiff(logprobs[1]!, exact),
          1.5 * cpuGap + 1e-2,
          { quantisationGapOnCpu: cpuGap, deviceVsCpuQ8: maxAbsDiff(logprobs[1]!, logprobs[0]!) },
        ),
      );
    }
  }
  return results;
}

/** Two packed sequences of `length` + 1 tokens, every position a target except the first two. */
function packedBatch(length: number, vocab: number, seed: number): PackedSequence[] {
  const random = new Random(seed);
  return [0, 1].map(() => ({
    tokens: Int32Array.from({ length: length + 1 }, () => random.int(vocab)),
    lossMask: Uint8Array.from({ length }, (_, t) => (t < 2 ? 0 : 1)),
  }));
}

const trainableDefaults: TrainableSetOptions = {
  method: "lora",
  lora: { rank: 4, alpha: 8, targets: [...ALL_TARGETS] },
  subset: { targets: [...ALL_TARGETS] },
  softPrompt: { tokens: 3 },
  seed: 5,
};

/**
 * (b) Gradients of the training loss (LossGraph, as train() builds it) for LoRA (B set to random
 * values, so A's gradients are not zero) over an f32 and over a q8_0 base, full fine-tuning and a
 * soft prompt, device vs CPU. Error
 * per tensor = max |g_device - g_cpu| / max |g_cpu|; reported is the worst tensor. Threshold 1e-2:
 * f32 summation-order differences give ~1e-5; a wrong backward op gives O(1). Also with
 * matMulBackward (train()'s rewrite of out_prod as mul_mat), which changes the ops the GPU runs.
 */
export async function checkGradients(options: CheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const f32File = await tinyModel(options.directory, "qwen3-f32", { architecture: "qwen3" });
  // LoRA over a frozen q8_0 base (the recommended LoRA setting): the input gradients go through
  // out_prod with a q8_0 weight, which ggml's CUDA backend leaves to the CPU (more graph splits).
  const q8File = await tinyModel(options.directory, "qwen3-q8_0", { architecture: "qwen3", matrixType: GgmlType.Q8_0 });
  const length = 24;
  const sequences = packedBatch(length, tinyShape.vocab, 21);
  for (const variant of ["lora", "lora-q8_0", "full", "soft-prompt"] as const) {
    const method = variant === "lora-q8_0" ? "lora" : variant;
    const file = variant === "lora-q8_0" ? q8File : f32File;
    for (const matMulBackward of [false, true]) {
      const perBackend = (backend: Backend) => perBackendFile(backend, file);
      const perBackendFile = (backend: Backend, modelFile: string) => {
        using model = loadModel(modelFile, { backend });
        using trainable = TrainableSet.create(model, backend, { ...trainableDefaults, method });
        if (method === "lora") {
          const random = new Random(9);
          for (const parameter of trainable.parameters)
            if (parameter.name.endsWith(".lora_b"))
              parameter.tensor.write(
                Float32Array.from({ length: parameter.tensor.elements }, () => random.uniform(-0.1, 0.1)),
              );
        }
        using cpuPart = backend.isCpu ? undefined : Backend.cpu(options.threads);
        using scheduler = new Scheduler(cpuPart ? [backend, cpuPart] : [backend], 65536);
        using lossGraph = new LossGraph(model, trainable, scheduler, { batch: 2, length, matMulBackward });
        const result = lossGraph.run(sequences, true);
        return { loss: result.meanLoss, gradients: result.gradients!, splits: scheduler.splits };
      };
      using cpu = Backend.cpu(options.threads);
      using device = Backend.create({ device: options.device, threads: options.threads });
      const reference = perBackend(cpu);
      const tested = perBackend(device);
      // q8_0 base: as in the forward check, the yardstick is how far the CPU's q8_0 gradients are
      // from the f32 base's (same LoRA values): the device may round activations differently.
      let threshold = 1e-2;
      if (variant === "lora-q8_0") {
        const exact = perBackendFile(cpu, f32File);
        let gap = 0;
        for (const [name, gradient] of reference.gradients) gap = Math.max(gap, maxAbsDiff(gradient, exact.gradients.get(name)!) / Math.max(maxAbs(exact.gradients.get(name)!), 1e-12));
        threshold = Math.max(1e-2, 1.5 * gap);
      }
      let worst = -1;
      let worstName = "";
      for (const [name, gradient] of reference.gradients) {
        const other = tested.gradients.get(name);
        const scale = maxAbs(gradient);
        const ratio = other ? maxAbsDiff(other, gradient) / Math.max(scale, 1e-12) : Infinity;
        const error = Number.isNaN(ratio) ? Infinity : ratio; // a NaN gradient fails
        if (error > worst) {
          worst = error;
          worstName = name;
        }
      }
      results.push(
        check(
          `gradients ${variant}${matMulBackward ? " matMulBackward" : ""}`,
          `${reference.gradients.size} gradient tensors, ${options.device} vs cpu, worst max|diff|/max|g_cpu|`,
          worst,
          threshold,
          {
            worstTensor: worstName,
            lossCpu: reference.loss,
            lossDevice: tested.loss,
            deviceGraphSplits: tested.splits,
          },
        ),
      );
    }
  }
  return results;
}

/**
 * (b2) The optimiser inside the training graph (LossGraph.step: accumulation, norm, clipping, AdamW
 * in place) on the device, against the TypeScript reference AdamW applied on the host to gradients
 * read back from the same device (LossGraph.run, same kernels): three steps of LoRA and of full
 * fine-tuning, two micro-batches each. Comparing with the CPU's run instead would not work: AdamW's
 * first steps move every value by about ±lr whatever its gradient's size, so the device's TF32
 * rounding flips the direction for values whose gradient is near zero. Per tensor and step:
 * ||device - reference|| / ||reference update||, worst printed. 1e-2: LoRA's A starts with zero
 * gradients (B = 0), where AdamW's g / (sqrt(v) + eps) is sensitive to f32-vs-f64 rounding (4e-4 measured
 * on the CPU); a missing or wrong step is O(1). Each stage prints a line
 * first, so an abort names the last stage that started.
 */
export async function checkOptimizer(options: CheckOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const file = await tinyModel(options.directory, "qwen3-f32", { architecture: "qwen3" });
  const length = 24;
  const adamw = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
  for (const method of ["lora", "full"] as const) {
    using device = Backend.create({ device: options.device, threads: options.threads });
    using model = loadModel(file, { backend: device });
    using trainable = TrainableSet.create(model, device, { ...trainableDefaults, method });
    using cpuPart = device.isCpu ? undefined : Backend.cpu(options.threads);
    using scheduler = new Scheduler(cpuPart ? [device, cpuPart] : [device], 65536);
    using state = new OptimizerState(device, trainable.parameters, { accumulate: true });
    // as train() builds it on a GPU: ggml's own backward, no CPU rewrites
    using lossGraph = new LossGraph(model, trainable, scheduler, { batch: 2, length, optimizer: state });
    const moments = new Map(trainable.parameters.map((parameter) => [parameter.name, createMoments(parameter.tensor.elements)]));
    let worst = 0;
    let worstName = "";
    const normGaps: number[] = [];
    for (let step = 1; step <= 3; step++) {
      const micro = [0, 1].map((index) => packedBatch(length, tinyShape.vocab, 100 * step + index));
      const counts = micro.map((batch) => LossGraph.countTargets(batch));
      const total = counts[0]! + counts[1]!;
      const before = new Map(trainable.parameters.map((parameter) => [parameter.name, parameter.tensor.readFloats().slice()]));
      const gradients = new Map(trainable.parameters.map((parameter) => [parameter.name, new Float32Array(parameter.tensor.elements)]));
      micro.forEach((batch, index) => {
        for (const [name, gradient] of lossGraph.run(batch, true).gradients!) {
          const sum = gradients.get(name)!;
          for (let i = 0; i < sum.length; i++) sum[i]! += (counts[index]! / total) * gradient[i]!;
        }
      });
      const norm = globalNorm(gradients.values());
      clipGradients([...gradients.values()], norm, 1);
      const expected = new Map(before);
      for (const parameter of trainable.parameters) {
        const values = before.get(parameter.name)!.slice();
        adamwUpdate(values, gradients.get(parameter.name)!, moments.get(parameter.name)!, step, adamw, parameter.decay);
        expected.set(parameter.name, values);
      }
      state.setStep(step, adamw, 1);
      let gradNorm = Number.NaN;
      for (const [index, stage] of (["first", "last"] as AccumulationStage[]).entries()) {
        console.log(`   optimizer ${method} on ${device.name}: step ${step} stage ${stage}`);
        const result = lossGraph.step(micro[index]!, stage, counts[index]! / total);
        if (result.gradNorm !== undefined) gradNorm = result.gradNorm;
      }
      normGaps.push(Math.abs(gradNorm - norm) / norm);
      for (const parameter of trainable.parameters) {
        const actual = parameter.tensor.readFloats();
        const want = expected.get(parameter.name)!;
        const start = before.get(parameter.name)!;
        let error = 0;
        let update = 0;
        for (let i = 0; i < want.length; i++) {
          error += (actual[i]! - want[i]!) ** 2;
          update += (want[i]! - start[i]!) ** 2;
        }
        const ratio = Math.sqrt(error) / Math.max(Math.sqrt(update), 1e-12);
        if (!(ratio <= worst)) {
          worst = Number.isNaN(ratio) ? Infinity : ratio;
          worstName = `${parameter.name} (step ${step})`;
        }
        // the reference continues from the device's values, so that each step is compared alone
        moments.set(parameter.name, state.read(parameter.name));
      }
    }
    results.push(
      check(
        `optimizer ${method} 3 steps`,
        `in-graph AdamW on ${options.device} vs reference AdamW on its own read-back gradients, worst ||diff|| / ||update|| per tensor and step`,
        Math.max(worst, ...normGaps.map((gap) => (gap > 1e-4 ? Infinity : 0))),
        1e-2,
        { worstTensor: worstName, gradNormRelativeGaps: normGaps },
      ),
    );
  }
  return results;
}

const CORPUS =
  "Harbor rules. Ships arriving after dusk anchor in the outer basin and wait for the pilot. " +
  "The pilot boards at first light and brings each ship to its berth in the order of arrival. " +
  "Cargo is inspected on the quay before it is moved to the warehouses along the north wall. ";

/**
 * (c) 20 steps of LoRA and of full fine-tuning with train() on the device and on the CPU, same seed
 * and data. Before any update the losses differ only by forward rounding (TF32 on CUDA, ~1e-3):
 * the first step's losses must agree within 1e-2. After that, rounding differences in the
 * gradients change AdamW's steps slightly and the curves drift apart; over 20 steps the curves
 * must stay within 5e-2 of each other, which is 6% of the LoRA curve's fall and 2% of the full
 * curve's on this model (0.83 and 2.47 nats measured on CPU), while a wrong gradient or optimiser
 * step changes the curve by the order of its fall. The curve must fall by >= 0.3 nats on both, so
 * agreeing is not trivial. The LoRA run's adapter is exported as GGUF from both runs and loaded on
 * the CPU: their log-probabilities must differ by < 5% of how far the adapter moves them from the
 * base model (~2.3 nats here).
 */
export async function checkTraining(options: CheckOptions, steps = 20): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const file = await tinyModel(options.directory, "llama-f32", { architecture: "llama" });
  const corpus = path.join(options.directory, "corpus.txt");
  fs.writeFileSync(corpus, CORPUS.repeat(12));
  const tokenizer = new CharTokenizer();
  for (const method of ["lora", "full"] as const) {
    const curves: number[][] = [];
    const runs: string[] = [];
    for (const device of ["cpu", options.device] as const) {
      const out = path.join(options.directory, `run-${method}-${device}-${runs.length}`);
      const losses: number[] = [];
      await train({
        model: file,
        out,
        data: corpus,
        tokenizer,
        method,
        lora: { rank: 4, alpha: 8 },
        steps,
        optimizer: { lr: 2e-3 },
        batch: { sequenceLength: 32, sequences: 4 },
        checkpoint: { every: steps },
        seed: 3,
        device,
        threads: options.threads,
        // Called after every step and again after a validation (same step): keep one loss per step.
        onProgress: (progress) => {
          if (losses.length < progress.step) losses.push(progress.loss);
        },
      });
      curves.push(losses);
      runs.push(out);
    }
    const [cpuCurve, deviceCurve] = curves as [number[], number[]];
    const fall = Math.min(cpuCurve[0]! - cpuCurve.at(-1)!, deviceCurve[0]! - deviceCurve.at(-1)!);
    const firstStep = Math.abs(cpuCurve[0]! - deviceCurve[0]!);
    const minimumFall = steps >= 20 ? 0.3 : 0.05;
    results.push(
      check(
        `training ${method} ${steps} steps`,
        `loss per step, ${options.device} vs cpu, max |diff| (first step within 1e-2; the loss must fall by >= ${minimumFall} on both)`,
        fall >= minimumFall && firstStep <= 1e-2 && cpuCurve.length === steps && deviceCurve.length === steps
          ? maxAbsDiff(deviceCurve, cpuCurve)
          : Infinity,
        5e-2,
        { cpuCurve, deviceCurve, lossFall: fall, firstStepDiff: firstStep },
      ),
    );
    if (method === "lora") {
      const adapters = runs.map((run, index) => {
        const out = path.join(options.directory, `adapter-${index}.gguf`);
        return { run, out };
      });
      for (const adapter of adapters) await exportRun(adapter.run, { format: "gguf-lora", out: adapter.out });
      using cpu = Backend.cpu(options.threads);
      using model = loadModel(file, { backend: cpu });
      const tokens = tokenizer.encode(CORPUS.slice(0, 60));
      const base = tokenLogprobs(model, tokens);
      const withAdapter = adapters.map((adapter) => {
        using loaded = loadLoraAdapter(adapter.out, model);
        return tokenLogprobs(model, tokens, { lora: loaded.weights });
      });
      const effect = maxAbsDiff(withAdapter[1]!, base);
      const gap = maxAbsDiff(withAdapter[1]!, withAdapter[0]!);
      results.push(
        check(
          "lora adapter export",
          `GGUF adapters exported from the ${options.device} and the cpu run, loaded on cpu: log-prob max |diff| / how far the adapter moves them from the base (> 1e-2 required)`,
          effect > 1e-2 ? gap / effect : Infinity,
          5e-2,
          { adapterEffect: effect, logprobMaxDiff: gap },
        ),
      );
    }
  }
  return results;
}

export interface ThroughputOptions extends CheckOptions {
  steps: number;
  /** The model and batch; the bench:train config by default. */
  shape?: { vocab: number; hidden: number; layers: number; heads: number; ffn: number; ctx: number; batch: number };
  /** python3 with torch, for bench/train_pytorch.py on the same device; undefined skips it. */
  python?: string;
}

/** bench/train.ts's model and batch (V 8192, E 512, 6 blocks, 8 heads, FFN 1280, context 256, 8 sequences). */
export const benchShape = { vocab: 8192, hidden: 512, layers: 6, heads: 8, ffn: 1280, ctx: 256, batch: 8 };

/**
 * (d) Tokens/s of train() on the device for LoRA (r 16, all linear modules; over the f32 base and
 * over a q8_0 copy) and full fine-tuning, first step excluded, and bench/train_pytorch.py's same
 * model and batch on the same device. On CUDA, ggml runs f32 products as TF32, so PyTorch runs with
 * --tf32 (like for like); each line states its precision.
 */
export async function measureThroughput(
  options: ThroughputOptions,
): Promise<{ ours: Throughput[]; pytorch: Throughput[]; pytorchNote: string }> {
  const shape = options.shape ?? benchShape;
  const file = path.join(options.directory, `bench-${shape.vocab}-${shape.hidden}.gguf`);
  if (!fs.existsSync(file)) {
    await writeTinyModel(file, {
      vocab: shape.vocab,
      hidden: shape.hidden,
      layers: shape.layers,
      heads: shape.heads,
      kvHeads: shape.heads,
      ffn: shape.ffn,
      context: shape.ctx,
      scale: 0.02,
    });
  }
  const corpus = path.join(options.directory, "bench-corpus.txt");
  const words = [
    "harbor",
    "ship",
    "pilot",
    "cargo",
    "quay",
    "tide",
    "anchor",
    "berth",
    "north",
    "wall",
    "ledger",
    "dusk",
  ];
  let text = "";
  for (let i = 0; text.length < (options.steps + 2) * shape.batch * (shape.ctx + 1) * 1.2; i++)
    text += `${words[(i * 7919) % words.length]} `;
  fs.writeFileSync(corpus, text);
  const ours: Throughput[] = [];
  const modes = [
    { name: "lora-f32", method: "lora", frozenType: "as-stored" },
    { name: "lora-q8", method: "lora", frozenType: "q8_0" },
    { name: "full-f32", method: "full", frozenType: "as-stored" },
  ] as const;
  for (const mode of modes) {
    const stepSeconds: number[] = [];
    let last = performance.now();
    await train({
      model: file,
      out: path.join(options.directory, `bench-${mode.name}`),
      data: corpus,
      tokenizer: new CharTokenizer(),
      method: mode.method,
      frozenType: mode.frozenType,
      lora: { rank: 16, alpha: 32 },
      steps: options.steps,
      optimizer: { lr: 1e-4 },
      batch: { sequenceLength: shape.ctx, sequences: shape.batch },
      checkpoint: { every: 100_000 },
      device: options.device,
      threads: options.threads,
      onProgress: () => {
        const now = performance.now();
        stepSeconds.push((now - last) / 1000);
        last = now;
      },
    });
    const measured = stepSeconds.length > 1 ? stepSeconds.slice(1) : stepSeconds;
    ours.push({
      name: `vertical ${mode.name}`,
      precision:
        (mode.frozenType === "q8_0" ? "frozen base q8_0, adapters/AdamW f32" : "f32") +
        (options.device === "cuda" ? " (ggml CUDA: TF32 f32 matmuls)" : ""),
      tokensPerSecond: (shape.batch * shape.ctx * measured.length) / measured.reduce((a, b) => a + b, 0),
      stepSeconds,
    });
  }
  const pytorch: Throughput[] = [];
  let pytorchNote = "skipped: no python3 with torch";
  if (options.python) {
    const torchDevice = options.device === "cuda" ? "cuda" : "cpu";
    const tf32 = torchDevice === "cuda";
    pytorchNote = `bench/train_pytorch.py --device ${torchDevice}${tf32 ? " --tf32" : ""}`;
    for (const mode of ["lora", "full"] as const) {
      const args = [
        path.resolve("bench/train_pytorch.py"),
        "--mode",
        mode,
        "--device",
        torchDevice,
        ...(tf32 ? ["--tf32"] : []),
        ...Object.entries({ ...shape, threads: options.threads, rank: 16, alpha: 32, steps: options.steps }).flatMap(
          ([key, value]) => [`--${key}`, String(value)],
        ),
      ];
      const result = spawnSync(options.python, args, { encoding: "utf8" });
      if (result.status !== 0) {
        pytorchNote = `failed: ${(result.stderr || result.error?.message || "").trim().split("\n").slice(-3).join(" | ")}`;
        break;
      }
      const measurement = JSON.parse(result.stdout.trim().split("\n").pop()!) as {
        tokensPerSecond: number;
        stepSeconds: number[];
      };
      pytorch.push({
        name: `pytorch ${mode}-f32`,
        precision: "f32",
        tokensPerSecond: measurement.tokensPerSecond,
        stepSeconds: measurement.stepSeconds,
      });
    }
  }
  return { ours, pytorch, pytorchNote };
}

/** python3 that imports torch and, for cuda, sees a CUDA device; undefined otherwise. */
export function findTorchPython(device: Device): string | undefined {
  const probe =
    device === "cuda" ? "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)" : "import torch";
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    const result = spawnSync(candidate, ["-c", probe], { stdio: "ignore" });
    if (result.status === 0) return candidate;
  }
  return undefined;
}
