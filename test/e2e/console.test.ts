/**
 * The web console in real Chromium (playwright-core driving Debian's /usr/bin/chromium), built from
 * web/ with Vite first, served by `vertical serve`'s server: the lab page shows a running lab's
 * progress; a rater signs in and completes ten blind pairwise tasks and five rubric tasks (three
 * criteria each, reference shown) with the keyboard; the results page shows the Bradley–Terry
 * ratings, inter-rater kappa and the judge's agreement with people exactly as the library computes
 * them from the store; a playground question goes to two systems side by side and one answer gets a
 * thumbs-down with a correction that `vertical feedback export --as sft` then contains. Screenshots
 * of every page go to test-output/console/ (look at them).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/testing/runCli.js";
import { FeedbackStore } from "../../src/eval/feedback/feedbackStore.js";
import { judgeHumanAgreement, raterAgreement, type JudgeVerdicts } from "../../src/eval/ratings/agreement.js";
import { RatingsStore } from "../../src/eval/ratings/ratingsStore.js";
import { bradleyTerryWithIntervals } from "../../src/eval/stats/bradleyTerry.js";
import { createServer, type VerticalServer } from "../../src/serve/createServer.js";
import { ScriptedSystem } from "../../src/serve/testing/scriptedSystem.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-console-"));
const screenshots = path.resolve("test-output/console");
const consoleDirectory = path.join(scratch, "dist");
let server: VerticalServer;
let url: string;
let browser: Browser;
let ratings: RatingsStore;
let feedback: FeedbackStore;
const feedbackFile = path.join(scratch, "feedback.db");
// A judge's pairwise verdicts on the first six items: sft on four, base on two.
const judge: JudgeVerdicts = {
  pairwise: Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, a: "base", b: "sft", winner: i < 4 ? ("b" as const) : ("a" as const) })),
};

beforeAll(async () => {
  await build({ configFile: path.resolve("web/vite.config.ts"), build: { outDir: consoleDirectory, emptyOutDir: true }, logLevel: "error" });
  ratings = RatingsStore.open(path.join(scratch, "ratings.db"));
  const items = Array.from({ length: 12 }, (_, i) => `q${i},What is the fee for berth ${i}?,${10 + i} yuan,I do not know,${10 + i} yuan per metre`);
  ratings.importItemsCsv(["item_id,question,reference,answer:base,answer:sft", ...items].join("\n"), "items.csv");
  ratings.createPairs({ base: "base" });
  feedback = FeedbackStore.open(feedbackFile);
  const out = path.join(scratch, "lab-out");
  fs.mkdirSync(out);
  // A lab's comparison as `vertical lab` writes it (writeLabReport.ts), two routes.
  const estimate = (value: number, half: number) => ({ value, ci95: [value - half, value + half] });
  fs.writeFileSync(
    path.join(out, "comparison.json"),
    JSON.stringify([
      { route: "base", description: "the base model", domain: estimate(0.31, 0.08), domainDelta: null, general: estimate(0.4, 0.09), generalDelta: null, openRougeL: 0.1, openCharF1: 0.2, trainingTokens: null, trainingSeconds: null, verdict: "baseline" },
      { route: "sft", description: "LoRA SFT", domain: estimate(0.52, 0.09), domainDelta: estimate(0.21, 0.07), general: estimate(0.37, 0.09), generalDelta: estimate(-0.03, 0.04), openRougeL: 0.3, openCharF1: 0.4, trainingTokens: 40960, trainingSeconds: 61, verdict: "better than base" },
    ]),
  );
  fs.writeFileSync(path.join(out, "lab-state.json"), JSON.stringify({ formatVersion: 1, steps: { model: { key: "k", outputs: {}, seconds: 1.5, finishedAt: "2026-12-05T10:00:00.000Z" } } }));
  // The lab still running (its pid is this process), as recordLabProgress writes it.
  fs.writeFileSync(path.join(out, "lab-progress.json"), JSON.stringify({ pid: process.pid, step: 3, steps: 7, name: "train:sft", fraction: 0.4, detail: "step 40/100, loss 2.310", etaSeconds: 420, finished: false, updatedAt: new Date().toISOString() }));
  server = createServer({
    systems: [
      new ScriptedSystem({ name: "sft", answer: "The berth fee is twelve yuan per metre." }),
      new ScriptedSystem({ name: "base", answer: "I do not know the fee." }),
    ],
    feedback,
    accessLog: () => {},
    console: { consoleDirectory, ratings, labOut: out, ratingsApi: { reference: "shown", judge } },
  });
  url = await server.listen();
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  fs.mkdirSync(screenshots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  ratings?.dispose();
  feedback?.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe("the console in Chromium", () => {
  it("lets a rater do ten blind pairwise and five rubric tasks, and shows the store's Bradley–Terry result", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${url}/#/lab`);
    await page.getByText("Domain accuracy (95% interval)").waitFor();
    expect(await page.getByTestId("lab-progress").innerText()).toMatch(/Running step 3\/7: train:sft — step 40\/100, loss 2\.310; about 7 min left/);
    await page.screenshot({ path: path.join(screenshots, "lab.png"), fullPage: true });

    await page.goto(`${url}/#/rate`);
    await page.fill("input[name=rater]", "ana");
    await page.click("text=Start rating");
    await page.getByTestId("task").waitFor();
    await page.screenshot({ path: path.join(screenshots, "rate-pairwise.png"), fullPage: true });
    for (let done = 1; done <= 10; done++) {
      // The better answer is the one with "per metre"; which side it is on is the server's blind choice.
      const leftIsBetter = (await page.getByTestId("left").innerText()).includes("per metre");
      await page.keyboard.press(done === 10 ? "t" : leftIsBetter ? "ArrowLeft" : "ArrowRight");
      await page.getByTestId("progress").getByText(`${done} rated`).waitFor();
    }
    await page.click("text=Switch to rubric tasks");
    await page.getByText("1–5 scores the highlighted criterion").waitFor();
    expect(await page.getByTestId("reference").innerText()).toBe("Reference answer: 10 yuan");
    await page.keyboard.press("5");
    await page.getByTestId("criterion-completeness").and(page.locator(".active")).waitFor();
    await page.screenshot({ path: path.join(screenshots, "rate-rubric.png"), fullPage: true });
    await page.keyboard.press("Backspace"); // back to correctness
    await page.getByTestId("criterion-correctness").and(page.locator(".active")).waitFor();
    await page.getByTestId("progress").getByText("0 rated, 24 left").waitFor();
    for (let done = 1; done <= 5; done++) {
      for (const key of ["4", "3", "5"]) await page.keyboard.press(key);
      await page.getByTestId("progress").getByText(`${done} rated`).waitFor();
    }
    const ana = ratings.ratings().filter((rating) => rating.rater === "ana");
    expect(ana.filter((rating) => rating.kind === "preference")).toHaveLength(10);
    expect(ana.filter((rating) => rating.kind === "score").map((rating) => rating.kind === "score" && `${rating.criterion}=${rating.score}`)).toEqual(
      Array.from({ length: 5 }, () => ["correctness=4", "completeness=3", "fluency=5"]).flat(),
    );
    // A second rater on the same pairs, agreeing with ana except on the first two, so kappa has something to measure.
    for (const pairTask of ratings.pendingTasks("ben", "preference", 10))
      if (pairTask.kind === "preference") ratings.ratePair({ rater: "ben", pairId: pairTask.pairId, preference: ["q0", "q1"].includes(pairTask.itemId) ? "A" : "B" });

    await page.goto(`${url}/#/results`);
    await page.getByTestId("bradley-terry").waitFor();
    await page.screenshot({ path: path.join(screenshots, "results.png"), fullPage: true });
    const shown = await page.getByTestId("bradley-terry").locator("tbody tr").allInnerTexts();
    const expected = bradleyTerryWithIntervals(ratings.pairwiseOutcomes(), { samples: 200 }).sort((a, b) => b.rating - a.rating);
    expect(expected.map((row) => row.system)).toEqual(["sft", "base"]); // nine wins and a tie
    expect(shown.map((row) => row.split("\t").slice(0, 2).join(" "))).toEqual(expected.map((row) => `${row.system} ${row.rating.toFixed(1)}`));
    const kappa = raterAgreement(ratings.ratings()).find((row) => row.kind === "preference")!;
    expect(await page.getByTestId("agreement").locator("tbody tr").first().innerText()).toBe(`ana / ben\tpreference\t${kappa.n}\t${kappa.kappa.toFixed(2)}\t-`);
    const judged = judgeHumanAgreement(ratings.ratings(), judge).preference!;
    expect(await page.getByTestId("judge").innerText()).toContain(`${judged.n}\tkappa ${judged.kappa.toFixed(2)}, same verdict ${(100 * judged.accuracy).toFixed(0)}%`);
    const exported = await page.evaluate(async () => (await fetch("/api/ratings/export?format=jsonl")).text());
    expect(exported.trim().split("\n")).toHaveLength(ratings.ratings().length);
    await page.close();
  });

  it("asks two systems side by side and takes a thumbs-down with a correction, which the SFT export then holds", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${url}/#/playground`);
    await page.locator("select").first().locator("option", { hasText: "sft" }).waitFor({ state: "attached" });
    await page.locator("select").nth(1).selectOption("base");
    await page.fill("textarea[name=question]", "What is the berth fee?");
    await page.click("text=Ask");
    const sftAnswer = page.getByTestId("answer").filter({ hasText: "twelve yuan" });
    await sftAnswer.waitFor();
    await page.getByTestId("answer").filter({ hasText: "I do not know the fee." }).waitFor();
    expect(await page.getByTestId("answer").count()).toBe(2);
    await sftAnswer.locator("textarea").fill("Twelve yuan per metre per day.");
    await sftAnswer.locator("button[title='bad answer']").click();
    await page.getByText("feedback saved").waitFor();
    await page.screenshot({ path: path.join(screenshots, "playground.png"), fullPage: true });
    await page.close();
    const exported = await runCli("feedback", "export", feedbackFile, "--as", "sft");
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.out)).toEqual({
      messages: [
        { role: "user", content: "What is the berth fee?" },
        { role: "assistant", content: "Twelve yuan per metre per day." },
      ],
    });
  });
});
