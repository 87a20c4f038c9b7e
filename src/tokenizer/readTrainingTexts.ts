/** Training text for `vertical tokenizer train`: files and directories of .txt/.md, and .jsonl records. */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../shared/errors.js";

const textExtensions = new Set([".txt", ".md", ".markdown"]);

export interface TrainingTexts {
  texts: string[];
  files: number;
  bytes: number;
}

/** String fields a JSONL record contributes: `text`, else `content`, else every string value (chat messages included). */
function recordTexts(record: unknown): string[] {
  if (typeof record === "string") return [record];
  if (Array.isArray(record)) return record.flatMap(recordTexts);
  if (typeof record !== "object" || record === null) return [];
  const fields = record as Record<string, unknown>;
  if (typeof fields.text === "string") return [fields.text];
  if (typeof fields.content === "string") return [fields.content];
  return Object.values(fields).flatMap(recordTexts);
}

export function readTrainingTexts(inputs: readonly string[]): TrainingTexts {
  const result: TrainingTexts = { texts: [], files: 0, bytes: 0 };
  const readFile = (file: string, explicit: boolean) => {
    const extension = path.extname(file).toLowerCase();
    if (extension === ".jsonl") {
      const lines = fs.readFileSync(file, "utf8").split("\n");
      lines.forEach((line, index) => {
        if (line.trim() === "") return;
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch (error) {
          throw new InputError(`not valid JSON: ${(error as Error).message}`, { where: `${file}:${index + 1}`, cause: error });
        }
        for (const text of recordTexts(record)) {
          result.texts.push(text);
          result.bytes += Buffer.byteLength(text);
        }
      });
    } else if (explicit || textExtensions.has(extension)) {
      const text = fs.readFileSync(file, "utf8");
      result.texts.push(text);
      result.bytes += Buffer.byteLength(text);
    } else return;
    result.files++;
  };
  const walk = (directory: string) => {
    for (const entry of fs.readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) readFile(full, false);
    }
  };
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new InputError(`no such file or directory`, { where: input });
    if (fs.statSync(input).isDirectory()) walk(input);
    else readFile(input, true);
  }
  if (result.bytes === 0) throw new InputError(`no training text found in ${inputs.join(", ")}`, { hint: "pass .txt/.md files, .jsonl with a text field, or directories holding them" });
  return result;
}
