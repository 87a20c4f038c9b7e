import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fitBradleyTerry } from "../stats/bradleyTerry.js";
import { judgeHumanAgreement, raterAgreement } from "./agreement.js";
import Database from "better-sqlite3";
import { RatingsStore } from "./ratingsStore.js";

const itemsCsv = [
  "item_id,question,reference,subject,answer:base,answer:sft",
  'q1,"Port fee, per ton?",12 yuan,fees,I am not sure.,"It is 12 yuan, per ton."',
  "q2,谁负责引航？,引航站,pilot,不知道,引航站负责。",
  "q3,Berth length?,,berths,300 m,320 m",
].join("\n");

const stores: RatingsStore[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.dispose();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
function openStore(file = ":memory:") {
  let tick = 0;
  const store = RatingsStore.open(file, { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) });
  stores.push(store);
  return store;
}

describe("RatingsStore", () => {
  it("imports items with answers from CSV, creates pairs and lists pending tasks per rater", () => {
    const store = openStore();
    expect(store.importItemsCsv(itemsCsv, "items.csv")).toBe(3);
    expect(store.createPairs({ base: "base" })).toBe(3);
    expect(store.createPairs({ base: "base" })).toBe(0);
    const tasks = store.pendingTasks("ann", "preference");
    expect(tasks).toHaveLength(3);
    expect(tasks[0]).toMatchObject({
      kind: "preference",
      itemId: "q1",
      question: "Port fee, per ton?",
      systemA: "base",
      answerB: "It is 12 yuan, per ton.",
    });
    expect(tasks[2]).not.toHaveProperty("reference");
    store.ratePreference({
      rater: "ann",
      itemId: "q1",
      systemA: "base",
      systemB: "sft",
      preference: "B",
      comment: "cites the fee",
    });
    expect(store.pendingTasks("ann", "preference")).toHaveLength(2);
    expect(store.pendingTasks("bob", "preference")).toHaveLength(3);
    expect(store.pendingTasks("ann", "score")).toHaveLength(6);
  });

  it("one rating per rater and task: rating again replaces it and keeps created_at", () => {
    const store = openStore();
    store.importItemsCsv(itemsCsv, "items.csv");
    const first = store.rateScore({ rater: "ann", itemId: "q1", system: "sft", score: 4 });
    const second = store.rateScore({ rater: "ann", itemId: "q1", system: "sft", score: 5, comment: "on reflection" });
    expect(store.ratings()).toHaveLength(1);
    expect(second).toMatchObject({ score: 5, comment: "on reflection", createdAt: first.createdAt });
    expect(second.updatedAt > first.updatedAt).toBe(true);
  });

  it("rejects bad ratings with what was expected", () => {
    const store = openStore();
    store.importItemsCsv(itemsCsv, "items.csv");
    expect(() => store.rateScore({ rater: "ann", itemId: "q1", system: "sft", score: 6 })).toThrow(
      /integer from 1 to 5, got 6/,
    );
    expect(() => store.rateScore({ rater: "ann", itemId: "q1", system: "gpt", score: 3 })).toThrow(
      /no answer from system "gpt"/,
    );
    expect(() => store.rateScore({ rater: " ", itemId: "q1", system: "sft", score: 3 })).toThrow(/rater name/);
    expect(() => store.ratePair({ rater: "ann", pairId: 99, preference: "A" })).toThrow(/no pair with id 99/);
  });

  it("exports CSV and imports it back into a fresh file database unchanged", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-ratings-"));
    dirs.push(dir);
    const store = openStore(path.join(dir, "a", "ratings.sqlite"));
    store.importItemsCsv(itemsCsv, "items.csv");
    store.ratePreference({
      rater: "ann",
      itemId: "q1",
      systemA: "base",
      systemB: "sft",
      preference: "B",
      comment: 'says "12", per ton',
    });
    store.ratePreference({ rater: "bob", itemId: "q2", systemA: "sft", systemB: "base", preference: "tie" });
    store.rateScore({ rater: "ann", itemId: "q2", system: "sft", score: 5, comment: "多行\n评论" });
    store.rateRubric({ rater: "bob", itemId: "q1", system: "sft", scores: { correctness: 4, completeness: 2, fluency: 5 } });
    const csv = store.exportRatingsCsv();
    expect(csv.split("\r\n")[0]).toBe(
      "kind,rater,item_id,system_a,system_b,preference,system,criterion,score,comment,created_at,updated_at",
    );
    expect(csv).toContain('"says ""12"", per ton"');

    const copy = openStore(path.join(dir, "b.sqlite"));
    copy.importItemsCsv(itemsCsv, "items.csv");
    expect(copy.importRatingsCsv(csv, "ratings.csv")).toBe(6);
    expect(copy.ratings()).toEqual(store.ratings());
    expect(copy.exportRatingsCsv()).toBe(csv);
  });

  it("CSV errors name the file, line, row and column, and a bad file writes nothing", () => {
    const store = openStore();
    store.importItemsCsv(itemsCsv, "items.csv");
    expect(() => store.importItemsCsv("item_id,answer:base\nq9,x", "items2.csv")).toThrow(
      /items2\.csv:1: missing column "question"/,
    );
    const header = "kind,rater,item_id,system_a,system_b,preference,system,score,comment";
    const good = "preference,ann,q1,base,sft,A,,,";
    expect(() => store.importRatingsCsv([header, good, "score,ann,q1,,,,sft,7,"].join("\n"), "r.csv")).toThrow(
      /r\.csv:3 \(row 2\): column "score": must be an integer from 1 to 5, got "7"/,
    );
    expect(() =>
      store.importRatingsCsv([header, good, "preference,ann,q1,base,sft,maybe,,,"].join("\n"), "r.csv"),
    ).toThrow(/r\.csv:3 \(row 2\): column "preference": must be A, B or tie/);
    expect(() => store.importRatingsCsv([header, "preference,ann,q1,base,llama,A,,,"].join("\n"), "r.csv")).toThrow(
      /r\.csv:2 \(row 1\): column "system_b": item "q1" has no answer from system "llama"/,
    );
    expect(() => store.importRatingsCsv([header, "vote,ann,q1,,,,,,"].join("\n"), "r.csv")).toThrow(/column "kind"/);
    expect(() => store.importRatingsCsv("kind,rater\nscore,ann", "r.csv")).toThrow(
      /r\.csv:1: missing column "item_id"/,
    );
    expect(() => store.importRatingsCsv(`${header}\n"unterminated,ann`, "r.csv")).toThrow(/r\.csv:\d+: malformed CSV/);
    expect(store.ratings()).toHaveLength(0);
  });

  it("after dispose() any use throws", () => {
    const store = openStore();
    store.dispose();
    expect(() => store.ratings()).toThrow(/after dispose/);
  });
});

