/**
 * The lab end to end on the shipped example, shrunk to run in a few minutes: a tiny base model built
 * from the example's text, a few training steps per stage, a slice of each evaluation set. It checks
 * that every route produced results, that retrieval and training changed the domain scores relative to
 * the base (with the direction stated below, not assumed), and that an interrupted lab continues from
 * its last finished step.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "lab-e2e-"));
// Before anything reads settings(): a private cache (the built model) and two threads.
process.env.VERTICAL_CACHE_DIR = path.join(scratch, "cache");
process.env.VERTICAL_THREADS ??= "2";

const { afterAll, describe, expect, it } = await import("vitest");
const { runLab } = await import("../../src/lab/runLab.js");
const { itemsFile, readItemRecords } = await import("../../src/eval/results.js");
const { ROUTE_NAMES, routeGenerates } = await import("../../src/lab/routes.js");
type RouteName = import("../../src/lab/routes.js").RouteName;
const { InterruptedError } = await import("../../src/shared/errors.js");
const { loadLabConfig } = await import("../../src/lab/labConfig.js");
const { buildBaseModel } = await import("../../src/lab/buildBaseModel.js");
const { initModel } = await import("../../src/model/initModel.js");
const { settings } = await import("../../src/config.js");
type LabConfig = import("../../src/lab/labConfig.js").LabConfig;
type ProgressEvent = import("../../src/lab/runSteps.js").ProgressEvent;

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/**
 * A stand-in "chat model" until the example ships one: a second tiny model with the built base's tokenizer
 * (and so its ChatML template) but other weights, so the chat routes differ from the base ones.
 */
async function tinyChatModel(config: LabConfig): Promise<string> {
  const recipe = shrink(config).model.build!;
  const base = await buildBaseModel({ recipe, generalFolder: config.data.general, docsFolder: config.data.docs, seed: config.seed, threads: 2, cacheDir: settings().cacheDir });
  const file = path.join(scratch, "chat.gguf");
  await initModel({ architecture: "llama", hidden: 64, layers: 2, heads: 2, ffn: 128, context: 512, seed: 11, tokenizer: base.modelPath, out: file });
  return file;
}

let chatModel: string | undefined;

function withoutPath(model: LabConfig["model"]): LabConfig["model"] {
  const { path: _shipped, ...rest } = model;
  return rest;
}

/** The example's lab.yaml with tiny budgets and every route: the numbers are meaningless, the plumbing is not. */
function shrink(config: LabConfig): LabConfig {
  return {
    ...config,
    routes: [...ROUTE_NAMES],
    model: {
      ...withoutPath(config.model),
      ...(chatModel ? { chat: chatModel } : {}),
      // A tiny model built by the lab's `build:` path (the shipped 5.3M one is too slow for a test).
      build: {
        architecture: "llama",
        tokenizer: { vocabSize: 1024 },
        hidden: 64,
        layers: 2,
        heads: 2,
        ffn: 128,
        context: 512,
        pretrain: { steps: 8, lr: 3e-3, sequences: 4 },
      },
    },
    training: { ...config.training, sequences: 2, sequenceLength: 256, lr: 3e-3 },
    budgets: { cpt: { steps: 6 }, sft: { steps: 4 }, mip: { steps: 4 }, embedder: { steps: 2, batch: 4 } },
    retrieval: { ...config.retrieval, topK: 1, chunkChars: 120 },
    // One evaluation thread, the lab's own default for a tiny model: the example's `eval.threads: 2` made the dense passes
    // over the 1,667 chunks (base and trained embedder) take minutes each on a busy 2-core machine.
    eval: { ...config.eval, limit: 10, openLimit: 2, maxTokens: 6, threads: 1 },
  };
}

const outDir = path.join(scratch, "out");
const gold = (system: string) =>
  readItemRecords(itemsFile(path.join(outDir, "eval"), system, "domain-mcq")).map((record) => ({
    id: record.id,
    correct: record.correct,
    goldLogprob: record.scores![record.gold]!.logprob ?? Number.NaN,
  }));

