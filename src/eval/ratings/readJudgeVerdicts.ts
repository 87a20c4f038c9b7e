/**
 * The LLM judge's verdicts of an open-ended run (RESULTS/open/<set>/judgements.jsonl, written by
 * runOpenEval), in the shape judgeHumanAgreement compares with people's ratings. Item ids are
 * unique within a set, and the ratings store keys items by id alone, so every set's verdicts are
 * read together unless one set is named.
 */
import fs from "node:fs";
import path from "node:path";
import type { StoredJudgement } from "../open/runOpenEval.js";
import { readItemRecords } from "../results.js";
import type { JudgeVerdicts } from "./agreement.js";

/** Undefined when no judge was run there (no judgements file). */
export function readJudgeVerdicts(resultsDir: string, set?: string): JudgeVerdicts | undefined {
  const openDir = path.join(resultsDir, "open");
  const sets = set !== undefined ? [set] : fs.existsSync(openDir) ? fs.readdirSync(openDir) : [];
  const files = sets.map((name) => path.join(openDir, name, "judgements.jsonl")).filter((file) => fs.existsSync(file));
  if (files.length === 0) return undefined;
  const judgements = files.flatMap((file) => readItemRecords<StoredJudgement>(file));
  return {
    pairwise: judgements.flatMap((j) => (j.kind === "pair" ? [{ id: j.id, a: j.a, b: j.b, winner: j.winner }] : [])),
    ratings: judgements.flatMap((j) =>
      j.kind === "rating" && typeof j.rating === "number" ? [{ id: j.id, system: j.system, rating: j.rating }] : [],
    ),
  };
}
