import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import type { ShardEntry } from "./datasetManifest.js";
import { SHARD_VERSION, encodeShardHeader, shardFileName, shardLayout } from "./shardFormat.js";

export interface PackedSequence {
  /** Exactly seqLen tokens; positions >= length hold the pad id. */
  tokens: Uint32Array;
  lossMask: Uint8Array;
  length: number;
  /** Positions where a segment begins; starts with 0. */
  docStarts: number[];
}

/**
 * Collects packed rows and writes them as shard files of at most `sequencesPerShard` rows, each
 * written atomically (temp + rename), so a crash never leaves half a shard under its final name.
 * Holds one shard in memory at a time.
 */
export class ShardWriter {
  readonly shards: ShardEntry[] = [];
  private rows: PackedSequence[] = [];
  private finished = false;

  constructor(
    private readonly directory: string,
    private readonly seqLen: number,
    private readonly padId: number,
    private readonly sequencesPerShard: number,
  ) {
    if (os.endianness() !== "LE") throw new Error("shard files are little-endian; big-endian hosts are not supported");
  }

  add(sequence: PackedSequence): void {
    if (this.finished) throw new Error("ShardWriter.add after finish");
    this.rows.push(sequence);
    if (this.rows.length >= this.sequencesPerShard) this.flush();
  }

  /** Writes the last, possibly smaller shard and returns every shard written. */
  finish(): ShardEntry[] {
    if (!this.finished) {
      this.flush();
      this.finished = true;
    }
    return this.shards;
  }

  private flush(): void {
    if (this.rows.length === 0) return;
    const rows = this.rows;
    this.rows = [];
    const docStartCount = rows.reduce((sum, row) => sum + row.docStarts.length, 0);
    const header = { version: SHARD_VERSION, seqLen: this.seqLen, sequenceCount: rows.length, docStartCount, padId: this.padId };
    const layout = shardLayout(header);
    const bytes = new Uint8Array(layout.totalBytes);
    bytes.set(encodeShardHeader(header), 0);
    const view = new DataView(bytes.buffer);
    let tokenCount = 0;
    let docCursor = 0;
    // Typed-array views write in platform byte order; the format is little-endian (checked below).
    const tokens = new Uint32Array(bytes.buffer, layout.tokensOffset, rows.length * this.seqLen);
    rows.forEach((row, r) => {
      if (row.tokens.length !== this.seqLen) throw new Error(`packed row has ${row.tokens.length} tokens, expected ${this.seqLen}`);
      tokens.set(row.tokens, r * this.seqLen);
      bytes.set(row.lossMask.subarray(0, this.seqLen), layout.lossMaskOffset + r * this.seqLen);
      view.setUint32(layout.lengthsOffset + r * 4, row.length, true);
      view.setUint32(layout.docIndexOffset + r * 4, docCursor, true);
      for (const start of row.docStarts) view.setUint32(layout.docStartsOffset + docCursor++ * 4, start, true);
      tokenCount += row.length;
    });
    view.setUint32(layout.docIndexOffset + rows.length * 4, docCursor, true);
    const file = shardFileName(this.shards.length);
    writeFileAtomic(path.join(this.directory, file), bytes);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    this.shards.push({ file, sequences: rows.length, tokens: tokenCount, sha256 });
  }
}
