import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exportFeedback } from "./feedbackExport.js";
import { FeedbackStore } from "./feedbackStore.js";

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-feedback-"));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

function storeWithTwoAnswers() {
  let tick = 0;
  const store = FeedbackStore.open(":memory:", { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) });
  const conversation = (content: string) => [{ role: "user", content }];
  store.recordResponse({ id: "r1", system: "sft", messages: conversation("Berth fee?"), question: "Berth fee?", answer: "Ten yuan.", passages: [] });
  store.recordResponse({ id: "r2", system: "rag", messages: conversation("Pilot?"), question: "Pilot?", answer: "At the outer buoy [1].", passages: [{ source: "pilots.md#0", text: "…outer buoy.", score: 2.5 }] });
  return store;
}

describe("feedback store and its exports", () => {
  it("exports corrections as eval references, SFT conversations and preference pairs; the latest feedback counts", () => {
    const store = storeWithTwoAnswers();
    store.addFeedback({ responseId: "r1", rating: -1, correction: "Eleven yuan." });
    store.addFeedback({ responseId: "r1", correction: "Twelve yuan per metre." });
    store.addFeedback({ responseId: "r2", rating: 1 });
    const records = store.feedback();
    expect(records.map((record) => record.response.passages.length)).toEqual([0, 0, 1]);
    const lines = (kind: "eval" | "sft" | "preference") => exportFeedback(records, kind).text.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines("eval")).toEqual([
      { id: "r1", question: "Berth fee?", reference: "Twelve yuan per metre.", subject: "sft" },
      { id: "r2", question: "Pilot?", reference: "At the outer buoy [1].", subject: "rag" },
    ]);
    expect(lines("sft")).toEqual([{ messages: [{ role: "user", content: "Berth fee?" }, { role: "assistant", content: "Twelve yuan per metre." }] }]);
    expect(lines("preference")).toEqual([
      { prompt: [{ role: "user", content: "Berth fee?" }], chosen: [{ role: "assistant", content: "Twelve yuan per metre." }], rejected: [{ role: "assistant", content: "Ten yuan." }] },
    ]);
    expect(exportFeedback([], "sft")).toEqual({ text: "", lines: 0 });
    store.dispose();
  });

  it("refuses feedback on an unknown response and empty feedback, naming the field", () => {
    const store = storeWithTwoAnswers();
    expect(() => store.addFeedback({ responseId: "nope", rating: 1 })).toThrow(/response_id: no response with id "nope"/);
    expect(() => store.addFeedback({ responseId: "r1" })).toThrow(/rating: feedback needs a rating, a correction or a comment/);
    expect(store.counts()).toEqual({ responses: 2, feedback: 0 });
    store.dispose();
  });

  it("loses nothing committed and keeps no half row when the writer is killed with SIGKILL", async () => {
    const file = path.join(folder, "killed.db");
    const child = spawn(process.execPath, ["--import", "tsx", path.resolve("src/eval/feedback/testing/writeResponsesForever.ts"), file], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", () => resolve());
      child.on("exit", (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("exit", resolve));
    const store = FeedbackStore.open(file);
    const { responses, feedback } = store.counts();
    expect(responses).toBeGreaterThan(20);
    // Each response is written before its feedback, each in its own transaction: at most one response lacks it.
    expect(responses - feedback).toBeLessThanOrEqual(1);
    for (const record of store.feedback()) {
      expect(record.response.answer).toHaveLength(20_000);
      expect(record.response.answer.endsWith("!")).toBe(true);
      expect(record.correction).toBe(`correction ${record.response.question.split(" ")[1]}`);
    }
    store.dispose();
  });
});
