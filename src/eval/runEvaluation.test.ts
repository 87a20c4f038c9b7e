import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "../llm/testing/fakeOpenAIServer.js";
import { ConfigError, InputError, InterruptedError } from "../shared/errors.js";
import { readItemRecords, readResults } from "./results.js";
import { runEvaluation } from "./runEvaluation.js";
import { defineEvalSpec, loadEvalSpec } from "./spec.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-eval-run-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let servers: FakeOpenAIServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

/** A domain set (C-Eval CSV, two subjects, golds B B C A B D) and a general set (JSONL, golds B A B B). */
function writeSets(folder: string): void {
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(
    path.join(folder, "domain.csv"),
    [
      "id,question,A,B,C,D,answer,subject",
      "1,什么是泊位？,船,码头上停船的位置,货物,航道,B,port",
      "2,What is draft?,a fee,depth of the hull below water,a crane,a berth,B,ship",
      "3,TEU 是什么？,吨,海里,二十英尺标准箱,节,C,port",
      "4,What does a pilot do?,guides ships in port,loads cargo,sets tariffs,repairs hulls,A,ship",
      "5,港口国监督针对？,外国船舶,本国港口,货主,船员工资,B,port",
      "6,What is demurrage?,a tide,a knot,a crane,a charge for delay,D,ship",
    ].join("\n") + "\n",
  );
  fs.writeFileSync(
    path.join(folder, "general.jsonl"),
    [
      { question: "2+2?", A: "3", B: "4", C: "5", D: "6", answer: "B", subject: "math" },
      { question: "Capital of France?", A: "Paris", B: "Rome", C: "Oslo", D: "Bern", answer: "A", subject: "geo" },
      { question: "Water boils at (°C)?", A: "50", B: "100", C: "150", D: "200", answer: "B", subject: "sci" },
      { question: "Largest planet?", A: "Mars", B: "Jupiter", C: "Venus", D: "Earth", answer: "B", subject: "sci" },
    ]
      .map((record) => JSON.stringify(record))
      .join("\n") + "\n",
  );
}

function writeSpec(folder: string, systems: string): string {
  const file = path.join(folder, "eval.yaml");
  fs.writeFileSync(
    file,
    `name: harbor-test
baseSystem: scorer
systems:
${systems}
sets:
  - { name: domain, path: domain.csv }
  - { name: general, path: general.jsonl, general: true }
`,
  );
  return file;
}

