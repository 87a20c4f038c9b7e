import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import YAML from "yaml";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "../llm/testing/fakeOpenAIServer.js";
import { readHistory, type ScoreRecord } from "../prompt/searchHistory.js";
import { ConfigError, InputError, InterruptedError } from "../shared/errors.js";
import { optimiseSystemPrompt } from "./optimiseSystemPrompt.js";
import { loadSystems } from "./spec.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-prompt-opt-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

/**
 * An endpoint whose every token is likelier the more often "harbour" appears in the text before it, and a
 * rewriter that proposes one "harbour" more than the best instruction it is shown: the search must climb.
 */
async function harbourServer(): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAIServer({
    tokenLogprob: (prefix) => -2 / (1 + (prefix.match(/harbour/g)?.length ?? 0)),
    reply: ({ messages }) => {
      if (!messages) return "A";
      const best = messages!.at(-1)!.content.split("\n").find((line) => line.startsWith("Instruction:")) ?? "";
      const count = (best.match(/harbour/g)?.length ?? 0) + 1;
      return `Instruction: "Answer as a ${"harbour ".repeat(count)}master."`;
    },
  });
  servers.push(server);
  return server;
}

function writeFiles(folder: string, baseUrl: string, extra = ""): { systems: string; dev: string } {
  fs.mkdirSync(folder, { recursive: true });
  const systems = path.join(folder, "systems.yaml");
  fs.writeFileSync(systems, `systems:\n  - { name: port, backend: openai, model: m, baseUrl: "${baseUrl}", maxRetries: 0, chatTemplate: none${extra} }\n`);
  const dev = path.join(folder, "dev.jsonl");
  const lines = Array.from({ length: 8 }, (_, i) =>
    JSON.stringify({ question: `Which berth takes ship ${i}?`, A: "one", B: "two", C: "three", D: "four", answer: "ABCD"[i % 4], subject: "harbor" }),
  );
  fs.writeFileSync(dev, `${lines.join("\n")}\n`);
  return { systems, dev };
}

const scoringRequests = (server: FakeOpenAIServer) => server.requests.filter((request) => request.path.endsWith("/completions") && !request.path.includes("chat")).length;

describe("optimiseSystemPrompt", () => {
  it("climbs on the dev split, writes prompt.txt, system.yaml and the history with intervals", async () => {
    const server = await harbourServer();
    const folder = path.join(root, "climb");
    const files = writeFiles(folder, server.baseUrl);
    const [system] = loadSystems(files.systems);
    const result = await optimiseSystemPrompt({ system: system!, devFile: files.dev, budget: 4, outDir: path.join(folder, "out"), seeds: ["Pick the right letter."] });
    expect(result.candidates.map((candidate) => candidate.source)).toEqual(["seed", "seed", "rewrite", "rewrite"]);
    expect(result.best.template.instruction).toBe("Answer as a harbour harbour master.");
    expect(result.bestScore.mean).toBeGreaterThan(result.startScore.mean);
    expect(result.bestScore.items).toBe(8);
    expect(result.cost.rewriteCalls).toBe(2);
    const chosen = loadSystems(result.files.system)[0]!;
    expect(chosen.prompt?.instruction).toBe("Answer as a harbour harbour master.");
    expect(fs.readFileSync(result.files.prompt, "utf8")).toMatch(/instruction: Answer as a harbour harbour master\.\n[\s\S]*Which berth takes ship 0\?/);
    const scores = readHistory(result.files.history).filter((record): record is ScoreRecord => record.type === "score");
    for (const score of scores) expect(score.ci95[0]).toBeLessThanOrEqual(score.mean);
    expect(YAML.parse(fs.readFileSync(result.files.system, "utf8")).systems[0].name).toBe("port-optimised");
  });

  it("resumes an aborted search without scoring a finished candidate again", async () => {
    const uninterrupted = await harbourServer();
    const reference = writeFiles(path.join(root, "reference"), uninterrupted.baseUrl);
    await optimiseSystemPrompt({ system: loadSystems(reference.systems)[0]!, devFile: reference.dev, budget: 4, outDir: path.join(root, "reference", "out") });
    const server = await harbourServer();
    const folder = path.join(root, "resume");
    const files = writeFiles(folder, server.baseUrl);
    const system = loadSystems(files.systems)[0]!;
    const outDir = path.join(folder, "out");
    const controller = new AbortController();
    let scored = 0;
    const first = optimiseSystemPrompt({
      system, devFile: files.dev, budget: 4, outDir, signal: controller.signal,
      onRecord: (record) => { if (record.type === "score" && ++scored === 2) controller.abort(); },
    });
    await expect(first).rejects.toThrow(InterruptedError);
    const before = readHistory(path.join(outDir, "history.jsonl")).filter((record) => record.type === "score").length;
    expect(before).toBe(2);
    const second = await optimiseSystemPrompt({ system, devFile: files.dev, budget: 4, outDir });
    const history = readHistory(second.files.history).filter((record): record is ScoreRecord => record.type === "score");
    const keys = history.map((record) => `${record.id}@${record.rung}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The two runs together asked the endpoint for exactly what one uninterrupted run asks.
    expect(scoringRequests(server)).toBe(scoringRequests(uninterrupted));
    expect(second.best.template.instruction).toBe("Answer as a harbour harbour harbour master.");
  });

  it("refuses a bad dev line, a budget of 0 and an endpoint without logprobs before any request", async () => {
    const server = await harbourServer();
    const folder = path.join(root, "errors");
    const files = writeFiles(folder, server.baseUrl);
    const system = loadSystems(files.systems)[0]!;
    const outDir = path.join(folder, "out");
    const badDev = path.join(folder, "bad.jsonl");
    fs.writeFileSync(badDev, `${fs.readFileSync(files.dev, "utf8")}{"question": "no options"\n`);
    await expect(optimiseSystemPrompt({ system, devFile: badDev, budget: 3, outDir })).rejects.toThrow(new RegExp(`${badDev}:9: not valid JSON`));
    await expect(optimiseSystemPrompt({ system, devFile: badDev, budget: 3, outDir })).rejects.toThrow(InputError);
    await expect(optimiseSystemPrompt({ system, devFile: files.dev, budget: 0, outDir })).rejects.toThrow(/--budget: the budget must be .* at least 1; got 0/);
    const noLogprobs = loadSystems(writeFiles(path.join(folder, "chat-only"), server.baseUrl, ", logprobs: false").systems)[0]!;
    await expect(optimiseSystemPrompt({ system: noLogprobs, devFile: files.dev, budget: 3, outDir })).rejects.toThrow(ConfigError);
    await expect(optimiseSystemPrompt({ system: noLogprobs, devFile: files.dev, budget: 3, outDir })).rejects.toThrow(/logprobs: false/);
    expect(server.requests).toHaveLength(0);
  });
});
