import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenSetResult } from "../open/runOpenEval.js";
import { raterAgreement } from "../ratings/agreement.js";
import { RatingsStore } from "../ratings/ratingsStore.js";
import type { EvalSummary } from "../results.js";
import { winRecords } from "../stats/pairwise.js";
import { writeFixtureResults } from "./fixtureResults.js";
import { formatPercent } from "./format.js";
import { writeReport } from "./writeReport.js";

const chromiumPath = "/usr/bin/chromium";
let dir: string;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-report-"));
  await writeFixtureResults(
    path.join(dir, "results"),
    [
      { name: "base", accuracy: { "harbor-mcq": 0.35, "general-mcq": 0.6 } },
      {
        name: "sft",
        accuracy: { "harbor-mcq": 0.75, "general-mcq": 0.5 },
        trainingTokens: 1_234_567,
        trainingSeconds: 3725,
      },
    ],
    [
      { name: "harbor-mcq", general: false, n: 120 },
      { name: "general-mcq", general: true, n: 80 },
    ],
  );
});

afterAll(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("writeReport", () => {
  it("writes report.html and report.md whose numbers equal the results files", () => {
    const { htmlPath, markdownPath, model } = writeReport([path.join(dir, "results")], {
      outDir: path.join(dir, "report"),
      title: "Harbor <routes>",
      extraColumns: [{ header: "Route", values: { base: "none", sft: "SFT r16" }, unit: "text" }],
      now: () => new Date("2026-11-26T00:00:00Z"),
    });
    const html = fs.readFileSync(htmlPath, "utf8");
    const markdown = fs.readFileSync(markdownPath, "utf8");
    expect(html).toContain("<title>Harbor &lt;routes&gt;</title>");
    // Self-contained: no script, no external reference of any kind.
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const summary = JSON.parse(fs.readFileSync(path.join(dir, "results", "summary.json"), "utf8")) as EvalSummary;
    for (const row of summary.results) expect(markdown).toContain(formatPercent(row.accuracy!.value));
    expect(model.forgetting).toHaveLength(1);
    expect(model.forgetting[0]!.delta).toBe(summary.forgetting[0]!.delta);
    expect(markdown).toMatch(/\| sft \| general-mcq \|/);
    expect(markdown).toContain("| SFT r16 |");
  });

  it("renders caller sections (paragraphs, lists, tables) last, escaped, in both files", () => {
    const { htmlPath, markdownPath } = writeReport([path.join(dir, "results")], {
      outDir: path.join(dir, "report-sections"),
      sections: [
        {
          id: "advice",
          title: "What this lab says",
          blocks: [
            { kind: "paragraph", text: "sft beats <base>." },
            { kind: "list", items: ["one | two", "three"] },
            { kind: "table", header: ["route", "steps"], rows: [["sft", "40 of 60 (time cap)"]] },
          ],
        },
      ],
    });
    const html = fs.readFileSync(htmlPath, "utf8");
    const markdown = fs.readFileSync(markdownPath, "utf8");
    expect(html).toContain('<section id="advice"><h2>What this lab says</h2><p>sft beats &lt;base&gt;.</p><ul><li>one | two</li><li>three</li></ul>');
    expect(html.indexOf('id="advice"')).toBeGreaterThan(html.indexOf('id="systems"'));
    expect(markdown.trimEnd().endsWith("| sft | 40 of 60 (time cap) |")).toBe(true);
    expect(markdown).toContain("## What this lab says\n\nsft beats <base>.\n\n- one | two\n- three\n");
  });

  it("names the folder when it is not a results folder", () => {
    expect(() => writeReport([path.join(dir, "nowhere")], { outDir: path.join(dir, "x") })).toThrow(
      /nowhere: no summary\.json/,
    );
  });

  it("renders in headless Chromium without console errors or network, and the DOM shows the results' numbers", async () => {
    const outDir = path.join(dir, "chromium");
    // People rated the same pairs in the ratings database.
    using store = RatingsStore.open(":memory:");
    store.importItemsCsv("item_id,question,answer:base,answer:sft\no1,Q1?,x,y\no2,Q2?,x,z\no3,Q3?,w,v\n", "items.csv");
    const votes: Array<[string, string, "A" | "B" | "tie"]> = [
      ["ann", "o1", "B"],
      ["ann", "o2", "B"],
      ["ann", "o3", "tie"],
      ["bob", "o1", "B"],
      ["bob", "o2", "A"],
      ["bob", "o3", "tie"],
    ];
    for (const [rater, itemId, preference] of votes)
      store.ratePreference({ rater, itemId, systemA: "base", systemB: "sft", preference });
    const humanRatings = { outcomes: store.pairwiseOutcomes(), agreement: raterAgreement(store.ratings()) };
    const { htmlPath } = writeReport([path.join(dir, "results")], {
      outDir,
      humanRatings,
      extraColumns: [
        { header: "Training tokens (lab)", values: { sft: 1_234_567 }, unit: "tokens" },
        // The lab's own training columns fill the built-in ones instead of appearing twice.
        { header: "Training wall time", values: { base: 12, sft: 99 }, unit: "seconds" },
      ],
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(`file://${htmlPath}`);
    expect(problems).toEqual([]);
    expect(requests).toEqual([`file://${htmlPath}`]);

    const summary = JSON.parse(fs.readFileSync(path.join(dir, "results", "summary.json"), "utf8")) as EvalSummary;
    const cells = await page.$$eval("[data-metric]", (elements) =>
      elements.map(
        (e) => ({ ...(e as HTMLElement).dataset, text: e.firstChild?.textContent ?? "" }) as Record<string, string>,
      ),
    );
    const find = (metric: string, system: string, set?: string) =>
      cells.find((c) => c.metric === metric && c.system === system && (set === undefined || c.set === set));
    for (const row of summary.results) {
      const cell = find("accuracy", row.system, row.set)!;
      expect(Number(cell.value)).toBe(row.accuracy!.value);
      expect(Number(cell.low)).toBe(row.accuracy!.ci95[0]);
      expect(Number(cell.high)).toBe(row.accuracy!.ci95[1]);
      expect(cell.text).toBe(formatPercent(row.accuracy!.value));
    }
    const base = (set: string) => summary.results.find((r) => r.system === "base" && r.set === set)!.accuracy!.value;
    const sftDomain = summary.results.find((r) => r.system === "sft" && r.set === "harbor-mcq")!;
    expect(Number(find("delta", "sft", "harbor-mcq")!.value)).toBeCloseTo(
      sftDomain.accuracy!.value - base("harbor-mcq"),
      12,
    );
    expect(Number(find("forgetting", "sft", "general-mcq")!.value)).toBe(summary.forgetting[0]!.delta);
    const open = JSON.parse(
      fs.readFileSync(path.join(dir, "results", "open", "harbor-open.json"), "utf8"),
    ) as OpenSetResult;
    for (const s of open.systems) {
      expect(Number(find("rougeL", s.system, "harbor-open")!.value)).toBe(s.rougeL);
      expect(Number(find("judgeRating", s.system, "harbor-open")!.value)).toBe(s.judgeRating);
    }
    expect(Number(find("winRate", "sft", "harbor-open")!.value)).toBe(
      open.winRates.find((w) => w.system === "sft")!.winRate,
    );
    const sftTokens =
      summary.results.filter((r) => r.system === "sft").reduce((sum, r) => sum + r.tokens.prompt, 0) +
      open.systems.find((s) => s.system === "sft")!.promptTokens;
    expect(Number(find("promptTokens", "sft")!.value)).toBe(sftTokens);
    expect(find("trainingTokens", "sft")!.text).toBe("1,234,567");
    expect(find("extra:Training tokens (lab)", "sft")!.text).toBe("1,234,567");
    expect(find("trainingSeconds", "sft")!.text).toBe("1 h 02 min"); // summary.json's 3725 s wins
    expect(find("trainingSeconds", "base")!.text).toBe("12.0 s"); // from the extra column
    expect(find("extra:Training wall time", "base")).toBeUndefined();
    const humanWins = winRecords(humanRatings.outcomes);
    for (const record of humanWins) expect(Number(find("human:winRate", record.system)!.value)).toBe(record.winRate);
    expect(find("human:winRate", "sft")!.text).toBe("66.7%"); // (3 wins + 2 ties / 2) / 6
    // Charts: one bar per system x set, drawn inside the page width.
    expect(await page.locator("#accuracy svg rect[data-series]").count()).toBe(4);
    expect(await page.locator("svg").count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: path.join(os.tmpdir(), "vertical-report.png"), fullPage: true });
  });
});

describe("several results folders", () => {
  it("merge by system and set (later folders win), keep paired deltas per folder, and flag unfinished rows", async () => {
    const first = path.join(dir, "merge-a");
    const second = path.join(dir, "merge-b");
    const sets = [{ name: "harbor-mcq", general: false, n: 60 }];
    await writeFixtureResults(
      first,
      [
        { name: "base", accuracy: { "harbor-mcq": 0.4 } },
        { name: "sft", accuracy: { "harbor-mcq": 0.7 } },
      ],
      sets,
      5,
    );
    await writeFixtureResults(
      second,
      [
        { name: "base", accuracy: { "harbor-mcq": 0.4 } },
        { name: "cpt", accuracy: { "harbor-mcq": 0.55 } },
      ],
      sets,
      6,
    );
    // The cpt run was interrupted: mark its row partial.
    const summaryFile = path.join(second, "summary.json");
    const summary = JSON.parse(fs.readFileSync(summaryFile, "utf8")) as EvalSummary;
    const cptRow = summary.results.find((r) => r.system === "cpt")!;
    Object.assign(cptRow, { status: "partial", n: 41, error: "interrupted" });
    fs.writeFileSync(summaryFile, JSON.stringify(summary));

    const { model, markdownPath } = writeReport([first, second], { outDir: path.join(dir, "merged") });
    expect(model.systems.map((s) => s.name)).toEqual(["base", "sft", "cpt"]);
    const baseSecond = summary.results.find((r) => r.system === "base")!.accuracy!.value;
    expect(model.cells.find((c) => c.system === "base")!.accuracy!.value).toBe(baseSecond); // the later folder's base row
    const cpt = model.cells.find((c) => c.system === "cpt")!;
    expect(cpt.delta!.value).toBeCloseTo(cptRow.accuracy!.value - baseSecond, 12); // paired within folder b
    expect(cpt.delta!.ci95).not.toBeNull();
    expect(model.incomplete).toEqual([{ system: "cpt", set: "harbor-mcq", status: "partial", error: "interrupted" }]);
    const markdown = fs.readFileSync(markdownPath, "utf8");
    expect(markdown).toContain("**Not finished:** cpt on harbor-mcq (partial: interrupted)");
    expect(markdown).toContain("(partial 41/60)");
  });
});
