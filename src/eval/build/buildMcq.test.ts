import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { loadMcq } from "../mcq/loadMcq.js";
import { seededRandom } from "../../shared/seededRandom.js";
import { RecordingChatModel } from "../testing/recordingChatModel.js";
import { buildMcqFromDocuments, findStatements, normalise } from "./buildMcq.js";
import { collectDocumentFiles, subjectFromName } from "./documentFiles.js";
import { exportLmEval, exportOpenCompass, writeMcqJsonl } from "./exportMcq.js";
import { generateItemsWithModel, paragraphs, parseGeneratedItem } from "./generateWithModel.js";
import { splitSentences, type SourceDocument } from "./sentences.js";

const berthsEn: SourceDocument = {
  id: "berths-en.md",
  subject: "berths",
  text: [
    "# Berths",
    "",
    "Q: What is the draught at Berth Q1?",
    "A: The maximum draught for Berth Q1 is 12.5 m.",
    "The maximum draught for Berth Q2 is 9.8 m. The maximum draught for Berth Q3 is 14.1 m.",
    "The maximum draught for Berth Q4 is 7.2 m.",
    "The terminal for Berth Q1 is Baisha Bulk Terminal.",
    "The terminal for Berth Q2 is East Cape Container Terminal.",
    "The terminal for Berth Q3 is Luzhou Oil Terminal.",
    "The terminal for Berth Q4 is Nanwan Passenger Terminal.",
    "A bollard is a short thick post on a quay to which mooring lines are made fast.",
    "A fender is a cushion hung over the side of a berth to absorb the energy of a ship coming alongside.",
    "A dolphin is a group of piles standing clear of the quay used to moor or guide ships.",
    "A breakwater is a barrier built out into the sea to protect the harbour from waves.",
    "It is important to keep to the speed limit. This berth is closed on Sundays.",
  ].join("\n"),
};
const notice: SourceDocument = {
  id: "notice-2025.md",
  subject: "notices",
  text: [
    "Masters should note that the maximum draught for Berth Q1 is 12.5 m.", // a repeat of berths-en
    "The maximum draught for Berth Q1 is 13.0 m.", // an update: never a distractor for Q1
    "The speed limit for North Gate Passage is 10 knots.",
  ].join("\n"),
};
const berthsZh: SourceDocument = {
  id: "berths-zh.md",
  subject: "泊位",
  text: [
    "答：Q10号泊位的最大允许吃水为8.5米。Q11号泊位的最大允许吃水为12.3米。",
    "Q12号泊位的最大允许吃水为16.1米。Q13号泊位的最大允许吃水为9.3米。",
    "第3条　引航是指引航员在本港水域内为船舶提供的引领航行服务。",
    "锚地是指供船舶候泊、避风和接受检疫的指定水域范围。",
    "泊位是指港口内供船舶停靠并进行装卸作业的位置区域。",
    "系缆桩是指码头上用于系结船舶缆绳的坚固短柱设施。",
  ].join("\n"),
};
const corpus = [berthsEn, notice, berthsZh];

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-build-"));
  dirs.push(dir);
  return dir;
};

describe("sentences", () => {
  it("splits English and Chinese with exact spans, skipping headings and question lines, keeping decimals", () => {
    const sentences = splitSentences(berthsEn);
    for (const s of sentences) expect(berthsEn.text.slice(s.start, s.end)).toBe(s.text);
    expect(sentences[0]!.text).toBe("The maximum draught for Berth Q1 is 12.5 m."); // "A: " stripped, "Q:" line and heading skipped
    expect(sentences.map((s) => s.text)).toContain("The maximum draught for Berth Q2 is 9.8 m.");
    const zh = splitSentences(berthsZh);
    for (const s of zh) expect(berthsZh.text.slice(s.start, s.end)).toBe(s.text);
    expect(zh[0]).toMatchObject({ text: "Q10号泊位的最大允许吃水为8.5米。", language: "zh" });
    expect(zh[4]!.text.startsWith("引航是指")).toBe(true); // "第3条" article number stripped
    expect(zh[4]!.start).toBe(berthsZh.text.indexOf("引航是指"));
  });
});

