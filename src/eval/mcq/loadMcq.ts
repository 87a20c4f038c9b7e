/**
 * Loaders for multiple-choice sets: C-Eval CSV (id,question,A,B,C,D,answer[,explanation]), CMMLU CSV
 * (,Question,A,B,C,D,Answer), MMLU-style CSV without a header (question,A,B,C,D,answer) and JSONL
 * ({question, A, B, C, D…, answer, subject}). A directory loads every .csv/.jsonl file in it (one
 * subject per file, as C-Eval, CMMLU and MMLU ship). Every error names the file and the row.
 */
import fs from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import { InputError } from "../../shared/errors.js";
import type { McqItem, McqOption } from "./types.js";

export type McqFormat = "auto" | "ceval" | "cmmlu" | "mmlu" | "jsonl";

export interface LoadMcqOptions {
  /** Defaults to "auto": JSONL by extension; CSV with a header when its first row names question and answer columns. */
  format?: McqFormat;
  /** Subject for items whose file has no subject column. Defaults to the file name's stem (without _dev/_val/_test). */
  subject?: string;
}

const LETTERS = "ABCDEFGHIJ";

/** Subject from a file name as the benchmarks name their files: `computer_network_val.csv` -> `computer_network`. */
export function subjectFromFileName(file: string): string {
  return path
    .basename(file)
    .replace(/\.(csv|jsonl)$/i, "")
    .replace(/_(dev|val|test|train)$/i, "");
}

function normaliseLetter(raw: string): string {
  return raw
    .trim()
    .replace(/^\(|\)$/g, "")
    .replace(/[．.。]$/, "")
    .toUpperCase();
}

function checkAnswer(answer: string, options: McqOption[], where: string): string {
  const letter = normaliseLetter(answer);
  if (!options.some((option) => option.letter === letter)) {
    const letters = options.map((option) => option.letter).join(", ");
    throw new InputError(`answer "${answer}" is not one of the options (${letters})`, {
      where,
      hint: "The answer must be the letter of one of the option columns; fix the row or remove it.",
    });
  }
  return letter;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "");
  } catch (error) {
    throw new InputError(`cannot read the multiple-choice file: ${(error as Error).message}`, {
      where: file,
      cause: error,
    });
  }
}

