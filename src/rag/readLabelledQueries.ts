/**
 * A labelled retrieval set from a domain folder's evaluation items: every JSONL line under
 * `<folder>/eval/` with a `question` and a `source` (the document the item was written from, as the
 * harbor MCQ and open items carry) becomes a query whose relevant document is that source. Items
 * without a source are left out (and counted), a question asked twice is kept once.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../shared/errors.js";
import type { LabelledQuery } from "./evaluateRetrievers.js";

export interface LabelledSet {
  queries: LabelledQuery[];
  /** Items read without a question or a source. */
  unlabelled: number;
  files: string[];
}

export function readLabelledQueries(folder: string): LabelledSet {
  const evalFolder = path.join(folder, "eval");
  if (!fs.existsSync(evalFolder))
    throw new InputError("no eval/ folder", {
      where: folder,
      hint: "A domain folder keeps its evaluation items (JSONL with question and source) in eval/.",
    });
  const files = fs
    .readdirSync(evalFolder)
    .filter((name) => name.endsWith(".jsonl"))
    .sort();
  const queries: LabelledQuery[] = [];
  const seen = new Set<string>();
  let unlabelled = 0;
  for (const name of files) {
    const lines = fs.readFileSync(path.join(evalFolder, name), "utf8").split("\n");
    lines.forEach((line, index) => {
      if (line.trim() === "") return;
      let item: { id?: unknown; question?: unknown; source?: unknown };
      try {
        item = JSON.parse(line) as typeof item;
      } catch (error) {
        throw new InputError(`not JSON: ${(error as Error).message}`, {
          where: `${path.join(evalFolder, name)}:${index + 1}`,
          cause: error,
        });
      }
      if (typeof item.question !== "string" || typeof item.source !== "string") return void unlabelled++;
      if (seen.has(item.question)) return;
      seen.add(item.question);
      queries.push({
        id: typeof item.id === "string" ? item.id : `${name}:${index + 1}`,
        query: item.question,
        relevant: [item.source],
      });
    });
  }
  if (queries.length === 0)
    throw new InputError("no evaluation item names its source document", {
      where: evalFolder,
      hint: 'Give items a "source" field with the id (file name without extension) of the document they come from.',
    });
  return { queries, unlabelled, files };
}
