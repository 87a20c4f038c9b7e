/**
 * Puts retrieved passages into a prompt with numbered citations, so an answer can cite "[2]" and a
 * reader can trace it to the document id printed beside it.
 */
import type { RetrievedPassage } from "../llm/retriever.js";

export type PromptLanguage = "en" | "zh";

export interface FormatPassagesOptions {
  /** Language of the surrounding instructions. Defaults to "en". */
  language?: PromptLanguage;
  /** Longest passage text kept, in characters (the rest is cut with "…"); for small context windows. Defaults to no limit. */
  maxCharsPerPassage?: number;
}

const HEADER: Record<PromptLanguage, string> = {
  en: "Reference passages (cite them as [n]):",
  zh: "参考资料（引用时请标注[编号]）：",
};

/** "[1] (doc-id) text" lines under a short header; an empty string when nothing was retrieved. */
export function formatPassages(passages: readonly RetrievedPassage[], options: FormatPassagesOptions = {}): string {
  if (passages.length === 0) return "";
  const limit = options.maxCharsPerPassage;
  const lines = passages.map((passage, index) => {
    const text = limit !== undefined && passage.text.length > limit ? `${passage.text.slice(0, limit)}…` : passage.text;
    return `[${index + 1}] (${passage.source}) ${text}`;
  });
  return `${HEADER[options.language ?? "en"]}\n${lines.join("\n")}`;
}

/** Sources (document ids) cited as [n] in `answer`, resolved against the passages that were shown. */
export function citedDocuments(answer: string, passages: readonly RetrievedPassage[]): string[] {
  const cited = new Set<string>();
  for (const match of answer.matchAll(/\[(\d+)\]/g)) {
    const passage = passages[Number(match[1]) - 1];
    if (passage) cited.add(passage.source);
  }
  return [...cited];
}
