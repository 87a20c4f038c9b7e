import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFixtureResults } from "../../eval/report/fixtureResults.js";
import { loadMcq } from "../../eval/mcq/loadMcq.js";
import { startFakeOpenAIServer } from "../../llm/testing/fakeOpenAIServer.js";
import { runCli } from "../testing/runCli.js";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-cli-eval-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("vertical eval report", () => {
  it("writes both files and prints accuracy and deltas", async () => {
    const results = path.join(dir, "results");
    await writeFixtureResults(
      results,
      [
        { name: "base", accuracy: { d: 0.3 } },
        { name: "sft", accuracy: { d: 0.8 } },
      ],
      [{ name: "d", general: false, n: 50 }],
    );
    const { code, out } = await runCli("eval", "report", results, "--out", path.join(dir, "report"));
    expect(code).toBe(0);
    expect(out).toMatch(/^sft\td\t\d+\.\d%\t\+\d+\.\d pp$/m);
    expect(fs.existsSync(path.join(dir, "report", "report.html"))).toBe(true);
    const missing = await runCli("eval", "report", path.join(dir, "nope"), "--out", path.join(dir, "r2"));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope: no summary\.json/);
  });
});

describe("vertical eval ratings", () => {
  it("imports items and ratings, exports them, reports agreement, and names the bad cell", async () => {
    const db = path.join(dir, "ratings.sqlite");
    const items = path.join(dir, "items.csv");
    fs.writeFileSync(items, "item_id,question,answer:base,answer:sft\nq1,A?,x,y\nq2,B?,x,z\nq3,C?,w,v\n");
    expect((await runCli("eval", "ratings", "import-items", items, "--db", db, "--base", "base")).out).toBe(
      "imported 3 items, 3 new pairs to rate\n",
    );
    const ratings = path.join(dir, "ratings.csv");
    fs.writeFileSync(
      ratings,
      [
        "kind,rater,item_id,system_a,system_b,preference",
        "preference,ann,q1,base,sft,B",
        "preference,ann,q2,base,sft,B",
        "preference,ann,q3,base,sft,A",
        "preference,bob,q1,base,sft,B",
        "preference,bob,q2,base,sft,A",
        "preference,bob,q3,base,sft,A",
      ].join("\n"),
    );
    expect((await runCli("eval", "ratings", "import", ratings, "--db", db)).out).toBe("imported 6 ratings\n");
    const exported = await runCli("eval", "ratings", "export", "--db", db);
    expect(exported.out.split("\r\n").filter(Boolean)).toHaveLength(7);
    const jsonl = await runCli("eval", "ratings", "export", "--db", db, "--format", "jsonl");
    expect(jsonl.out.trim().split("\n").map((line) => JSON.parse(line))[3]).toMatchObject({ kind: "preference", rater: "bob", itemId: "q1", preference: "B" });
    const agreement = await runCli("eval", "ratings", "agreement", "--db", db);
    // ann [B,B,A] vs bob [B,A,A]: p_o 2/3, p_e = (2/3)(1/3) + (1/3)(2/3) = 4/9 -> kappa 0.4.
    expect(agreement.out).toMatch(/^ann vs bob\tpreference\tn=3\tkappa=0\.400$/m);
    expect(agreement.out).toMatch(/^people: sft\tBradley–Terry \d+$/m);
    fs.writeFileSync(ratings, "kind,rater,item_id,system,score\nscore,ann,q1,sft,9\n");
    const bad = await runCli("eval", "ratings", "import", ratings, "--db", db);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${ratings}:2 (row 1): column "score": must be an integer from 1 to 5, got "9"`);
  });
});

describe("vertical eval ratings with an open-ended run", () => {
  it("imports the run's answers as items and compares the judge with people", async () => {
    const results = path.join(dir, "open-results");
    await writeFixtureResults(
      results,
      [
        { name: "base", accuracy: { d: 0.3 } },
        { name: "sft", accuracy: { d: 0.8 } },
      ],
      [{ name: "d", general: false, n: 10 }],
    );
    const questions = path.join(dir, "open.jsonl");
    fs.writeFileSync(
      questions,
      ["o1", "o2", "o3"].map((id) => JSON.stringify({ id, question: `question ${id}`, reference: "ref" })).join("\n"),
    );
    const db = path.join(dir, "open-ratings.sqlite");
    const imported = await runCli(
      "eval",
      "ratings",
      "import-open",
      questions,
      "--results",
      results,
      "--set",
      "harbor-open",
      "--db",
      db,
      "--base",
      "base",
    );
    expect(imported.out).toBe("imported 3 items (6 answers), 3 new pairs to rate\n");
    // People agree with the judge (which preferred sft everywhere) on two items and call the third a tie.
    const ratings = path.join(dir, "open-ratings.csv");
    fs.writeFileSync(
      ratings,
      "kind,rater,item_id,system_a,system_b,preference\npreference,ann,o1,base,sft,B\npreference,ann,o2,sft,base,A\npreference,ann,o3,base,sft,tie\n",
    );
    await runCli("eval", "ratings", "import", ratings, "--db", db);
    const agreement = await runCli(
      "eval",
      "ratings",
      "agreement",
      "--db",
      db,
      "--results",
      results,
      "--set",
      "harbor-open",
    );
    // Judge [sft, sft, sft] vs people [sft, sft, tie]: accuracy 2/3; kappa 0 (the judge uses one label only).
    expect(agreement.out).toMatch(/^judge vs people \(preference\)\tn=3\tkappa=0\.000\taccuracy=0\.667$/m);
    expect(agreement.out).toMatch(/^people: sft\tBradley–Terry \d+$/m);
    expect(agreement.out).not.toMatch(/judge vs people \(score\)/); // no 1–5 scores from people yet
  });
});

describe("vertical eval build-mcq", () => {
  it("builds rule-based and model-written items (model over an OpenAI-compatible endpoint) with exports", async () => {
    const docs = path.join(dir, "docs");
    fs.mkdirSync(path.join(docs, "berths"), { recursive: true });
    fs.mkdirSync(path.join(docs, "pilotage"), { recursive: true });
    fs.writeFileSync(
      path.join(docs, "berths", "a.md"),
      ["Q1", "Q2", "Q3", "Q4"]
        .map((b, i) => `The maximum draught for Berth ${b} is ${(8 + i * 1.5).toFixed(1)} m.`)
        .join("\n") +
        "\n\nPilots board vessels bound for Berth Q1 at Lingjiao station, two miles off the breakwater.\n",
    );
    fs.writeFileSync(
      path.join(docs, "pilotage", "b.md"),
      ["North Gate", "Main Channel", "East Passage", "South Passage"]
        .map((c, i) => `The speed limit for ${c} is ${8 + 2 * i} knots.`)
        .join("\n"),
    );
    const server = await startFakeOpenAIServer({
      reply: ({ messages }) =>
        messages?.at(-1)?.content.includes("Lingjiao")
          ? '{"question": "Where do pilots board vessels bound for Berth Q1?", "options": ["Shimen", "Yuwan", "Lingjiao station", "Baisha"], "answer": "C"}'
          : "I cannot write a question about this.",
    });
    try {
      const systems = path.join(dir, "writer.yaml");
      fs.writeFileSync(
        systems,
        `systems:\n  - name: writer\n    backend: openai\n    model: fake\n    baseUrl: ${server.baseUrl}\n    logprobs: false\n    maxRetries: 0\n`,
      );
      const out = path.join(dir, "built", "harbor.jsonl");
      const result = await runCli(
        "eval",
        "build-mcq",
        "--docs",
        docs,
        "--out",
        out,
        "--llm",
        systems,
        "--lm-eval",
        path.join(dir, "built", "lm"),
        "--opencompass",
        path.join(dir, "built", "oc"),
      );
      expect(result.err.replace(/\rmodel items \d+\/\d+/g, "")).toBe("\n");
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/^model: 1 items kept, 2 replies rejected$/m);
      expect(result.out).toMatch(/^9 items from 2 documents/m);
      expect(result.out).toMatch(/^  berths\t5$/m);
      const items = loadMcq(out);
      expect(items).toHaveLength(9);
      const generated = fs
        .readFileSync(out, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .find((r) => r.kind === "generated");
      expect(generated).toMatchObject({ subject: "berths", source: { doc: "berths/a.md" } });
      expect(generated[generated.answer]).toBe("Lingjiao station");
      expect(fs.existsSync(path.join(dir, "built", "lm", "harbor.yaml"))).toBe(true);
      expect(fs.existsSync(path.join(dir, "built", "oc", "ceval", "val", "pilotage_val.csv"))).toBe(true);
    } finally {
      await server.close();
    }
    const empty = path.join(dir, "empty");
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, "x.txt"), "Nothing to ask here.");
    const failed = await runCli("eval", "build-mcq", "--docs", empty, "--out", path.join(dir, "none.jsonl"));
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/no items could be built/);
  });
});
