/**
 * The tools route's wiring: the lab folder's tools.yaml built into tools (search_docs over the lab's
 * BM25 chunks of docs/, sql_query over its SQLite file, calculator), and the route's model — the chat
 * model through node-llama-cpp function calling — wrapped so that every chat() runs the tool loop.
 * The MCQ harness (generation + answer extraction) and the open-ended questions both ask that model.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { CreateSystemBackend } from "../eval/systemBackend.js";
import type { Retriever } from "../llm/retriever.js";
import { isToolChatModel } from "../llm/toolChat.js";
import type { ChatModel } from "../llm/types.js";
import { ConfigError } from "../shared/errors.js";
import type { Tool } from "../tools/tool.js";
import { toolLoopChatModel } from "../tools/toolLoopChatModel.js";
import { buildTools, readToolsConfig, toolsDatabasePath } from "../tools/toolsConfig.js";
import { labToolsFile, type LabConfig } from "./labConfig.js";

/** What the tools route's answers depend on besides the model: tools.yaml and the database it names, by content. */
export function toolsStepInputs(config: LabConfig): Record<string, unknown> {
  const file = labToolsFile(config);
  const tools = readToolsConfig(file);
  const database = toolsDatabasePath(tools, path.dirname(file));
  const digest = (target: string) => createHash("sha256").update(fs.readFileSync(target)).digest("hex").slice(0, 16);
  return { format: 1, tools, database: database ? digest(database) : null };
}

export interface LabTools {
  tools: Tool[];
  maxRounds: number;
  dispose(): Promise<void>;
}

export function loadLabTools(config: LabConfig, retriever: Retriever): LabTools {
  const file = labToolsFile(config);
  const settings = readToolsConfig(file);
  const tools = buildTools(settings, { baseDir: path.dirname(file), retriever });
  return {
    tools,
    maxRounds: settings.maxRounds,
    dispose: async () => {
      for (const tool of tools) await tool.dispose?.();
    },
  };
}

/** `model` answering through the tool loop; refused when the backend cannot be offered tools. */
export function withTools(model: ChatModel, tools: LabTools, where: string): ChatModel {
  if (!isToolChatModel(model))
    throw new ConfigError(`the tools route needs a model that can be offered tools; ${model.id} cannot`, {
      where,
      hint: "The lab asks model.chat through node-llama-cpp function calling (a local GGUF).",
    });
  return toolLoopChatModel(model, tools.tools, { maxRounds: tools.maxRounds });
}

/**
 * The evaluation backend of the tools route: `create`'s backend for every system, with the route's
 * chat model answering through the loop (MCQ items are generated, so only `chat` is asked).
 */
export function toolsBackend(create: CreateSystemBackend, route: string, tools: () => LabTools): CreateSystemBackend {
  return async (system) => {
    const backend = await create(system);
    if (system.name !== route || !backend.chat) return backend;
    const loaded = tools();
    return {
      id: `${backend.id}+tools`,
      chat: withTools(backend.chat, loaded, `route "${route}"`),
      dispose: async () => {
        await loaded.dispose();
        await backend.dispose();
      },
    };
  };
}
