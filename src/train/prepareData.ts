/**
 * Turns a run's data sources into packed train and validation sequences: text files (loss on every
 * token), chat JSONL (loss on assistant tokens), or shard folders from the data pipeline (masks as
 * written there). Everything is read and checked before the run directory is created, so a bad line
 * leaves nothing behind.
 */
import { openShards } from "../data/openShards.js";
import { ConfigError, InputError } from "../shared/errors.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { packStream, packWhole, splitValidation, type LoaderSource, type PackedSequence } from "./batches.js";
import type { DataSource } from "./config.js";
import { readChatDocuments, readTextDocuments, textDocument } from "./documents.js";

export interface PreparedData {
  train: LoaderSource[];
  validation: PackedSequence[];
  /** Tokens per sequence (T). */
  length: number;
  /** Chat examples cut to fit a sequence. */
  truncated: number;
  /** Target tokens available for training (one epoch). */
  targetTokens: number;
}

export interface PrepareDataOptions {
  sources: readonly DataSource[];
  objective: "cpt" | "sft" | "mip";
  length: number;
  /** Needed for text and chat sources. */
  tokenizer?: Tokenizer;
  vocabSize: number;
  seed: number;
  validationFraction: number;
  /** Hold out at least one sequence (validation is enabled). */
  validationWanted: boolean;
}

function shardSequences(directory: string, index: number): { sequences: PackedSequence[]; length: number } {
  const dataset = openShards(directory);
  const seqLen = dataset.manifest.seqLen;
  const sequences: PackedSequence[] = [];
  for (const row of dataset) {
    // Shards mark token t as a target; a packed sequence marks target t+1 at position t.
    sequences.push({ tokens: Int32Array.from(row.tokens), lossMask: row.lossMask.slice(1), segmentStarts: Int32Array.from(row.docStarts) });
  }
  if (sequences.length === 0) throw new InputError("the dataset has no rows", { where: `data[${index}]: ${directory}` });
  return { sequences, length: seqLen - 1 };
}

export async function prepareData(options: PrepareDataOptions): Promise<PreparedData> {
  const { tokenizer } = options;
  const padId = tokenizer?.eosId ?? 0;
  const perSource: { sequences: PackedSequence[]; weight: number; name: string }[] = [];
  let truncated = 0;
  let length = options.length;
  const shardLengths = new Set<number>();
  options.sources.forEach((source, index) => {
    if (source.kind === "shards") {
      const shards = shardSequences(source.path, index);
      shardLengths.add(shards.length);
      length = shards.length;
      perSource.push({ sequences: shards.sequences, weight: source.weight, name: source.path });
    }
  });
  if (shardLengths.size > 1) {
    throw new ConfigError(`shard folders disagree on the sequence length (${[...shardLengths].map((n) => n + 1).join(", ")})`, {
      where: "data",
    });
  }
  for (const [index, source] of options.sources.entries()) {
    if (source.kind === "shards") continue;
    if (!tokenizer) throw new ConfigError("text and chat data need the model's tokenizer", { where: `data[${index}]` });
    if (source.kind === "text") {
      const documents = readTextDocuments(source.path).map((text) => textDocument(text, tokenizer));
      perSource.push({ sequences: packStream(documents, length, padId), weight: source.weight, name: source.path });
    } else {
      const documents = await readChatDocuments(source.path, tokenizer);
      const packed = packWhole(documents, length, padId);
      // Examples cut before their first assistant token would train on nothing (loss NaN).
      if (packed.emptied > 0) {
        throw new InputError(
          `${packed.emptied} of ${documents.length} chat examples have no assistant token left within sequences of ${length} tokens (their replies start after the cut)`,
          {
            where: `data[${index}]: ${source.path}`,
            hint: `raise --seq-len (batch.sequenceLength) to at least ${packed.lengthNeeded}, or shorten those prompts`,
          },
        );
      }
      truncated += packed.truncated;
      perSource.push({ sequences: packed.sequences, weight: source.weight, name: source.path });
    }
  }
  for (const [index, source] of perSource.entries()) {
    for (const sequence of source.sequences) {
      for (const token of sequence.tokens) {
        if (token < 0 || token >= options.vocabSize) {
          throw new InputError(`token id ${token} is outside the model's vocabulary of ${options.vocabSize}`, {
            where: `data[${index}]: ${source.name}`,
            hint: "the data was tokenised for another model; rebuild it with this model's tokenizer",
          });
        }
      }
    }
  }
  const train: LoaderSource[] = [];
  const validation: PackedSequence[] = [];
  let targetTokens = 0;
  perSource.forEach((source, index) => {
    const split = splitValidation(source.sequences, options.validationFraction, options.seed, String(index), options.validationWanted);
    train.push({ sequences: split.train, weight: source.weight });
    // a loop, not push(...): a big corpus holds more held-out sequences than a call takes arguments
    for (const sequence of split.validation) validation.push(sequence);
    for (const sequence of split.train) for (const bit of sequence.lossMask) targetTokens += bit;
  });
  if (train.every((source) => source.sequences.length === 0)) {
    throw new InputError("the data holds no training sequences", { where: "data", hint: "add data or lower validation.fraction" });
  }
  if (targetTokens === 0) {
    throw new InputError("no token of the training data counts in the loss (every loss mask is 0)", {
      where: "data",
      hint: "for sft, conversations need assistant messages",
    });
  }
  return { train, validation, length, truncated, targetTokens };
}
