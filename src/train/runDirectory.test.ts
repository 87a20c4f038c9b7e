import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../shared/errors.js";
import { Random } from "./random.js";
import { readLatestCheckpoint, readRunConfigFile, writeCheckpoint, type CheckpointState } from "./runDirectory.js";

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

function errorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
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
