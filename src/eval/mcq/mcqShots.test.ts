import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startFakeOpenAIServer } from "../../llm/testing/fakeOpenAIServer.js";
import { Bm25Retriever } from "../../rag/bm25Retriever.js";
import { readItemRecords } from "../results.js";
import { runEvaluation } from "../runEvaluation.js";
import { loadEvalSpec } from "../spec.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-mcq-shots-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const topics = ["berth allocation for container ships", "tide tables and under keel clearance", "pilot boarding ladders", "bunker fuel sampling"];
const line = (id: string, question: string, answer: string) => JSON.stringify({ id, question, A: "yes", B: "no", C: "maybe", D: "never", answer, subject: "harbor" });

describe("eval run with a template's kNN shots", () => {
  it("puts each test item's nearest dev item first and never a copy of a test item", async () => {
    const tests = topics.map((topic, i) => line(`t${i}`, `Which procedure governs ${topic} in the port?`, "A"));
    // The dev split holds one near-neighbour per test item, plus a verbatim copy of test item 1 (a leak).
    const dev = [...topics.map((topic, i) => line(`d${i}`, `What is the rule for ${topic}?`, "B")), line("leak", `Which procedure governs ${topics[1]} in the port?`, "A")];
    fs.writeFileSync(path.join(root, "test.jsonl"), `${tests.join("\n")}\n`);
    fs.writeFileSync(path.join(root, "dev.jsonl"), `${dev.join("\n")}\n`);
    const server = await startFakeOpenAIServer();
    try {
      const spec = path.join(root, "eval.yaml");
      fs.writeFileSync(
        spec,
        `name: shots\nsystems:\n  - { name: knn, backend: openai, model: m, baseUrl: "${server.baseUrl}", maxRetries: 0, chatTemplate: none, prompt: { fewShot: { shots: 2, selection: knn } } }\nsets:\n  - { name: port, path: test.jsonl, dev: dev.jsonl }\n`,
      );
      await runEvaluation(loadEvalSpec(spec), { outDir: path.join(root, "out"), shotRetriever: (passages) => new Bm25Retriever(passages) });
      const records = readItemRecords(path.join(root, "out", "items", "knn", "port.jsonl"));
      expect(records).toHaveLength(4);
      for (const [i, record] of records.entries()) {
        const blocks = record.prompt.split("\n\n");
        // Header, two shots, the question.
        expect(blocks[1]!.startsWith(`What is the rule for ${topics[i]}?`), record.prompt).toBe(true);
        expect(blocks.slice(1, 3).some((block) => block.startsWith("Which procedure"))).toBe(false);
      }
    } finally {
      await server.close();
    }
  });
});
