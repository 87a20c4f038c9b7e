/**
 * A ChatModel for tests: answers from a function of the messages and records every call, so tests
 * inject it where a real backend would go (no module mocking).
 */
import type { ChatMessage, ChatModel, Generation, GenerateOptions } from "../../llm/types.js";

export interface RecordedCall {
  kind: "chat" | "complete";
  messages: ChatMessage[];
  options: GenerateOptions | undefined;
}

export class RecordingChatModel implements ChatModel {
  readonly calls: RecordedCall[] = [];
  constructor(
    readonly id: string,
    private readonly reply: (messages: ChatMessage[]) => string,
  ) {}

  async chat(messages: ChatMessage[], options?: GenerateOptions): Promise<Generation> {
    this.calls.push({ kind: "chat", messages, options });
    const text = this.reply(messages);
    const promptTokens = messages.reduce((s, m) => s + m.content.length, 0);
    return { text, usage: { promptTokens, completionTokens: text.length }, finishReason: "stop" };
  }

  async complete(prompt: string, options?: GenerateOptions): Promise<Generation> {
    return this.chat([{ role: "user", content: prompt }], options).then((g) => {
      this.calls[this.calls.length - 1]!.kind = "complete";
      return g;
    });
  }
}
