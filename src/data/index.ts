/**
 * The data pipeline's public API (docs/data-format.md): ingest -> clean -> dedup -> decontaminate
 * -> mine -> build (mix + pack into token shards), and the shard reader the trainer uses.
 */
export { CorpusStore, openCorpusStore, ACTIVE_STATUSES, type StoredDocument, type NewDocument, type DocumentStatus } from "./corpusStore.js";
export { ingestFolder, ingestTexts, listDocumentFiles, type IngestOptions, type IngestReport, type IngestIssue } from "./ingestFolder.js";
export { parseDocumentFile, SUPPORTED_EXTENSIONS, type ParsedFile, type ParsedDocument } from "./parseDocumentFile.js";
export { detectLanguage, type LanguageCode } from "./detectLanguage.js";
export { cleanText, normalizeText, maskPii, qualityRejection, removeBoilerplateLines, defaultQualityThresholds, type CleanOptions, type CleanResult, type PiiOptions, type QualityThresholds } from "./cleanText.js";
export { cleanCorpus, type CleanReport } from "./cleanCorpus.js";
export { loadCleanConfig } from "./cleanConfig.js";
export { MinHasher, shingleHashes, jaccard, type MinHashOptions } from "./minHash.js";
export { dedupCorpus, DEDUP_KEEP_RULE, type DedupOptions, type DedupReport } from "./dedupCorpus.js";
export { Decontaminator, decontaminateCorpus, readEvalItems, type EvalItem, type ContaminationMatch, type DecontaminateOptions, type DecontaminateReport } from "./decontaminate.js";
export { mineTasks, mineCorpus, augmentWithLlm, readingComprehensionText, taskToRecord, type MinedTask, type TaskKind, type MineOptions, type AugmentOptions, type AugmentResult, type MineCorpusReport } from "./mineTasks.js";
export { readConversations, recordToConversation, validateConversation, type Conversation, type ConversationMessage, type ConversationFormat, type ConversationRules } from "./conversations.js";
export { ChatTemplate, type ChatTemplateOptions } from "./chatTemplate.js";
export { renderConversation, type RenderedConversation, type RenderedExample } from "./renderConversation.js";
export { defineRecipe, loadRecipe, type Recipe, type RecipeSource, type RecipeInput } from "./recipe.js";
export { buildDataset, apportion, type BuildOptions, type BuildResult } from "./buildDataset.js";
export { SequencePacker, type PackItem, type PackMode } from "./packSequences.js";
export { ShardWriter, type PackedSequence } from "./shardWriter.js";
export { openShards, readShardFile, type ShardSet, type ShardSequence, type LoadedShard } from "./openShards.js";
export { SHARD_MAGIC, SHARD_VERSION, shardLayout, shardFileName, MANIFEST_FILE } from "./shardFormat.js";
export type { DatasetManifest, SourceReport, ShardEntry, InputHash, Objective } from "./datasetManifest.js";
export { corpusStats, statsRows, type CorpusStats } from "./corpusStats.js";
export { SeededRandom } from "../shared/seededRandom.js";