describe("statements", () => {
  const one = (text: string) => findStatements(splitSentences({ id: "d", subject: "s", text })[0]!);
  it("classifies numbers, facts and definitions in both languages", () => {
    expect(one("The maximum draught for Berth Q1 is 12.5 m.")).toMatchObject({
      kind: "number",
      subject: "The maximum draught for Berth Q1",
      value: "12.5 m",
      attribute: "maximum draught",
      unit: "m",
    });
    expect(one("The terminal for Berth Q1 is Baisha Bulk Terminal.")).toMatchObject({
      kind: "fact",
      attribute: "terminal",
    });
    expect(one("A bollard is a short thick post on a quay to which mooring lines are made fast.")).toMatchObject({
      kind: "definition",
      subject: "A bollard",
    });
    expect(one("Masters should note that the speed limit for North Gate Passage is 10 knots.")).toMatchObject({
      subject: "the speed limit for North Gate Passage",
      unit: "knots",
    });
    expect(one("Q10号泊位的最大允许吃水为8.5米。")).toMatchObject({
      kind: "number",
      attribute: "最大允许吃水",
      unit: "米",
    });
    expect(one("引航是指引航员在本港水域内为船舶提供的引领航行服务。")).toMatchObject({
      kind: "definition",
      subject: "引航",
      copula: "是指",
    });
    expect(one("Q02号泊位的所属码头规定为白沙散货码头。")).toMatchObject({
      kind: "fact",
      subject: "Q02号泊位的所属码头",
      copula: "规定为",
    });
  });
  it("skips pronoun subjects, references to the document itself and hedged values", () => {
    expect(one("It is important to keep to the speed limit.")).toBeUndefined();
    expect(one("This berth is closed on Sundays.")).toBeUndefined();
    expect(one("All times in this document are local time.")).toBeUndefined();
    expect(one("The berth is not available.")).toBeUndefined();
    expect(one("这是一个泊位。")).toBeUndefined();
  });
});

describe("buildMcqFromDocuments", () => {
  const report = buildMcqFromDocuments(corpus, { seed: 3 });
  const bySubjectAsked = (fragment: string) => report.items.filter((i) => i.question.includes(fragment));

  it("links every item to the exact sentence it came from", () => {
    const texts = new Map(corpus.map((d) => [d.id, d.text]));
    expect(report.items.length).toBeGreaterThan(10);
    for (const item of report.items)
      expect(texts.get(item.source.doc)!.slice(item.source.start, item.source.end)).toBe(item.source.text);
  });

  it("deduplicates repeated facts and never offers another stated value of the same thing as a distractor", () => {
    expect(report.duplicates).toBe(1); // the notice repeats Q1's 12.5 m
    const q1 = bySubjectAsked("maximum draught for Berth Q1");
    expect(q1).toHaveLength(2); // 12.5 m and the updated 13.0 m
    for (const item of q1) {
      const wrong = item.options.filter((_, i) => i !== item.answer).map(normalise);
      expect(wrong).not.toContain(normalise("12.5 m"));
      expect(wrong).not.toContain(normalise("13.0 m"));
    }
  });

  it("draws distractors of the same kind, language and unit from the corpus; scales numbers only when it must", () => {
    for (const item of report.items) {
      expect(new Set(item.options.map(normalise)).size).toBe(4);
      if (item.kind === "number" && item.language === "en" && item.question.includes("draught"))
        for (const o of item.options) expect(o).toMatch(/^\d+\.\d m$/);
      if (item.language === "zh") for (const o of item.options) expect(o).toMatch(/[\u4e00-\u9fff]/);
    }
    const terminal = bySubjectAsked("terminal for Berth Q3")[0]!;
    expect(terminal.options.every((o) => o.endsWith("Terminal"))).toBe(true);
    expect(terminal.distractorSource).toBe("corpus");
    // Only one "knots" value exists, so the speed-limit item needs scaled numbers.
    const speed = bySubjectAsked("speed limit")[0]!;
    expect(speed.distractorSource).toBe("scaled");
    expect([...speed.options].sort()).toEqual(["10 knots", "15 knots", "20 knots", "5 knots"]);
    expect(bySubjectAsked("“引航”是指什么")[0]!.options.every((o) => o.length >= 10)).toBe(true);
  });

  it("spreads the correct letter evenly, balances subjects, and is repeatable per seed", () => {
    const letters = [0, 1, 2, 3].map((k) => report.items.filter((i) => i.answer === k).length);
    expect(Math.max(...letters) - Math.min(...letters)).toBeLessThanOrEqual(1);
    const balanced = buildMcqFromDocuments(corpus, { seed: 3, perSubject: 3 });
    expect(balanced.perSubject).toEqual({ berths: 3, notices: 3, 泊位: 3 });
    // The fact stated in both documents is linked to the notice, the subject with fewer items.
    expect(report.items.find((i) => i.source.text.startsWith("Masters should note"))).toBeDefined();
    // Kinds interleave within a subject: the 3 "berths" items are not all of one kind.
    expect(new Set(balanced.items.filter((i) => i.subject === "berths").map((i) => i.kind)).size).toBeGreaterThan(1);
    expect(buildMcqFromDocuments(corpus, { seed: 3 }).items).toEqual(report.items);
    expect(buildMcqFromDocuments(corpus, { seed: 4 }).items).not.toEqual(report.items);
    expect(new Set(report.items.map((i) => i.id)).size).toBe(report.items.length);
  });
});