function parseCsvRows(file: string): string[][] {
  try {
    return parse(readText(file), { relax_column_count: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new InputError(`not valid CSV: ${(error as Error).message}`, {
      where: line ? `${file}:${line}` : file,
      cause: error,
    });
  }
}

function looksLikeHeader(row: string[]): boolean {
  const names = row.map((cell) => cell.trim().toLowerCase());
  // Either column name marks a header; a header missing the other gets a clear error from the header reader.
  return names.includes("question") || names.includes("answer");
}

function loadCsvWithHeader(file: string, rows: string[][], subjectDefault: string): McqItem[] {
  const header = rows[0]!.map((cell) => cell.trim());
  const lower = header.map((cell) => cell.toLowerCase());
  const column = (name: string) => lower.indexOf(name);
  const questionColumn = column("question");
  const answerColumn = column("answer");
  const letterColumns: { letter: string; index: number }[] = [];
  for (const letter of LETTERS) {
    const index = header.indexOf(letter);
    if (index < 0) break;
    letterColumns.push({ letter, index });
  }
  const missing = [
    ...(questionColumn < 0 ? ["question"] : []),
    ...(answerColumn < 0 ? ["answer"] : []),
    ...(letterColumns.length < 2 ? ["A", "B"].filter((letter) => !header.includes(letter)) : []),
  ];
  if (missing.length > 0)
    throw new InputError(
      `header has no ${missing.map((name) => `"${name}"`).join(", ")} column (found: ${header.join(", ")})`,
      {
        where: `${file}:1`,
        hint: "A multiple-choice CSV with a header needs question, A, B, … and answer columns (C-Eval / CMMLU layout).",
      },
    );
  const idColumn = column("id");
  const subjectColumn = column("subject");
  const explanationColumn = column("explanation");
  const needed = Math.max(questionColumn, answerColumn, ...letterColumns.map((entry) => entry.index));
  return rows.slice(1).map((cells, index) => {
    const row = index + 2;
    const where = `${file}:${row}`;
    if (cells.length <= needed)
      throw new InputError(`row has ${cells.length} columns, the header has ${header.length}: a column is missing`, {
        where,
        hint: "Check for a missing comma or an unquoted field on this row.",
      });
    const options = letterColumns.map(({ letter, index: column }) => ({ letter, text: cells[column]!.trim() }));
    const subject = (subjectColumn >= 0 ? cells[subjectColumn]?.trim() : "") || subjectDefault;
    const id = (idColumn >= 0 ? cells[idColumn]?.trim() : "") || (lower[0] === "" ? cells[0]?.trim() : "");
    const explanation = explanationColumn >= 0 ? cells[explanationColumn]?.trim() : undefined;
    return {
      id: id ? `${subject}/${id}` : `${subject}/${row}`,
      subject,
      question: cells[questionColumn]!.trim(),
      options,
      answer: checkAnswer(cells[answerColumn]!, options, where),
      ...(explanation ? { explanation } : {}),
      source: { file, row },
    };
  });
}

function loadCsvWithoutHeader(file: string, rows: string[][], subjectDefault: string): McqItem[] {
  const width = rows[0]!.length;
  if (width < 4)
    throw new InputError(`expected question, A, B, …, answer columns, found ${width}`, {
      where: `${file}:1`,
      hint: "MMLU-style CSV has no header: question,A,B,C,D,answer.",
    });
  return rows.map((cells, index) => {
    const row = index + 1;
    const where = `${file}:${row}`;
    if (cells.length !== width)
      throw new InputError(
        `row has ${cells.length} columns, the first row has ${width} (question, ${width - 2} options, answer): a column is missing`,
        {
          where,
          hint: "Check for a missing comma or an unquoted field on this row.",
        },
      );
    const options = cells.slice(1, -1).map((text, option) => ({ letter: LETTERS[option]!, text: text.trim() }));
    return {
      id: `${subjectDefault}/${row}`,
      subject: subjectDefault,
      question: cells[0]!.trim(),
      options,
      answer: checkAnswer(cells.at(-1)!, options, where),
      source: { file, row },
    };
  });
}

function loadJsonl(file: string, subjectDefault: string): McqItem[] {
  const items: McqItem[] = [];
  const lines = readText(file).split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    const row = index + 1;
    const where = `${file}:${row}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new InputError(`not valid JSON: ${(error as Error).message}`, { where, cause: error });
    }
    const text = (value: unknown) =>
      typeof value === "string" ? value.trim() : typeof value === "number" ? String(value) : undefined;
    const options: McqOption[] = [];
    if (Array.isArray(record.choices ?? record.options)) {
      ((record.choices ?? record.options) as unknown[]).forEach((choice, option) =>
        options.push({ letter: LETTERS[option]!, text: text(choice) ?? "" }),
      );
    } else {
      for (const letter of LETTERS) {
        const value = text(record[letter]);
        if (value === undefined) break;
        options.push({ letter, text: value });
      }
    }
    const question = text(record.question);
    const answerRaw = record.answer;
    const missing = [
      ...(question === undefined ? ["question"] : []),
      ...(options.length < 2 ? ["A", "B"].filter((letter) => record[letter] === undefined) : []),
      ...(answerRaw === undefined ? ["answer"] : []),
    ];
    if (missing.length > 0)
      throw new InputError(`record has no ${missing.map((name) => `"${name}"`).join(", ")} field`, {
        where,
        hint: 'Each line must be {"question": …, "A": …, "B": …, …, "answer": "B", "subject": …}.',
      });
    // An integer answer is an option index (as in some HF exports); a string is a letter.
    const answer = typeof answerRaw === "number" ? (LETTERS[answerRaw] ?? String(answerRaw)) : String(answerRaw);
    const subject = text(record.subject) ?? subjectDefault;
    const id = text(record.id);
    const explanation = text(record.explanation);
    items.push({
      id: id ? `${subject}/${id}` : `${subject}/${row}`,
      subject,
      question: question!,
      options,
      answer: checkAnswer(answer, options, where),
      ...(explanation ? { explanation } : {}),
      source: { file, row },
    });
  });
  return items;
}

function loadFile(file: string, options: LoadMcqOptions): McqItem[] {
  const format = options.format ?? "auto";
  const subject = options.subject ?? subjectFromFileName(file);
  if (format === "jsonl" || (format === "auto" && /\.jsonl$/i.test(file))) return loadJsonl(file, subject);
  const rows = parseCsvRows(file);
  if (rows.length === 0) return [];
  const withHeader = format === "ceval" || format === "cmmlu" || (format === "auto" && looksLikeHeader(rows[0]!));
  return withHeader ? loadCsvWithHeader(file, rows, subject) : loadCsvWithoutHeader(file, rows, subject);
}

/** Loads a multiple-choice file, or every .csv/.jsonl file of a directory (sorted by name). */
export function loadMcq(target: string, options: LoadMcqOptions = {}): McqItem[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (error) {
    throw new InputError("multiple-choice set not found", {
      where: target,
      cause: error,
      hint: "Check the `path` of the set in the eval spec.",
    });
  }
  let items: McqItem[];
  if (!stat.isDirectory()) items = loadFile(target, options);
  else {
    const files = fs
      .readdirSync(target)
      .filter((name) => /\.(csv|jsonl)$/i.test(name))
      .sort()
      .map((name) => path.join(target, name));
    if (files.length === 0) throw new InputError("directory has no .csv or .jsonl files", { where: target });
    // One subject per file in a directory: the file name wins over a set-wide default.
    items = files.flatMap((file) => loadFile(file, { format: options.format }));
  }
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id))
      throw new InputError(`duplicate item id "${item.id}"`, {
        where: `${item.source.file}:${item.source.row}`,
        hint: "Item ids must be unique within a set (resume relies on them).",
      });
    seen.add(item.id);
  }
  return items;
}
