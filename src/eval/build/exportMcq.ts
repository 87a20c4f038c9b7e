/**
 * Writing built items: Vertical's own JSONL (what `vertical eval run` loads), and the formats of
 * the two common harnesses so the same set can be run there.
 *
 * - Vertical JSONL: {id, subject, language, kind, question, A, B, C, D, answer: "B", source: {doc, start, end, text}}.
 * - lm-evaluation-harness (v0.4 task YAML): `<task>.jsonl` with {id, subject, question, choices, answer: index}
 *   and `<task>.yaml`: dataset_path json, data_files -> the JSONL (absolute path, since lm-eval resolves
 *   it against the working directory), output_type multiple_choice, MMLU-style doc_to_text,
 *   doc_to_choice ["A","B","C","D"], doc_to_target answer, metrics acc and acc_norm.
 * - OpenCompass: the custom-dataset CSV (`question,A,B,C,D,answer`, answer a letter) in one file, and a
 *   C-Eval-style folder `ceval/val/<subject>_val.csv` (`id,question,A,B,C,D,answer`) per subject.
 */
import path from "node:path";
import { writeFileAtomic } from "../../shared/atomicWrite.js";
import { toCsv } from "../ratings/csv.js";
import type { BuiltMcqItem } from "./buildMcq.js";

const letters = ["A", "B", "C", "D", "E", "F", "G", "H"];

export function toVerticalRecord(item: BuiltMcqItem): Record<string, unknown> {
  const record: Record<string, unknown> = {
    id: item.id,
    subject: item.subject,
    language: item.language,
    kind: item.kind,
    question: item.question,
  };
  item.options.forEach((option, i) => (record[letters[i]!] = option));
  record.answer = letters[item.answer];
  record.source = item.source;
  record.distractorSource = item.distractorSource;
  return record;
}

export function writeMcqJsonl(items: readonly BuiltMcqItem[], file: string): void {
  writeFileAtomic(
    file,
    items.map((item) => JSON.stringify(toVerticalRecord(item))).join("\n") + (items.length ? "\n" : ""),
  );
}

/** Characters a task name may use in lm-eval (it becomes a registry key). */
function taskName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]+/g, "_");
}

export function lmEvalTaskYaml(task: string, dataFile: string, optionCount: number): string {
  const optionLines = Array.from({ length: optionCount }, (_, i) => `${letters[i]}. {{choices[${i}]}}`).join("\\n");
  return [
    `# lm-evaluation-harness task written by \`vertical eval build-mcq\`.`,
    `# Run: lm_eval --model hf --model_args pretrained=MODEL --tasks ${task} --include_path ${path.dirname(dataFile)}`,
    `task: ${task}`,
    `dataset_path: json`,
    `dataset_kwargs:`,
    `  data_files:`,
    `    test: ${JSON.stringify(dataFile)}`,
    `test_split: test`,
    `output_type: multiple_choice`,
    `doc_to_text: "{{question.strip()}}\\n${optionLines}\\nAnswer:"`,
    `doc_to_choice: ${JSON.stringify(letters.slice(0, optionCount))}`,
    `doc_to_target: answer`,
    `metric_list:`,
    `  - metric: acc`,
    `    aggregation: mean`,
    `    higher_is_better: true`,
    `  - metric: acc_norm`,
    `    aggregation: mean`,
    `    higher_is_better: true`,
    `metadata:`,
    `  version: 1.0`,
    ``,
  ].join("\n");
}

export function exportLmEval(
  items: readonly BuiltMcqItem[],
  outDir: string,
  name: string,
): { yaml: string; data: string } {
  const task = taskName(name);
  const data = path.resolve(outDir, `${task}.jsonl`);
  writeFileAtomic(
    data,
    items
      .map((item) =>
        JSON.stringify({
          id: item.id,
          subject: item.subject,
          question: item.question,
          choices: item.options,
          answer: item.answer,
        }),
      )
      .join("\n") + "\n",
  );
  const yaml = path.resolve(outDir, `${task}.yaml`);
  writeFileAtomic(yaml, lmEvalTaskYaml(task, data, Math.max(...items.map((i) => i.options.length), 4)));
  return { yaml, data };
}

export function exportOpenCompass(
  items: readonly BuiltMcqItem[],
  outDir: string,
  name: string,
): { custom: string; ceval: string[] } {
  const width = Math.max(...items.map((i) => i.options.length), 4);
  const optionHeader = letters.slice(0, width);
  const custom = path.resolve(outDir, `${name}.csv`);
  writeFileAtomic(
    custom,
    toCsv(
      ["question", ...optionHeader, "answer"],
      items.map((item) => [item.question, ...optionHeader.map((_, i) => item.options[i] ?? ""), letters[item.answer]]),
    ),
  );
  const bySubject = new Map<string, BuiltMcqItem[]>();
  for (const item of items) bySubject.set(item.subject, [...(bySubject.get(item.subject) ?? []), item]);
  const ceval: string[] = [];
  for (const [subject, subjectItems] of bySubject) {
    const file = path.resolve(outDir, "ceval", "val", `${subject.replace(/[^\p{L}\p{N}_-]+/gu, "_")}_val.csv`);
    writeFileAtomic(
      file,
      toCsv(
        ["id", "question", ...optionHeader, "answer"],
        subjectItems.map((item, index) => [
          index,
          item.question,
          ...optionHeader.map((_, i) => item.options[i] ?? ""),
          letters[item.answer],
        ]),
      ),
    );
    ceval.push(file);
  }
  return { custom, ceval };
}
