import fs from "node:fs";
import { InputError } from "../shared/errors.js";
import type { CorpusStore } from "./corpusStore.js";
import { textUnits } from "./textUnits.js";

/** An evaluation item reduced to the text fields that could leak into training data. */
export interface EvalItem {
  file: string;
  /** The item's "id" field, or "line N". */
  item: string;
  /** Question-like text (question, prompt, input, instruction, context, passage). */
  questionTexts: string[];
  /** Choices and reference answers; used only when at least n units long, so "Berth 7" alone never matches. */
  answerTexts: string[];
}

export interface ContaminationMatch {
  file: string;
  item: string;
  ngram: string;
}

export interface DecontaminateOptions {
  /** n-gram length in units (words; characters for CJK). Defaults to 13. */
  ngram?: number;
  /** Questions shorter than n units are matched whole if at least this many units. Defaults to 6. */
  minShortQuestionUnits?: number;
}

const questionFields = ["question", "prompt", "input", "instruction", "query", "context", "passage", "problem"];
const answerFields = ["answer", "answers", "reference", "references", "output", "response", "solution", "target", "choices", "options"];

function collectStrings(value: unknown, into: string[]): void {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) value.forEach((entry) => collectStrings(entry, into));
  else if (value && typeof value === "object") Object.values(value).forEach((entry) => collectStrings(entry, into));
}

/** Reads a multiple-choice or open-ended JSONL evaluation set. Bad lines are errors naming file:line. */
export function readEvalItems(file: string): EvalItem[] {
  let source: string;
  try {
    source = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`cannot read the evaluation set: ${(error as Error).message}`, { where: file, cause: error });
  }
  const items: EvalItem[] = [];
  source.split("\n").forEach((raw, index) => {
    if (raw.trim() === "") return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(raw) as Record<string, unknown>;
    } catch (error) {
      throw new InputError(`invalid JSON: ${(error as Error).message}`, { where: `${file}:${index + 1}`, hint: "Each line must be one JSON object." });
    }
    const questionTexts: string[] = [];
    const answerTexts: string[] = [];
    for (const field of questionFields) collectStrings(record[field], questionTexts);
    for (const field of answerFields) collectStrings(record[field], answerTexts);
    // OpenAI-messages style items: user turns are questions, assistant turns answers.
    if (Array.isArray(record.messages)) {
      for (const message of record.messages as { role?: string; content?: unknown }[]) {
        collectStrings(message.content, message.role === "assistant" ? answerTexts : questionTexts);
      }
    }
    if (questionTexts.length === 0) {
      throw new InputError(`no question text: expected one of ${questionFields.join(", ")} or messages`, { where: `${file}:${index + 1}` });
    }
    const id = record.id;
    items.push({ file, item: typeof id === "string" || typeof id === "number" ? String(id) : `line ${index + 1}`, questionTexts, answerTexts });
  });
  return items;
}

/**
 * n-gram overlap detector (GPT-3 / lm-evaluation-harness style) between training text and
 * evaluation items. Units are words, or characters for Chinese, after NFKC + lower-casing, with
 * punctuation and whitespace ignored — so reformatting does not hide a leak.
 */
export class Decontaminator {
  readonly ngram: number;
  private readonly grams = new Map<string, { file: string; item: string }>();
  /** Lengths of whole short questions, checked besides n. */
  private readonly shortLengths = new Set<number>();
  readonly itemCount: number;

  constructor(items: readonly EvalItem[], options: DecontaminateOptions = {}) {
    this.ngram = options.ngram ?? 13;
    const minShort = options.minShortQuestionUnits ?? 6;
    for (const item of items) {
      const owner = { file: item.file, item: item.item };
      for (const text of item.questionTexts) {
        const units = textUnits(text);
        if (units.length >= this.ngram) this.addGrams(units, owner);
        else if (units.length >= minShort) {
          this.grams.set(units.join(" "), owner);
          this.shortLengths.add(units.length);
        }
      }
      for (const text of item.answerTexts) {
        const units = textUnits(text);
        if (units.length >= this.ngram) this.addGrams(units, owner);
      }
    }
    this.itemCount = items.length;
  }

  static fromFiles(files: readonly string[], options: DecontaminateOptions = {}): Decontaminator {
    return new Decontaminator(files.flatMap((file) => readEvalItems(file)), options);
  }

  private addGrams(units: string[], owner: { file: string; item: string }): void {
    for (let i = 0; i + this.ngram <= units.length; i++) this.grams.set(units.slice(i, i + this.ngram).join(" "), owner);
  }

  /** Every evaluation item whose n-grams occur in `text` (one match per item). */
  matches(text: string): ContaminationMatch[] {
    const units = textUnits(text);
    const found = new Map<string, ContaminationMatch>();
    for (const length of [this.ngram, ...this.shortLengths]) {
      for (let i = 0; i + length <= units.length; i++) {
        const gram = units.slice(i, i + length).join(" ");
        const owner = this.grams.get(gram);
        if (owner && !found.has(`${owner.file}\u0000${owner.item}`)) found.set(`${owner.file}\u0000${owner.item}`, { ...owner, ngram: gram });
      }
    }
    return [...found.values()];
  }

  isContaminated(text: string): boolean {
    return this.matches(text).length > 0;
  }
}

export interface DecontaminateReport {
  examined: number;
  contaminated: number;
  /** "drop" marks documents "contaminated"; "flag" only records the matches. */
  action: "drop" | "flag";
  ngram: number;
  /** Which evaluation items were found, and in which documents. */
  matches: { docId: number; file: string; item: string; ngram: string }[];
}

/** Checks every active document of the store against the evaluation sets. */
export function decontaminateCorpus(
  store: CorpusStore,
  evalFiles: readonly string[],
  options: DecontaminateOptions & { action?: "drop" | "flag"; sources?: readonly string[] } = {},
): DecontaminateReport {
  const detector = Decontaminator.fromFiles(evalFiles, options);
  const action = options.action ?? "drop";
  const report: DecontaminateReport = { examined: 0, contaminated: 0, action, ngram: detector.ngram, matches: [] };
  const record = store.db.prepare("INSERT INTO contamination (doc_id, eval_file, eval_item, ngram) VALUES (?, ?, ?, ?)");
  const found: { docId: number; matches: ContaminationMatch[] }[] = [];
  for (const doc of store.documents({ statuses: ["ingested", "cleaned", "deduped"], ...(options.sources ? { sources: options.sources } : {}) })) {
    report.examined++;
    const matches = detector.matches(doc.cleanText ?? doc.text);
    if (matches.length > 0) found.push({ docId: doc.id, matches });
  }
  store.transaction(() => {
    for (const { docId, matches } of found) {
      report.contaminated++;
      for (const match of matches) {
        record.run(docId, match.file, match.item, match.ngram);
        report.matches.push({ docId, ...match });
      }
      if (action === "drop") store.setStatus(docId, "contaminated", `contaminated: ${matches.map((m) => `${m.file}#${m.item}`).join(", ")}`);
    }
  });
  store.recordStage("decontaminate", { evalFiles, ngram: detector.ngram, action }, { examined: report.examined, contaminated: report.contaminated });
  return report;
}
