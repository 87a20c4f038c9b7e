/**
 * Multiple-choice items written by a model (any ChatModel) from passages of the documents. The model
 * sees one passage and must answer with JSON; items that fail validation (not four distinct options,
 * no valid answer letter, an answer not supported by the passage) are dropped and counted, never
 * repaired by guessing. The passage is the item's source (document id + span).
 */
import type { ChatModel } from "../../llm/types.js";
import { tokenF1 } from "../open/referenceMetrics.js";
import type { BuiltMcqItem } from "./buildMcq.js";
import { detectLanguage, type SourceDocument } from "./sentences.js";

export const generationPrompt = [
  "Write one multiple-choice question that tests a specific fact stated in the passage below.",
  "The correct answer must be stated in the passage. Give exactly four options: one correct, three wrong but plausible and of the same kind (numbers with numbers, names with names).",
  'Write in the language of the passage. Do not refer to "the passage" in the question.',
  'Reply with JSON only, no other text: {"question": "...", "options": ["...", "...", "...", "..."], "answer": "A"}',
].join(" ");

export interface Passage {
  doc: string;
  subject: string;
  text: string;
  start: number;
  end: number;
}

/** Paragraphs (blank-line separated) of at least `minimumLength` characters, with spans. */
export function paragraphs(document: SourceDocument, minimumLength = 40): Passage[] {
  const passages: Passage[] = [];
  for (const match of document.text.matchAll(/[^\n](?:[^\n]|\n(?!\s*\n))*/g)) {
    const text = match[0].trim();
    if (text.length < minimumLength || /^#/.test(text)) continue;
    const start = match.index! + match[0].indexOf(text);
    passages.push({ doc: document.id, subject: document.subject, text, start, end: start + text.length });
  }
  return passages;
}

export interface GeneratedItemResult {
  item?: Omit<BuiltMcqItem, "id">;
  /** Why the reply was dropped. */
  rejected?: string;
}

/** The first JSON object in a reply (models often wrap it in prose or ``` fences). */
function firstJsonObject(text: string): unknown {
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

export function parseGeneratedItem(reply: string, passage: Passage): GeneratedItemResult {
  const parsed = firstJsonObject(reply) as { question?: unknown; options?: unknown; answer?: unknown } | undefined;
  if (!parsed) return { rejected: "no JSON object in the reply" };
  const question = typeof parsed.question === "string" ? parsed.question.trim() : "";
  if (!question) return { rejected: "no question" };
  const options = Array.isArray(parsed.options)
    ? parsed.options.map((o) => (typeof o === "string" || typeof o === "number" ? String(o).trim() : ""))
    : [];
  if (options.length !== 4 || options.some((o) => o === "")) return { rejected: "not four non-empty options" };
  if (new Set(options.map((o) => o.toLowerCase())).size !== 4) return { rejected: "options repeat" };
  const letter =
    typeof parsed.answer === "string"
      ? parsed.answer
          .trim()
          .replace(/^\(?([A-Da-d])\)?[.)]?$/, "$1")
          .toUpperCase()
      : "";
  const answer = ["A", "B", "C", "D"].indexOf(letter);
  if (answer < 0) return { rejected: `answer ${JSON.stringify(parsed.answer)} is not a letter A-D` };
  // Grounding: the correct option must overlap the passage (char/word F1 of the option against the
  // passage, measured as recall of the option's tokens).
  if (tokenF1(options[answer]!, passage.text).precision < 0.6)
    return { rejected: "the correct option is not supported by the passage" };
  return {
    item: {
      subject: passage.subject,
      language: detectLanguage(passage.text),
      kind: "generated",
      question,
      options,
      answer,
      source: { doc: passage.doc, start: passage.start, end: passage.end, text: passage.text },
      distractorSource: "model",
    },
  };
}

export async function generateItemsWithModel(
  model: ChatModel,
  passages: readonly Passage[],
  options: { maxTokens?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ items: Omit<BuiltMcqItem, "id">[]; rejected: Array<{ doc: string; reason: string }> }> {
  const items: Omit<BuiltMcqItem, "id">[] = [];
  const rejected: Array<{ doc: string; reason: string }> = [];
  let done = 0;
  for (const passage of passages) {
    const reply = await model.chat(
      [
        { role: "system", content: generationPrompt },
        { role: "user", content: passage.text },
      ],
      { temperature: 0, maxTokens: options.maxTokens ?? 400 },
    );
    const result = parseGeneratedItem(reply.text, passage);
    if (result.item) items.push(result.item);
    else rejected.push({ doc: passage.doc, reason: result.rejected! });
    options.onProgress?.(++done, passages.length);
  }
  return { items, rejected };
}
