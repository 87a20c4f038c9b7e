/**
 * A ToolChatModel for tests: each turn's answer (text and/or tool calls) comes from a function of the
 * conversation so far, and every turn is recorded (messages and the tools offered), so tests can check
 * what the loop sent back to the model.
 */
import type { ToolCall, ToolChatModel, ToolConversationMessage, ToolDefinition, ToolTurn } from "../../llm/toolChat.js";

export interface ScriptedTurn {
  text?: string;
  calls?: { name: string; arguments: unknown }[];
}

export interface RecordedToolTurn {
  messages: ToolConversationMessage[];
  tools: string[];
}

export class ScriptedToolModel implements ToolChatModel {
  readonly id = "scripted-tools";
  readonly turns: RecordedToolTurn[] = [];
  private nextCallId = 1;

  constructor(private readonly script: (conversation: ToolConversationMessage[], turn: number) => ScriptedTurn) {}

  async chatWithTools(messages: ToolConversationMessage[], tools: ToolDefinition[]): Promise<ToolTurn> {
    this.turns.push({ messages: structuredClone(messages), tools: tools.map((tool) => tool.name) });
    const reply = this.script(messages, this.turns.length);
    const toolCalls: ToolCall[] = (reply.calls ?? []).map((call) => ({
      id: `call_${this.nextCallId++}`,
      name: call.name,
      // A string is sent as written, so tests can send malformed JSON.
      argumentsJson: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
    }));
    const text = reply.text ?? "";
    return {
      text,
      toolCalls,
      usage: { promptTokens: messages.length, completionTokens: text.length },
      finishReason: "stop",
    };
  }
}

/** The content of the last tool result in `conversation` (what the model reads next). */
export function lastToolResult(conversation: ToolConversationMessage[]): string {
  const last = [...conversation].reverse().find((message) => message.role === "tool");
  return last?.content ?? "";
}
