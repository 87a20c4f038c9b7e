/**
 * The answer letter in a generated reply, for endpoints without log-probabilities. Tuned for
 * precision over recall: an ambiguous reply ("A or B", a hedge, a letter outside the options) gives
 * null, which counts as wrong, rather than a guess that would inflate accuracy.
 *
 * Order: reasoning blocks (<think>…</think>) are dropped; then the LAST explicit answer statement wins
 * ("The answer is (C)", "**Answer: D**", "答案是B", "故选C", "\boxed{B}"); failing that, a verdict
 * ("B is correct", "选项B正确"); failing that, a reply that is just a letter or starts with one
 * ("B", "(B)", "B. Paris").
 */

const LETTER = "([A-J])(?![A-Za-z])";
const OPEN = "[\\(（\\[【]?";

/** Case-insensitive keyword without the /i flag, which would also let the captured letter be lower case ("the answer is a …"). */
function anyCase(word: string): string {
  return [...word]
    .map((char) =>
      /[a-z]/i.test(char) ? `[${char.toLowerCase()}${char.toUpperCase()}]` : char === " " ? "\\s+" : char,
    )
    .join("");
}

const ANSWER_WORD = `(?:${anyCase("final answer")}|${anyCase("answer")}|${anyCase("correct option")}|${anyCase("correct choice")}|${anyCase("best option")}|${anyCase("best choice")})`;
const COPULA = `(?:${["is", "would be", "should be", "will be", "must be", "is therefore", "is likely", "is probably", "is clearly"].map(anyCase).join("|")})`;

/** Explicit answer statements; the last one in the reply is the model's conclusion. */
const STATEMENTS: RegExp[] = [
  // English: "The answer is (C)", "Answer: D", "the correct answer would be option B", "Final Answer: B"
  new RegExp(
    `${ANSWER_WORD}\\s*(?:${COPULA})?\\s*[:：=]?\\s*(?:${anyCase("option")}|${anyCase("choice")})?\\s*${OPEN}${LETTER}`,
    "g",
  ),
  // "I choose B", "I'd go with C", "I would pick (D)"
  new RegExp(
    `\\bI(?:'d| would| will)?\\s+(?:${anyCase("choose")}|${anyCase("pick")}|${anyCase("select")}|${anyCase("go with")})\\s+(?:${anyCase("option")}\\s+)?${OPEN}${LETTER}`,
    "g",
  ),
  // LaTeX: \boxed{C}, \boxed{\text{C}}
  new RegExp(`\\\\boxed\\{(?:\\\\text\\{)?${LETTER}`, "g"),
  // Chinese: 答案是B, 答案：B, 正确答案应该是（C）, 答案选D, 【答案】B
  new RegExp(
    `答案\\s*[】\\]]?\\s*(?:应该|应当|应|就|也)?\\s*(?:是|为|选|选择)?\\s*[:：]?\\s*(?:选项)?\\s*${OPEN}${LETTER}`,
    "g",
  ),
  // 正确选项是C, 正确的选项为（B）
  new RegExp(`正确(?:的)?选项\\s*(?:应该|应)?\\s*(?:是|为)?\\s*[:：]?\\s*${OPEN}${LETTER}`, "g"),
  // 答：B
  new RegExp(`(?:^|[\\s。，,；;])答\\s*[:：]\\s*${OPEN}${LETTER}`, "g"),
  // 选B, 故选C, 应选择D, 我选 (A) — but not 不选A / 不应选A / 排除
  new RegExp(`(?<!不|不应|不能|别|不要|不该|不可)选(?:择)?\\s*[:：]?\\s*${OPEN}${LETTER}`, "g"),
];

/** Verdicts that name the right option without the word "answer". */
const VERDICTS: RegExp[] = [
  new RegExp(
    `(?:${anyCase("option")}\\s+)?${OPEN}${LETTER}[\\)）\\].．]?\\s+(?:${anyCase("is")})\\s+(?:${anyCase("the")}\\s+)?(?:${anyCase("correct")}|${anyCase("right")}|${anyCase("best")})`,
    "g",
  ),
  new RegExp(`(?:选项)?\\s*${OPEN}${LETTER}[\\)）\\]]?\\s*(?:选项|项)?\\s*(?:是|为)?\\s*(?:正确|对)(?!吗)`, "g"),
];

/** A reply that is only a letter, or starts with "B." / "(B)" / "B)" / "Option B". */
const BARE = new RegExp(
  `^\\s*(?:${anyCase("option")}\\s+|选项\\s*)?${OPEN}${LETTER}\\s*(?:[\\)）\\]】.．。、:：]|\\n|$)`,
);

/** The captured letter is being ruled out ("答案：A项错误", "Answer: A is wrong"): not an answer statement. */
const RULED_OUT =
  /^[\)）\]】]?\s*(?:项|选项)?\s*(?:是|为)?\s*(?:错误|不正确|错|不对|不符|不是|排除|is\s+(?:wrong|incorrect|false|not)|cannot|can't)/i;

/** Two letters joined by "or"/"and"/"或"… right after the captured one: the model did not commit. */
const HEDGE = /^[\)）\]】]?\s*(?:or|and|,|\/|或|和|或者|、|与)\s*[\(（]?[A-J](?![A-Za-z])/i;

function normalise(text: string): string {
  return (
    text
      // Reasoning models: only the part after the last closed thinking block is the answer.
      .replace(/^[\s\S]*<\/think>/, "")
      // Full-width letters and markdown emphasis.
      .replace(/[Ａ-Ｊ]/g, (char) => String.fromCharCode(char.charCodeAt(0) - 0xfee0))
      .replace(/\*\*|__|`/g, "")
  );
}

function lastMatch(text: string, patterns: RegExp[], letters: ReadonlySet<string>): string | null | undefined {
  let best: { index: number; letter: string | null } | undefined;
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const letterEnd = match.index + match[0].length;
      if (RULED_OUT.test(text.slice(letterEnd))) continue;
      const hedged = HEDGE.test(text.slice(letterEnd));
      const letter = match[1]!;
      const candidate = {
        index: match.index + match[0].length,
        letter: hedged || !letters.has(letter) ? null : letter,
      };
      if (!best || candidate.index >= best.index) best = candidate;
    }
  }
  return best?.letter;
}

/**
 * The option letter a reply commits to, or null when it commits to none (or to several).
 * `letters` are the item's option letters; defaults to A–D.
 */
export function extractAnswerLetter(reply: string, letters: readonly string[] = ["A", "B", "C", "D"]): string | null {
  const allowed = new Set(letters);
  const text = normalise(reply);
  if (/<think>/.test(text)) return null; // an unfinished reasoning block: no answer was given
  for (const patterns of [STATEMENTS, VERDICTS]) {
    const found = lastMatch(text, patterns, allowed);
    if (found !== undefined) return found;
  }
  const bare = BARE.exec(text);
  // "A、B" / "A. B." lists two letters, "A. is incorrect" rules one out: neither is a commitment.
  const afterBare = bare ? text.slice(bare.index + bare[0].length) : "";
  if (bare && !/^\s*[\(（]?[A-J](?![A-Za-z])/.test(afterBare) && !RULED_OUT.test(afterBare.trimStart())) {
    return allowed.has(bare[1]!) ? bare[1]! : null;
  }
  return null;
}
