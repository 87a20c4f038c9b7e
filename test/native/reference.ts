/**
 * node-llama-cpp as the reference implementation: full next-token log-probability vectors for a
 * token sequence (F32 KV cache, no flash attention, so nothing is rounded that our graph keeps).
 */
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem, type Llama, type Token } from "node-llama-cpp";
import { createModel, normalSampler, readTokenizerMetadata, writeModel, type ModelSpec } from "../../src/model/index.js";
import { GgmlType } from "../../src/engine/index.js";
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
  await writeModel(path, model, type);
}
