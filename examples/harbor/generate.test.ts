import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { generateHarbor } from "./generate.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

interface Item {
  id: string;
  language: string;
  question: string;
  choices: string[];
  answer: number;
  source: string;
}

describe("examples/harbor generator", () => {
  const written = generateHarbor({ outputDir: scratch });

  it("regenerates the committed files byte for byte", () => {
    expect(written.length).toBeGreaterThan(300);
    for (const relative of written) {
      const committed = path.join(here, relative);
      expect(fs.existsSync(committed), `${relative} is generated but not committed: run npm run example:generate`).toBe(true);
      expect(fs.readFileSync(path.join(scratch, relative)).equals(fs.readFileSync(committed)), `${relative} differs from the generator's output`).toBe(true);
    }
    // And nothing stale is committed in the generated folders.
    const committedDocs = fs.readdirSync(path.join(here, "docs")).length;
    expect(committedDocs).toBe(written.filter((f) => f.startsWith("docs/")).length);
  });

  it("is deterministic: a second run into another folder gives the same bytes", () => {
    const second = fs.mkdtempSync(path.join(os.tmpdir(), "harbor-2-"));
    try {
      generateHarbor({ outputDir: second });
      for (const relative of ["eval/mcq.jsonl", "sft/harbor-chat.jsonl", "docs/en-regulation-pilotage.md", "general/mcq.jsonl"]) {
        expect(fs.readFileSync(path.join(second, relative), "utf8")).toBe(fs.readFileSync(path.join(scratch, relative), "utf8"));
      }
    } finally {
      fs.rmSync(second, { recursive: true, force: true });
    }
  });

  it("grounds every domain MCQ answer in the cited document, in the item's language", () => {
    const items = readJsonl<Item>(path.join(scratch, "eval/mcq.jsonl"));
    expect(items.length).toBeGreaterThan(200);
    for (const item of items) {
      expect(item.choices).toHaveLength(4);
      expect(new Set(item.choices).size, `${item.id} has duplicate choices`).toBe(4);
      const document = fs.readFileSync(path.join(scratch, "docs", `${item.source}.md`), "utf8");
      expect(item.source.startsWith(`${item.language}-`)).toBe(true);
      expect(document, `${item.id}: answer not in ${item.source}`).toContain(item.choices[item.answer]!);
    }
  });

  it("grounds every open-ended reference and general MCQ answer in its cited text", () => {
    const facts = JSON.parse(fs.readFileSync(path.join(scratch, "facts.json"), "utf8")) as {
      facts: { id: string; value: { en: string; zh: string } }[];
    };
    const valueOf = new Map(facts.facts.map((fact) => [fact.id, fact.value]));
    for (const item of readJsonl<{ id: string; language: "en" | "zh"; reference: string; source: string; fact: string }>(path.join(scratch, "eval/open.jsonl"))) {
      const value = valueOf.get(item.fact)![item.language];
      expect(item.reference).toContain(value);
      expect(fs.readFileSync(path.join(scratch, "docs", `${item.source}.md`), "utf8"), item.id).toContain(value);
    }
    for (const item of readJsonl<Item>(path.join(scratch, "general/mcq.jsonl"))) {
      const text = fs.readFileSync(path.join(scratch, "general/text", `${item.source}.txt`), "utf8");
      expect(text, item.id).toContain(item.choices[item.answer]!);
    }
  });

  it("keeps the few-shot exemplars' facts out of the test sets", () => {
    const devFacts = new Set(readJsonl<{ fact: string }>(path.join(scratch, "eval/mcq-dev.jsonl")).map((item) => item.fact));
    expect(devFacts.size).toBeGreaterThan(0);
    for (const file of ["eval/mcq.jsonl", "eval/open.jsonl"])
      for (const item of readJsonl<{ fact: string }>(path.join(scratch, file))) expect(devFacts.has(item.fact), `${file}: ${item.fact}`).toBe(false);
  });

  it("never asks an SFT question that is also an evaluation question", () => {
    const questions = new Set(readJsonl<Item>(path.join(scratch, "eval/mcq.jsonl")).map((item) => item.question));
    for (const conversation of readJsonl<{ messages: { role: string; content: string }[] }>(path.join(scratch, "sft/harbor-chat.jsonl"))) {
      for (const message of conversation.messages) if (message.role === "user") expect(questions.has(message.content)).toBe(false);
    }
  });
});
