/**
 * A running lab's progress for readers outside the process (the console's Lab runs page):
 * DIR/out/lab-progress.json holds the step in flight, its fraction and the ETA, and the pid of the
 * lab, so a reader can tell a lab that is still running from one that was killed. Written
 * atomically, at most once a second within a step (every start/finish is written at once).
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import type { ProgressEvent, ProgressSink } from "./runSteps.js";

export const LAB_PROGRESS_FILE = "lab-progress.json";

export interface LabProgress {
  pid: number;
  /** 1-based number of the step in flight (or last finished) and how many steps the lab has. */
  step: number;
  steps: number;
  name: string;
  /** Fraction of the step in flight done, 0..1. */
  fraction: number;
  detail?: string;
  etaSeconds: number;
  finished: boolean;
  updatedAt: string;
}

export function recordLabProgress(outDir: string, { intervalMs = 1000, now = () => Date.now() } = {}): ProgressSink {
  const file = path.join(outDir, LAB_PROGRESS_FILE);
  let lastWrite = -Infinity;
  return (event: ProgressEvent) => {
    if (event.type === "log") return;
    if (event.type === "progress" && now() - lastWrite < intervalMs) return;
    lastWrite = now();
    const finished = (event.type === "finish" || event.type === "skip") && event.index === event.total - 1;
    const progress: LabProgress = {
      pid: process.pid,
      step: event.index + 1,
      steps: event.total,
      name: event.step,
      fraction: event.type === "progress" ? event.fraction : event.type === "start" ? 0 : 1,
      ...(event.type === "progress" && event.detail ? { detail: event.detail } : {}),
      etaSeconds: event.type === "skip" ? 0 : event.etaSeconds,
      finished,
      updatedAt: new Date(now()).toISOString(),
    };
    writeFileAtomic(file, JSON.stringify(progress) + "\n");
  };
}

/** The last progress written, with `running` false once it finished or its process is gone. */
export function readLabProgress(outDir: string): (LabProgress & { running: boolean }) | null {
  const file = path.join(outDir, LAB_PROGRESS_FILE);
  if (!fs.existsSync(file)) return null;
  const progress = JSON.parse(fs.readFileSync(file, "utf8")) as LabProgress;
  return { ...progress, running: !progress.finished && isAlive(progress.pid) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
