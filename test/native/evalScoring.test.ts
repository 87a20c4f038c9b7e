/**
 * Must-show of the evaluation harness: on a tiny model, the log-likelihood of every option through
 * node-llama-cpp (controlledEvaluate, F32 KV cache) and through Vertical's engine agree to <= 1e-3 per
 * token, with and without a LoRA adapter, and a whole `runEvaluation` gives identical predictions
 * (acc and acc_norm) for both backends. Also runs the shared backend contract on both.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMcqPrompt, detectLanguage, type ScoringMode } from "../../src/eval/mcq/buildPrompt.js";
import { loadMcq } from "../../src/eval/mcq/loadMcq.js";
import { readItemRecords } from "../../src/eval/results.js";
import { runEvaluation } from "../../src/eval/runEvaluation.js";
import { defineEvalSpec } from "../../src/eval/spec.js";
import { EngineScorer } from "../../src/llm/engineScorer.js";
import { LlamaCppBackend, LlamaCppEmbedder } from "../../src/llm/llamaCpp.js";
import { chatModelContract, tokenScorerContract } from "../../src/llm/testing/backendContract.js";
import { gguf, GgmlType, readGguf, toF32, writeGguf } from "../../src/engine/gguf/index.js";
import { writeLoraAdapterFile } from "../../src/model/loraAdapterFile.js";
import { initModel } from "../../src/model/initModel.js";
import { llamaCppVocab } from "./fixtures.js";
import { ContextOverflowError } from "../../src/shared/errors.js";

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-eval-native-"));
const modelPath = path.join(folder, "tiny.gguf");
const adapterPath = path.join(folder, "adapter.gguf");
const setPath = path.join(folder, "harbor.csv");
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

/** Deterministic pseudo-random values in [-scale, scale]. */
function values(length: number, seed: number, scale: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 2 * scale;
  });
}

beforeAll(async () => {
  // GPT-2's real vocabulary (50k tokens), 2 layers of width 64; a wide init (std 0.3) makes the
  // distributions peaked, so predictions are decided by clear margins rather than ties.
  await initModel({
    architecture: "llama",
    tokenizer: llamaCppVocab("ggml-vocab-gpt-2.gguf"),
    hidden: 64,
    layers: 2,
    heads: 4,
    ffn: 128,
    context: 512,
    seed: 3,
    initStd: 0.3,
    out: modelPath,
  });
  const rank = 4;
  await writeLoraAdapterFile(adapterPath, {
    architecture: "llama",
    rank,
    alpha: 8,
    pairs: [
      {
        base: "blk.0.attn_q.weight",
        layer: 0,
        target: "q",
        inFeatures: 64,
        outFeatures: 64,
        a: values(64 * rank, 1, 0.5),
        b: values(rank * 64, 2, 0.5),
      },
      {
        base: "blk.1.ffn_up.weight",
        layer: 1,
        target: "up",
        inFeatures: 64,
        outFeatures: 128,
        a: values(64 * rank, 3, 0.5),
        b: values(rank * 128, 4, 0.5),
      },
    ] as never,
  });
  fs.writeFileSync(
    setPath,
    [
      "id,question,A,B,C,D,answer,subject",
      "1,What is a berth?,a place where a ship is moored,a kind of crane,a tax on cargo,a tide table,A,port",
      "2,What does TEU measure?,wind speed,container capacity,draft,salinity,B,port",
      "3,泊位是什么？,船舶停靠的位置,一种起重机,货物税,潮汐表,A,港口",
      "4,港口国监督检查的对象是？,本国船舶,外国船舶,港口工人,货主,B,港口",
      "5,Who guides ships into the harbour?,the pilot,the cook,the agent,the surveyor,A,port",
      "6,What is demurrage?,a tide,a knot,a crane,a charge for delay,D,port",
    ].join("\n") + "\n",
  );
}, 120_000);

