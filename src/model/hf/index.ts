/** Hugging Face transformers model folders: export (writeHfModel) and import (convertHfToGguf). */
export {
  writeHfModel,
  DEFAULT_MAX_SHARD_BYTES,
  type WriteHfModelOptions,
  type WriteHfModelResult,
} from "./writeHfModel.js";
export { convertHfToGguf, type ConvertHfToGgufOptions, type ConvertHfToGgufResult } from "./convertHfToGguf.js";
export { writeReferenceLogits, REFERENCE_LOGITS_FILE, type ReferenceLogitsOptions } from "./referenceLogits.js";
export {
  huggingFaceConfig,
  huggingFaceGenerationConfig,
  parseHuggingFaceConfig,
  ggufMetadataFromConfig,
  HF_ARCHITECTURES,
} from "./huggingFaceConfig.js";
export { huggingFaceTensorName, ggufTensorName } from "./tensorNames.js";
export { permuteRows, unpermuteRows, PERMUTED_ARCHITECTURES } from "./ropePermutation.js";
export {
  encodeSafetensors,
  writeSafetensors,
  writeSafetensorsStreaming,
  readSafetensors,
  openSafetensors,
  type SafetensorsEntry,
  type LazySafetensorsEntry,
  type OpenSafetensors,
} from "./safetensors.js";
