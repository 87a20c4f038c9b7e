/**
 * The lab's memory between runs: DIR/out/lab-state.json records every finished step with the key it
 * ran under and what it produced. A step whose key is unchanged is never redone; a step whose inputs
 * changed (its key includes its upstream steps' keys) runs again. Written atomically after each step,
 * so a kill at any moment leaves either the old or the new state, never half of one.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { InputError } from "../shared/errors.js";

export const LAB_STATE_FILE = "lab-state.json";
const FORMAT_VERSION = 1;

export interface StepRecord {
  /** Hash of everything the step's output depends on. */
  key: string;
  /** What the step produced (paths relative to the out folder, scores, token counts, …). */
  outputs: Record<string, unknown>;
  seconds: number;
  finishedAt: string;
}

export interface LabStateFile {
  formatVersion: number;
  steps: Record<string, StepRecord>;
}

export class LabState {
  private readonly file: string;
  private readonly state: LabStateFile;

  constructor(outDir: string) {
    this.file = path.join(outDir, LAB_STATE_FILE);
    this.state = { formatVersion: FORMAT_VERSION, steps: {} };
    if (fs.existsSync(this.file)) {
      let parsed: LabStateFile;
      try {
        parsed = JSON.parse(fs.readFileSync(this.file, "utf8")) as LabStateFile;
      } catch (error) {
        throw new InputError(`the lab's state file is not valid JSON: ${(error as Error).message}`, {
          where: this.file,
          hint: "Delete it to rerun every step (outputs already on disk are reused where the steps allow).",
          cause: error,
        });
      }
      if (parsed.formatVersion !== FORMAT_VERSION)
        throw new InputError(`state file format ${parsed.formatVersion}, this version of Vertical reads ${FORMAT_VERSION}`, {
          where: this.file,
          hint: "Use another --out folder or delete the state file.",
        });
      this.state = parsed;
    }
  }

  /** The record of a finished step, if it finished under this key. */
  finished(name: string, key: string): StepRecord | undefined {
    const record = this.state.steps[name];
    return record && record.key === key ? record : undefined;
  }

  record(name: string, record: StepRecord): void {
    this.state.steps[name] = record;
    writeFileAtomic(this.file, JSON.stringify(this.state, null, 2) + "\n");
  }

  /** Drops a step's record, so the next run redoes it (its inputs were replaced from outside the lab). */
  forget(name: string): void {
    if (!(name in this.state.steps)) return;
    delete this.state.steps[name];
    writeFileAtomic(this.file, JSON.stringify(this.state, null, 2) + "\n");
  }

  get steps(): Readonly<Record<string, StepRecord>> {
    return this.state.steps;
  }
}
