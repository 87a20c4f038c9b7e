/**
 * node-llama-cpp as the reference implementation: full next-token log-probability vectors for a
 * token sequence (F32 KV cache, no flash attention, so nothing is rounded that our graph keeps).
 */
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem, type Llama, type Token } from "node-llama-cpp";
import { createModel, loadModel, normalSampler, readTokenizerMetadata, writeModel, type InitialisedModel, type ModelSpec } from "../../src/model/index.js";
import { Backend, Context, GgmlType, Graph, Scheduler } from "../../src/engine/index.js";
import { llamaCppVocab } from "./fixtures.js";

let llama: Promise<Llama> | undefined;
export function referenceLlama(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  return llama;
}

export interface ReferenceOptions {
  lora?: string;
  threads?: number;
}

/** log p(· | tokens[0..i]) for every i, each a Float64Array of V values. */
export async function referenceLogprobs(modelPath: string, tokens: readonly number[], options: ReferenceOptions = {}): Promise<Float64Array[]> {
  const engine = await referenceLlama();
  const model = await engine.loadModel({ modelPath });
  try {
    const context = await model.createContext({
      contextSize: Math.max(64, tokens.length + 8),
      threads: options.threads ?? 2,
      flashAttention: false,
      experimentalKvCacheKeyType: "F32",
      experimentalKvCacheValueType: "F32",
      ...(options.lora ? { lora: { adapters: [{ filePath: options.lora, scale: 1 }] } } : {}),
    });
    try {
      const sequence = context.getSequence();
      const results = await sequence.controlledEvaluate(
        tokens.map((token): ControlledEvaluateInputItem => [token as Token, { generateNext: { probabilities: true } }]),
      );
      return results.map((result, i) => {
        const probabilities = result?.next?.probabilities;
        if (!probabilities) throw new Error(`node-llama-cpp returned no probabilities at position ${i}`);
        const out = new Float64Array(probabilities.size);
        for (const [token, probability] of probabilities) out[token] = Math.log(probability);
        return out;
      });
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

export const vocabFor: Record<string, string> = {
  llama: "ggml-vocab-llama-spm.gguf",
  qwen2: "ggml-vocab-qwen2.gguf",
  qwen3: "ggml-vocab-qwen2.gguf",
};

/**
 * Writes a tiny model with a real tokenizer whose norms and biases are perturbed away from 1 and 0,
 * so the comparison exercises them (a fresh init would leave them neutral).
 */
export async function writeTinyModel(path: string, spec: Partial<ModelSpec> & { architecture: string }, type = GgmlType.F32): Promise<void> {
  await writeModel(path, tinyModel(spec), type);
}

/** The tiny model writeTinyModel writes, in f32 (the same spec and seed give the same values). */
export function tinyModel(spec: Partial<ModelSpec> & { architecture: string }): InitialisedModel {
  const tokenizer = readTokenizerMetadata(llamaCppVocab(vocabFor[spec.architecture]!));
  const model = createModel(
    { hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 256, seed: 7, initStd: 0.2, ...spec },
    tokenizer,
  );
  const noise = normalSampler(99);
  for (const tensor of model.tensors) {
    if (tensor.matrix) continue;
    const isNorm = tensor.name.includes("norm");
    for (let i = 0; i < tensor.values.length; i++) tensor.values[i] = isNorm ? 1 + 0.2 * noise() : 0.2 * noise();
  }
  return model;
}

/**
 * The f32 twin of a model file: every matrix replaced by exactly the values its stored type holds
 * (ggml's own dequantisation, through get_rows), every other tensor unchanged. Running the twin
 * separates what the weights' rounding does from what a weight type's kernels do to activations.
 */
export async function writeF32Twin(path: string, source: string, spec: Partial<ModelSpec> & { architecture: string }): Promise<void> {
  const model = tinyModel(spec);
  using backend = Backend.cpu(1);
  using stored = loadModel(source, { backend });
  for (const tensor of model.tensors) {
    if (!tensor.matrix) continue;
    const weight = stored.weight(tensor.name);
    const [columns, rows] = weight.shape;
    using compute = new Context({ maxTensors: 4, graphBytes: Graph.bytesFor(8) });
    const ids = compute.tensor(GgmlType.I32, [rows], "ids");
    const values = compute.getRows(weight, ids);
    using scheduler = new Scheduler([backend], 8);
    const graph = new Graph(compute, { size: 8 }).expand(values);
    scheduler.allocate(graph);
    ids.write(Int32Array.from({ length: rows }, (_, row) => row));
    scheduler.compute(graph);
    const dequantised = values.readFloats();
    if (dequantised.length !== columns * rows) throw new Error(`${tensor.name}: ${dequantised.length} values, expected ${columns * rows}`);
    tensor.values.set(dequantised);
  }
  await writeModel(path, model, GgmlType.F32);
}