describe("exports", () => {
  const { items } = buildMcqFromDocuments(corpus, { seed: 1 });
  it("Vertical JSONL loads with the MCQ loader of `vertical eval run`, answers intact", () => {
    const file = path.join(tempDir(), "harbor.jsonl");
    writeMcqJsonl(items, file);
    const loaded = loadMcq(file);
    expect(loaded).toHaveLength(items.length);
    loaded.forEach((item, i) => {
      expect(item.question).toBe(items[i]!.question);
      expect(item.answer).toBe("ABCD"[items[i]!.answer]);
      expect(item.options.map((o) => o.text)).toEqual(items[i]!.options);
    });
  });
  it("lm-evaluation-harness: a task YAML pointing at a JSONL of {question, choices, answer index}", () => {
    const dir = tempDir();
    const { yaml, data } = exportLmEval(items, dir, "harbor-mcq");
    const task = YAML.parse(fs.readFileSync(yaml, "utf8"));
    expect(task).toMatchObject({
      task: "harbor_mcq",
      dataset_path: "json",
      dataset_kwargs: { data_files: { test: data } },
      test_split: "test",
      output_type: "multiple_choice",
      doc_to_choice: ["A", "B", "C", "D"],
      doc_to_target: "answer",
    });
    expect(task.doc_to_text).toBe(
      "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:",
    );
    const first = JSON.parse(fs.readFileSync(data, "utf8").split("\n")[0]!);
    expect(first).toEqual({
      id: items[0]!.id,
      subject: items[0]!.subject,
      question: items[0]!.question,
      choices: items[0]!.options,
      answer: items[0]!.answer,
    });
  });
  it("OpenCompass: custom-dataset CSV and C-Eval-style per-subject CSVs", () => {
    const dir = tempDir();
    const { custom, ceval } = exportOpenCompass(items, dir, "harbor");
    const rows = parseCsv(fs.readFileSync(custom, "utf8"), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(["question", "A", "B", "C", "D", "answer"]);
    expect(rows.map((r) => r[r.answer!])).toEqual(items.map((i) => i.options[i.answer]));
    expect(ceval.map((f) => path.basename(f)).sort()).toEqual(["berths_val.csv", "notices_val.csv", "泊位_val.csv"]);
    const zh = parseCsv(
      fs.readFileSync(
        ceval.find((f) => f.includes("泊位"))!,
        "utf8",
      ),
      { columns: true },
    ) as Record<string, string>[];
    expect(Object.keys(zh[0]!)).toEqual(["id", "question", "A", "B", "C", "D", "answer"]);
    // And H5's loader reads the C-Eval form back.
    expect(loadMcq(ceval.find((f) => f.includes("泊位"))!).length).toBe(zh.length);
  });
});

describe("document files", () => {
  it("subjects come from sub-folders, else from the file name without numbers", () => {
    expect(subjectFromName("docs/en-notice-2024-003.md")).toBe("en-notice");
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, "berths"));
    fs.writeFileSync(path.join(dir, "berths", "a.md"), "x");
    fs.writeFileSync(path.join(dir, "faq-01.txt"), "x");
    fs.writeFileSync(path.join(dir, "image.png"), "x");
    expect(collectDocumentFiles([dir]).map((f) => [f.id, f.subject])).toEqual([
      ["berths/a.md", "berths"],
      ["faq-01.txt", "faq"],
    ]);
    expect(() => collectDocumentFiles([path.join(dir, "none")])).toThrow(/none: document file or folder not found/);
  });
});

