/** Llama-family models on the engine: loading, the forward graph, LoRA, scoring, initialisation. */
export { architectures, resolveArchitecture, type Architecture } from "./arch/index.js";
export { readHyperparameters, expectedTensors, type ModelHyperparameters, type ExpectedTensor } from "./hyperparameters.js";
export { loadModel, LlamaModel, validateModelTensors, type LoadModelOptions } from "./loadModel.js";
export { loadLoraAdapter, mergeLoraWeights, checkLoraShapes, LoraAdapter, type LoraPair, type LoraWeights, type LoadLoraOptions } from "./lora.js";
export { buildForward, type ForwardGraph, type ForwardOptions } from "./forward.js";
export {
  Evaluator,
  createScheduler,
  logSoftmaxAt,
  tokenLogprobs,
  perplexity,
  scoreContinuations,
  type EvaluatorOptions,
  type PerplexityOptions,
  type PerplexityResult,
  type ContinuationTokens,
  type TokenContinuationScore,
  type ScoreOptions,
} from "./evaluate.js";
export {
  initModel,
  createModel,
  writeModel,
  readTokenizerMetadata,
  normalSampler,
  type ModelSpec,
  type InitModelOptions,
  type InitialisedModel,
  type ModelTensorValues,
  type TokenizerMetadata,
} from "./initModel.js";
export { poolEmbeddings, poolingFromType, POOLINGS, LLAMA_POOLING_TYPE, type Pooling, type PoolingGraph } from "./poolEmbeddings.js";
export { EmbeddingEvaluator, type EmbeddingEvaluatorOptions } from "./embeddingEvaluator.js";
