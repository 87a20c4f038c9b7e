import { afterEach, describe, expect, it } from "vitest";
import { RatingsStore } from "../eval/ratings/ratingsStore.js";
import { isSwapped, startRatingsServer, type RatingsApiOptions, type RatingsServer } from "./ratingsApi.js";

const itemsCsv = [
  "item_id,question,reference,answer:base,answer:sft",
  "q1,Fee?,12 yuan,unsure,12 yuan",
  "q2,Pilot?,,no idea,the pilot station",
  "q3,Berth?,,300 m,320 m",
].join("\n");

let server: RatingsServer | undefined;
let store: RatingsStore | undefined;
afterEach(async () => {
  await server?.close();
  store?.dispose();
  server = store = undefined;
});

async function start(options: RatingsApiOptions = {}) {
  store = RatingsStore.open(":memory:");
  store.importItemsCsv(itemsCsv, "items.csv");
  store.createPairs({ base: "base" });
  server = await startRatingsServer(store, options);
  expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return server.url;
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/api/ratings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("ratings HTTP API on 127.0.0.1", () => {
  it("lists blind tasks, maps left/right back to systems, and exports what was submitted", async () => {
    const url = await start();
    const response = await fetch(`${url}/api/ratings/tasks?rater=ann&kind=preference`);
    expect(response.status).toBe(200);
    const { tasks } = (await response.json()) as { tasks: Array<Record<string, string>> };
    expect(tasks).toHaveLength(3);
    expect(JSON.stringify(tasks)).not.toMatch(/"(base|sft)"|system/);
    // Every pair shown to ann: choose whichever side shows the sft answer.
    const sftAnswers = new Set(["12 yuan", "the pilot station", "320 m"]);
    for (const task of tasks) {
      const choice = sftAnswers.has(task.left!) ? "left" : "right";
      const submitted = await post(url, { rater: "ann", taskId: task.taskId, choice, comment: "more precise" });
      expect(submitted.status).toBe(201);
      expect(((await submitted.json()) as { rating: Record<string, unknown> }).rating).toMatchObject({
        rater: "ann",
        systemA: "base",
        systemB: "sft",
        preference: "B",
      });
    }
    // Both presentation orders occur across the pairs, so the mapping was exercised both ways.
    const swaps = tasks.map((t) => isSwapped("ann", Number(t.taskId!.slice(1))));
    expect(new Set(swaps).size).toBe(2);
    expect(
      ((await (await fetch(`${url}/api/ratings/tasks?rater=ann`)).json()) as { tasks: unknown[] }).tasks,
    ).toHaveLength(0);

    const scoreTasks = (
      (await (await fetch(`${url}/api/ratings/tasks?rater=bob&kind=score&limit=2`)).json()) as {
        tasks: Array<Record<string, string>>;
      }
    ).tasks;
    expect(scoreTasks).toHaveLength(2);
    expect(scoreTasks[0]).toMatchObject({
      kind: "score",
      itemId: "q1",
      question: "Fee?",
      reference: "12 yuan",
      answer: "unsure",
      criteria: ["correctness", "completeness", "fluency"],
    });
    expect((await post(url, { rater: "bob", taskId: scoreTasks[0]!.taskId, score: 2 })).status).toBe(201);
    const rubric = await post(url, {
      rater: "bob",
      taskId: scoreTasks[1]!.taskId,
      scores: { correctness: 5, completeness: 3, fluency: 4 },
    });
    expect(rubric.status).toBe(201);
    expect(((await rubric.json()) as { rating: unknown[] }).rating).toHaveLength(3);

    const exported = await fetch(`${url}/api/ratings/export`);
    expect(exported.headers.get("content-type")).toMatch(/text\/csv/);
    const lines = (await exported.text()).trim().split("\r\n");
    expect(lines).toHaveLength(1 + 7);
    expect(lines[1]).toMatch(/^preference,ann,q1,base,sft,B,,,,more precise,/);
    expect(lines[4]).toMatch(/^score,bob,q1,,,,base,overall,2,,/);
    expect(lines.slice(5).map((line) => line.split(",").slice(6, 9).join(","))).toEqual([
      "sft,correctness,5",
      "sft,completeness,3",
      "sft,fluency,4",
    ]);
    const jsonl = await fetch(`${url}/api/ratings/export?format=jsonl`);
    expect(jsonl.headers.get("content-type")).toMatch(/application\/jsonl/);
    const records = (await jsonl.text()).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual(store!.ratings());
    expect(records[6]).toMatchObject({ kind: "score", rater: "bob", itemId: "q1", system: "sft", criterion: "fluency", score: 4 });

    const summary = (await (await fetch(`${url}/api/ratings/summary`)).json()) as {
      raters: string[];
      ratings: number;
      winRates: Array<{ system: string; winRate: number }>;
      rubric: Array<{ system: string; criterion: string; mean: number; n: number }>;
      judge: unknown;
    };
    expect(summary.raters).toEqual(["ann", "bob"]);
    expect(summary.ratings).toBe(7);
    expect(summary.winRates.find((w) => w.system === "sft")!.winRate).toBe(1);
    expect(summary.rubric).toContainEqual({ system: "sft", criterion: "completeness", mean: 3, n: 1 });
    expect(summary.judge).toBeNull();
  });

  it("hides references when so configured, and compares a judge's verdicts with the people", async () => {
    const url = await start({
      reference: "hidden",
      judge: {
        pairwise: [
          { id: "q1", a: "base", b: "sft", winner: "b" },
          { id: "q2", a: "sft", b: "base", winner: "b" },
        ],
      },
    });
    for (const kind of ["preference", "score"]) {
      const { tasks } = (await (await fetch(`${url}/api/ratings/tasks?rater=ann&kind=${kind}`)).json()) as {
        tasks: Array<Record<string, unknown>>;
      };
      expect(tasks.find((task) => task.itemId === "q1")).not.toHaveProperty("reference");
    }
    // ann prefers sft on q1 and q2: the judge agrees on q1 and not on q2.
    for (const item of ["q1", "q2"])
      store!.ratePreference({ rater: "ann", itemId: item, systemA: "base", systemB: "sft", preference: "B" });
    const { judge } = (await (await fetch(`${url}/api/ratings/summary`)).json()) as {
      judge: { preference: { n: number; accuracy: number } };
    };
    expect(judge.preference).toMatchObject({ n: 2, accuracy: 0.5 });
  });

  it("answers bad requests with 400/404/405/413 and a JSON error that says what to send", async () => {
    const url = await start();
    const error = async (response: Response) => ({
      status: response.status,
      message: ((await response.json()) as { error: { message: string } }).error.message,
    });
    expect(await error(await fetch(`${url}/api/ratings/tasks`))).toEqual({
      status: 400,
      message: expect.stringMatching(/"rater" is required/),
    });
    expect(await error(await fetch(`${url}/api/ratings/tasks?rater=a&kind=stars`))).toMatchObject({ status: 400 });
    expect(await error(await post(url, { rater: "ann", taskId: "p1", choice: "up" }))).toEqual({
      status: 400,
      message: expect.stringMatching(/"choice": must be "left", "right" or "tie"/),
    });
    expect(await error(await post(url, { rater: "ann", taskId: "s1", score: 9 }))).toEqual({
      status: 400,
      message: expect.stringMatching(/1 to 5, got 9/),
    });
    expect(
      await error(await post(url, { rater: "ann", taskId: "s1", scores: { correctness: 3, completeness: 6, fluency: 2 } })),
    ).toEqual({ status: 400, message: expect.stringMatching(/completeness score must be an integer from 1 to 5, got 6/) });
    expect(await error(await post(url, { rater: "ann", taskId: "s1", scores: { correctness: 3 } }))).toEqual({
      status: 400,
      message: expect.stringMatching(/"scores\.completeness": an integer from 1 to 5 is required/),
    });
    expect(await error(await post(url, { rater: "ann", taskId: "s1", scores: { tone: 3 } }))).toEqual({
      status: 400,
      message: expect.stringMatching(/"scores\.tone": not a criterion/),
    });
    expect(await error(await fetch(`${url}/api/ratings/export?format=xml`))).toEqual({
      status: 400,
      message: expect.stringMatching(/"format": must be "csv" or "jsonl"/),
    });
    expect(await error(await post(url, { rater: "ann", taskId: "p999", choice: "tie" }))).toEqual({
      status: 400,
      message: expect.stringMatching(/no pair with id 999/),
    });
    expect(await error(await post(url, { taskId: "p1", choice: "tie" }))).toMatchObject({ status: 400 });
    const notJson = await fetch(`${url}/api/ratings`, { method: "POST", body: "{nope" });
    expect(await error(notJson)).toEqual({ status: 400, message: expect.stringMatching(/not JSON/) });
    expect((await fetch(`${url}/api/ratings/nothing`)).status).toBe(404);
    expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
    expect((await fetch(`${url}/api/ratings/export`, { method: "DELETE" })).status).toBe(405);
    const huge = await fetch(`${url}/api/ratings`, { method: "POST", body: "x".repeat((1 << 20) + 10) }).catch(
      () => undefined,
    );
    if (huge) expect(huge.status).toBe(413);
    expect(store!.ratings()).toHaveLength(0);
  });
});
