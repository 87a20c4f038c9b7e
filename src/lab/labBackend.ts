/**
 * Backends for the lab's evaluations. Multiple-choice scoring goes through the engine's bulk scorer by
 * default (batched forward passes; node-llama-cpp builds a probability map per token, which is slow for
 * thousands of options), with the GGUF's own chat template rendered exactly as the trainer rendered the
 * SFT data; generation (open-ended answers) goes through node-llama-cpp.
 */
import fs from "node:fs";
import { createSystemBackend, type CreateSystemBackend } from "../eval/systemBackend.js";
import { renderChatTemplate } from "../tokenizer/chatTemplate.js";
import { tokenizerFromGguf } from "../tokenizer/fromGguf.js";

/**
 * Threads for evaluating `modelPath`: one for small models — their passes are too short to split, and
 * ggml's spinning worker threads lose badly when another process holds a core (measured here: 1.5 s vs
 * 48 ms per MCQ item on a 1.4M-parameter model) — else the configured count.
 */
export function evaluationThreads(modelPath: string, configured: number): number {
  const size = fs.existsSync(modelPath) ? fs.statSync(modelPath).size : Infinity;
  return size < 100 * 1024 * 1024 ? 1 : configured;
}

export const createLabBackend: CreateSystemBackend = async (system) => {
  if (system.backend !== "engine") return createSystemBackend(system);
  const { EngineScorer } = await import("../llm/engineScorer.js");
  const scorer = await EngineScorer.load({
    modelPath: system.model,
    adapters: system.adapters.map((adapter) => ({ filePath: adapter.path, scale: adapter.scale })),
    ...(system.threads ? { threads: system.threads } : {}),
    ...(system.softPrompt ? { softPromptPath: system.softPrompt } : {}),
  });
  const tokenizer = tokenizerFromGguf(system.model);
  const template = tokenizer.chatTemplate;
  const token = (id: number | undefined) => (id === undefined ? "" : (tokenizer.idToToken(id) ?? ""));
  return {
    id: scorer.id,
    scorer,
    ...(template
      ? {
          renderChatPrompt: (messages) =>
            renderChatTemplate(template, messages.map((message) => ({ role: message.role, content: message.content })), { addGenerationPrompt: true, bosToken: token(tokenizer.bosId), eosToken: token(tokenizer.eosId) }),
        }
      : {}),
    dispose: async () => scorer.dispose(),
  };
};
