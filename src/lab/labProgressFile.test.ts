import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LAB_PROGRESS_FILE, readLabProgress, recordLabProgress } from "./labProgressFile.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const folder = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-progress-"));
  dirs.push(dir);
  return dir;
};

describe("the lab's progress file", () => {
  it("holds the step in flight while this process runs it, throttled within a step, and ends finished", () => {
    const dir = folder();
    let clock = 0;
    const record = recordLabProgress(dir, { intervalMs: 1000, now: () => clock });
    expect(readLabProgress(dir)).toBeNull();
    record({ type: "start", index: 1, total: 3, step: "train:sft", etaSeconds: 90 });
    clock = 500;
    record({ type: "progress", index: 1, total: 3, step: "train:sft", fraction: 0.2, detail: "step 2/10", etaSeconds: 80 });
    expect(readLabProgress(dir)).toMatchObject({ step: 2, steps: 3, name: "train:sft", fraction: 0, running: true });
    clock = 1500;
    record({ type: "progress", index: 1, total: 3, step: "train:sft", fraction: 0.4, detail: "step 4/10", etaSeconds: 60 });
    expect(readLabProgress(dir)).toMatchObject({ fraction: 0.4, detail: "step 4/10", etaSeconds: 60, running: true, finished: false });
    record({ type: "finish", index: 2, total: 3, step: "report", seconds: 1, etaSeconds: 0 });
    expect(readLabProgress(dir)).toMatchObject({ step: 3, finished: true, running: false });
  });

  it("says a lab whose process is gone is not running", () => {
    const dir = folder();
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    const progress = { pid: Number(gone), step: 2, steps: 5, name: "eval:base", fraction: 0.5, etaSeconds: 30, finished: false, updatedAt: "2026-12-06T10:00:00.000Z" };
    fs.writeFileSync(path.join(dir, LAB_PROGRESS_FILE), JSON.stringify(progress));
    expect(readLabProgress(dir)).toEqual({ ...progress, running: false });
  });
});
