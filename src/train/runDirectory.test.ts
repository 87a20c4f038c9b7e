import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../shared/errors.js";
import { Random } from "./random.js";
import { readLatestCheckpoint, readRunConfigFile, writeCheckpoint, type CheckpointState } from "./runDirectory.js";
import { errorOf } from "./testing/errorOf.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-run-directory-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

function runWithCheckpoint(name: string): string {
  const run = path.join(directory, name);
  fs.mkdirSync(run);
  const state: CheckpointState = {
    step: 4,
    loader: { random: Random.derive(0, "loader").state, cursors: [{ epoch: 0, position: 4 }], drawn: 4 },
    random: Random.derive(0, "run").state,
    adamSteps: 4,
    modelFingerprint: "x",
    elapsedSeconds: 1,
  };
  writeCheckpoint(run, state, [{ name: "w", shape: [2], data: new Float32Array([1, 2]) }], new Map(), 2);
  return run;
}

describe("corrupt run files", () => {
  it("a corrupt latest.json is named, with the pointer to write back or the way to start over", () => {
    const run = runWithCheckpoint("corrupt-latest");
    expect(readLatestCheckpoint(run)?.state.step).toBe(4);
    fs.writeFileSync(path.join(run, "latest.json"), '{"step": 4, "checkp');
    const error = errorOf(() => readLatestCheckpoint(run));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(`${path.join(run, "latest.json")}: corrupt JSON`);
    expect(error.message).toContain('write {"step": 4, "checkpoint": "checkpoints/step-000004"} into it, or delete it');

    fs.writeFileSync(path.join(run, "latest.json"), "[]");
    expect(errorOf(() => readLatestCheckpoint(run)).message).toContain(
      `${path.join(run, "latest.json")}: expected {"step": N`,
    );
  });

  it("a corrupt state.json or config.json is named", () => {
    const run = runWithCheckpoint("corrupt-state");
    const state = path.join(run, "checkpoints", "step-000004", "state.json");
    fs.writeFileSync(state, "{");
    expect(errorOf(() => readLatestCheckpoint(run)).message).toMatch(
      new RegExp(`${state}: corrupt JSON.*\\nHint: the checkpoint is damaged`, "s"),
    );
    fs.writeFileSync(path.join(run, "config.json"), "not json");
    const error = errorOf(() => readRunConfigFile(run));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(`${path.join(run, "config.json")}: corrupt JSON`);
  });
});

describe("a checkpoint that does not fit", () => {
  it("is a DiskFullError naming the folder; the previous checkpoint stays the one --resume continues from", () => {
    const run = path.join(directory, "disk-full");
    const script = path.join(directory, "disk-full.ts");
    // A child under a 1 MiB file-size limit (ulimit -f: EFBIG, as a full tmpfs gives ENOSPC): a 8-byte checkpoint
    // fits, the 4 MB one after it cannot.
    fs.writeFileSync(
      script,
      `import fs from "node:fs";
import { writeCheckpoint } from ${JSON.stringify(path.resolve("src/train/runDirectory.ts"))};
import { Random } from ${JSON.stringify(path.resolve("src/train/random.ts"))};
const run = ${JSON.stringify(run)};
fs.mkdirSync(run);
const state = (step: number) => ({ step, loader: { random: Random.derive(0, "loader").state, cursors: [{ epoch: 0, position: step }], drawn: step }, random: Random.derive(0, "run").state, adamSteps: step, modelFingerprint: "x", elapsedSeconds: 1 });
writeCheckpoint(run, state(1), [{ name: "w", shape: [2], data: new Float32Array([1, 2]) }], new Map(), 3);
try {
  writeCheckpoint(run, state(2), [{ name: "w", shape: [1000000], data: new Float32Array(1000000) }], new Map(), 3);
  console.log(JSON.stringify({ name: "none" }));
} catch (error) {
  console.log(JSON.stringify({ name: (error as Error).name, message: (error as Error).message }));
}
`,
    );
    const output = execFileSync("bash", ["-c", `ulimit -f 1024; exec node --import tsx ${JSON.stringify(script)}`], { encoding: "utf8" });
    const error = JSON.parse(output.trim().split("\n").at(-1)!) as { name: string; message: string };
    expect(error.name).toBe("DiskFullError");
    expect(error.message).toContain(`disk full at ${path.join(run, "checkpoints")}: checkpoint step-`);
    expect(error.message).toMatch(/EFBIG/);
    expect(error.message).toMatch(/rerun with --resume: it continues from checkpoints\/step-0+1, which is intact/);
    // No temporary left, and the previous checkpoint reads back.
    expect(fs.readdirSync(path.join(run, "checkpoints"))).toEqual([expect.stringMatching(/^step-0+1$/)]);
    expect(readLatestCheckpoint(run)!.state.step).toBe(1);
  });
});
