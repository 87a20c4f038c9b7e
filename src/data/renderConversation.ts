import { InputError } from "../shared/errors.js";
import type { Tokenizer } from "../tokenizer/types.js";
import type { ChatTemplate } from "./chatTemplate.js";
import type { Conversation, ConversationMessage } from "./conversations.js";

/** One sequence to train on, rendered by the model's own chat template. */
export interface RenderedExample {
  /** Exactly the template's rendering of the messages it covers. */
  text: string;
  tokens: number[];
  /** 1 on the assistant spans (content + end-of-turn token) this example trains. */
  lossMask: Uint8Array;
  /** Character spans [start, end) of `text` that are trained. */
  spans: { start: number; end: number; messageIndex: number }[];
}

export interface RenderedConversation {
  /**
   * "whole": one example holds the whole conversation and trains every assistant turn.
   * "per-turn": the template renders earlier turns differently once later turns exist (e.g. it drops
   * reasoning from history), so each assistant turn gets its own example: its prompt exactly as
   * the template renders it at inference, and that one reply trained.
   */
  strategy: "whole" | "per-turn";
  examples: RenderedExample[];
}

function endOfTurnText(tokenizer: Tokenizer): string | undefined {
  const id = tokenizer.eotId ?? tokenizer.eosId;
  return id === undefined ? undefined : tokenizer.idToToken(id);
}

/**
 * Finds where each assistant reply sits inside `text` by rendering the prefixes: the reply starts
 * right after the template's own rendering of the earlier messages with the generation prompt
 * (what the model sees at inference), and ends after the first end-of-turn token that follows.
 * Nothing about any template's format is hard-coded. Returns undefined when a prompt is not a
 * prefix of `text` (the template rewrites history).
 */
function locateSpans(
  text: string,
  messages: readonly ConversationMessage[],
  targets: readonly number[],
  template: ChatTemplate,
  endText: string | undefined,
  where: string,
): { start: number; end: number; messageIndex: number }[] | undefined {
  const spans: { start: number; end: number; messageIndex: number }[] = [];
  let cursor = 0;
  for (const index of targets) {
    const prompt = template.render(messages.slice(0, index), true);
    if (!text.startsWith(prompt) || prompt.length < cursor) return undefined;
    const start = prompt.length;
    let end: number;
    const endAt = endText ? text.indexOf(endText, start) : -1;
    if (endAt >= 0) end = endAt + endText!.length;
    else {
      // No end-of-turn token: the reply runs to where the template's rendering of it ends.
      const through = template.render(messages.slice(0, index + 1), false);
      if (!text.startsWith(through)) {
        throw new InputError(`messages[${index}]: cannot find where the assistant turn ends (no end-of-turn token ${JSON.stringify(endText ?? "")} after it)`, { where });
      }
      end = through.length;
    }
    const reply = messages[index]!.content.trim();
    // The template may rewrite a reply (strip it, split off reasoning); its last line must still be there.
    const lastLine = reply.split("\n").filter((line) => line.trim() !== "").pop()?.trim() ?? "";
    if (!text.slice(start, end).includes(lastLine)) {
      throw new InputError(`messages[${index}]: the rendered assistant span does not contain the reply's text`, { where, hint: "The chat template may not support this conversation shape." });
    }
    spans.push({ start, end, messageIndex: index });
    cursor = end;
  }
  return spans;
}

/** Tokenizes span by span so that no token straddles a mask boundary. */
function tokenizeWithMask(text: string, spans: readonly { start: number; end: number }[], tokenizer: Tokenizer): { tokens: number[]; lossMask: Uint8Array } {
  const tokens: number[] = [];
  const bits: number[] = [];
  let cursor = 0;
  const push = (piece: string, bit: number) => {
    if (piece === "") return;
    for (const id of tokenizer.encode(piece, { addBos: false, parseSpecial: true })) {
      tokens.push(id);
      bits.push(bit);
    }
  };
  for (const span of spans) {
    push(text.slice(cursor, span.start), 0);
    push(text.slice(span.start, span.end), 1);
    cursor = span.end;
  }
  push(text.slice(cursor), 0);
  return { tokens, lossMask: Uint8Array.from(bits) };
}

function renderOrExplain(template: ChatTemplate, messages: readonly ConversationMessage[], addGenerationPrompt: boolean, where: string): string {
  try {
    return template.render(messages, addGenerationPrompt);
  } catch (error) {
    throw new InputError(`messages: the chat template refused this conversation: ${(error as Error).message}`, { where, cause: error });
  }
}

/**
 * Renders a validated conversation with the model's chat template and computes the assistant-only
 * loss mask over every assistant turn. The template's default system prompt is kept (no system
 * message is invented); a system message in the data replaces it as the template decides.
 */
export function renderConversation(conversation: Conversation, template: ChatTemplate, tokenizer: Tokenizer): RenderedConversation {
  const { messages, where } = conversation;
  const endText = endOfTurnText(tokenizer);
  const assistantIndices = messages.flatMap((message, i) => (message.role === "assistant" ? [i] : []));
  const text = renderOrExplain(template, messages, false, where);
  const spans = locateSpans(text, messages, assistantIndices, template, endText, where);
  if (spans) return { strategy: "whole", examples: [{ text, ...tokenizeWithMask(text, spans, tokenizer), spans }] };
  const examples = assistantIndices.map((index) => {
    const upTo = messages.slice(0, index + 1);
    const turnText = renderOrExplain(template, upTo, false, where);
    const turnSpans = locateSpans(turnText, upTo, [index], template, endText, where);
    if (!turnSpans) {
      throw new InputError(`messages[${index}]: the template's prompt (add_generation_prompt) is not a prefix of its own rendering of this turn`, {
        where,
        hint: "This template cannot be trained turn by turn; check it renders the generation prompt consistently.",
      });
    }
    return { text: turnText, ...tokenizeWithMask(turnText, turnSpans, tokenizer), spans: turnSpans };
  });
  return { strategy: "per-turn", examples };
}
