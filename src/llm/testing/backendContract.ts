/**
 * One suite of properties every backend must keep, run against each implementation (the OpenAI-compatible
 * backend on a loopback server, node-llama-cpp, the engine scorer): a Hono-style shared contract.
 */
import { describe, expect, it } from "vitest";
import type { ChatModel, ScoreRequest, TokenScorer } from "../types.js";

const REQUESTS: ScoreRequest[] = [
  { context: "The harbour master assigns a", continuation: " berth" },
  { context: "The harbour master assigns a", continuation: " berth to each vessel" },
  { context: "港口国监督检查的对象是", continuation: "外国船舶" },
];

export function tokenScorerContract(name: string, open: () => Promise<TokenScorer>): void {
  describe(`TokenScorer contract: ${name}`, () => {
    it("returns one score per request, in order, with consistent sums and counts", async () => {
      const scorer = await open();
      try {
        const scores = await scorer.score(REQUESTS);
        expect(scores).toHaveLength(REQUESTS.length);
        for (const score of scores) {
          expect(score.tokenCount).toBe(score.tokenLogprobs.length);
          expect(score.tokenCount).toBeGreaterThan(0);
          expect(score.logprob).toBeCloseTo(
            score.tokenLogprobs.reduce((a, b) => a + b, 0),
            9,
          );
          for (const logprob of score.tokenLogprobs) expect(logprob).toBeLessThanOrEqual(0);
        }
        // A longer continuation with the same start cannot be more likely than its first token alone.
        expect(scores[1]!.logprob).toBeLessThanOrEqual(scores[0]!.tokenLogprobs[0]! + 1e-9);
        // Scoring one request alone gives the same numbers as scoring it in a batch (no state leaks).
        // Not bit-equal: a backend may reuse cached prefix state, and f32 sums then differ by ~1e-6.
        const [alone] = await scorer.score([REQUESTS[2]!]);
        expect(Math.abs(alone!.logprob - scores[2]!.logprob)).toBeLessThan(1e-4);
        const again = await scorer.score(REQUESTS);
        again.forEach((score, i) => expect(Math.abs(score.logprob - scores[i]!.logprob)).toBeLessThan(1e-4));
      } finally {
        await scorer.dispose?.();
      }
    });
  });
}

export function chatModelContract(name: string, open: () => Promise<ChatModel>): void {
  describe(`ChatModel contract: ${name}`, () => {
    it("completes and chats, streaming pieces that add up to the text, within maxTokens", async () => {
      const model = await open();
      try {
        const pieces: string[] = [];
        const streamed = await model.complete("The port of Qinglan", {
          maxTokens: 6,
          onText: (delta) => pieces.push(delta),
        });
        expect(pieces.join("")).toBe(streamed.text);
        expect(streamed.usage.completionTokens).toBeLessThanOrEqual(6 * 4);
        const plain = await model.complete("The port of Qinglan", { maxTokens: 6 });
        expect(plain.text).toBe(streamed.text); // greedy by default: repeatable
        const chat = await model.chat(
          [
            { role: "system", content: "Answer briefly." },
            { role: "user", content: "What is a berth?" },
          ],
          { maxTokens: 4 },
        );
        expect(typeof chat.text).toBe("string");
        expect(["stop", "length"]).toContain(chat.finishReason);
        expect(chat.usage.promptTokens).toBeGreaterThan(0);
      } finally {
        await model.dispose?.();
      }
    });
  });
}
