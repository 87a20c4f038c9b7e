/**
 * The kill harness (npm run test:kill) in small: its checks catch what they are for (a torn JSONL append, a truncated
 * safetensors or GGUF, a damaged SQLite file), and `vertical train` killed three times at seeded moments resumes to
 * the uninterrupted run's weights, Adam moments and losses, byte for byte.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { inspectOutputs } from "../../bench/kill/inspectOutputs.js";
import { killTallyPassed, runKillTarget } from "../../bench/kill/runKills.js";
import { KILL_TARGETS } from "../../bench/kill/targets.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-kill-test-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function safetensors(dataBytes: number): Buffer {
  const header = Buffer.from(
    JSON.stringify({ w: { dtype: "F32", shape: [dataBytes / 4], data_offsets: [0, dataBytes] } }),
  );
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, Buffer.alloc(dataBytes)]);
}

describe("the kill harness's checks", () => {
  it("pass whole files and flag each kind of half-written one", async () => {
    const dir = fs.mkdtempSync(path.join(scratch, "inspect-"));
    fs.writeFileSync(path.join(dir, "ok.jsonl"), '{"a":1}\n{"a":2}\n');
    fs.writeFileSync(path.join(dir, "ok.safetensors"), safetensors(16));
    fs.copyFileSync(
      path.resolve(import.meta.dirname, "../../examples/harbor/models/base.json"),
      path.join(dir, "ok.json"),
    );
    const database = new Database(path.join(dir, "ok.db"));
    database.exec("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a'), ('b');");
    database.close();
    fs.writeFileSync(path.join(dir, ".partial.gguf.123.456.tmp"), "half");
    expect(await inspectOutputs(dir)).toEqual({ halfWritten: [], corruptDatabases: [], temporaryFiles: 1 });

    fs.writeFileSync(path.join(dir, "torn.jsonl"), '{"a":1}\n{"a":');
    fs.writeFileSync(path.join(dir, "short.safetensors"), safetensors(16).subarray(0, 40));
    fs.writeFileSync(path.join(dir, "cut.json"), '{"step": 3, "checkpoint"');
    fs.writeFileSync(
      path.join(dir, "cut.gguf"),
      fs.readFileSync(path.resolve(import.meta.dirname, "../../examples/harbor/models/base.gguf")).subarray(0, 5000),
    );
    const bytes = fs.readFileSync(path.join(dir, "ok.db"));
    bytes.fill(0xff, 4096, 8192); // the table's page
    fs.writeFileSync(path.join(dir, "damaged.db"), bytes);
    const inspection = await inspectOutputs(dir);
    expect(inspection.halfWritten.map((line) => path.basename(line.split(":")[0]!))).toEqual([
      "cut.gguf",
      "cut.json",
      "short.safetensors",
      "torn.jsonl",
    ]);
    expect(inspection.corruptDatabases).toHaveLength(1);
    expect(inspection.corruptDatabases[0]).toContain("damaged.db");
  });
});

describe("vertical train under kill -9", () => {
  it("resumes to the uninterrupted run's bytes after three seeded kills", async () => {
    const train = KILL_TARGETS.find((target) => target.name === "train")!;
    const tally = await runKillTarget(train, { kills: 3, killsPerTrial: 3, seed: 5, scratch });
    expect({ mismatches: tally.mismatches, halfWritten: tally.halfWritten, resumeErrors: tally.resumeErrors }).toEqual({
      mismatches: [],
      halfWritten: [],
      resumeErrors: [],
    });
    expect(killTallyPassed(tally, 3)).toBe(true);
  });
});
