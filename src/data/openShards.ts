import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InputError } from "../shared/errors.js";
import type { DatasetManifest } from "./datasetManifest.js";
import { MANIFEST_FILE, decodeShardHeader, shardLayout } from "./shardFormat.js";

/** One packed training row, viewed in place over its shard's bytes. */
export interface ShardSequence {
  /** seqLen token ids; positions >= length hold the manifest's padId. */
  tokens: Uint32Array;
  /** 1 where token t is a training target (predicted from tokens before t); 0 on padding and prompts. */
  lossMask: Uint8Array;
  /** Positions where a segment (document, conversation) begins; always starts with 0. */
  docStarts: Uint32Array;
  /** Non-padding tokens in this row. */
  length: number;
  /** Index of the row across all shards. */
  index: number;
}

/** Every row of one shard file; views share one buffer. */
export interface LoadedShard {
  file: string;
  seqLen: number;
  padId: number;
  sequences: ShardSequence[];
}

export interface ShardSet {
  readonly directory: string;
  readonly manifest: DatasetManifest;
  readonly sequenceCount: number;
  /** Loads shard `i` (one file in memory at a time). */
  loadShard(i: number): LoadedShard;
  /** Every row, shard by shard; only the current shard is held in memory. */
  [Symbol.iterator](): Iterator<ShardSequence>;
}

/** Reads one shard file and checks that its size and header agree with the format. */
export function readShardFile(file: string, firstIndex = 0): LoadedShard {
  if (os.endianness() !== "LE") throw new InputError("shard files are little-endian; big-endian hosts are not supported");
  const raw = fs.readFileSync(file);
  // Typed-array views need 4-byte alignment; Node may hand back a pooled, unaligned buffer.
  const bytes = raw.byteOffset % 8 === 0 ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) : new Uint8Array(raw);
  const header = decodeShardHeader(bytes);
  if (typeof header === "string") throw new InputError(`not a Vertical shard: ${header}`, { where: file, hint: "Rebuild it with `vertical data build`." });
  const layout = shardLayout(header);
  if (bytes.byteLength !== layout.totalBytes) {
    throw new InputError(`shard is ${bytes.byteLength} bytes, its header implies ${layout.totalBytes}`, {
      where: file,
      hint: "The file is truncated or corrupt; rebuild the dataset.",
    });
  }
  const { seqLen, sequenceCount } = header;
  const tokens = new Uint32Array(bytes.buffer, bytes.byteOffset + layout.tokensOffset, seqLen * sequenceCount);
  const lengths = new Uint32Array(bytes.buffer, bytes.byteOffset + layout.lengthsOffset, sequenceCount);
  const docIndex = new Uint32Array(bytes.buffer, bytes.byteOffset + layout.docIndexOffset, sequenceCount + 1);
  const docStarts = new Uint32Array(bytes.buffer, bytes.byteOffset + layout.docStartsOffset, header.docStartCount);
  const lossMask = new Uint8Array(bytes.buffer, bytes.byteOffset + layout.lossMaskOffset, seqLen * sequenceCount);
  const sequences: ShardSequence[] = [];
  for (let i = 0; i < sequenceCount; i++) {
    sequences.push({
      tokens: tokens.subarray(i * seqLen, (i + 1) * seqLen),
      lossMask: lossMask.subarray(i * seqLen, (i + 1) * seqLen),
      docStarts: docStarts.subarray(docIndex[i]!, docIndex[i + 1]!),
      length: lengths[i]!,
      index: firstIndex + i,
    });
  }
  return { file, seqLen, padId: header.padId, sequences };
}

/**
 * Opens a dataset directory written by `buildDataset` / `vertical data build`: reads the manifest and
 * gives the rows shard by shard.
 */
export function openShards(directory: string): ShardSet {
  const manifestPath = path.join(directory, MANIFEST_FILE);
  if (!fs.existsSync(manifestPath)) {
    throw new InputError(`no ${MANIFEST_FILE} in the dataset directory`, { where: directory, hint: "Build one with `vertical data build RECIPE.yaml`." });
  }
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as DatasetManifest;
  } catch (error) {
    throw new InputError(`manifest is not valid JSON`, { where: manifestPath, cause: error });
  }
  if (manifest.format !== "vertical-shards" || manifest.version !== 1) {
    throw new InputError(`manifest format ${String(manifest.format)} v${String(manifest.version)}, expected vertical-shards v1`, { where: manifestPath });
  }
  const firstIndexOf: number[] = [];
  let count = 0;
  for (const shard of manifest.shards) {
    firstIndexOf.push(count);
    count += shard.sequences;
  }
  const loadShard = (i: number): LoadedShard => {
    const entry = manifest.shards[i];
    if (!entry) throw new InputError(`shard ${i} does not exist (the manifest lists ${manifest.shards.length})`, { where: directory });
    const loaded = readShardFile(path.join(directory, entry.file), firstIndexOf[i]);
    if (loaded.sequences.length !== entry.sequences || loaded.seqLen !== manifest.seqLen) {
      throw new InputError(`shard holds ${loaded.sequences.length} rows of ${loaded.seqLen}, the manifest says ${entry.sequences} of ${manifest.seqLen}`, {
        where: path.join(directory, entry.file),
      });
    }
    return loaded;
  };
  return {
    directory,
    manifest,
    sequenceCount: count,
    loadShard,
    *[Symbol.iterator]() {
      for (let i = 0; i < manifest.shards.length; i++) yield* loadShard(i).sequences;
    },
  };
}
