/**
 * Training documents from the two plain-file formats: text (loss on every token) and chat JSONL
 * (rendered by the data pipeline with the model's own chat template, loss on the assistant's
 * tokens only). A document is a token sequence plus a per-token flag saying whether predicting that
 * token counts in the loss.
 */
import fs from "node:fs";
import { ConfigError, InputError } from "../shared/errors.js";
import { ChatTemplate, readConversations, renderConversation, validateConversation } from "../data/index.js";
import type { Tokenizer } from "../tokenizer/types.js";

export interface TrainingDocument {
  tokens: Int32Array;
  /** 1 where predicting tokens[i] (from tokens[..i]) counts in the loss. */
  lossMask: Uint8Array;
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

/** Tokenises a text document: optional BOS (not predicted), the text, EOS (predicted). */
export function textDocument(text: string, tokenizer: Tokenizer): TrainingDocument {
  // Copied into a typed array rather than spread into push(): a whole book is more tokens than a
  // call may take arguments (RangeError: Maximum call stack size exceeded).
  const encoded = tokenizer.encode(text, { parseSpecial: false });
  const bos = tokenizer.bosId === undefined ? 0 : 1;
  const eos = tokenizer.eosId === undefined ? 0 : 1;
  const tokens = new Int32Array(bos + encoded.length + eos);
  if (tokenizer.bosId !== undefined) tokens[0] = tokenizer.bosId;
  tokens.set(encoded, bos);
  if (tokenizer.eosId !== undefined) tokens[tokens.length - 1] = tokenizer.eosId;
  const lossMask = new Uint8Array(tokens.length).fill(1);
  if (tokenizer.bosId !== undefined) lossMask[0] = 0;
  return { tokens, lossMask };
}

/**
 * Chat JSONL (OpenAI `messages`, ShareGPT `conversations` or Alpaca `instruction`/`output` lines)
 * rendered by the data pipeline's SFT renderer with the model's own chat template: loss on every
 * assistant turn's tokens (content and end-of-turn), nothing else.
 */
export async function readChatDocuments(file: string, tokenizer: Tokenizer): Promise<TrainingDocument[]> {
  const chatTemplate = tokenizer.chatTemplate;
  if (!chatTemplate) {
    throw new ConfigError("the model has no chat template (tokenizer.chat_template), so chat data cannot be rendered", {
      where: file,
      hint: "use a chat model, or render the data to text and train with objective cpt",
    });
  }
  const template = new ChatTemplate(chatTemplate, tokenizer);
  const documents: TrainingDocument[] = [];
  for await (const conversation of readConversations(file)) {
    validateConversation(conversation);
    for (const example of renderConversation(conversation, template, tokenizer).examples) {
      documents.push({ tokens: Int32Array.from(example.tokens), lossMask: example.lossMask });
    }
  }
  return documents;
}
