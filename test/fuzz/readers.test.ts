/**
 * A few hundred fuzz cases per reader in the suite (npm run fuzz runs >= 10,000 with hang and abort detection):
 * every mutated file ends in a result or in a VerticalError naming the file — never a bare TypeError/RangeError/
 * SyntaxError a user would see as a stack trace.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fuzzInputs, judgeCase } from "../../bench/fuzz/cases.js";
import { FUZZ_TARGETS, type FuzzTarget } from "../../bench/fuzz/targets.js";
import { InputError } from "../../src/shared/errors.js";

const CASES = 300;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-fuzz-test-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("the fuzz verdict", () => {
  const reader = (read: (file: string) => unknown): FuzzTarget => ({ name: "probe", fileName: "probe.json", seed: () => new Uint8Array(), read });
  it("calls a bare SyntaxError, and a VerticalError that does not name the file, unnamed; one naming it, named", async () => {
    const folder = fs.mkdtempSync(path.join(scratch, "verdict-"));
    const bytes = new TextEncoder().encode("{not json");
    const bare = await judgeCase(reader((file) => JSON.parse(fs.readFileSync(file, "utf8"))), folder, bytes);
    expect(bare).toMatchObject({ outcome: "unnamed", detail: expect.stringContaining("SyntaxError") });
    expect(await judgeCase(reader(() => { throw new InputError("not valid JSON"); }), folder, bytes)).toMatchObject({ outcome: "unnamed" });
    expect(await judgeCase(reader((file) => { throw new InputError("not valid JSON", { where: file }); }), folder, bytes)).toEqual({ outcome: "named" });
  });
});

describe("fuzzed readers", () => {
  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: ${CASES} mutated files give a result or a VerticalError naming the file`, async () => {
      const folder = fs.mkdtempSync(path.join(scratch, `${target.name}-`));
      const seedFile = target.seed(folder);
      // The seed itself reads cleanly: the cases start from a valid file, not from an error.
      expect(await judgeCase(target, folder, seedFile)).toEqual({ outcome: "ok" });
      const failures: string[] = [];
      const inputs = fuzzInputs(target, seedFile, CASES, 20261206);
      for (const [index, input] of inputs.entries()) {
        const verdict = await judgeCase(target, folder, input);
        if (verdict.outcome === "unnamed") failures.push(`case ${index}: ${verdict.detail}`);
      }
      expect(failures.slice(0, 5)).toEqual([]);
    });
  }
});
