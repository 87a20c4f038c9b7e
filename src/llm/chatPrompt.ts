import type { ChatMessage } from "./types.js";

/**
 * A backend that can show the exact text its chat template makes of a conversation, ending with the
 * assistant's turn prefix, so that log-likelihood scoring can be done "with the chat template applied"
 * (the context a chat model really sees). Special tokens appear as their text; scorers of the same
 * backend parse them back to special tokens.
 */
export interface ChatPromptRenderer {
  renderChatPrompt(messages: ChatMessage[]): string;
}

export function canRenderChatPrompt(value: unknown): value is ChatPromptRenderer {
  return typeof (value as Partial<ChatPromptRenderer> | null)?.renderChatPrompt === "function";
}
