/**
 * An answer as sentences with the passage numbers each cites ("[2]", "[1][3]", "[1, 3]"). A marker
 * written after the sentence's full stop ("… metres. [1] Next …", "…米。[1]") belongs to the sentence
 * before it, so markers at the start of a sentence are moved back.
 */
import { splitSentences } from "../chunkDocuments.js";

export interface CitedSentence {
  /** The sentence as written, markers included. */
  text: string;
  /** The sentence without its markers: what must be supported. */
  claim: string;
  /** Passage numbers cited (1-based, as shown to the model), in order, without repeats. */
  cited: number[];
}

const MARKER = /\[(\d+(?:\s*[,，]\s*\d+)*)\]/g;
const LEADING_MARKERS = /^(?:\s*\[\d+(?:\s*[,，]\s*\d+)*\])+/;

function citedNumbers(text: string): number[] {
  const numbers = [...text.matchAll(MARKER)].flatMap((match) =>
    match[1]!.split(/[,，]/).map((part) => Number(part.trim())),
  );
  return [...new Set(numbers)];
}

export function splitCitedSentences(answer: string): CitedSentence[] {
  const pieces: string[] = [];
  for (const sentence of splitSentences(answer)) {
    const leading = LEADING_MARKERS.exec(sentence)?.[0];
    if (leading && pieces.length > 0) {
      pieces[pieces.length - 1] += ` ${leading.trim()}`;
      const rest = sentence.slice(leading.length).trim();
      if (rest) pieces.push(rest);
    } else pieces.push(sentence);
  }
  return pieces
    .map((text) => ({
      text,
      claim: text
        .replace(MARKER, "")
        .replace(/\s+([.,;:!?。，；：！？])/g, "$1")
        .trim(),
      cited: citedNumbers(text),
    }))
    .filter((sentence) => sentence.claim.length > 0 || sentence.cited.length > 0);
}
