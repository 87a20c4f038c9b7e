/**
 * Turns a declared system (spec.ts) into the capabilities an evaluation needs: a ChatModel for
 * generation, a TokenScorer for log-likelihood scoring, and — when the backend can show it — the
 * chat-template text that scoring with the template applied must use. Backends are imported lazily so
 * that an OpenAI-only evaluation never loads node-llama-cpp.
 */
import fs from "node:fs";
import type { ChatLetterScorer } from "../llm/chatLetterScorer.js";
import type { EndpointCounts } from "../llm/endpointPool.js";
import { canRenderChatPrompt } from "../llm/chatPrompt.js";
import type { ChatMessage, ChatModel, TokenScorer } from "../llm/types.js";
import { ConfigError } from "../shared/errors.js";
import type { SystemSpec } from "./spec.js";

export interface SystemBackend {
  /** Backend id shown in results ("openai:tiny@http://…", "llama-cpp:tiny.gguf+lora:…"). */
  id: string;
  chat?: ChatModel;
  scorer?: TokenScorer;
  /** First-reply-token log-probabilities through chat, for letter scoring without prompt logprobs (openai, logprobs: chat). */
  chatLetters?: ChatLetterScorer;
  /** The templated text of a conversation, ending with the assistant prefix (llama-cpp). */
  renderChatPrompt?: (messages: ChatMessage[]) => string;
  /** Items to score at once; defaults to the system's maxConcurrency (openai) or 1. */
  concurrency?: number;
  /** An endpoint pool's per-endpoint counts, reported with the results. */
  endpointCounts?: () => EndpointCounts[];
  dispose(): Promise<void>;
}

export type CreateSystemBackend = (system: SystemSpec) => Promise<SystemBackend>;

/** Files a local system needs, checked before any model is loaded so that a typo fails in seconds. */
export function checkSystemFiles(system: SystemSpec): void {
  if (system.backend !== "openai" && !fs.existsSync(system.model))
    throw new ConfigError(`model file not found: ${system.model}`, {
      where: `system "${system.name}"`,
      hint: "Check `model` in the system's YAML (relative paths are relative to that file).",
    });
  for (const adapter of system.adapters)
    if (!fs.existsSync(adapter.path))
      throw new ConfigError(`adapter not found: ${adapter.path}`, {
        where: `system "${system.name}"`,
        hint: "Train the adapter first (vertical train …) or fix `adapters[].path` in the system's YAML.",
      });
  if (system.softPrompt && system.backend !== "engine")
    throw new ConfigError(`soft prompts need backend engine (${system.backend} cannot take embeddings as input)`, {
      where: `system "${system.name}"`,
      hint: "Use backend: engine for this system (log-likelihood scoring).",
    });
  if (system.softPrompt && !fs.existsSync(system.softPrompt))
    throw new ConfigError(`soft prompt not found: ${system.softPrompt}`, {
      where: `system "${system.name}"`,
      hint: "Export it first (vertical export RUN --format soft-prompt) or fix `softPrompt` in the system's YAML.",
    });
  if (system.pool !== undefined && system.backend !== "openai")
    throw new ConfigError(`\`pool\` lists OpenAI-compatible endpoints; backend ${system.backend} does not use it`, {
      where: `system "${system.name}"`,
      hint: "Use backend: openai with the pool, or remove `pool`.",
    });
  if (system.pool !== undefined && system.baseUrl !== undefined)
    throw new ConfigError("both `baseUrl` and `pool` are set", {
      where: `system "${system.name}"`,
      hint: "Keep `baseUrl` for one endpoint, or list every endpoint (that one too) in `pool`.",
    });
  if (system.backend === "openai" && system.adapters.length > 0)
    throw new ConfigError("an OpenAI-compatible endpoint cannot load adapters", {
      where: `system "${system.name}"`,
      hint: "Serve the adapted model from the endpoint and name it in `model`, or use backend llama-cpp.",
    });
}

/** The default backends: llama-cpp (node-llama-cpp), openai (HTTP), engine (Vertical's engine scorer). */
export async function createSystemBackend(system: SystemSpec): Promise<SystemBackend> {
  checkSystemFiles(system);
  if (system.backend === "openai" && system.pool !== undefined) {
    const { EndpointPool } = await import("../llm/endpointPool.js");
    const { loadPool } = await import("./spec.js");
    const pool = typeof system.pool === "string" ? loadPool(system.pool) : system.pool;
    const backend = new EndpointPool({
      model: system.model,
      endpoints: pool.endpoints,
      ...(pool.probeIntervalMs !== undefined ? { probeIntervalMs: pool.probeIntervalMs } : {}),
      ...(system.timeoutMs !== undefined ? { timeoutMs: system.timeoutMs } : {}),
      ...(system.maxRetries !== undefined ? { maxRetries: system.maxRetries } : {}),
    });
    return {
      id: backend.id,
      chat: backend,
      ...(system.logprobs === true ? { scorer: backend } : system.logprobs === "chat" ? { chatLetters: backend } : {}),
      concurrency: backend.concurrency,
      endpointCounts: () => backend.counts(),
      dispose: async () => backend.dispose(),
    };
  }
  if (system.backend === "openai") {
    const { OpenAICompatibleBackend } = await import("../llm/openaiCompatible.js");
    const backend = new OpenAICompatibleBackend({
      model: system.model,
      baseUrl: system.baseUrl,
      apiKey: system.apiKey,
      maxConcurrency: system.maxConcurrency,
      timeoutMs: system.timeoutMs,
      maxRetries: system.maxRetries,
    });
    return {
      id: backend.id,
      chat: backend,
      ...(system.logprobs === true ? { scorer: backend } : system.logprobs === "chat" ? { chatLetters: backend } : {}),
      dispose: async () => {},
    };
  }
  if (system.backend === "llama-cpp") {
    const { LlamaCppBackend } = await import("../llm/llamaCpp.js");
    const backend = await LlamaCppBackend.load({
      modelPath: system.model,
      adapters: system.adapters.map((adapter) => ({ filePath: adapter.path, scale: adapter.scale })),
      threads: system.threads,
      contextSize: system.contextSize,
      exactAttention: system.exactAttention,
    });
    return {
      id: backend.id,
      chat: backend,
      scorer: backend,
      ...(canRenderChatPrompt(backend)
        ? { renderChatPrompt: (messages: ChatMessage[]) => backend.renderChatPrompt(messages) }
        : {}),
      dispose: () => backend.dispose(),
    };
  }
  const { EngineScorer } = await import("../llm/engineScorer.js");
  const scorer = await EngineScorer.load({
    modelPath: system.model,
    adapters: system.adapters.map((adapter) => ({ filePath: adapter.path, scale: adapter.scale })),
    threads: system.threads,
    ...(system.softPrompt ? { softPromptPath: system.softPrompt } : {}),
  });
  return { id: scorer.id, scorer, dispose: async () => scorer.dispose() };
}