describe("rubric ratings", () => {
  it("stores the three criteria together or not at all, and replaces them on a second rating", () => {
    const store = openStore();
    store.importItemsCsv(itemsCsv, "items.csv");
    expect(() =>
      store.rateRubric({ rater: "ann", itemId: "q1", system: "sft", scores: { correctness: 4, completeness: 5, fluency: 0 } }),
    ).toThrow(/fluency score must be an integer from 1 to 5, got 0/);
    expect(store.ratings()).toEqual([]);
    store.rateRubric({ rater: "ann", itemId: "q1", system: "sft", scores: { correctness: 2, completeness: 2, fluency: 2 } });
    store.rateRubric({ rater: "ann", itemId: "q1", system: "sft", scores: { correctness: 4, completeness: 3, fluency: 5 } });
    expect(store.ratings().map((r) => r.kind === "score" && `${r.criterion}=${r.score}`)).toEqual([
      "correctness=4",
      "completeness=3",
      "fluency=5",
    ]);
    // A rated answer is no longer pending for that rater.
    expect(store.pendingTasks("ann", "score").map((t) => t.kind === "score" && `${t.itemId}/${t.system}`)).not.toContain("q1/sft");
  });

  it("opens a file written before criteria existed, keeping its scores as overall", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-ratings-"));
    dirs.push(dir);
    const file = path.join(dir, "old.sqlite");
    const old = new Database(file);
    old.exec(`CREATE TABLE raters (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
      CREATE TABLE items (id TEXT PRIMARY KEY, set_name TEXT, question TEXT NOT NULL, reference TEXT, subject TEXT, created_at TEXT NOT NULL);
      CREATE TABLE answers (id INTEGER PRIMARY KEY, item_id TEXT NOT NULL REFERENCES items(id), system TEXT NOT NULL, text TEXT NOT NULL, UNIQUE (item_id, system));
      CREATE TABLE scores (id INTEGER PRIMARY KEY, rater_id INTEGER NOT NULL REFERENCES raters(id), answer_id INTEGER NOT NULL REFERENCES answers(id),
        score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5), comment TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (rater_id, answer_id));
      INSERT INTO raters VALUES (1, 'ann', 't'); INSERT INTO items VALUES ('q1', NULL, 'Fee?', NULL, NULL, 't');
      INSERT INTO answers VALUES (1, 'q1', 'sft', '12 yuan'); INSERT INTO scores VALUES (1, 1, 1, 4, NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');`);
    old.close();
    const store = openStore(file);
    expect(store.ratings()).toEqual([
      { kind: "score", rater: "ann", itemId: "q1", system: "sft", criterion: "overall", score: 4, createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z" },
    ]);
    store.rateRubric({ rater: "ann", itemId: "q1", system: "sft", scores: { correctness: 5, completeness: 4, fluency: 3 } });
    expect(store.ratings()).toHaveLength(4);
  });

  it("exports JSON Lines holding exactly what ratings() returns", () => {
    const store = openStore();
    store.importItemsCsv(itemsCsv, "items.csv");
    store.ratePreference({ rater: "ann", itemId: "q1", systemA: "base", systemB: "sft", preference: "B", comment: "a\nb" });
    store.rateRubric({ rater: "bob", itemId: "q2", system: "sft", scores: { correctness: 5, completeness: 4, fluency: 3 } });
    const lines = store.exportRatingsJsonl().split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual(store.ratings());
  });

  it("keeps every committed rubric whole when the writer is killed with SIGKILL", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-ratings-"));
    dirs.push(dir);
    const file = path.join(dir, "killed.sqlite");
    const writer = path.resolve("src/eval/ratings/testing/writeRubricsForever.ts");
    const child = spawn(process.execPath, ["--import", "tsx", writer, file], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", () => resolve());
      child.on("exit", (code) => reject(new Error(`writer exited early with ${code}`)));
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("exit", resolve));
    const store = openStore(file);
    const ratings = store.ratings();
    const raters = new Set(ratings.map((rating) => rating.rater));
    expect(raters.size).toBeGreaterThan(20);
    // Three criteria per rater, never one or two; every comment whole.
    expect(ratings).toHaveLength(3 * raters.size);
    for (const rating of ratings) expect(rating.comment).toMatch(/^c{19999}!$/);
  });
});

