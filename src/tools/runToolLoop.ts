/**
 * The tool loop: offer the tools, run the calls the model makes (arguments checked against each
 * tool's schema first), send the results back, repeat until the model answers in text or `maxRounds`
 * rounds of calls have run — then ask once more with no tools offered, so there is always an answer.
 * A call the loop cannot run (unknown tool, bad JSON, schema failure, a tool's refusal or error)
 * becomes an error message the model reads on its next turn, never an exception.
 */
import type { ToolCall, ToolChatModel, ToolConversationMessage } from "../llm/toolChat.js";
import type { GenerateOptions, Usage } from "../llm/types.js";
import { VerticalError } from "../shared/errors.js";
import type { Tool } from "./tool.js";
import { compileArgumentsValidator, type ArgumentsValidator } from "./validateToolArguments.js";

export interface ToolLoopOptions {
  /** Rounds of tool calls before the model must answer without tools. Defaults to 4. */
  maxRounds?: number;
  /** Passed to every model turn. */
  generate?: GenerateOptions;
}

export interface ToolCallRecord {
  round: number;
  call: ToolCall;
  /** What the model was sent back: the tool's result or the error message. */
  result: string;
  ok: boolean;
}

export interface ToolLoopResult {
  answer: string;
  /** The whole conversation, the given messages first. */
  messages: ToolConversationMessage[];
  calls: ToolCallRecord[];
  usage: Usage;
  /** "max-rounds" when the final answer had to be asked for with the tools withdrawn. */
  stoppedBy: "answer" | "max-rounds";
}

function messageOf(error: unknown): string {
  if (VerticalError.isInstance(error)) return error.message;
  return `the tool failed: ${(error as Error).message ?? String(error)}`;
}

async function runCall(
  call: ToolCall,
  tools: Map<string, { tool: Tool; validate: ArgumentsValidator }>,
  signal: AbortSignal | undefined,
): Promise<{ result: string; ok: boolean }> {
  const entry = tools.get(call.name);
  if (!entry)
    return {
      ok: false,
      result: `Error: there is no tool named "${call.name}"; the tools are ${[...tools.keys()].join(", ")}.`,
    };
  try {
    const args = entry.validate(call.argumentsJson);
    return { ok: true, result: await entry.tool.run(args, signal) };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { ok: false, result: `Error: ${messageOf(error)}` };
  }
}

export async function runToolLoop(
  model: ToolChatModel,
  tools: readonly Tool[],
  messages: readonly ToolConversationMessage[],
  options: ToolLoopOptions = {},
): Promise<ToolLoopResult> {
  const maxRounds = options.maxRounds ?? 4;
  const byName = new Map(
    tools.map((tool) => [
      tool.definition.name,
      { tool, validate: compileArgumentsValidator(tool.definition.name, tool.definition.parameters) },
    ]),
  );
  const definitions = tools.map((tool) => tool.definition);
  const conversation: ToolConversationMessage[] = [...messages];
  const calls: ToolCallRecord[] = [];
  const usage: Usage = { promptTokens: 0, completionTokens: 0 };
  const signal = options.generate?.signal;
  for (let round = 1; ; round++) {
    const offered = round <= maxRounds ? definitions : [];
    const turn = await model.chatWithTools(conversation, offered, options.generate);
    usage.promptTokens += turn.usage.promptTokens;
    usage.completionTokens += turn.usage.completionTokens;
    if (turn.toolCalls.length === 0 || offered.length === 0) {
      conversation.push({ role: "assistant", content: turn.text });
      return {
        answer: turn.text,
        messages: conversation,
        calls,
        usage,
        stoppedBy: round > maxRounds ? "max-rounds" : "answer",
      };
    }
    conversation.push({ role: "assistant", content: turn.text, toolCalls: turn.toolCalls });
    for (const call of turn.toolCalls) {
      const { result, ok } = await runCall(call, byName, signal);
      calls.push({ round, call, result, ok });
      conversation.push({ role: "tool", toolCallId: call.id, name: call.name, content: result });
    }
  }
}
