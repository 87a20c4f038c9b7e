/** Byte-level BPE tokenizers from GGUF or Hugging Face files, BPE training, chat templates. */
export type { Tokenizer, EncodeOptions } from "./types.js";
export { BpeTokenizer, TokenType, type BpeTokenizerSpec } from "./bpeTokenizer.js";
export { tokenizerFromGguf } from "./fromGguf.js";
export {
  readHuggingFaceTokenizer,
  huggingFaceVocabulary,
  tokenizerFromHuggingFace,
  tokenizerGgufMetadata,
  vocabularyToGguf,
  type HuggingFaceTokenizerFiles,
  type HuggingFaceTokenizerJson,
  type HuggingFaceTokenizerConfig,
  type HuggingFaceVocabulary,
} from "./huggingFace.js";
export { loadTokenizer } from "./loadTokenizer.js";
export { trainBpe, writeTrainedTokenizer, defaultSpecialTokens, type TrainBpeOptions, type TrainedTokenizer } from "./trainBpe.js";
export { renderChatTemplate, chatMlTemplate, type ChatTemplateMessage, type RenderChatTemplateOptions } from "./chatTemplate.js";
export { preTokenizerByName, supportedPreTokenizers, type PreTokenizerKind } from "./preTokenizers.js";
export { readTrainingTexts, type TrainingTexts } from "./readTrainingTexts.js";
export { writeTokenizerGguf } from "./writeTokenizerGguf.js";
export { huggingFaceTokenizerFromGguf, type HuggingFaceTokenizerExport } from "./toHuggingFace.js";
export { embeddingTokens } from "./embeddingTokens.js";
