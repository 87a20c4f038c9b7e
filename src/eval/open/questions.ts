/** The open-ended question set: JSONL, one `{id, question, reference?, subject?}` per line. */
import fs from "node:fs";
import { z } from "zod";
import { InputError } from "../../shared/errors.js";

export interface OpenQuestion {
  id: string;
  question: string;
  /** Reference answers (a string in the file is one reference). Empty when the set has none. */
  references: string[];
  subject?: string;
}

const lineSchema = z.object({
  id: z.union([z.string().min(1), z.number()]),
  question: z.string().min(1),
  reference: z.union([z.string(), z.array(z.string())]).optional(),
  subject: z.string().optional(),
});

export function parseOpenQuestions(text: string, file: string): OpenQuestion[] {
  const questions: OpenQuestion[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    const where = `${file}:${index + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new InputError(`not valid JSON (${(error as Error).message}).`, {
        where,
        hint: "Each line must be one JSON object {id, question, reference?, subject?}.",
      });
    }
    const parsed = lineSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(`field "${issue.path.join(".") || "(line)"}": ${issue.message}.`, {
        where,
        hint: "Each line must be {id, question, reference?, subject?}.",
      });
    }
    const id = String(parsed.data.id);
    if (seen.has(id))
      throw new InputError(`duplicate id "${id}".`, { where, hint: "Question ids must be unique within a set." });
    seen.add(id);
    const reference = parsed.data.reference;
    questions.push({
      id,
      question: parsed.data.question,
      references: reference === undefined ? [] : Array.isArray(reference) ? reference : [reference],
      ...(parsed.data.subject ? { subject: parsed.data.subject } : {}),
    });
  });
  if (questions.length === 0) throw new InputError("the question set is empty.", { where: file });
  return questions;
}

export function readOpenQuestions(file: string): OpenQuestion[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`cannot read the question set (${(error as Error).message}).`, { where: file, cause: error });
  }
  return parseOpenQuestions(text, file);
}
