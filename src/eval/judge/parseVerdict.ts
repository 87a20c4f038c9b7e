/**
 * Reading a judge's verdict out of free text. Judges (especially small local ones) do not always
 * keep the "[[A]]" format, so the parser tries, in order of reliability, and takes the LAST match
 * of the first pattern that matches (judges often restate the options before deciding):
 *   1. the requested bracket form: [[A]] / [[B]] / [[C]] / [[tie]]; [[7]] or [[7/10]]
 *   2. an explicit label: "Verdict: A", "Final verdict: tie", "最终裁决：B", "Rating: 7", "评分：7分", "7/10"
 *   3. (pairs only) a sentence: "Assistant A is better", "A更好", "两者相当" / "平局" / "tie"
 * Anything else is `undefined`: the caller records it as unparsed rather than guessing.
 */

export type PairVerdict = "A" | "B" | "tie";

function lastMatch(text: string, pattern: RegExp): RegExpMatchArray | undefined {
  let last: RegExpMatchArray | undefined;
  for (const match of text.matchAll(pattern)) last = match;
  return last;
}

function pairLabel(raw: string): PairVerdict | undefined {
  const label = raw.trim().toLowerCase();
  if (label === "a") return "A";
  if (label === "b") return "B";
  if (["c", "tie", "draw", "平局", "平手", "相当"].includes(label)) return "tie";
  return undefined;
}

const pairPatterns: RegExp[] = [
  /\[\[\s*(A|B|C|tie)\s*\]\]/gi,
  /(?:final\s+)?verdict\s*(?:is)?\s*[:：]?\s*\**\s*\[?(A|B|C|tie)\b\]?/gi,
  /(?:最终)?(?:裁决|判决|结论|判断)\s*(?:是|为)?\s*[:：]?\s*\[?(A|B|C|平局|平手)/g,
];

const sentencePatterns: Array<[RegExp, PairVerdict]> = [
  [
    /\b(?:both|the two)\b[^.\n]{0,40}\b(?:equally|equal|tie|similar quality)\b|\bit'?s a tie\b|\b(?:is|as) a tie\b/gi,
    "tie",
  ],
  [/两者?(?:相当|一样好|质量相当|不分上下)|平局|平手/g, "tie"],
  [
    /\bassistant\s+A\b[^.\n]{0,30}\b(?:is|was)\s+(?:clearly\s+|slightly\s+|much\s+)?better\b|\bA\s+is\s+better\b/gi,
    "A",
  ],
  [
    /\bassistant\s+B\b[^.\n]{0,30}\b(?:is|was)\s+(?:clearly\s+|slightly\s+|much\s+)?better\b|\bB\s+is\s+better\b/gi,
    "B",
  ],
  [/(?:助手)?A(?:的回答)?(?:更好|更优|胜出|较好)/g, "A"],
  [/(?:助手)?B(?:的回答)?(?:更好|更优|胜出|较好)/g, "B"],
];

export function parsePairVerdict(text: string): PairVerdict | undefined {
  for (const pattern of pairPatterns) {
    const match = lastMatch(text, pattern);
    if (match) return pairLabel(match[1]!);
  }
  // Sentences: take the verdict whose last mention comes latest in the text.
  let best: { at: number; verdict: PairVerdict } | undefined;
  for (const [pattern, verdict] of sentencePatterns) {
    const match = lastMatch(text, pattern);
    if (match && (!best || match.index! > best.at)) best = { at: match.index!, verdict };
  }
  return best?.verdict;
}

const ratingPatterns: RegExp[] = [
  /\[\[\s*(\d+(?:\.\d+)?)\s*(?:\/\s*10\s*)?\]\]/g,
  /(?:rating|score|评分|得分|分数|打分)\s*(?:is)?\s*[:：]?\s*\**\s*\[?\s*(\d+(?:\.\d+)?)(?!\.\d)(?:\s*(?:\/\s*10|分|out of 10))?/gi,
  /\b(\d+(?:\.\d+)?)\s*(?:\/\s*10|out of 10)\b/gi,
  /(\d+(?:\.\d+)?)\s*分(?:\s*[（(]满分\s*10\s*分?[)）])?/g,
];

/** A 1–10 rating, or undefined when none can be read or the number is outside 1..10. */
export function parseRating(text: string): number | undefined {
  for (const pattern of ratingPatterns) {
    const match = lastMatch(text, pattern);
    if (match) {
      const value = Number(match[1]);
      return value >= 1 && value <= 10 ? value : undefined;
    }
  }
  return undefined;
}
