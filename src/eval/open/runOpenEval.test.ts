import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../llm/types.js";
import { RecordingChatModel } from "../testing/recordingChatModel.js";
import { judgePair } from "../judge/judges.js";
import { parseOpenQuestions } from "./questions.js";
import { openResultRows } from "./openResultRows.js";
import { describeEmptyAnswers, runOpenEval } from "./runOpenEval.js";

const questionsText = [
  JSON.stringify({
    id: "q1",
    question: "What is the capital of France?",
    reference: "Paris is the capital of France.",
  }),
  JSON.stringify({ id: "q2", question: "中国的首都是哪里？", reference: ["北京", "北京市"], subject: "geo" }),
  JSON.stringify({ id: "q3", question: "Say something nice." }),
].join("\n");

const lastUser = (messages: ChatMessage[]) => messages.filter((m) => m.role === "user").at(-1)!.content;
/** A judge that knows which answer is better regardless of its position: the one mentioning the capital. */
const fairJudge = () =>
  new RecordingChatModel("judge:fair", (messages) => {
    const text = lastUser(messages);
    if (text.includes("[The Start of Assistant A's Answer]")) {
      const a = text.split("[The Start of Assistant A's Answer]")[1]!.split("[The End")[0]!;
      const b = text.split("[The Start of Assistant B's Answer]")[1]!.split("[The End")[0]!;
      const good = (s: string) => /Paris|北京|nice/.test(s);
      return good(a) === good(b) ? "Equal. [[C]]" : good(a) ? "A is right. [[A]]" : "B is right. [[B]]";
    }
    return /Paris|北京|nice/.test(text.split("Assistant's Answer]")[1] ?? "")
      ? "Rating: [[9]]"
      : "Wrong. Rating: [[2]]";
  });

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-open-"));
  dirs.push(dir);
  return dir;
};

describe("question sets", () => {
  it("reads {id, question, reference?, subject?} and names file:line on errors", () => {
    const questions = parseOpenQuestions(questionsText, "set.jsonl");
    expect(questions.map((q) => q.references)).toEqual([["Paris is the capital of France."], ["北京", "北京市"], []]);
    expect(() => parseOpenQuestions('{"id":"a","question":"x"}\n{"id":"b"}', "set.jsonl")).toThrow(
      /set\.jsonl:2: field "question"/,
    );
    expect(() => parseOpenQuestions('{"id":"a","question":"x"}\n{oops', "set.jsonl")).toThrow(
      /set\.jsonl:2: not valid JSON/,
    );
    expect(() => parseOpenQuestions('{"id":"a","question":"x"}\n{"id":"a","question":"y"}', "s.jsonl")).toThrow(
      /s\.jsonl:2: duplicate id "a"/,
    );
  });
});

