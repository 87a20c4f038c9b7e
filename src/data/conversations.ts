import fs from "node:fs";
import readline from "node:readline";
import { InputError } from "../shared/errors.js";

export type ConversationRole = "system" | "user" | "assistant";

export interface ConversationMessage {
  role: ConversationRole;
  content: string;
}

/** One training conversation and where it came from (for error messages). */
export interface Conversation {
  messages: ConversationMessage[];
  /** `file:line` of the JSONL record. */
  where: string;
}

export type ConversationFormat = "openai" | "sharegpt" | "alpaca";

const shareGptRoles: Record<string, ConversationRole> = {
  human: "user",
  user: "user",
  gpt: "assistant",
  assistant: "assistant",
  chatgpt: "assistant",
  bing: "assistant",
  bard: "assistant",
  model: "assistant",
  system: "system",
};

function contentText(value: unknown, where: string, field: string): string {
  if (typeof value === "string") return value;
  // OpenAI content parts: [{type: "text", text: "..."}]
  if (Array.isArray(value) && value.every((part) => part && typeof part === "object" && (part as { type?: unknown }).type === "text")) {
    return value.map((part) => String((part as { text?: unknown }).text ?? "")).join("");
  }
  throw new InputError(`${field} must be a string (or text content parts), found ${JSON.stringify(value)?.slice(0, 60)}`, { where });
}

/**
 * Converts one JSON record in OpenAI-messages (`messages`), ShareGPT (`conversations`) or Alpaca
 * (`instruction`/`input`/`output`, optional `system` and `history`) form into messages. Roles are
 * not validated here (see validateConversation), only shapes.
 */
export function recordToConversation(record: unknown, where: string): Conversation & { format: ConversationFormat } {
  if (typeof record !== "object" || record === null || Array.isArray(record)) throw new InputError("expected a JSON object", { where });
  const object = record as Record<string, unknown>;
  if (Array.isArray(object.messages)) {
    const messages = object.messages.map((message, i) => {
      const m = message as { role?: unknown; content?: unknown };
      return { role: String(m.role) as ConversationRole, content: contentText(m.content, where, `messages[${i}].content`) };
    });
    return { messages, where, format: "openai" };
  }
  if (Array.isArray(object.conversations)) {
    const messages: ConversationMessage[] = [];
    if (typeof object.system === "string" && object.system !== "") messages.push({ role: "system", content: object.system });
    object.conversations.forEach((turn, i) => {
      const t = turn as { from?: unknown; value?: unknown; role?: unknown; content?: unknown };
      const from = String(t.from ?? t.role);
      const role = shareGptRoles[from.toLowerCase()];
      if (!role) throw new InputError(`conversations[${i}].from is "${from}"; expected human, gpt or system`, { where });
      messages.push({ role, content: contentText(t.value ?? t.content, where, `conversations[${i}].value`) });
    });
    return { messages, where, format: "sharegpt" };
  }
  if ("instruction" in object || "output" in object) {
    if (typeof object.instruction !== "string") throw new InputError("instruction must be a string", { where });
    if (typeof object.output !== "string") throw new InputError("output must be a string", { where });
    const messages: ConversationMessage[] = [];
    if (typeof object.system === "string" && object.system !== "") messages.push({ role: "system", content: object.system });
    if (Array.isArray(object.history)) {
      object.history.forEach((pair, i) => {
        if (!Array.isArray(pair) || pair.length !== 2) throw new InputError(`history[${i}] must be a [user, assistant] pair`, { where });
        messages.push({ role: "user", content: contentText(pair[0], where, `history[${i}][0]`) });
        messages.push({ role: "assistant", content: contentText(pair[1], where, `history[${i}][1]`) });
      });
    }
    const input = typeof object.input === "string" && object.input.trim() !== "" ? `\n\n${object.input}` : "";
    messages.push({ role: "user", content: `${object.instruction}${input}` });
    messages.push({ role: "assistant", content: object.output });
    return { messages, where, format: "alpaca" };
  }
  throw new InputError('unknown conversation shape: expected "messages" (OpenAI), "conversations" (ShareGPT) or "instruction"/"output" (Alpaca)', { where });
}

/** Streams the conversations of a JSONL file; a malformed line is an InputError naming file:line. */
export async function* readConversations(file: string): AsyncGenerator<Conversation & { format: ConversationFormat }> {
  if (!fs.existsSync(file)) throw new InputError("conversation file does not exist", { where: file });
  const lines = readline.createInterface({ input: fs.createReadStream(file, "utf8"), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    const where = `${file}:${lineNumber}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new InputError(`invalid JSON: ${(error as Error).message}`, { where, hint: "Each line must be one JSON object." });
    }
    yield recordToConversation(record, where);
  }
}

export interface ConversationRules {
  /** Longest allowed message in characters. Defaults to 200000. */
  maxMessageChars?: number;
  /** Texts no message may contain (the tokenizer's special tokens), so data cannot forge turn boundaries. */
  forbiddenTexts?: readonly string[];
}

/**
 * Checks roles (system only first; then user, assistant, user, … alternating; ends with the
 * assistant), empty turns, message length and forged special tokens. Throws an InputError whose
 * `where` is `file:line` and whose message names the field (`messages[3].role`).
 */
export function validateConversation(conversation: Conversation, rules: ConversationRules = {}): void {
  const { messages, where } = conversation;
  const maxChars = rules.maxMessageChars ?? 200_000;
  if (messages.length === 0) throw new InputError("messages: the conversation is empty", { where });
  let expected: ConversationRole = "user";
  messages.forEach((message, i) => {
    const field = `messages[${i}]`;
    if (message.role !== "system" && message.role !== "user" && message.role !== "assistant") {
      throw new InputError(`${field}.role is "${String(message.role)}"; expected system, user or assistant`, { where });
    }
    if (message.role === "system") {
      if (i !== 0) throw new InputError(`${field}.role is "system"; a system message may only come first`, { where, hint: "Merge it into the first system message." });
    } else if (message.role !== expected) {
      throw new InputError(`${field}.role is "${message.role}", expected "${expected}": turns must alternate user/assistant after an optional system message`, { where });
    } else expected = expected === "user" ? "assistant" : "user";
    if (message.content.trim() === "") throw new InputError(`${field}.content is empty`, { where, hint: "Drop the turn or the conversation." });
    if (message.content.length > maxChars) throw new InputError(`${field}.content has ${message.content.length} characters, more than ${maxChars}`, { where });
    for (const forbidden of rules.forbiddenTexts ?? []) {
      if (forbidden && message.content.includes(forbidden)) {
        throw new InputError(`${field}.content contains the special token text ${JSON.stringify(forbidden)}`, { where, hint: "Remove it: special tokens in data forge turn boundaries." });
      }
    }
  });
  const last = messages[messages.length - 1]!;
  if (last.role !== "assistant") throw new InputError(`messages[${messages.length - 1}].role is "${last.role}"; a training conversation must end with an assistant turn`, { where });
}
