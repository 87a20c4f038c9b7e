import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { citationsSection, measureLabCitations } from "./labCitations.js";

const evalDir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-citations-"));
afterAll(() => fs.rmSync(evalDir, { recursive: true, force: true }));

const retriever = new Bm25Retriever([
  { id: "loa#0", documentId: "berth-q15", text: "Berth Q15 accepts ships up to 140 m length overall." },
  { id: "dues#0", documentId: "fees", text: "Harbour dues are CNY 1.85 per gross tonne." },
]);

describe("measureLabCitations", () => {
  it("re-retrieves each question's passages and scores each retrieval route's answers", async () => {
    const answers = [
      {
        id: "q1",
        system: "retrieval",
        answer: "Berth Q15 accepts ships up to 140 m [1].",
        promptTokens: 1,
        completionTokens: 1,
        seconds: 0,
      },
      {
        id: "q2",
        system: "retrieval",
        answer: "Harbour dues are CNY 1.85 per gross tonne [2].",
        promptTokens: 1,
        completionTokens: 1,
        seconds: 0,
      },
      { id: "q1", system: "retrieval-sft", answer: "140 m.", promptTokens: 1, completionTokens: 1, seconds: 0 },
      {
        id: "q1",
        system: "base",
        answer: "Berth Q15 accepts ships up to 140 m [1].",
        promptTokens: 1,
        completionTokens: 1,
        seconds: 0,
      },
    ];
    fs.mkdirSync(path.join(evalDir, "open", "domain-open"), { recursive: true });
    fs.writeFileSync(
      path.join(evalDir, "open", "domain-open", "answers.jsonl"),
      answers.map((a) => JSON.stringify(a)).join("\n") + "\n",
    );
    const rows = await measureLabCitations({
      evalDir,
      set: "domain-open",
      questions: [
        { id: "q1", question: "Which length overall does Berth Q15 accept?", references: [] },
        { id: "q2", question: "How much are harbour dues per gross tonne?", references: [] },
      ],
      routes: ["retrieval", "retrieval-sft"],
      retriever,
      k: 1,
    });
    // q2's only shown passage is the dues passage, so its [2] names nothing: one supported answer of two.
    expect(rows).toEqual([
      { route: "retrieval", summary: { answers: 2, recall: 0.5, precision: 0.5, answersWithCitations: 2 } },
      { route: "retrieval-sft", summary: { answers: 1, recall: 0, precision: 0, answersWithCitations: 0 } },
    ]);
    const section = citationsSection(rows)!;
    expect(section.blocks[0]).toMatchObject({
      kind: "table",
      rows: [
        ["retrieval", "2", "2", "50.0%", "50.0%"],
        ["retrieval-sft", "1", "0", "0.0%", "0.0%"],
      ],
    });
  });
});
