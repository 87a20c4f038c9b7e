/**
 * `vertical serve` killed with SIGKILL while requests are in flight: every rating and every piece
 * of feedback the server acknowledged is in the SQLite files afterwards, and none is half there (a
 * rubric holds all three criteria or none; an answer is whole).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FeedbackStore } from "../eval/feedback/feedbackStore.js";
import { RatingsStore } from "../eval/ratings/ratingsStore.js";

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-killed-serve-"));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("vertical serve killed mid-request", () => {
  it("keeps every acknowledged rating and feedback whole in SQLite", async () => {
    const ratingsFile = path.join(folder, "ratings.db");
    const feedbackFile = path.join(folder, "feedback.db");
    const child = spawn(process.execPath, ["--import", "tsx", path.resolve("src/serve/testing/serveUntilKilled.ts"), ratingsFile, feedbackFile], { stdio: ["ignore", "pipe", "inherit"] });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.on("exit", (code) => reject(new Error(`server exited early with ${code}`)));
    });
    const { tasks } = (await (await fetch(`${url}/api/ratings/tasks?rater=r&kind=score`)).json()) as { tasks: Array<{ taskId: string }> };
    const acknowledgedRaters: string[] = [];
    const acknowledgedFeedback: string[] = [];
    let stop = false;
    const comment = "c".repeat(19_999) + "!";
    // Eight clients, each rating and asking-then-correcting in a loop until the server dies under them.
    const client = async (index: number) => {
      for (let round = 0; !stop; round++) {
        try {
          const rater = `rater ${index}-${round}`;
          const rated = await post(`${url}/api/ratings`, { rater, taskId: tasks[0]!.taskId, scores: { correctness: 5, completeness: 4, fluency: 3 }, comment });
          if (rated.status === 201) acknowledgedRaters.push(rater);
          const answer = (await (await post(`${url}/v1/chat/completions`, { model: "sft", messages: [{ role: "user", content: `question ${index}-${round}` }] })).json()) as { id: string };
          const correction = `correction ${index}-${round} ${"x".repeat(10_000)}`;
          if ((await post(`${url}/v1/feedback`, { response_id: answer.id, rating: -1, correction })).status === 201) acknowledgedFeedback.push(correction);
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, index) => client(index));
    while (acknowledgedFeedback.length < 40) await new Promise((resolve) => setTimeout(resolve, 10));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("exit", resolve));
    stop = true;
    await Promise.all(clients);

    const ratings = RatingsStore.open(ratingsFile);
    const stored = ratings.ratings();
    const raters = new Set(stored.map((rating) => rating.rater));
    expect(acknowledgedRaters.length).toBeGreaterThanOrEqual(40);
    for (const rater of acknowledgedRaters) expect(raters.has(rater)).toBe(true);
    expect(stored).toHaveLength(3 * raters.size);
    for (const rating of stored) expect(rating.comment).toBe(comment);
    ratings.dispose();

    const feedback = FeedbackStore.open(feedbackFile);
    const corrections = new Set(feedback.feedback().map((record) => record.correction));
    for (const correction of acknowledgedFeedback) expect(corrections.has(correction)).toBe(true);
    for (const record of feedback.feedback()) expect(record.response.answer).toBe("The pilot station guides ships into the harbour.");
    feedback.dispose();
  }, 30_000);
});