describe("log-likelihood through node-llama-cpp and through the engine", () => {
  it.each([
    ["letter", false],
    ["option", false],
    ["option", true],
  ] as [ScoringMode, boolean][])("agree per token (<= 1e-3) in %s mode, adapter: %s", async (mode, withAdapter) => {
    const adapters = withAdapter ? [{ filePath: adapterPath, scale: 1 }] : [];
    const llama = await LlamaCppBackend.load({
      modelPath,
      adapters,
      threads: 1,
      contextSize: 512,
      exactAttention: true,
    });
    const engine = await EngineScorer.load({ modelPath, adapters, threads: 1 });
    try {
      const requests = loadMcq(setPath).flatMap((item) => {
        const prompt = buildMcqPrompt({ item, language: detectLanguage(item), mode });
        return prompt.continuations.map((continuation) => ({
          context: prompt.userText,
          continuation: continuation.text,
        }));
      });
      for (const request of requests.slice(0, 4)) {
        expect(engine.contextTokens(request.context)).toEqual(llama.contextTokens(request.context));
        expect(engine.continuationTokens(request.continuation)).toEqual(llama.continuationTokens(request.continuation));
      }
      const fromLlama = await llama.score(requests);
      const fromEngine = await engine.score(requests);
      let worst = 0;
      fromLlama.forEach((score, i) => {
        expect(fromEngine[i]!.tokenCount).toBe(score.tokenCount);
        score.tokenLogprobs.forEach(
          (logprob, j) => (worst = Math.max(worst, Math.abs(logprob - fromEngine[i]!.tokenLogprobs[j]!))),
        );
      });
      expect(worst).toBeLessThanOrEqual(1e-3);
      if (withAdapter) {
        // The adapter really changes the numbers (else the comparison above would prove nothing about it).
        const base = await EngineScorer.load({ modelPath, threads: 1 });
        const [plain] = await base.score([requests[0]!]);
        base.dispose();
        expect(Math.abs(plain!.logprob - fromEngine[0]!.logprob)).toBeGreaterThan(0.01);
      }
    } finally {
      await llama.dispose();
      engine.dispose();
    }
  });

  it("gives identical predictions (acc and acc_norm) through runEvaluation", async () => {
    const system = (
      name: string,
      backend: "llama-cpp" | "engine",
      scoring: ScoringMode,
      adapters: { path: string }[] = [],
    ) => ({
      name,
      backend,
      model: modelPath,
      adapters,
      scoring,
      chatTemplate: "none",
      threads: 1,
      contextSize: 512,
      ...(backend === "llama-cpp" ? { exactAttention: true } : {}),
    });
    const spec = defineEvalSpec({
      name: "agreement",
      systems: [
        system("llama-letter", "llama-cpp", "letter"),
        system("engine-letter", "engine", "letter"),
        system("llama-option", "llama-cpp", "option"),
        system("engine-option", "engine", "option"),
        system("llama-lora", "llama-cpp", "option", [{ path: adapterPath }]),
        system("engine-lora", "engine", "option", [{ path: adapterPath }]),
      ],
      sets: [{ name: "harbor", path: setPath }],
    });
    const outDir = path.join(folder, "agreement");
    const summary = await runEvaluation(spec, { outDir });
    expect(summary.complete).toBe(true);
    const byId = (system: string) =>
      new Map(readItemRecords(path.join(outDir, "items", system, "harbor.jsonl")).map((record) => [record.id, record]));
    for (const variant of ["letter", "option", "lora"]) {
      const llama = byId(`llama-${variant}`);
      const engine = byId(`engine-${variant}`);
      expect(llama.size).toBe(6);
      for (const [id, record] of llama) {
        const other = engine.get(id)!;
        expect(other.prediction, `${variant} ${id}`).toBe(record.prediction);
        expect(other.predictionNorm ?? null, `${variant} ${id} (acc_norm)`).toBe(record.predictionNorm ?? null);
        for (const letter of record.letters) {
          const ours = other.scores![letter]!.logprob;
          const theirs = record.scores![letter]!.logprob;
          // Log-likelihood scoring always yields a number; null is only for chat endpoints' top-k letters.
          if (ours === null || theirs === null) throw new Error(`${variant} ${id} ${letter}: no log-probability`);
          expect(Math.abs(ours - theirs)).toBeLessThan(1e-3 * record.scores![letter]!.tokenCount);
        }
      }
    }
    const accuracy = (system: string) => summary.results.find((row) => row.system === system)!.accuracy!.value;
    expect(accuracy("engine-option")).toBe(accuracy("llama-option"));
    expect(summary.results.every((row) => row.templateApplied === false)).toBe(true);
  });
});