describe("model-written items", () => {
  const passage = paragraphs({
    id: "p.md",
    subject: "berths",
    text: "# Title\n\nThe maximum draught for Berth Q1 is 12.5 m. Pilots board at Lingjiao station.\n\nshort",
  })[0]!;
  it("finds paragraphs with spans", () => {
    expect(passage).toMatchObject({
      doc: "p.md",
      start: 9,
      text: "The maximum draught for Berth Q1 is 12.5 m. Pilots board at Lingjiao station.",
    });
  });
  it("keeps valid JSON (even wrapped in prose), rejects the rest with a reason", async () => {
    const replies = [
      'Sure! ```json\n{"question": "Where do pilots board?", "options": ["Baisha", "Lingjiao station", "Shimen", "Yuwan"], "answer": "B"}\n```',
      '{"question": "Q?", "options": ["a", "b", "c"], "answer": "A"}',
      '{"question": "Q?", "options": ["a", "b", "c", "d"], "answer": "E"}',
      '{"question": "Q?", "options": ["a", "a", "c", "d"], "answer": "A"}',
      '{"question": "What is the draught?", "options": ["99 fathoms deep", "12.5 m", "3 m", "4 m"], "answer": "A"}',
      "I cannot do that.",
    ];
    let call = 0;
    const model = new RecordingChatModel("fake:writer", () => replies[call++]!);
    const result = await generateItemsWithModel(
      model,
      Array.from({ length: replies.length }, () => passage),
    );
    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({
      kind: "generated",
      options: ["Baisha", "Lingjiao station", "Shimen", "Yuwan"],
      answer: 1,
      source: { doc: "p.md", start: 9 },
      distractorSource: "model",
    });
    expect(result.rejected.map((r) => r.reason)).toEqual([
      "not four non-empty options",
      'answer "E" is not a letter A-D',
      "options repeat",
      "the correct option is not supported by the passage",
      "no JSON object in the reply",
    ]);
    expect(model.calls[0]!.messages[1]!.content).toBe(passage.text);
    expect(model.calls[0]!.options).toMatchObject({ temperature: 0 });
  });
  it("merges with rule-based items, dropping a generated question that repeats one", () => {
    const generated = parseGeneratedItem(
      '{"question": "What is the maximum draught for Berth Q2?", "options": ["9.8 m","1 m","2 m","3 m"], "answer": "A"}',
      { ...passage, text: "The maximum draught for Berth Q2 is 9.8 m." },
    ).item!;
    const fresh = parseGeneratedItem(
      '{"question": "Where do pilots board?", "options": ["Baisha", "Lingjiao station", "Shimen", "Yuwan"], "answer": "B"}',
      passage,
    ).item!;
    const plain = buildMcqFromDocuments(corpus, { seed: 3 });
    const merged = buildMcqFromDocuments(corpus, { seed: 3, generated: [generated, fresh] });
    expect(merged.items).toHaveLength(plain.items.length + 1);
    expect(merged.duplicates).toBe(plain.duplicates + 1);
    expect(seededRandom(1)()).toBeTypeOf("number");
  });
});
