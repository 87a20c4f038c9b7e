/**
 * `vertical serve` on real models: a tiny llama (GPT-2's vocabulary), the same with a LoRA adapter,
 * and a retrieval system over two documents, served from a systems.yaml on loopback and driven with
 * the official `openai` client, unmodified. Every answer is checked against the same model asked
 * directly through node-llama-cpp (greedy: the texts must be identical), so the server adds transport
 * and nothing else; then a thumbs-down with a correction comes back out of `vertical feedback export`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/testing/runCli.js";
import { LlamaCppBackend, LlamaCppEmbedder } from "../../src/llm/llamaCpp.js";
import { initModel } from "../../src/model/initModel.js";
import { writeLoraAdapterFile } from "../../src/model/loraAdapterFile.js";
import { startServe, type RunningServe } from "../../src/serve/startServe.js";
import { llamaCppVocab } from "./fixtures.js";

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-serve-native-"));
const modelPath = path.join(folder, "tiny.gguf");
const adapterPath = path.join(folder, "adapter.gguf");
const feedbackPath = path.join(folder, "feedback.db");
let running: RunningServe;
let client: OpenAI;

/** Deterministic pseudo-random values in [-scale, scale]. */
function values(length: number, seed: number, scale: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 - 0.5) * 2 * scale;
  });
}

beforeAll(async () => {
  await initModel({ architecture: "llama", tokenizer: llamaCppVocab("ggml-vocab-gpt-2.gguf"), hidden: 64, layers: 2, heads: 4, ffn: 128, context: 256, seed: 3, initStd: 0.3, out: modelPath });
  const rank = 4;
  await writeLoraAdapterFile(adapterPath, {
    architecture: "llama",
    rank,
    alpha: 8,
    pairs: [{ base: "blk.0.attn_q.weight", layer: 0, target: "q", inFeatures: 64, outFeatures: 64, a: values(64 * rank, 1, 0.8), b: values(rank * 64, 2, 0.8) }],
  } as never);
  fs.mkdirSync(path.join(folder, "docs"));
  fs.writeFileSync(path.join(folder, "docs", "pilots.md"), "# Pilots\n\nEvery ship longer than 80 metres takes a harbour pilot at the outer buoy.\n");
  fs.writeFileSync(path.join(folder, "docs", "fees.md"), "# Fees\n\nThe berth fee is twelve yuan per metre per day, paid to the port office.\n");
  const system = (name: string, extra: string) => `  - {name: ${name}, backend: llama-cpp, model: tiny.gguf, threads: 1, contextSize: 256, maxTokens: 8${extra}}`;
  fs.writeFileSync(
    path.join(folder, "systems.yaml"),
    ["systems:", system("base", ""), system("lora", ", adapters: [{path: adapter.gguf}]"), system("rag", ", retrieval: {k: 2, documents: docs}")].join("\n") + "\n",
  );
  running = await startServe({ systems: path.join(folder, "systems.yaml"), port: 0, feedback: feedbackPath, accessLog: () => {}, log: () => {} });
  client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await running?.close();
  fs.rmSync(folder, { recursive: true, force: true });
});

const question = [{ role: "user" as const, content: "Who guides ships into the harbour?" }];

describe("vertical serve with the official openai client on tiny models", () => {
  it("lists the systems of systems.yaml as models", async () => {
    expect((await client.models.list()).data.map((model) => model.id)).toEqual(["base", "lora", "rag"]);
  });

  it("answers chat (plain and streamed) and completions exactly as node-llama-cpp does, with and without the adapter", async () => {
    const direct = await LlamaCppBackend.load({ modelPath, threads: 1, contextSize: 256 });
    const directLora = await LlamaCppBackend.load({ modelPath, adapters: [{ filePath: adapterPath }], threads: 1, contextSize: 256 });
    try {
      const expected = (await direct.chat(question, { maxTokens: 8 })).text;
      const expectedLora = (await directLora.chat(question, { maxTokens: 8 })).text;
      expect(expectedLora).not.toBe(expected); // the adapter really changes the answer, so the next checks see it
      const served = await client.chat.completions.create({ model: "base", messages: question });
      expect(served.choices[0]!.message.content).toBe(expected);
      expect(served.usage!.completion_tokens).toBeGreaterThan(0);
      const servedLora = await client.chat.completions.create({ model: "lora", messages: question });
      expect(servedLora.choices[0]!.message.content).toBe(expectedLora);

      const stream = await client.chat.completions.create({ model: "lora", messages: question, stream: true });
      let streamed = "";
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? "";
      expect(streamed).toBe(expectedLora);

      const completion = await client.completions.create({ model: "base", prompt: "The harbour pilot", max_tokens: 6 });
      expect(completion.choices[0]!.text).toBe((await direct.complete("The harbour pilot", { maxTokens: 6 })).text);
    } finally {
      await direct.dispose();
      await directLora.dispose();
    }
  });

  it("embeds like node-llama-cpp's embedding context", async () => {
    const served = await client.embeddings.create({ model: "base", input: ["berth fee", "harbour pilot"] });
    expect(served.data).toHaveLength(2);
    const embedder = await LlamaCppEmbedder.load({ modelPath, threads: 1 });
    try {
      const [expected] = await embedder.embed(["harbour pilot"]);
      expect(served.data[1]!.embedding).toHaveLength(64);
      served.data[1]!.embedding.forEach((value, index) => expect(value).toBeCloseTo(expected![index]!, 5));
    } finally {
      await embedder.dispose();
    }
  });

  it("returns a retrieval system's citations in an extra field, and refuses a prompt longer than the context", async () => {
    const answer = await client.chat.completions.create({ model: "rag", messages: [{ role: "user", content: "Which ship takes a pilot?" }] });
    const citations = (answer as unknown as { citations: { source: string; text: string; index: number }[] }).citations;
    // BM25 returns only passages sharing a term with the question: the pilots document, numbered [1].
    expect(citations).toHaveLength(1);
    expect(citations[0]).toMatchObject({ index: 1, source: expect.stringContaining("pilots") });
    expect(citations[0]!.text).toContain("harbour pilot at the outer buoy");

    const long = await client.chat.completions.create({ model: "base", messages: [{ role: "user", content: "harbour ".repeat(400) }] }).catch((error: unknown) => error);
    expect(long).toBeInstanceOf(OpenAI.BadRequestError);
    expect((long as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("messages");
    expect((long as Error).message).toMatch(/context holds 256/);
  });

  it("keeps a thumbs-down with a correction, and `vertical feedback export --as sft` turns it into a conversation", async () => {
    const answer = await client.chat.completions.create({ model: "rag", messages: question });
    const response = await fetch(`${running.url}/v1/feedback`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_id: answer.id, rating: -1, correction: "The harbour pilot, from the outer buoy." }),
    });
    expect(response.status).toBe(201);
    const sft = await runCli("feedback", "export", feedbackPath, "--as", "sft");
    expect(sft.code).toBe(0);
    const lines = sft.out.trim().split("\n").map((line) => JSON.parse(line) as { messages: { role: string; content: string }[] });
    expect(lines).toEqual([{ messages: [...question, { role: "assistant", content: "The harbour pilot, from the outer buoy." }] }]);
    const preference = await runCli("feedback", "export", feedbackPath, "--as", "preference");
    expect(JSON.parse(preference.out)).toMatchObject({ chosen: [{ content: "The harbour pilot, from the outer buoy." }], rejected: [{ content: answer.choices[0]!.message.content }] });
  });
});