describe("engine scoring with a soft prompt", () => {
  it("scores like the text whose embeddings the soft prompt holds, put before the context", async () => {
    const plain = await EngineScorer.load({ modelPath, threads: 1 });
    const prefix = "Harbour rules apply.\n";
    const context = "What is a berth?\nAnswer:";
    const prefixTokens = plain.contextTokens(prefix);
    expect(plain.contextTokens(prefix + context)).toEqual([...prefixTokens, ...plain.contextTokens(context)]);
    // soft_prompt ne [E, P]: row p = the embedding of prefix token p.
    const file = readGguf(modelPath);
    const embeddings = toF32(file.tensor("token_embd.weight")!.type, file.tensorData("token_embd.weight"));
    const E = 64;
    const rows = new Float32Array(E * prefixTokens.length);
    prefixTokens.forEach((token, p) => rows.set(embeddings.subarray(token * E, (token + 1) * E), p * E));
    const promptPath = path.join(folder, "prompt.gguf");
    await writeGguf(promptPath, {
      metadata: [["general.type", gguf.string("soft_prompt")]],
      tensors: [{ name: "soft_prompt", shape: [E, prefixTokens.length], type: GgmlType.F32, data: rows }],
    });
    const prompted = await EngineScorer.load({ modelPath, threads: 1, softPromptPath: promptPath });
    try {
      const requests = [" a place where a ship is moored", " A"];
      const withPrompt = await prompted.score(requests.map((continuation) => ({ context, continuation })));
      const withText = await plain.score(requests.map((continuation) => ({ context: prefix + context, continuation })));
      const bare = await plain.score(requests.map((continuation) => ({ context, continuation })));
      withPrompt.forEach((score, i) => {
        score.tokenLogprobs.forEach((logprob, j) =>
          expect(Math.abs(logprob - withText[i]!.tokenLogprobs[j]!)).toBeLessThan(1e-4),
        );
        expect(Math.abs(score.logprob - bare[i]!.logprob)).toBeGreaterThan(1e-2);
      });
      expect(prompted.id).toBe("engine:tiny.gguf+prompt:prompt.gguf");
    } finally {
      prompted.dispose();
      plain.dispose();
    }
  });
});

describe("scoring with the chat template applied", () => {
  it("scores the GGUF template's text of [system, user] + assistant prefix, and says so", async () => {
    const llama = await LlamaCppBackend.load({ modelPath, threads: 1, contextSize: 512 });
    const rendered = llama.renderChatPrompt([
      { role: "system", content: "You are a port expert." },
      { role: "user", content: "Q?" },
    ]);
    await llama.dispose();
    const spec = defineEvalSpec({
      name: "templated",
      systems: [
        {
          name: "chat",
          backend: "llama-cpp",
          model: modelPath,
          systemPrompt: "You are a port expert.",
          threads: 1,
          contextSize: 512,
        },
      ],
      sets: [{ name: "harbor", path: setPath, limit: 2 }],
    });
    const outDir = path.join(folder, "templated");
    const summary = await runEvaluation(spec, { outDir });
    expect(summary.results[0]).toMatchObject({ templateApplied: true, scoring: "letter", n: 2 });
    const [record] = readItemRecords(path.join(outDir, "items", "chat", "harbor.jsonl"));
    // Same template around the real question: the prompt starts and ends like the rendered probe.
    const [head, tail] = rendered.split("Q?");
    expect(record!.prompt.startsWith(head!)).toBe(true);
    expect(record!.prompt.endsWith(tail!)).toBe(true);
    expect(record!.prompt).toContain("What is a berth?");
    // After an assistant prefix the letter is scored without a leading space.
    expect(Object.keys(record!.scores!)).toEqual(["A", "B", "C", "D"]);
  });
});

