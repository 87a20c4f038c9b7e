/**
 * The tool loop as a ChatModel: each chat() runs the loop (offer the tools, run the calls, send the
 * results back) and answers with its final text, carrying the count of calls made and failed. This is
 * how an evaluation that asks ChatModels — MCQ by generation, open questions — measures a model that
 * answers with tools, without a second evaluation path.
 */
import type { ToolChatModel } from "../llm/toolChat.js";
import type { ChatMessage, ChatModel, GenerateOptions, Generation, ToolCallCounts } from "../llm/types.js";
import { runToolLoop, type ToolCallRecord } from "./runToolLoop.js";
import type { Tool } from "./tool.js";

export interface ToolLoopChatModelOptions {
  /** Rounds of calls before the model must answer without tools. Defaults to 4. */
  maxRounds?: number;
}

/** Calls made, failed, and per tool name. */
export function countToolCalls(calls: readonly ToolCallRecord[]): ToolCallCounts {
  const byTool: Record<string, number> = {};
  for (const record of calls) byTool[record.call.name] = (byTool[record.call.name] ?? 0) + 1;
  return { made: calls.length, failed: calls.filter((record) => !record.ok).length, byTool };
}

export function toolLoopChatModel(model: ToolChatModel & ChatModel, tools: readonly Tool[], options: ToolLoopChatModelOptions = {}): ChatModel {
  return {
    id: `${model.id}+tools(${tools.map((tool) => tool.definition.name).join(",")})`,
    async chat(messages: ChatMessage[], generate: GenerateOptions = {}): Promise<Generation> {
      const result = await runToolLoop(model, tools, messages, { maxRounds: options.maxRounds ?? 4, generate });
      return {
        text: result.answer,
        usage: result.usage,
        finishReason: generate.signal?.aborted ? "abort" : "stop",
        toolUse: countToolCalls(result.calls),
      };
    },
    // Plain completion has no turns to call tools in: it is the model's own.
    complete: (prompt, generate) => model.complete(prompt, generate),
  };
}
