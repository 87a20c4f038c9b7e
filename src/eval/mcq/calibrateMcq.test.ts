import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startFakeOpenAIServer } from "../../llm/testing/fakeOpenAIServer.js";
import { readItemRecords } from "../results.js";
import { runEvaluation } from "../runEvaluation.js";
import { loadEvalSpec } from "../spec.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-calibration-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const LETTERS = ["A", "B", "C", "D"];

/**
 * 40 items, gold spread evenly over A-D. Each question carries a clue: the gold letter for 3 items in 4,
 * another letter for the fourth (so perfect accuracy is impossible). The endpoint's letter scores add the
 * clue's pull (+1) to a prompt-independent preference for "A" (+1.2): asked plainly it answers A nearly always.
 */
function biasedSet(file: string): void {
  const lines = Array.from({ length: 40 }, (_, i) => {
    const gold = LETTERS[i % 4]!;
    const clue = i % 8 === 7 ? LETTERS[(i + 1) % 4]! : gold;
    return JSON.stringify({ id: `q${i}`, question: `Question ${i} points to ${clue}.`, A: "one", B: "two", C: "three", D: "four", answer: gold, subject: "harbor" });
  });
  fs.writeFileSync(file, `${lines.join("\n")}\n`);
}

function letterLogprob(prefix: string, token: string): number {
  if (!LETTERS.includes(token) || !prefix.endsWith("Answer: ")) return -1;
  const clue = /points to ([A-D])\./.exec(prefix.split("\n").findLast((line) => line.startsWith("Question")) ?? "")?.[1];
  return -3 + (token === "A" ? 1.2 : 0) + (token === clue ? 1 : 0);
}

const distribution = (predictions: (string | null)[]) => LETTERS.map((letter) => predictions.filter((prediction) => prediction === letter).length);

describe("contextual calibration in eval run", () => {
  it("flattens the predicted-letter distribution of a model that prefers one letter", async () => {
    const server = await startFakeOpenAIServer({ tokenLogprob: letterLogprob });
    try {
      biasedSet(path.join(root, "biased.jsonl"));
      const spec = path.join(root, "eval.yaml");
      const system = `backend: openai, model: m, baseUrl: "${server.baseUrl}", maxRetries: 0, chatTemplate: none`;
      fs.writeFileSync(spec, `name: calibration\nsystems:\n  - { name: plain, ${system} }\n  - { name: calibrated, ${system}, prompt: { calibration: contextual } }\nsets:\n  - { name: biased, path: biased.jsonl }\n`);
      const outDir = path.join(root, "out");
      const summary = await runEvaluation(loadEvalSpec(spec), { outDir });
      const records = (name: string) => readItemRecords(path.join(outDir, "items", name, "biased.jsonl"));
      const plain = distribution(records("plain").map((record) => record.prediction));
      const calibrated = distribution(records("calibrated").map((record) => record.prediction));
      const accuracy = (name: string) => summary.results.find((row) => row.system === name)!.accuracy!.value;
      console.log(`predicted A/B/C/D: plain ${plain.join("/")} (accuracy ${accuracy("plain")}), calibrated ${calibrated.join("/")} (accuracy ${accuracy("calibrated")})`);
      // Gold is 10/10/10/10; the plain system's largest letter share far exceeds it, the calibrated one's does not.
      expect(Math.max(...plain)).toBeGreaterThanOrEqual(30);
      expect(Math.max(...calibrated)).toBeLessThanOrEqual(15);
      expect(accuracy("calibrated")).toBeGreaterThan(accuracy("plain"));
      const first = records("calibrated")[0]!;
      expect(first.calibration!.bias.A).toBeGreaterThan(first.calibration!.bias.B!);
      expect(first.calibration!.uncalibrated).toBe("A");
    } finally {
      await server.close();
    }
  });
});
