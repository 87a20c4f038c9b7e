import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { InterruptedError } from "../shared/errors.js";
import { runSteps, formatDuration, type LabStep, type ProgressEvent } from "./runSteps.js";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});
function scratch(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "lab-steps-"));
  folders.push(folder);
  return folder;
}

function fakeStep(name: string, calls: string[], inputs: unknown = {}, after: string[] = []): LabStep {
  return {
    name,
    kind: "eval",
    inputs,
    after,
    estimateSeconds: 10,
    async run(context) {
      calls.push(name);
      for (const upstream of after) expect(context.outputsOf(upstream)).toEqual({ value: `${upstream}!` });
      context.progress(0.5, "half");
      return { value: `${name}!` };
    },
  };
}

describe("runSteps", () => {
  it("never redoes a finished step, and redoes a step (and what follows from it) whose inputs changed", async () => {
    const outDir = scratch();
    const calls: string[] = [];
    await runSteps([fakeStep("a", calls), fakeStep("b", calls, {}, ["a"]), fakeStep("c", calls)], { outDir });
    expect(calls).toEqual(["a", "b", "c"]);
    calls.length = 0;
    await runSteps([fakeStep("a", calls), fakeStep("b", calls, {}, ["a"]), fakeStep("c", calls)], { outDir });
    expect(calls).toEqual([]);
    await runSteps([fakeStep("a", calls, { changed: true }), fakeStep("b", calls, {}, ["a"]), fakeStep("c", calls)], { outDir });
    expect(calls).toEqual(["a", "b"]);
  });

  it("reports each step with a total ETA that counts only the steps still to run", async () => {
    const events: ProgressEvent[] = [];
    let clock = 0;
    const calls: string[] = [];
    const slow = (name: string): LabStep => ({ ...fakeStep(name, calls), run: async () => ((clock += 20_000), { value: name }) });
    await runSteps([slow("a"), slow("b"), slow("c")], { outDir: scratch(), onProgress: (event) => events.push(event), now: () => clock });
    const starts = events.filter((event) => event.type === "start");
    // Before anything ran: 3 x 10 s estimated. After "a" took 20 s for an estimate of 10, the rest is rescaled: 2 x 20 s.
    expect(starts.map((event) => event.etaSeconds)).toEqual([30, 40, 20]);
    expect(events.at(-1)).toMatchObject({ type: "finish", step: "c", seconds: 20, etaSeconds: 0 });
    expect(formatDuration(125)).toBe("2 min 5 s");
  });

  it("stops with InterruptedError when aborted, keeping the steps finished before", async () => {
    const outDir = scratch();
    const controller = new AbortController();
    const calls: string[] = [];
    const aborting: LabStep = { ...fakeStep("b", calls), run: async () => (controller.abort(), { value: "b" }) };
    await expect(runSteps([fakeStep("a", calls), aborting, fakeStep("c", calls)], { outDir, signal: controller.signal })).rejects.toBeInstanceOf(InterruptedError);
    calls.length = 0;
    await runSteps([fakeStep("a", calls), fakeStep("b", calls), fakeStep("c", calls)], { outDir });
    expect(calls).toEqual(["b", "c"]);
  });

  it("continues from the last finished step after the process is killed (SIGKILL)", async () => {
    const outDir = scratch();
    const script = path.resolve("src/lab/testing/stepsChild.ts");
    const child = spawn(process.execPath, ["--import", "tsx", script, outDir, "slow"], { stdio: "ignore" });
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(path.join(outDir, "waiting"))) {
      if (Date.now() > deadline) throw new Error("child never reached the slow step");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(fs.readFileSync(path.join(outDir, "calls.log"), "utf8")).toBe("one\ntwo\nthree\n");
    expect(fs.existsSync(path.join(outDir, "finished"))).toBe(false);

    const rerun = spawn(process.execPath, ["--import", "tsx", script, outDir, "fast"], { stdio: "ignore" });
    const code = await new Promise((resolve) => rerun.once("exit", resolve));
    expect(code).toBe(0);
    // one and two are not redone; three (killed mid-way) and four run.
    expect(fs.readFileSync(path.join(outDir, "calls.log"), "utf8")).toBe("one\ntwo\nthree\nthree\nfour\n");
  });
});
