import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ChatMessage, ChatModel, GenerateOptions, Generation } from "../llm/types.js";
import { CorpusStore } from "./corpusStore.js";
import { Decontaminator } from "./decontaminate.js";
import { augmentWithLlm, mineCorpus, mineTasks, readingComprehensionText } from "./mineTasks.js";

const english =
  "A pilot is a licensed mariner who guides ships through dangerous or congested waters. " +
  "Large vessels wait at the outer anchorage because the inner channel is too narrow for two ships to pass. " +
  "The tide fell below two metres at noon; therefore the tanker postponed its departure until the evening. " +
  "Harbour cranes unload between thirty and forty containers every hour during normal operations.";
const chinese = "引航员是指持有执照并引导船舶通过危险水域的海员。因为内航道太窄，所以大型船舶在外锚地等待。中午潮位低于两米，因此油轮推迟到晚上离港。港口起重机在正常作业时每小时装卸三十到四十个集装箱。";

class ScriptedModel implements ChatModel {
  readonly id = "scripted";
  readonly prompts: string[] = [];
  constructor(private readonly answers: string[]) {}
  async chat(messages: ChatMessage[], _options?: GenerateOptions): Promise<Generation> {
    this.prompts.push(messages[0]!.content);
    return { text: this.answers.shift() ?? "", usage: { promptTokens: 0, completionTokens: 0 }, finishReason: "stop" };
  }
  async complete(): Promise<Generation> {
    throw new Error("not used");
  }
}

describe("mineTasks", () => {
  it("mines definition, cause, effect, fill-in and title tasks from English text, answerable from it", () => {
    const tasks = mineTasks(english, "Pilotage", { perKind: 3, seed: 1 });
    const byKind = (kind: string) => tasks.filter((task) => task.kind === kind);
    expect(byKind("definition")).toEqual([{ kind: "definition", question: "According to the text, what is a pilot?", answer: expect.stringContaining("licensed mariner") }]);
    expect(byKind("cause")[0]).toEqual({ kind: "cause", question: "According to the text, why large vessels wait at the outer anchorage?", answer: "Because the inner channel is too narrow for two ships to pass." });
    expect(byKind("effect")[0]!.answer).toBe("The tanker postponed its departure until the evening.");
    expect(byKind("title")[0]!.answer).toBe("Pilotage");
    for (const task of byKind("fill-in")) {
      expect(task.question).toContain("____");
      expect(english).toContain(task.question.replace("Fill in the blank: ", "").replace("____", task.answer));
    }
    expect(readingComprehensionText(english, tasks)).toContain(`${english}\n\nQuestion: According to the text, what is a pilot?`);
  });

  it("mines the same kinds from Chinese text", () => {
    const tasks = mineTasks(chinese, "引航", { seed: 2 });
    expect(tasks.find((task) => task.kind === "definition")!.question).toBe("根据上文，什么是引航员？");
    expect(tasks.find((task) => task.kind === "cause")).toEqual({ kind: "cause", question: "根据上文，为什么大型船舶在外锚地等待？", answer: "因为内航道太窄。" });
    expect(tasks.find((task) => task.kind === "effect")!.answer).toBe("油轮推迟到晚上离港。");
    for (const task of tasks.filter((t) => t.kind === "fill-in")) expect(chinese).toContain(task.question.replace("填空：", "").replace("____", task.answer));
  });

  it("augments with an LLM backend, parses JSON in prose, and drops items overlapping an evaluation set", async () => {
    const evalItems = [{ file: "eval.jsonl", item: "q1", questionTexts: ["Why do large vessels wait at the outer anchorage instead of entering the inner channel directly?"], answerTexts: [] }];
    const decontaminator = new Decontaminator(evalItems);
    const model = new ScriptedModel([
      'Sure! ```json\n[{"question": "Who guides ships through congested waters?", "answer": "A pilot."}, {"question": "Why do large vessels wait at the outer anchorage instead of entering the inner channel directly?", "answer": "Narrow channel."}]\n```',
      "A licensed pilot steers vessels through crowded water.",
      "no json here",
      "",
    ]);
    const result = await augmentWithLlm([{ id: 1, text: english }, { id: 2, text: chinese }], model, { questionsPerDocument: 2, decontaminator });
    expect(result.tasks).toEqual([{ kind: "llm-qa", question: "Who guides ships through congested waters?", answer: "A pilot.", documentId: 1 }]);
    expect(result.contaminated).toBe(1);
    expect(result.paraphrases).toEqual([{ documentId: 1, text: "A licensed pilot steers vessels through crowded water." }]);
    expect(result.failures.map((f) => f.documentId)).toEqual([2, 2]);
    expect(model.prompts[0]).toContain("2 questions");
    expect(model.prompts[2]).toContain("提出2个");
  });

  it("mineCorpus writes OpenAI-messages JSONL and drops tasks that overlap the evaluation sets", async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-mine-"));
    const store = new CorpusStore(":memory:");
    store.insertDocuments([english, chinese].map((text, i) => ({ source: "domain", path: "x", ordinal: i, contentHash: String(i), language: "en", title: null, text, metadata: {} })));
    const decontaminator = new Decontaminator([{ file: "eval.jsonl", item: "q9", questionTexts: ["引航员是指持有执照并引导船舶通过危险水域的海员"], answerTexts: [] }]);
    const output = path.join(folder, "tasks.jsonl");
    const report = await mineCorpus(store, output, { decontaminator });
    const records = fs.readFileSync(output, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { messages: { role: string; content: string }[]; task: string });
    expect(records.length).toBe(report.tasks);
    expect(report.contaminated).toBeGreaterThanOrEqual(1);
    expect(records.every((record) => record.messages[0]!.role === "user" && record.messages[1]!.role === "assistant")).toBe(true);
    expect(records.some((record) => record.messages.some((m) => m.content.includes("引航员是指持有执照")))).toBe(false);
    expect(records.some((record) => record.task === "definition")).toBe(true);
    store.dispose();
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
