/**
 * A child process for the resume test: runs four fake steps into the out folder given as argv[2]; the
 * third step waits until killed. Each step appends its name to calls.log, so the test sees what ran.
 */
import fs from "node:fs";
import path from "node:path";
import { runSteps, type LabStep } from "../runSteps.js";

const outDir = process.argv[2]!;
const slow = process.argv[3] === "slow";
fs.mkdirSync(outDir, { recursive: true });
const step = (name: string, wait: boolean): LabStep => ({
  name,
  kind: "train",
  inputs: { name },
  estimateSeconds: 1,
  async run() {
    fs.appendFileSync(path.join(outDir, "calls.log"), `${name}\n`);
    if (wait) {
      fs.writeFileSync(path.join(outDir, "waiting"), name);
      await new Promise((resolve) => setTimeout(resolve, 60_000));
    }
    return { produced: `${name}-output` };
  },
});
await runSteps([step("one", false), step("two", false), step("three", slow), step("four", false)], { outDir });
fs.writeFileSync(path.join(outDir, "finished"), "yes");