tokenScorerContract("llama-cpp", () => LlamaCppBackend.load({ modelPath, threads: 1, contextSize: 512 }));
tokenScorerContract("engine", () => EngineScorer.load({ modelPath, threads: 1 }));
chatModelContract("llama-cpp", () => LlamaCppBackend.load({ modelPath, threads: 1, contextSize: 512 }));

describe("LlamaCppEmbedder", () => {
  it("embeds texts with the model's width, the same text alike and different texts apart", async () => {
    const embedder = await LlamaCppEmbedder.load({ modelPath, threads: 1, contextSize: 256 });
    try {
      const [a, b, c] = await embedder.embed(["What is a berth?", "What is a berth?", "泊位是什么？"]);
      expect(embedder.dimensions).toBe(64);
      expect(a!.length).toBe(64);
      expect(Array.from(a!)).toEqual(Array.from(b!));
      expect(Array.from(a!)).not.toEqual(Array.from(c!));
    } finally {
      await embedder.dispose();
    }
    await expect(embedder.embed(["x"])).rejects.toThrow(/disposed/);
  });
});

describe("llama.cpp scoring does not depend on what was scored before", () => {
  // The shipped 5.3M example base (hidden 256): wide enough for llama.cpp's CPU kernels to round a prefix differently
  // when it was evaluated inside another item's batch. A resumed evaluation scores its first item without a neighbour
  // in front of it, so any such dependence shows up as results that differ from an uninterrupted run's.
  const shippedBase = path.resolve(import.meta.dirname, "../../examples/harbor/models/base.gguf");
  const header = "The following are multiple choice questions (with answers) about the port.\n\n";
  const item = (question: string) => `${header}${question}\nA. north\nB. south\nC. east\nD. west\nAnswer:`;
  const options = (context: string) => ["A", "B", "C", "D"].map((letter) => ({ context, continuation: ` ${letter}` }));

  it("gives an item the same logprobs alone as after another item that shares its prefix", async () => {
    const backend = await LlamaCppBackend.load({ modelPath: shippedBase, threads: 1 });
    try {
      const second = item("Which side of the harbour holds Berth Q04, where the Nanwan passenger ferries dock every morning?");
      await backend.score(options(item("Which way does the main channel run past the breakwater at high tide?")));
      const afterNeighbour = await backend.score(options(second));
      await backend.score(options("Something else entirely, to empty the sequence's prefix."));
      const alone = await backend.score(options(second));
      expect(afterNeighbour.map((score) => score.logprob)).toEqual(alone.map((score) => score.logprob));
    } finally {
      await backend.dispose();
    }
  });

  it("names a chat prompt that node-llama-cpp cannot compress into the context, with both lengths", async () => {
    const backend = await LlamaCppBackend.load({ modelPath: shippedBase, threads: 1, contextSize: 256 });
    try {
      await expect(backend.chat([{ role: "user", content: "harbour ".repeat(400) }])).rejects.toThrow(
        /a chat prompt of \d+ tokens does not fit the 256-token context/,
      );
      await expect(backend.chat([{ role: "user", content: "harbour ".repeat(400) }])).rejects.toBeInstanceOf(ContextOverflowError);
    } finally {
      await backend.dispose();
    }
  });
});