describe("agreement from stored ratings", () => {
  it("normalises swapped pairs, computes kappa between raters and judge-vs-majority", () => {
    const store = openStore();
    store.importItemsCsv(itemsCsv, "items.csv");
    const prefer = (rater: string, itemId: string, a: string, b: string, preference: "A" | "B" | "tie") =>
      store.ratePreference({ rater, itemId, systemA: a, systemB: b, preference });
    prefer("ann", "q1", "base", "sft", "B");
    prefer("ann", "q2", "base", "sft", "B");
    prefer("ann", "q3", "base", "sft", "tie");
    // bob sees q1 the other way round: "A" = sft, agreeing with ann.
    prefer("bob", "q1", "sft", "base", "A");
    prefer("bob", "q2", "base", "sft", "B");
    prefer("bob", "q3", "base", "sft", "A");
    const [row] = raterAgreement(store.ratings());
    // Labels ann [second, second, tie], bob [second, second, first]: p_o 2/3, p_e = (2/3)(2/3) = 4/9 -> kappa 0.4.
    expect(row).toMatchObject({ raterA: "ann", raterB: "bob", kind: "preference", n: 3 });
    expect(row!.kappa).toBeCloseTo(0.4, 12);

    // Human majority: q1 sft, q2 sft, q3 split 1-1 -> tie. Judge: sft, sft, tie -> perfect agreement.
    const judged = judgeHumanAgreement(store.ratings(), {
      pairwise: [
        { id: "q1", a: "base", b: "sft", winner: "b" },
        { id: "q2", a: "sft", b: "base", winner: "a" },
        { id: "q3", a: "base", b: "sft", winner: "tie" },
      ],
    });
    expect(judged.preference).toEqual({ n: 3, kappa: 1, accuracy: 1 });

    // People's preferences feed Bradley–Terry directly: sft 4 wins, base 0, two ties.
    const fit = fitBradleyTerry(store.pairwiseOutcomes());
    expect(fit.ratings[fit.systems.indexOf("sft")]!).toBeGreaterThan(fit.ratings[fit.systems.indexOf("base")]!);
  });

  it("scores: weighted kappa and Spearman between raters; judge ratings vs people's mean", () => {
    const store = openStore();
    store.importItemsCsv(itemsCsv, "items.csv");
    const score = (rater: string, itemId: string, system: string, value: number) =>
      store.rateScore({ rater, itemId, system, score: value });
    const ann = [1, 2, 3, 4, 5];
    const bob = [1, 2, 3, 5, 4];
    const targets: Array<[string, string]> = [
      ["q1", "base"],
      ["q1", "sft"],
      ["q2", "base"],
      ["q2", "sft"],
      ["q3", "sft"],
    ];
    targets.forEach(([item, system], i) => (score("ann", item, system, ann[i]!), score("bob", item, system, bob[i]!)));
    const [row] = raterAgreement(store.ratings());
    expect(row!.criterion).toBe("overall");
    expect(row!.weightedKappa).toBeCloseTo(0.9, 12); // the hand-worked example in stats.test.ts
    expect(row!.spearman).toBeCloseTo(0.9, 12); // 1 - 6*2/(5*24)
    const judged = judgeHumanAgreement(store.ratings(), {
      ratings: targets.map(([id, system], i) => ({ id, system, rating: 2 * (i + 1) })),
    });
    // People's means 1, 2, 3, 4.5, 4.5 vs judge 2..10: ranks [1,2,3,4.5,4.5] vs [1..5].
    expect(judged.score!.n).toBe(5);
    expect(judged.score!.spearman).toBeCloseTo(0.9746794344808963, 12);
  });
});

describe("rubric agreement", () => {
  it("compares raters criterion by criterion, never one criterion with another", () => {
    const store = RatingsStore.open(":memory:");
    stores.push(store);
    store.importItemsCsv(itemsCsv, "items.csv");
    const answers: Array<[string, string]> = [["q1", "base"], ["q1", "sft"], ["q2", "base"]];
    // ann and bob agree exactly on correctness; on fluency bob reverses ann's order.
    answers.forEach(([itemId, system], i) => {
      store.rateRubric({ rater: "ann", itemId, system, scores: { correctness: i + 1, completeness: 3, fluency: i + 1 } });
      store.rateRubric({ rater: "bob", itemId, system, scores: { correctness: i + 1, completeness: 3, fluency: 3 - i } });
    });
    const rows = raterAgreement(store.ratings());
    expect(rows.map((row) => row.criterion)).toEqual(["correctness", "completeness", "fluency"]);
    expect(rows[0]!.kappa).toBe(1);
    expect(rows[2]!.spearman).toBeCloseTo(-1, 12);
  });
});
