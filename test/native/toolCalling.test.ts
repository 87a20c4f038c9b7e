/**
 * node-llama-cpp function calling through LlamaCppBackend.chatWithTools on a tiny random GGUF: the
 * tools and the earlier calls' results reach the prompt in the chat wrapper's function syntax, and a
 * turn returns text or calls (a random model rarely calls; the grammar keeps any call to a known tool).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppBackend } from "../../src/llm/llamaCpp.js";
import type { ToolConversationMessage, ToolDefinition } from "../../src/llm/toolChat.js";
import { initModel } from "../../src/model/initModel.js";
import { llamaCppVocab } from "./fixtures.js";

const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-tools-native-"));
const modelPath = path.join(folder, "tiny.gguf");
let backend: LlamaCppBackend;

beforeAll(async () => {
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
  backend = await LlamaCppBackend.load({ modelPath, threads: 1, contextSize: 512 });
}, 60_000);
afterAll(async () => {
  await backend?.dispose();
  fs.rmSync(folder, { recursive: true, force: true });
});

const tools: ToolDefinition[] = [
  {
    name: "sql_query",
    description: "Run one read-only SQL query on the berth table.",
    parameters: { type: "object", properties: { sql: { type: "string" } }, required: ["sql"] },
  },
];
const conversation: ToolConversationMessage[] = [
  { role: "user", content: "How long is berth B2?" },
  {
    role: "assistant",
    content: "",
    toolCalls: [
      { id: "call_1", name: "sql_query", argumentsJson: '{"sql":"SELECT length_m FROM berths WHERE berth = \'B2\'"}' },
    ],
  },
  { role: "tool", toolCallId: "call_1", name: "sql_query", content: "length_m\n305.5" },
];

describe("LlamaCppBackend tool calling", () => {
  it("renders the tools, the earlier call and its result into the model's prompt", () => {
    const prompt = backend.renderToolPrompt(conversation, tools);
    expect(prompt).toContain("sql_query");
    expect(prompt).toContain("Run one read-only SQL query on the berth table.");
    expect(prompt).toContain("SELECT length_m FROM berths WHERE berth = 'B2'");
    expect(prompt).toContain("305.5");
    expect(backend.renderToolPrompt(conversation.slice(0, 1), [])).not.toContain("sql_query");
  });

  it("generates a turn after a tool result; any call it makes names a known tool with schema-shaped arguments", async () => {
    const turn = await backend.chatWithTools(conversation, tools, { maxTokens: 12 });
    expect(typeof turn.text).toBe("string");
    expect(turn.usage.promptTokens).toBeGreaterThan(20);
    for (const call of turn.toolCalls) {
      expect(call.name).toBe("sql_query");
      expect(typeof JSON.parse(call.argumentsJson).sql).toBe("string");
    }
  }, 30_000);
});
