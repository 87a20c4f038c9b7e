import { afterEach, describe, expect, it } from "vitest";
import { RatingsStore } from "../eval/ratings/ratingsStore.js";
import { isSwapped, startRatingsServer, type RatingsServer } from "./ratingsApi.js";

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

async function start() {
  store = RatingsStore.open(":memory:");
  store.importItemsCsv(itemsCsv, "items.csv");
  store.createPairs({ base: "base" });
  server = await startRatingsServer(store);
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
    });
    expect((await post(url, { rater: "bob", taskId: scoreTasks[0]!.taskId, score: 2 })).status).toBe(201);

    const exported = await fetch(`${url}/api/ratings/export`);
    expect(exported.headers.get("content-type")).toMatch(/text\/csv/);
    const lines = (await exported.text()).trim().split("\r\n");
    expect(lines).toHaveLength(1 + 4);
    expect(lines[1]).toMatch(/^preference,ann,q1,base,sft,B,,,more precise,/);
    expect(lines[4]).toMatch(/^score,bob,q1,,,,base,2,,/);

    const summary = (await (await fetch(`${url}/api/ratings/summary`)).json()) as {
      raters: string[];
      ratings: number;
      winRates: Array<{ system: string; winRate: number }>;
    };
    expect(summary.raters).toEqual(["ann", "bob"]);
    expect(summary.ratings).toBe(4);
    expect(summary.winRates.find((w) => w.system === "sft")!.winRate).toBe(1);
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