describe("runEvaluation against OpenAI-compatible endpoints on loopback", () => {
  it("scores by letter log-likelihood and by generation + extraction, with per-subject CIs and forgetting", async () => {
    const folder = path.join(root, "basic");
    writeSets(folder);
    // The scoring endpoint always prefers "B"; the chat endpoint always answers C (in the prompt's language).
    const scorer = await startFakeOpenAIServer({ tokenLogprob: (_prefix, token) => (token === "B" ? -0.5 : -3) });
    const chat = await startFakeOpenAIServer({
      reply: ({ messages }) => (/[\u4e00-\u9fff]/.test(messages!.at(-1)!.content) ? "答案是C" : "The answer is (C)."),
    });
    servers.push(scorer, chat);
    const file = writeSpec(
      folder,
      `  - { name: scorer, backend: openai, model: m, baseUrl: "${scorer.baseUrl}", maxRetries: 0 }
  - { name: chat, backend: openai, model: m, baseUrl: "${chat.baseUrl}", logprobs: false, systemPrompt: "You are a port expert." }`,
    );
    const outDir = path.join(folder, "out");
    const progress: string[] = [];
    const summary = await runEvaluation(loadEvalSpec(file), {
      outDir,
      onProgress: (p) => p.phase === "end" && progress.push(`${p.system}/${p.set} ${p.done}/${p.total}`),
    });
    expect(progress).toEqual(["scorer/domain 6/6", "scorer/general 4/4", "chat/domain 6/6", "chat/general 4/4"]);
    expect(summary.complete).toBe(true);

    const row = (system: string, set: string) =>
      summary.results.find((result) => result.system === system && result.set === set)!;
    // Golds: domain B B C A B D -> always-B gets 3/6, always-C 1/6; general B A B B -> B 3/4, C 0/4.
    expect(row("scorer", "domain")).toMatchObject({
      status: "complete",
      scoring: "letter",
      templateApplied: false,
      n: 6,
      total: 6,
      unanswered: 0,
    });
    expect(row("scorer", "domain").accuracy!.value).toBeCloseTo(3 / 6, 12);
    expect(row("chat", "domain")).toMatchObject({ scoring: "generate", templateApplied: true });
    expect(row("chat", "domain").accuracy!.value).toBeCloseTo(1 / 6, 12);
    expect(row("scorer", "domain").perSubject.port).toMatchObject({ n: 3 });
    expect(row("scorer", "domain").perSubject.port!.accuracy.value).toBeCloseTo(2 / 3, 12);
    const ci = row("scorer", "domain").accuracy!.ci95;
    expect(ci[0]).toBeLessThan(0.5);
    expect(ci[1]).toBeGreaterThan(0.5);
    expect(row("scorer", "domain").tokens.prompt).toBeGreaterThan(0);

    expect(summary.forgetting).toHaveLength(1);
    expect(summary.forgetting[0]).toMatchObject({
      system: "chat",
      set: "general",
      n: 4,
      score: 0,
      baseScore: 0.75,
      delta: -0.75,
    });
    expect(summary.systems.find((system) => system.name === "scorer")).toMatchObject({
      isBase: true,
      scoring: "letter",
    });

    // Per-item records carry prompt, scores, prediction and gold; the report reads the same files.
    const results = readResults(outDir);
    expect(results.summary).toEqual(summary);
    const items = results.items("scorer", "domain");
    expect(items).toHaveLength(6);
    expect(items[0]).toMatchObject({
      id: "port/1",
      set: "domain",
      system: "scorer",
      subject: "port",
      kind: "mcq",
      row: 2,
      gold: "B",
      prediction: "B",
      correct: true,
      letters: ["A", "B", "C", "D"],
    });
    expect(items[0]!.prompt).toMatch(/^以下是中国关于port考试的单项选择题[\s\S]*答案：$/);
    expect(items[0]!.scores!.B!.logprob).toBeCloseTo(-0.5, 12);
    expect(items[1]!.prompt).toMatch(
      /^The following are multiple choice questions \(with answers\) about ship\.[\s\S]*\nAnswer:$/,
    );
    const chatItems = results.items("chat", "domain");
    expect(chatItems[0]).toMatchObject({ generation: "答案是C", prediction: "C", correct: false });
    expect(JSON.parse(chatItems[0]!.prompt)[0]).toEqual({ role: "system", content: "You are a port expert." });
    // The scoring endpoint was asked with echo + logprobs, one request per option letter.
    expect(scorer.requests.filter((request) => request.body.echo === true)).toHaveLength((6 + 4) * 4);
  });

  it("scores letters from a chat endpoint's first-token logprobs (logprobs: chat)", async () => {
    const folder = path.join(root, "chat-letters");
    writeSets(folder);
    const server = await startFakeOpenAIServer({
      chatFirstToken: () => [
        { token: "B", logprob: -0.3 },
        { token: " A", logprob: -1.2 },
        { token: "C", logprob: -2 },
      ],
    });
    servers.push(server);
    const file = writeSpec(
      folder,
      `  - { name: scorer, backend: openai, model: m, baseUrl: "${server.baseUrl}", logprobs: chat }`,
    );
    const summary = await runEvaluation(loadEvalSpec(file), { outDir: path.join(folder, "out") });
    const row = summary.results[0]!;
    expect(row).toMatchObject({ scoring: "letter", templateApplied: true, n: 6, unanswered: 0 });
    expect(row.accuracy!.value).toBeCloseTo(3 / 6, 12);
    const [first] = readItemRecords(path.join(folder, "out", "items", "scorer", "domain.jsonl"));
    expect(first!.scores).toEqual({
      A: { logprob: -1.2, tokenCount: 1, isGreedy: false },
      B: { logprob: -0.3, tokenCount: 1, isGreedy: true },
      C: { logprob: -2, tokenCount: 1, isGreedy: false },
      D: { logprob: null, tokenCount: 1, isGreedy: false },
    });
    expect(JSON.parse(first!.prompt).at(-1).content).toMatch(/答案：$/);
    expect(
      server.requests.every((request) => request.path === "/chat/completions" && request.body.logprobs === true),
    ).toBe(true);
  });

  it("keeps 'template applied' when a rerun finds every item scored and builds no backend", async () => {
    const folder = path.join(root, "template-rerun");
    writeSets(folder);
    let built = 0;
    const contexts: string[] = [];
    const createBackend = async () => {
      built++;
      return {
        id: "fake-engine",
        scorer: {
          id: "fake-scorer",
          score: async (requests: { context: string; continuation: string }[]) =>
            requests.map((request) => {
              contexts.push(request.context);
              return { logprob: -request.continuation.length, tokenLogprobs: [], isGreedy: false, tokenCount: 1 };
            }),
        },
        renderChatPrompt: (messages: { content: string }[]) => `<|im_start|>user\n${messages.at(-1)!.content}<|im_end|>\n<|im_start|>assistant\n`,
        dispose: async () => {},
      };
    };
    const spec = defineEvalSpec({
      name: "t",
      baseSystem: "chat",
      systems: [{ name: "chat", backend: "engine", model: path.join(folder, "m.gguf"), chatTemplate: "auto", scoring: "option" }],
      sets: [{ name: "domain", kind: "mcq", path: path.join(folder, "domain.csv") }],
    });
    const outDir = path.join(folder, "out");
    const first = await runEvaluation(spec, { outDir, createBackend });
    expect(first.systems[0]!.templateApplied).toBe(true);
    expect(contexts[0]).toMatch(/^<\|im_start\|>user/);
    expect(readItemRecords(path.join(outDir, "items", "chat", "domain.jsonl"))[0]!.templateApplied).toBe(true);
    const again = await runEvaluation(spec, { outDir, createBackend });
    expect(built).toBe(1);
    expect(again.systems[0]!.templateApplied).toBe(true);
    expect(again.results[0]!.templateApplied).toBe(true);
  });

  it("resumes an interrupted run without scoring finished items again", async () => {
    const folder = path.join(root, "resume");
    writeSets(folder);
    const scorer = await startFakeOpenAIServer({ tokenLogprob: (_prefix, token) => (token === "A" ? -0.1 : -2) });
    servers.push(scorer);
    const file = writeSpec(
      folder,
      `  - { name: scorer, backend: openai, model: m, baseUrl: "${scorer.baseUrl}", maxConcurrency: 1 }`,
    );
    const outDir = path.join(folder, "out");
    const controller = new AbortController();
    const first = runEvaluation(loadEvalSpec(file), {
      outDir,
      signal: controller.signal,
      onProgress: (progress) =>
        progress.phase === "item" && progress.done === 3 && progress.set === "domain" && controller.abort(),
    });
    await expect(first).rejects.toThrow(InterruptedError);
    const afterFirst = readItemRecords(path.join(outDir, "items", "scorer", "domain.jsonl"));
    expect(afterFirst).toHaveLength(3);
    expect(readResults(outDir).summary.complete).toBe(false);
    const requestsBefore = scorer.requests.length;

    // A crash in the middle of a write leaves half a line: it is dropped, and that item scored again.
    fs.appendFileSync(path.join(outDir, "items", "scorer", "domain.jsonl"), '{"id":"ship/4","set":"dom');
    const summary = await runEvaluation(loadEvalSpec(file), { outDir });
    expect(summary.complete).toBe(true);
    const records = readItemRecords(path.join(outDir, "items", "scorer", "domain.jsonl"));
    expect(records.map((record) => record.id).sort()).toEqual([
      "port/1",
      "port/3",
      "port/5",
      "ship/2",
      "ship/4",
      "ship/6",
    ]);
    // Only the 3 remaining domain items and the 4 general items were scored: 4 letters each.
    expect(scorer.requests.length - requestsBefore).toBe((3 + 4) * 4);
    // Golds A appear once in domain (item 4) and once in general.
    expect(summary.results[0]!.accuracy!.value).toBeCloseTo(1 / 6, 12);

    // Changing what a score means (here: 2 shots) in the same folder is refused, not mixed.
    const changed = fs.readFileSync(file, "utf8").replace("maxConcurrency: 1", "maxConcurrency: 1, fewShot: 2");
    fs.writeFileSync(file, changed);
    await expect(runEvaluation(loadEvalSpec(file), { outDir })).rejects.toThrow(
      /system "scorer" on set "domain" was run with other settings[\s\S]*new --out/,
    );
  });

  it("records an unreachable endpoint as a failed system, keeps the others and the finished items", async () => {
    const folder = path.join(root, "failing");
    writeSets(folder);
    const good = await startFakeOpenAIServer();
    const gone = await startFakeOpenAIServer();
    const goneUrl = gone.baseUrl;
    await gone.close();
    servers.push(good);
    const file = writeSpec(
      folder,
      `  - { name: scorer, backend: openai, model: m, baseUrl: "${good.baseUrl}" }
  - { name: down, backend: openai, model: m, baseUrl: "${goneUrl}", maxRetries: 1, logprobs: false }`,
    );
    const outDir = path.join(folder, "out");
    const summary = await runEvaluation(loadEvalSpec(file), { outDir });
    expect(summary.complete).toBe(false);
    const down = summary.results.filter((row) => row.system === "down");
    expect(down.map((row) => row.status)).toEqual(["failed", "failed"]);
    // Items run four at a time, so which one hit the error first varies; the message names its file and row.
    expect(down[0]!.error).toMatch(/domain\.csv:\d \(item (port|ship)\/\d\): /);
    expect(down[0]!.error).toContain(`${goneUrl}/chat/completions: cannot connect: ECONNREFUSED`);
    expect(summary.results.filter((row) => row.system === "scorer").map((row) => row.status)).toEqual([
      "complete",
      "complete",
    ]);
    expect(readItemRecords(path.join(outDir, "items", "scorer", "domain.jsonl"))).toHaveLength(6);
  });

  it("rejects bad input before any scoring, naming the file, row or system", async () => {
    const folder = path.join(root, "bad");
    writeSets(folder);
    const server = await startFakeOpenAIServer();
    servers.push(server);
    const outDir = path.join(folder, "out");

    fs.writeFileSync(path.join(folder, "domain.csv"), "id,question,A,B,C,D,answer\n1,q,a,b,c,d,A\n2,q,a,b,c,d,F\n");
    const specFile = writeSpec(folder, `  - { name: scorer, backend: openai, model: m, baseUrl: "${server.baseUrl}" }`);
    await expect(runEvaluation(loadEvalSpec(specFile), { outDir })).rejects.toThrow(
      `${path.join(folder, "domain.csv")}:3: answer "F" is not one of the options (A, B, C, D)`,
    );

    writeSets(folder);
    fs.writeFileSync(path.join(folder, "model.gguf"), "not really a model");
    const adapterSpec = writeSpec(
      folder,
      `  - { name: scorer, backend: llama-cpp, model: model.gguf, adapters: [{ path: runs/sft/adapter.gguf }] }`,
    );
    const error = await runEvaluation(loadEvalSpec(adapterSpec), { outDir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      `system "scorer": adapter not found: ${path.join(folder, "runs/sft/adapter.gguf")}`,
    );
    expect(server.requests).toHaveLength(0);

    const typoSpec = writeSpec(folder, `  - { name: scorer, backend: openia, model: m, scoring: letters }`);
    expect(() => loadEvalSpec(typoSpec)).toThrow(
      /eval\.yaml: invalid fields:\n {2}systems\[0\]\.backend: .*\n {2}systems\[0\]\.scoring: /,
    );
    const retrievalSpec = writeSpec(
      folder,
      `  - { name: scorer, backend: openai, model: m, baseUrl: "${server.baseUrl}", retrieval: { index: x, k: 2 } }`,
    );
    await expect(runEvaluation(loadEvalSpec(retrievalSpec), { outDir: path.join(folder, "out2") })).rejects.toThrow(
      /system "scorer": the system declares `retrieval`/,
    );
    expect(InputError).toBeDefined();
  });

  it("puts retrieved passages before the question and stores them", async () => {
    const folder = path.join(root, "retrieval");
    writeSets(folder);
    const server = await startFakeOpenAIServer();
    servers.push(server);
    const file = writeSpec(
      folder,
      `  - { name: scorer, backend: openai, model: m, baseUrl: "${server.baseUrl}", logprobs: false, retrieval: { index: harbor, k: 1 } }`,
    );
    const outDir = path.join(folder, "out");
    const asked: unknown[] = [];
    await runEvaluation(loadEvalSpec(file), {
      outDir,
      resolveRetriever: async (system, retrieval) => {
        asked.push([system, retrieval]);
        return {
          id: "fake",
          retrieve: async (query, k) => [{ text: `passage about ${query.slice(0, 6)}`, source: "doc-1", score: k }],
        };
      },
    });
    expect(asked).toEqual([["scorer", { index: "harbor", k: 1 }]]);
    const [first] = readItemRecords(path.join(outDir, "items", "scorer", "domain.jsonl"));
    expect(first!.retrieved).toEqual([{ text: "passage about 什么是泊位？", source: "doc-1", score: 1 }]);
    expect(JSON.parse(first!.prompt)[0].content).toMatch(
      /^参考资料：\n\[1\] \(doc-1\) passage about 什么是泊位？\n\n以下是中国关于port考试/,
    );
  });
});

describe("runEvaluation with an open-ended set", () => {
  it("has every system answer through chat and writes open/<set>.json for the report", async () => {
    const folder = path.join(root, "open");
    writeSets(folder);
    fs.writeFileSync(
      path.join(folder, "open.jsonl"),
      '{"id":"q1","question":"What is a berth?","reference":"A place where a ship moors."}\n{"id":"q2","question":"泊位是什么？","reference":"船舶停靠的位置"}\n',
    );
    const server = await startFakeOpenAIServer({ reply: ({ messages }) => `Answer to: ${messages!.at(-1)!.content}` });
    servers.push(server);
    const file = path.join(folder, "eval.yaml");
    fs.writeFileSync(
      file,
      `name: open-test
systems:
  - { name: base, backend: openai, model: m, baseUrl: "${server.baseUrl}", logprobs: false }
  - { name: tuned, backend: openai, model: m2, baseUrl: "${server.baseUrl}", logprobs: false }
sets:
  - { name: domain, path: domain.csv }
  - { name: answers, kind: open, path: open.jsonl }
`,
    );
    const outDir = path.join(folder, "out");
    const summary = await runEvaluation(loadEvalSpec(file), { outDir });
    expect(summary.complete).toBe(true);
    expect(summary.sets.map((set) => [set.name, set.kind, set.n])).toEqual([
      ["domain", "mcq", 6],
      ["answers", "open", 2],
    ]);
    const open = JSON.parse(fs.readFileSync(path.join(outDir, "open", "answers.json"), "utf8"));
    expect(open).toMatchObject({ set: "answers", kind: "open", questions: 2 });
    expect(
      open.systems.map((system: { system: string; answered: number }) => [system.system, system.answered]),
    ).toEqual([
      ["base", 2],
      ["tuned", 2],
    ]);
    // Rerun: nothing is asked again.
    const before = server.requests.length;
    await runEvaluation(loadEvalSpec(file), { outDir });
    expect(server.requests.length).toBe(before);
  });
});
