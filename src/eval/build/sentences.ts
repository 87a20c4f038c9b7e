/**
 * Splitting documents into sentences with their character spans, for building questions that link
 * back to the exact passage. Spans are offsets into the document text as a JavaScript string
 * (UTF-16 code units): `text.slice(start, end)` is the sentence. For Chinese text (BMP characters)
 * that equals code points.
 */

export interface SourceDocument {
  /** Stable document id (file path relative to the docs folder, or a caller-chosen id). */
  id: string;
  text: string;
  /** Topic used to balance the set. */
  subject: string;
}

export interface Sentence {
  doc: string;
  subject: string;
  language: "en" | "zh";
  text: string;
  start: number;
  end: number;
}

const cjkCharacter = /[\u3400-\u9fff\uf900-\ufaff]/u;

/** "zh" when at least a fifth of the letters are CJK characters. */
export function detectLanguage(text: string): "en" | "zh" {
  let cjk = 0;
  let letters = 0;
  for (const char of text) {
    if (cjkCharacter.test(char)) cjk++;
    if (/\p{L}/u.test(char)) letters++;
  }
  return letters > 0 && cjk / letters >= 0.2 ? "zh" : "en";
}

/** Q&A and list prefixes stripped before a sentence is used ("A: ", "答：", "- ", "1. "). */
const answerPrefix =
  /^(?:A\s*[:：]\s*|答\s*[:：]\s*|[-*•]\s+|\d{1,2}[.)、]\s+|第[\d一二三四五六七八九十百千]+条[\s\u3000]*|Article\s+\d+[.:]?\s+)/u;
/** Lines that are questions or headings: never a source statement. */
const skipLine = /^(?:#|Q\s*[:：]|问\s*[:：]|\||>)/u;

export function splitSentences(document: SourceDocument): Sentence[] {
  const sentences: Sentence[] = [];
  let lineStart = 0;
  for (const line of document.text.split("\n")) {
    const lineEnd = lineStart + line.length;
    const trimmed = line.trimStart();
    if (trimmed !== "" && !skipLine.test(trimmed)) {
      let offset = lineStart + (line.length - trimmed.length);
      let rest = trimmed;
      const prefix = answerPrefix.exec(rest);
      if (prefix) {
        offset += prefix[0].length;
        rest = rest.slice(prefix[0].length);
      }
      // Sentence ends: Chinese 。！？； anywhere; English . ! ? followed by a space and a capital/CJK/end,
      // so "8.5 m" and "No. 3" do not split.
      const pattern = /[^。！？；]*?(?:[。！？；]|[.!?](?=\s+[A-Z\u3400-\u9fff"“]|\s*$)|$)/gu;
      for (const match of rest.matchAll(pattern)) {
        const raw = match[0];
        if (raw.trim() === "") continue;
        const leading = raw.length - raw.trimStart().length;
        const text = raw.trim();
        const start = offset + match.index! + leading;
        sentences.push({
          doc: document.id,
          subject: document.subject,
          language: detectLanguage(text),
          text,
          start,
          end: start + text.length,
        });
      }
    }
    lineStart = lineEnd + 1;
  }
  return sentences;
}