describe("pairwise judging in both orders", () => {
  const question = { question: "q" };
  it("a position-biased judge (always [[A]]) produces an inconsistent tie, not a win", async () => {
    const judge = new RecordingChatModel("judge:biased", () => "[[A]]");
    const result = await judgePair(judge, question, { a: "base", b: "sft", answerA: "x", answerB: "y" });
    expect(result).toMatchObject({ winner: "tie", consistent: false, verdicts: ["A", "A"] });
    // The second call shows the answers swapped.
    expect(lastUser(judge.calls[0]!.messages)).toMatch(/Assistant A's Answer\]\nx/);
    expect(lastUser(judge.calls[1]!.messages)).toMatch(/Assistant A's Answer\]\ny/);
    expect(judge.calls[0]!.options).toMatchObject({ temperature: 0 });
  });
  it("consistent verdicts map positions back to systems; an unreadable one is a tie", async () => {
    const answers = { a: "base", b: "sft", answerA: "wrong", answerB: "Paris" };
    const result = await judgePair(fairJudge(), question, answers);
    expect(result).toMatchObject({ winner: "b", consistent: true, verdicts: ["B", "A"] });
    const mumbler = new RecordingChatModel("judge:mumbles", (m) =>
      lastUser(m).includes("\nwrong\n[The End of Assistant A") ? "[[B]]" : "hmm",
    );
    expect(await judgePair(mumbler, question, answers)).toMatchObject({
      winner: "tie",
      consistent: false,
      verdicts: ["B", undefined],
    });
  });
});

describe("runOpenEval", () => {
  it("answers, scores against references, judges, writes open/<set>.json, and resumes without asking again", async () => {
    const outDir = tempDir();
    const questions = parseOpenQuestions(questionsText, "set.jsonl");
    const base = new RecordingChatModel("fake:base", () => "I do not know.");
    const sft = new RecordingChatModel("fake:sft", (m) =>
      lastUser(m).includes("France")
        ? "Paris is the capital of France."
        : lastUser(m).includes("首都")
          ? "北京"
          : "You are nice.",
    );
    const judge = fairJudge();
    let clock = 0;
    const result = await runOpenEval({
      set: "geo",
      questions,
      systems: [
        { name: "base", model: base, systemPrompt: "Be brief." },
        { name: "sft", model: sft },
      ],
      outDir,
      judge,
      now: () => (clock += 250),
    });
    expect(base.calls[0]!.messages[0]).toEqual({ role: "system", content: "Be brief." });
    const sftSummary = result.systems.find((s) => s.system === "sft")!;
    const baseSummary = result.systems.find((s) => s.system === "base")!;
    // sft matches both referenced questions exactly.
    expect(sftSummary.rougeL).toBe(1);
    expect(sftSummary.charF1).toBe(1);
    expect(baseSummary.rougeL).toBe(0);
    expect(sftSummary.wallSeconds).toBeCloseTo(0.75, 12); // 3 answers x 250 ms
    expect(result.withReferences).toBe(2);
    expect(result.pairwise.map((p) => p.winner)).toEqual(["b", "b", "b"]);
    expect(result.judgeConsistency).toBe(1);
    expect(result.winRates.find((w) => w.system === "sft")!.winRate).toBe(1);
    expect(sftSummary.judgeRating).toBe(9);
    expect(baseSummary.judgeRating).toBe(2);
    expect(judge.calls).toHaveLength(3 * 2 + 3 * 2);
    const onDisk = JSON.parse(fs.readFileSync(path.join(outDir, "open", "geo.json"), "utf8"));
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(result)));
    const rows = openResultRows(result);
    expect(rows.find((r) => r.system === "sft")).toMatchObject({
      kind: "open",
      set: "geo",
      n: 3,
      total: 3,
      rougeL: 1,
      judgeRating: 9,
      winRate: 1,
    });
    expect(rows.find((r) => r.system === "base")).toMatchObject({ rougeL: 0, judgeRating: 2, winRate: 0 });

    // Resume: a truncated last line is redone, everything else is kept.
    const answersFile = path.join(outDir, "open", "geo", "answers.jsonl");
    const lines = fs.readFileSync(answersFile, "utf8").trimEnd().split("\n");
    fs.writeFileSync(answersFile, lines.slice(0, -1).join("\n") + "\n" + lines.at(-1)!.slice(0, 10));
    const sftAgain = new RecordingChatModel("fake:sft", sft["reply"]);
    const baseAgain = new RecordingChatModel("fake:base", () => "never asked");
    const judgeAgain = fairJudge();
    const resumed = await runOpenEval({
      set: "geo",
      questions,
      systems: [
        { name: "base", model: baseAgain },
        { name: "sft", model: sftAgain },
      ],
      outDir,
      judge: judgeAgain,
    });
    expect(baseAgain.calls).toHaveLength(0);
    expect(sftAgain.calls).toHaveLength(1);
    expect(judgeAgain.calls).toHaveLength(0);
    expect(resumed.systems.find((s) => s.system === "sft")!.rougeL).toBe(1);

    // A base that is not a system is a config error before any model is asked.
    const unused = new RecordingChatModel("fake:x", () => "x");
    await expect(
      runOpenEval({
        set: "geo",
        questions,
        systems: [{ name: "sft", model: unused }],
        outDir: tempDir(),
        base: "base",
      }),
    ).rejects.toThrow(/set "geo": the base system "base" is not among the systems \(sft\)/);
    expect(unused.calls).toHaveLength(0);
  });
});

describe("empty answers", () => {
  it("counts answers that are only whitespace, so the report flags them instead of a silent 0", async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "open-empty-"));
    dirs.push(outDir);
    const questions = parseOpenQuestions(questionsText, "q.jsonl");
    const result = await runOpenEval({
      set: "open",
      questions,
      outDir,
      systems: [
        { name: "base", model: new RecordingChatModel("m:answers", () => "Paris.") },
        { name: "mute", model: new RecordingChatModel("m:mute", (messages) => (lastUser(messages).includes("France") ? "Paris" : " \n\t ")) },
      ],
    });
    expect(result.systems.map((s) => [s.system, s.emptyAnswers])).toEqual([
      ["base", 0],
      ["mute", 2],
    ]);
    expect(describeEmptyAnswers(result)).toBe("Empty answers (only whitespace, scored 0): mute 2/3.");
  });
});
