import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readShardFile } from "./openShards.js";
import { SequencePacker } from "./packSequences.js";
import { ShardWriter } from "./shardWriter.js";

describe("shards", () => {
  it("round-trips packed rows (continuous and whole) and rejects a truncated shard", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-shards-"));
    const writer = new ShardWriter(folder, 8, 99, 100);
    const packer = new SequencePacker(8, 99, "continuous", (row) => writer.add(row));
    packer.add({ tokens: [1, 2, 3, 4, 5], sourceIndex: 0 });
    packer.add({ tokens: [6, 7, 8, 9, 10, 11, 12], lossMask: [0, 0, 1, 1, 1, 1, 1], sourceIndex: 1 });
    packer.add({ tokens: [13], sourceIndex: 0 });
    packer.finish();
    const [entry] = writer.finish();
    expect(entry).toMatchObject({ file: "shard-00000.bin", sequences: 2, tokens: 13 });
    const shard = readShardFile(path.join(folder, entry!.file));
    const rows = shard.sequences.map((row) => ({ tokens: [...row.tokens], mask: [...row.lossMask], starts: [...row.docStarts], length: row.length }));
    expect(rows).toEqual([
      { tokens: [1, 2, 3, 4, 5, 6, 7, 8], mask: [1, 1, 1, 1, 1, 0, 0, 1], starts: [0, 5], length: 8 },
      { tokens: [9, 10, 11, 12, 13, 99, 99, 99], mask: [1, 1, 1, 1, 1, 0, 0, 0], starts: [0, 4], length: 5 },
    ]);
    expect(packer.tokensBySource).toEqual([6, 7]);
    expect(packer.targetTokensBySource).toEqual([6, 5]);

    const whole = new SequencePacker(8, 0, "whole", () => undefined);
    expect(() => whole.add({ tokens: new Array(9).fill(1), sourceIndex: 0 })).toThrow(RangeError);

    const file = path.join(folder, entry!.file);
    fs.truncateSync(file, fs.statSync(file).size - 8);
    expect(() => readShardFile(file)).toThrow(/shard is \d+ bytes, its header implies \d+/);
    fs.writeFileSync(file, "not a shard at all, but long enough to hold a header of sixty-four bytes....");
    expect(() => readShardFile(file)).toThrow(/magic is/);
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
