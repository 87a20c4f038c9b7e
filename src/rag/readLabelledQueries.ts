/**
 * A labelled retrieval set from a domain folder's evaluation items: every JSONL line under
 * `<folder>/eval/` with a `question` and a `source` (the document the item was written from, as the
 * harbor MCQ and open items carry) becomes a query whose relevant document is that source. Items
 * without a source are left out (and counted), a question asked twice is kept once.
 * `readLabelledQueriesFrom` does the same for named files (the lab: only its domain evaluation sets).
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
    .sort()
    .map((name) => path.join(evalFolder, name));
  const set = readLabelledQueriesFrom(files);
  if (set.queries.length === 0)
    throw new InputError("no evaluation item names its source document", {
      where: evalFolder,
      hint: 'Give items a "source" field with the id (file name without extension) of the document they come from.',
    });
  return { ...set, files: files.map((file) => path.basename(file)) };
}

/** The labelled queries of these JSONL files (each cut to its first `limit` lines with content, if given); may be empty. */
export function readLabelledQueriesFrom(files: readonly string[], limit?: number): LabelledSet {
  const queries: LabelledQuery[] = [];
  const seen = new Set<string>();
  let unlabelled = 0;
  for (const file of files) {
    const name = path.basename(file);
    const lines = fs.readFileSync(file, "utf8").split("\n");
    let read = 0;
    lines.forEach((line, index) => {
      if (line.trim() === "" || read >= (limit ?? Infinity)) return;
      read++;
      let item: { id?: unknown; question?: unknown; source?: unknown };
      try {
        item = JSON.parse(line) as typeof item;
      } catch (error) {
        throw new InputError(`not JSON: ${(error as Error).message}`, {
          where: `${file}:${index + 1}`,
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
  return { queries, unlabelled, files: [...files] };
}
