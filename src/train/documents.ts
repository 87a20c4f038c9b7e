/**
 * Training documents from the two plain-file formats: text (loss on every token) and chat JSONL
 * (rendered with the model's own chat template, loss on the assistant's tokens only). A document is
 * a token sequence plus a per-token flag saying whether predicting that token counts in the loss.
 */
import fs from "node:fs";
import { Template } from "@huggingface/jinja";
import { ConfigError, InputError } from "../shared/errors.js";
import type { Tokenizer } from "../tokenizer/types.js";

export interface TrainingDocument {
  tokens: Int32Array;
  /** 1 where predicting tokens[i] (from tokens[..i]) counts in the loss. */
  lossMask: Uint8Array;
}

export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
}

/**
 * Documents of a text source: each `{"text": ...}` line of a .jsonl file, or for any other file the
 * parts between form feeds (usually the whole file: the packer cuts it into sequences).
 */
export function readTextDocuments(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  if (/\.jsonl$/i.test(file)) {
    return readJsonlLines(file, text).map(({ value, line }) => {
      const record = value as { text?: unknown };
      if (typeof record.text !== "string") {
        throw new InputError(`expected an object with a "text" string`, { where: `${file}:${line}` });
      }
      return record.text;
    });
  }
  return text
    .split("\f")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function readJsonlLines(file: string, text: string): { value: unknown; line: number }[] {
  const out: { value: unknown; line: number }[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!.trim();
    if (raw === "") continue;
    try {
      out.push({ value: JSON.parse(raw), line: index + 1 });
    } catch (error) {
      throw new InputError(`broken JSON line: ${(error as Error).message}`, {
        where: `${file}:${index + 1}`,
        hint: "each line must be one JSON object",
        cause: error,
      });
    }
  }
  return out;
}

/** Reads chat JSONL: one `{"messages": [{"role", "content"}, ...]}` per line, with at least one assistant turn. */
export function readChatExamples(file: string): ChatMessage[][] {
  const text = fs.readFileSync(file, "utf8");
  return readJsonlLines(file, text).map(({ value, line }) => {
    const where = `${file}:${line}`;
    const messages = (value as { messages?: unknown }).messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new InputError(`expected {"messages": [{"role": ..., "content": ...}, ...]}`, { where });
    }
    const checked = messages.map((message: unknown, index): ChatMessage => {
      const record = message as { role?: unknown; content?: unknown };
      if (!["system", "user", "assistant", "tool"].includes(record.role as string) || typeof record.content !== "string") {
        throw new InputError(`messages[${index}] needs a role (system|user|assistant|tool) and a string content`, { where });
      }
      return { role: record.role as ChatMessage["role"], content: record.content };
    });
    if (!checked.some((message) => message.role === "assistant")) {
      throw new InputError("the conversation has no assistant message to learn from", { where });
    }
    return checked;
  });
}

/** Tokenises a text document: optional BOS (not predicted), the text, EOS (predicted). */
export function textDocument(text: string, tokenizer: Tokenizer): TrainingDocument {
  const ids: number[] = [];
  if (tokenizer.bosId !== undefined) ids.push(tokenizer.bosId);
  ids.push(...tokenizer.encode(text, { parseSpecial: false }));
  if (tokenizer.eosId !== undefined) ids.push(tokenizer.eosId);
  const lossMask = new Uint8Array(ids.length).fill(1);
  if (tokenizer.bosId !== undefined) lossMask[0] = 0;
  return { tokens: Int32Array.from(ids), lossMask };
}

interface TemplatePiece {
  text: string;
  trainable: boolean;
}

/**
 * Renders a conversation with the chat template and marks the assistant's replies (content and the
 * end-of-turn text the template puts after it) as trainable. Each assistant reply's span is the
 * difference between rendering the conversation up to it with a generation prompt and rendering it
 * including the reply; the template must produce prefix-stable text for that to work.
 */
export function renderChatPieces(messages: readonly ChatMessage[], chatTemplate: string, tokenizer: Tokenizer): TemplatePiece[] {
  const template = new Template(chatTemplate);
  const specials = {
    bos_token: tokenizer.bosId !== undefined ? (tokenizer.idToToken(tokenizer.bosId) ?? "") : "",
    eos_token: tokenizer.eosId !== undefined ? (tokenizer.idToToken(tokenizer.eosId) ?? "") : "",
  };
  const render = (count: number, addGenerationPrompt: boolean) =>
    template.render({ messages: messages.slice(0, count), add_generation_prompt: addGenerationPrompt, ...specials });
  const pieces: TemplatePiece[] = [];
  let rendered = "";
  for (let index = 0; index < messages.length; index++) {
    const isAssistant = messages[index]!.role === "assistant";
    if (isAssistant) {
      const prompt = render(index, true);
      if (!prompt.startsWith(rendered)) throw notPrefixStable(index);
      pieces.push({ text: prompt.slice(rendered.length), trainable: false });
      rendered = prompt;
    }
    const next = render(index + 1, false);
    if (!next.startsWith(rendered)) throw notPrefixStable(index);
    pieces.push({ text: next.slice(rendered.length), trainable: isAssistant });
    rendered = next;
  }
  return pieces.filter((piece) => piece.text.length > 0);
}

function notPrefixStable(index: number): ConfigError {
  return new ConfigError(`the chat template renders message ${index} differently once later messages are added`, {
    hint: "render SFT data with the data pipeline (`vertical data`) into shards, which handles such templates",
  });
}

/** A chat example as tokens; the loss counts only the assistant's reply tokens and their end-of-turn. */
export function chatDocument(messages: readonly ChatMessage[], tokenizer: Tokenizer): TrainingDocument {
  const chatTemplate = tokenizer.chatTemplate;
  if (!chatTemplate) {
    throw new ConfigError("the model has no chat template (tokenizer.chat_template), so chat data cannot be rendered", {
      hint: "use a chat model, or render the data to text and train with objective cpt",
    });
  }
  const ids: number[] = [];
  const mask: number[] = [];
  for (const piece of renderChatPieces(messages, chatTemplate, tokenizer)) {
    const pieceIds = tokenizer.encode(piece.text, { parseSpecial: true });
    ids.push(...pieceIds);
    for (let i = 0; i < pieceIds.length; i++) mask.push(piece.trainable ? 1 : 0);
  }
  return { tokens: Int32Array.from(ids), lossMask: Uint8Array.from(mask) };
}
