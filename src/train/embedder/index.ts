/** The bi-encoder trainer: InfoNCE on (query, passage) pairs, exported as a GGUF embedding model. */
export { trainEmbedder, type TrainEmbedderOptions, type TrainEmbedderResult, type EmbedderProgress } from "./trainEmbedder.js";
export type { EmbedderPair, EmbedderPassage } from "./embedderBatches.js";
export { parseEmbedderOptions, type EmbedderOptions, type EmbedderOptionsInput } from "./embedderOptions.js";
export { writeEmbedderGguf } from "./writeEmbedderGguf.js";
