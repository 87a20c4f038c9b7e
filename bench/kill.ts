/**
 * `npm run test:kill` — kill -9 anywhere. For each command (train, data ingest, data build, eval run, a reduced lab):
 * one uninterrupted run gives the reference; then trials start the command, SIGKILL it at seeded random moments
 * (uniform over the reference's wall time, so kills land in start-up, mid-step, mid-checkpoint and mid-write alike),
 * inspect the outputs after every kill (bench/kill/inspectOutputs.ts), rerun what a user would rerun (`--resume`, or
 * the same command), and when a trial finishes compare its outputs with the reference (bench/kill/targets.ts). One line
 * per command:
 *   train kills=20 trials=5 mismatches=0 half-written=0 integrity=ok resume-errors=0 (temporary files left 3; ...)
 * Exit status 1 when any count is not 0.
 *
 * Usage: npm run test:kill [-- --kills 20 --per-trial 5 --seed 1 --only train]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { killTallyPassed, runKillTarget } from "./kill/runKills.js";
import { KILL_TARGETS, type KillTarget } from "./kill/targets.js";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "20" },
    "per-trial": { type: "string", default: "5" },
    seed: { type: "string", default: "1" },
    only: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const kills = Number(values.kills);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-kill-"));

async function report(target: KillTarget): Promise<boolean> {
  const started = performance.now();
  const tally = await runKillTarget(target, {
    kills,
    killsPerTrial: Number(values["per-trial"]),
    seed: Number(values.seed),
    scratch,
    keep: values.keep,
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${target.name} kills=${tally.kills} trials=${tally.trials} mismatches=${tally.mismatches.length} half-written=${tally.halfWritten.length} ` +
      `integrity=${tally.corrupt.length === 0 ? "ok" : tally.corrupt.length} resume-errors=${tally.resumeErrors.length} ` +
      `(temporary files left ${tally.temporaryFiles}; reference run ${(tally.referenceMs / 1000).toFixed(1)} s, all ${seconds.toFixed(0)} s)`,
  );
  for (const line of [...tally.resumeErrors, ...tally.halfWritten, ...tally.corrupt, ...tally.mismatches].slice(0, 10))
    console.log(`  ${line}`);
  return killTallyPassed(tally, kills);
}

const targets = KILL_TARGETS.filter((target) => !values.only || target.name === values.only);
if (targets.length === 0)
  throw new Error(
    `--only ${values.only}: no such command; one of ${KILL_TARGETS.map((target) => target.name).join(", ")}`,
  );
let allPassed = true;
for (const target of targets) allPassed = (await report(target)) && allPassed;
if (!values.keep) fs.rmSync(scratch, { recursive: true, force: true });
process.exitCode = allPassed ? 0 : 1;