describe("vertical lab on the shipped example (reduced)", () => {
  it("runs every route, continues after an interruption, and writes the report", async () => {
    chatModel = await tinyChatModel(loadLabConfig("examples/harbor"));
    // 1. Interrupt as the first route evaluation after training starts (as Ctrl-C would).
    const controller = new AbortController();
    const firstEvents: ProgressEvent[] = [];
    await expect(
      runLab("examples/harbor", {
        outDir,
        adjust: shrink,
        signal: controller.signal,
        onProgress: (event) => {
          firstEvents.push(event);
          if (event.type === "start" && event.step === "eval:cpt") controller.abort();
        },
      }),
    ).rejects.toBeInstanceOf(InterruptedError);
    const finishedFirst = firstEvents.filter((event) => event.type === "finish").map((event) => event.step);
    expect(finishedFirst).toEqual(expect.arrayContaining(["model", "data", "train:cpt", "train:sft", "eval:base", "eval:retrieval"]));
    expect(finishedFirst).not.toContain("eval:cpt");

    // 2. Rerun: every finished step is skipped, the rest runs.
    const events: ProgressEvent[] = [];
    const run = await runLab("examples/harbor", { outDir, adjust: shrink, onProgress: (event) => events.push(event) });
    expect(events.filter((event) => event.type === "skip").map((event) => event.step)).toEqual(finishedFirst);
    expect(events.filter((event) => event.type === "start").map((event) => event.step)[0]).toBe("eval:cpt");

    // 3. Every route has domain MCQ, general MCQ and open-ended results.
    expect(run.rows.map((row) => row.route)).toEqual(ROUTE_NAMES);
    for (const row of run.rows) {
      expect(row.domain, row.route).not.toBeNull();
      expect(row.general, row.route).not.toBeNull();
      // A soft prompt is scored by the engine, which does not generate: no open-ended answers.
      if (!routeGenerates(row.route as RouteName)) expect(row.openCharF1).toBeNull();
      else expect(row.openCharF1, row.route).not.toBeNull();
      if (row.route !== "base") expect(row.generalDelta, row.route).not.toBeNull();
    }
    expect(fs.readFileSync(run.reportHtml, "utf8")).toContain("retrieval-sft");
    for (const route of ["cpt", "cpt-general", "sft", "sft-small", "mip", "cpt-sft", "chat-sft", "chat-sft-small"]) expect(run.rows.find((row) => row.route === route)!.trainingTokens).toBeGreaterThan(0);
    // The small-data routes train on a quarter of the conversations for a quarter of the steps.
    const state = JSON.parse(fs.readFileSync(path.join(outDir, "lab-state.json"), "utf8")) as { steps: Record<string, { outputs: Record<string, number> }> };
    expect(state.steps["train:sft-small"]!.outputs.plannedSteps).toBe(1);
    expect(state.steps["train:chat-sft"]!.outputs.plannedSteps).toBe(4);
    const data = state.steps.data!.outputs;
    expect(data.sftSmallConversations).toBe(Math.round(data.sftConversations! / 4));
    // The chat route is the chat model as it is: other weights than the base, so other scores.
    const chatScores = readItemRecords(itemsFile(path.join(outDir, "eval"), "chat", "domain-mcq"));
    const baseScores = new Map(readItemRecords(itemsFile(path.join(outDir, "eval"), "base", "domain-mcq")).map((record) => [record.id, record]));
    expect(chatScores.some((record) => record.scores![record.gold]!.logprob !== baseScores.get(record.id)!.scores![record.gold]!.logprob)).toBe(true);

    // 3b. The report: chat routes through the template, the lab's own sections, the power and the advisor.
    const markdown = fs.readFileSync(run.reportMarkdown, "utf8");
    for (const title of ["## Data", "## Training", "## Statistical power", "## Sample answers", "## Retrieval", "## Citations", "## What this lab says"]) expect(markdown).toContain(title);
    // The Retrieval table: each retrieval route's retriever measured on the labelled domain items, next to its accuracy.
    const retrievalRows = [["retrieval", "bm25"], ["retrieval-sft", "bm25"], ["retrieval-dense", "dense \\(base embeddings\\)"], ["retrieval-hybrid", "hybrid"], ["retrieval-rerank", "rerank"], ["retrieval-embedder", "dense \\(trained embedder\\)"]];
    for (const [route, kind] of retrievalRows)
      expect(markdown).toMatch(new RegExp(`\\| ${route} \\| ${kind} \\| [1-9]\\d* \\| \\d\\.\\d{3} \\| \\d\\.\\d{3} \\| \\d\\.\\d{3} \\| \\d\\.\\d{3} \\| \\d+\\.\\d%`));
    for (const kind of ["bm25", "dense", "hybrid", "rerank", "embedder"]) expect(state.steps[`retrieval:${kind}`], kind).toBeDefined();
    // The retrieval-embedder route's embedder was trained by its own step, within budgets.embedder.
    expect(state.steps["train:embedder"]!.outputs).toMatchObject({ steps: 2, plannedSteps: 2, embedder: path.join("models", "embedder.gguf") });
    expect(fs.existsSync(path.join(outDir, "models", "embedder.gguf"))).toBe(true);
    // The tools route: MCQ by generation through the tool loop, its tool use counted per set in the Tools section.
    expect(markdown).toContain("## Tools");
    for (const set of ["domain-mcq", "general-mcq", "domain-open"]) expect(markdown).toMatch(new RegExp(`\\| tools \\| ${set} \\| [1-9]\\d* \\| \\d+ \\| \\d+ \\| \\d+ \\|`));
    expect(readItemRecords(itemsFile(path.join(outDir, "eval"), "tools", "domain-mcq")).every((record) => record.toolUse !== undefined && record.generation !== undefined)).toBe(true);
    expect(markdown.indexOf("## What this lab says")).toBeGreaterThan(markdown.indexOf("## Sample answers"));
    expect(markdown).toMatch(/\| sft \| engine \| [^|]+ \| [^|]+ \| option \| applied \|/);
    expect(markdown).toMatch(/\| base \(base\) \| engine \| [^|]+ \| [^|]+ \| option \| none \|/);
    expect(markdown).toMatch(/\| chat-sft-small \| 1 \/ 1 \|/);
    expect(run.power[0]!.items).toBe(10);
    expect(markdown).toContain("minimum detectable difference, alpha 0.05 two-sided, power 0.8");
    expect(run.advice.rules).toHaveLength(5);
    expect(run.advice.rules.every((finding) => ["supports", "contradicts", "not resolved"].includes(finding.verdict))).toBe(true);

    // 4. Retrieval and training changed the domain scores relative to the base.
    const base = new Map(gold("base").map((item) => [item.id, item]));
    const meanShift = (system: string) => {
      const items = gold(system);
      return items.reduce((sum, item) => sum + item.goldLogprob - base.get(item.id)!.goldLogprob, 0) / items.length;
    };
    // Retrieval changes the prompt, so every item's scores change; the direction of accuracy is not assumed.
    const retrievalShift = meanShift("retrieval");
    expect(Math.abs(retrievalShift)).toBeGreaterThan(1e-3);
    // CPT trains on the very documents that state the answers: the gold option's log-likelihood goes UP.
    expect(meanShift("cpt")).toBeGreaterThan(0);
    console.log(
      `reduced lab: gold log-likelihood shift vs base — retrieval ${retrievalShift.toFixed(3)}, cpt ${meanShift("cpt").toFixed(3)}, sft ${meanShift("sft").toFixed(3)}; ` +
        `domain accuracy ${run.rows.map((row) => `${row.route} ${(row.domain!.value * 100).toFixed(0)}%`).join(", ")}; ${run.seconds.toFixed(0)} s`,
    );

    // 5. `vertical serve --lab` serves the routes as the lab evaluated them: same model files, the
    //    retrieval route answers with citations from the lab's documents.
    const { systemsFromLab } = await import("../../src/serve/loadServedSystems.js");
    const served = systemsFromLab("examples/harbor", 1, outDir, shrink);
    // The tools route is not served: the server has no tool loop.
    expect(served.map((system) => system.spec.name)).toEqual(ROUTE_NAMES.filter((route) => routeGenerates(route) && route !== "tools"));
    const sft = served.find((system) => system.spec.name === "sft")!.spec;
    for (const file of [sft.model, ...sft.adapters.map((adapter) => adapter.path)]) expect(fs.existsSync(file), file).toBe(true);
    const { startServe } = await import("../../src/serve/startServe.js");
    const { default: OpenAI } = await import("openai");
    const server = await startServe({ lab: "examples/harbor", labOut: outDir, port: 0, accessLog: () => {}, log: () => {} });
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: "retrieval", messages: [{ role: "user", content: "What is the berth fee?" }], max_tokens: 4 });
      const citations = (answer as unknown as { citations: { source: string }[] }).citations;
      expect(citations.length).toBeGreaterThan(0);
      expect(fs.existsSync(path.join("examples/harbor/docs", `${citations[0]!.source.split("#")[0]}.md`)), citations[0]!.source).toBe(true);
    } finally {
      await server.close();
    }
  }, 900_000);

  it("trains a soft prompt on the conversations, exports it and scores with it loaded back by the engine", async () => {
    const softOut = path.join(scratch, "out-soft-prompt");
    const run = await runLab("examples/harbor", { outDir: softOut, adjust: (config) => ({ ...shrink(config), routes: ["base", "soft-prompt"] }), onProgress: () => {} });
    const row = run.rows.find((entry) => entry.route === "soft-prompt")!;
    expect(row.domain).not.toBeNull();
    expect(row.trainingTokens).toBeGreaterThan(0);
    const file = path.join(softOut, "models", "soft-prompt.soft-prompt.gguf");
    expect(fs.existsSync(file)).toBe(true);
    const { readGguf } = await import("../../src/engine/gguf/readGguf.js");
    const gguf = readGguf(file);
    expect(gguf.getString("general.type")).toBe("soft_prompt");
    // The base's weights are untouched (frozen) and the soft prompt is in front of every item: scores differ.
    const records = readItemRecords(itemsFile(path.join(softOut, "eval"), "soft-prompt", "domain-mcq"));
    const base = new Map(readItemRecords(itemsFile(path.join(softOut, "eval"), "base", "domain-mcq")).map((record) => [record.id, record]));
    expect(records.some((record) => record.scores![record.gold]!.logprob !== base.get(record.id)!.scores![record.gold]!.logprob)).toBe(true);
    console.log(`soft-prompt route: ${row.trainingTokens} training tokens in ${row.trainingSeconds?.toFixed(1)} s, domain ${(row.domain!.value * 100).toFixed(0)}%`);
  }, 900_000);

  it("trains LoRA adapters too: exported, merged for CPT-then-SFT, and loaded by both evaluation backends", async () => {
    const loraOut = path.join(scratch, "out-lora");
    const run = await runLab("examples/harbor", {
      outDir: loraOut,
      adjust: (config) => ({ ...shrink(config), routes: ["base", "sft", "cpt-sft"], training: { ...shrink(config).training, method: "lora", rank: 4, alpha: 8 } }),
      onProgress: () => {},
    });
    expect(run.rows.map((row) => row.route)).toEqual(["base", "sft", "cpt-sft"]);
    for (const file of ["sft.lora.gguf", "cpt-general.lora.gguf", "cpt-general.merged.gguf", "cpt-sft.lora.gguf"]) expect(fs.existsSync(path.join(loraOut, "models", file)), file).toBe(true);
    const records = readItemRecords(itemsFile(path.join(loraOut, "eval"), "cpt-sft", "domain-mcq"));
    expect(records.length).toBeGreaterThan(0);
    // The adapter changed the model: scores differ from the base's on the same items.
    const base = new Map(readItemRecords(itemsFile(path.join(loraOut, "eval"), "base", "domain-mcq")).map((record) => [record.id, record]));
    expect(records.some((record) => record.scores![record.gold]!.logprob !== base.get(record.id)!.scores![record.gold]!.logprob)).toBe(true);
  }, 900_000);
});
