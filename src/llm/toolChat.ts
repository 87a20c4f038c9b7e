/**
 * Tool use ("function calling"): the model is shown JSON-schema tools and may answer with calls to
 * them instead of text; the caller runs the tools and sends the results back. This file is the
 * interface only — backends (OpenAI-compatible `tools`/`tool_calls`, node-llama-cpp functions)
 * implement it, and the loop that runs tools lives in src/tools/.
 */
import type { ChatMessage, GenerateOptions, Generation } from "./types.js";

/** A JSON Schema (draft 2020-12 subset) describing a tool's arguments object. */
export type JsonSchema = Record<string, unknown>;

export interface ToolDefinition {
  /** What the model calls it: letters, digits, `_` and `-` (OpenAI's rule). */
  name: string;
  /** Shown to the model; says what the tool does and when to use it. */
  description: string;
  /** Schema of the arguments object. */
  parameters: JsonSchema;
}

export interface ToolCall {
  /** Pairs the call with its result message (OpenAI's `tool_call_id`). */
  id: string;
  name: string;
  /** The arguments exactly as the model wrote them: JSON text, possibly malformed. */
  argumentsJson: string;
}

/** The assistant's turn that asked for tools (its text, if any, and the calls). */
export interface AssistantToolCallMessage {
  role: "assistant";
  content: string;
  toolCalls: ToolCall[];
}

/** A tool's result (or its error, as text the model can read) answering one call. */
export interface ToolResultMessage {
  role: "tool";
  toolCallId: string;
  name: string;
  content: string;
}

export type ToolConversationMessage = ChatMessage | AssistantToolCallMessage | ToolResultMessage;

export interface ToolTurn extends Generation {
  /** Empty when the model answered in text. */
  toolCalls: ToolCall[];
}

/** A chat model that can be offered tools. */
export interface ToolChatModel {
  readonly id: string;
  chatWithTools(
    messages: ToolConversationMessage[],
    tools: ToolDefinition[],
    options?: GenerateOptions,
  ): Promise<ToolTurn>;
}

export function isToolChatModel(model: unknown): model is ToolChatModel {
  return typeof (model as Partial<ToolChatModel> | undefined)?.chatWithTools === "function";
}
