/**
 * A domain embedder from a folder of documents: the documents chunked as the lab's retrieval chunks
 * them, (query, passage) pairs mined from them alone (rag/mineEmbedderPairs) and decontaminated
 * against the evaluation sets, then the bi-encoder trained and exported (train/embedder). What
 * `vertical rag train-embedder` and the harbor bench call.
 */
import fs from "node:fs";
import path from "node:path";
import { Decontaminator } from "../data/decontaminate.js";
import { InputError } from "../shared/errors.js";
import { mineEmbedderPairs, type MinedPairs } from "../rag/mineEmbedderPairs.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import { trainEmbedder, type TrainEmbedderOptions, type TrainEmbedderResult } from "../train/embedder/index.js";

/** The lab's retrieval chunking (labConfig retrieval.chunkChars / overlapSentences defaults). */
export const LAB_CHUNKING = { maxChars: 400, overlapSentences: 1 } as const;

export type TrainDomainEmbedderOptions = Omit<TrainEmbedderOptions, "pairs"> & {
  /** Folder of .md / .txt documents. */
  docs: string;
  /** Evaluation sets (JSONL) to keep out of the pairs. */
  evalFiles: readonly string[];
  chunking?: { maxChars: number; overlapSentences: number };
  /** Also drop pairs whose passage shares an n-gram with an evaluation item. */
  dropPassageOverlaps?: boolean;
  /** Called once the pairs are mined, before training. */
  onMined?: (mined: MinedPairs) => void;
};

export interface TrainDomainEmbedderResult {
  mined: Omit<MinedPairs, "pairs"> & { kept: number };
  training: TrainEmbedderResult;
}

/** The JSONL evaluation sets of a folder (not recursive), sorted. */
export function evalFilesIn(folder: string): string[] {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) throw new InputError("evaluation folder not found", { where: folder, hint: "--eval takes the folder of the lab's .jsonl evaluation sets" });
  const files = fs.readdirSync(folder).filter((name) => name.endsWith(".jsonl")).sort().map((name) => path.join(folder, name));
  if (files.length === 0) throw new InputError("no .jsonl evaluation sets in the folder", { where: folder });
  return files;
}

export async function trainDomainEmbedder(options: TrainDomainEmbedderOptions): Promise<TrainDomainEmbedderResult> {
  const { docs, evalFiles, chunking = LAB_CHUNKING, dropPassageOverlaps = false, onMined, ...training } = options;
  const documents = readTextDocuments(docs);
  const decontaminator = evalFiles.length > 0 ? Decontaminator.fromFiles(evalFiles) : undefined;
  const mined = mineEmbedderPairs(documents, {
    ...chunking,
    hardNegatives: training.hardNegatives ?? 1,
    dropPassageOverlaps,
    ...(decontaminator ? { decontaminator } : {}),
  });
  onMined?.(mined);
  const result = await trainEmbedder({ ...training, pairs: mined.pairs });
  const { pairs, ...counts } = mined;
  return { mined: { ...counts, kept: pairs.length }, training: result };
}
