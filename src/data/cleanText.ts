import { type LanguageCode, detectLanguage } from "./detectLanguage.js";
import { textUnits } from "./textUnits.js";

/** What to mask; each defaults to true. Masks are `[EMAIL]`, `[PHONE]`, `[ID_NUMBER]`, `[BANK_CARD]`. */
export interface PiiOptions {
  email?: boolean;
  phone?: boolean;
  chineseIdNumber?: boolean;
  bankCard?: boolean;
}

/**
 * Quality thresholds in the spirit of Gopher (Rae et al. 2021, appendix A) and C4. A "unit" is a
 * word in alphabetic scripts and a character in CJK text (see textUnits). Defaults in brackets.
 */
export interface QualityThresholds {
  /** Fewest units a document may have [50]. */
  minUnits?: number;
  /** Most units [100000]. */
  maxUnits?: number;
  /** Mean word length bounds, alphabetic scripts only [3, 10]. */
  minMeanWordLength?: number;
  maxMeanWordLength?: number;
  /** Most "#" and ellipsis per unit [0.1]. */
  maxSymbolRatio?: number;
  /** Most digits among non-space characters [0.3]. */
  maxDigitRatio?: number;
  /** Fewest letters (any script) among non-space characters [0.6]. */
  minLetterRatio?: number;
  /** Most lines starting with a bullet [0.9]. */
  maxBulletLineRatio?: number;
  /** Most lines ending with an ellipsis [0.3]. */
  maxEllipsisLineRatio?: number;
  /** Most duplicated lines, by count [0.3] and by characters [0.2]. */
  maxDuplicateLineRatio?: number;
  maxDuplicateLineCharRatio?: number;
  /** Most characters covered by the single most frequent 2-, 3-, 4-gram of units [0.2, 0.18, 0.16]. */
  maxTopNgramCharRatio?: [number, number, number];
  /** Most characters covered by duplicated 5-grams of units [0.15]. */
  maxDuplicateNgramCharRatio?: number;
  /** Languages to keep (detectLanguage codes); undefined keeps all. */
  languages?: LanguageCode[];
}

export interface CleanOptions {
  /** Mask PII; false turns masking off, an object picks kinds. Defaults to masking all kinds. */
  pii?: boolean | PiiOptions;
  /** Drop lines holding page furniture (cookie notices, "all rights reserved", …). Defaults to true. */
  removeBoilerplateLines?: boolean;
  quality?: QualityThresholds;
}

export interface CleanResult {
  text: string;
  language: LanguageCode;
  /** Why the document was rejected ("too-short: 12 units < 50"), or null when kept. */
  rejection: string | null;
  /** How many of each PII kind were masked. */
  masked: Record<string, number>;
}

export const defaultQualityThresholds: Required<Omit<QualityThresholds, "languages">> & { languages: LanguageCode[] | undefined } = {
  minUnits: 50,
  maxUnits: 100_000,
  minMeanWordLength: 3,
  maxMeanWordLength: 10,
  maxSymbolRatio: 0.1,
  maxDigitRatio: 0.3,
  minLetterRatio: 0.6,
  maxBulletLineRatio: 0.9,
  maxEllipsisLineRatio: 0.3,
  maxDuplicateLineRatio: 0.3,
  maxDuplicateLineCharRatio: 0.2,
  maxTopNgramCharRatio: [0.2, 0.18, 0.16],
  maxDuplicateNgramCharRatio: 0.15,
  languages: undefined,
};

// C0/C1 controls except tab and newline, zero-width characters, BOM, soft hyphen.
const controlCharacters = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200d\u2060\ufeff\u00ad]/g;
const boilerplateLine =
  /(cookie|javascript|all rights reserved|privacy policy|terms of (use|service)|subscribe to our newsletter|版权所有|隐私政策|使用条款|免责声明|上一篇|下一篇|返回顶部)/i;

/** NFKC, line endings, control characters, runs of spaces, blank-line runs; trims every line. */
export function normalizeText(text: string): string {
  return text
    .normalize("NFKC")
    .replace(/\r\n?/g, "\n")
    .replace(controlCharacters, "")
    .replace(/[^\S\n]+/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export function removeBoilerplateLines(text: string): string {
  return text
    .split("\n")
    .filter((line) => !(line.length < 200 && boilerplateLine.test(line)))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** GB 11643-1999 check digit of an 18-character resident identity number. */
function chineseIdValid(id: string): boolean {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * weights[i]!;
  const check = "10X98765432"[sum % 11];
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  return check === id[17]!.toUpperCase() && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/** Masks e-mail addresses, phone numbers, Chinese resident ID numbers and bank cards (Luhn-checked). */
export function maskPii(text: string, options: PiiOptions = {}): { text: string; masked: Record<string, number> } {
  const masked: Record<string, number> = {};
  const count = (kind: string) => (masked[kind] = (masked[kind] ?? 0) + 1);
  let out = text;
  if (options.email !== false) {
    out = out.replace(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, () => (count("email"), "[EMAIL]"));
  }
  // IDs before cards: an 18-digit ID must not be taken for a card number.
  if (options.chineseIdNumber !== false) {
    out = out.replace(/(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}\d{2}\d{2}\d{3}[0-9Xx](?![0-9A-Za-z])/g, (id) =>
      chineseIdValid(id) ? (count("chineseIdNumber"), "[ID_NUMBER]") : id,
    );
  }
  if (options.bankCard !== false) {
    out = out.replace(/(?<![0-9])(?:\d[ -]?){12,18}\d(?![0-9])/g, (candidate) => {
      const digits = candidate.replace(/[ -]/g, "");
      return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? (count("bankCard"), "[BANK_CARD]") : candidate;
    });
  }
  if (options.phone !== false) {
    // Mainland mobile numbers (optionally +86), then international/North-American style numbers.
    out = out.replace(/(?<![0-9])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])/g, () => (count("phone"), "[PHONE]"));
    out = out.replace(/(?<![0-9\w])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![0-9])/g, () => (count("phone"), "[PHONE]"));
  }
  return { text: out, masked };
}

/** Why `text` fails the quality rules, or null when it passes. */
export function qualityRejection(text: string, language: LanguageCode, thresholds: QualityThresholds = {}): string | null {
  const limits = { ...defaultQualityThresholds, ...thresholds };
  if (limits.languages && !limits.languages.includes(language)) return `language: ${language} not in [${limits.languages.join(", ")}]`;
  const units = textUnits(text);
  if (units.length < limits.minUnits) return `too-short: ${units.length} units < ${limits.minUnits}`;
  if (units.length > limits.maxUnits) return `too-long: ${units.length} units > ${limits.maxUnits}`;
  const alphabetic = language !== "zh" && language !== "ja" && language !== "ko";
  if (alphabetic) {
    const words = units.filter((unit) => unit.length > 1 || /\p{L}/u.test(unit));
    const mean = words.reduce((sum, word) => sum + word.length, 0) / Math.max(1, words.length);
    if (mean < limits.minMeanWordLength || mean > limits.maxMeanWordLength) return `mean-word-length: ${mean.toFixed(1)} outside [${limits.minMeanWordLength}, ${limits.maxMeanWordLength}]`;
  }
  const symbols = (text.match(/#|\.\.\.|…/g) ?? []).length;
  if (symbols / units.length > limits.maxSymbolRatio) return `symbol-ratio: ${(symbols / units.length).toFixed(2)} > ${limits.maxSymbolRatio}`;
  // Regex counts: a per-character loop with regex tests was the cleaning stage's hot spot.
  const nonSpace = text.length - (text.match(/\s/g)?.length ?? 0);
  const digits = text.match(/[0-9]/g)?.length ?? 0;
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  if (digits / nonSpace > limits.maxDigitRatio) return `digit-ratio: ${(digits / nonSpace).toFixed(2)} > ${limits.maxDigitRatio}`;
  if (letters / nonSpace < limits.minLetterRatio) return `letter-ratio: ${(letters / nonSpace).toFixed(2)} < ${limits.minLetterRatio}`;
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  if (lines.length > 0) {
    const bullets = lines.filter((line) => /^\s*([-*•·●▪‣]|\d+[.)])\s/.test(line)).length;
    if (bullets / lines.length > limits.maxBulletLineRatio) return `bullet-lines: ${(bullets / lines.length).toFixed(2)} > ${limits.maxBulletLineRatio}`;
    const ellipsis = lines.filter((line) => /(\.\.\.|…)\s*$/.test(line)).length;
    if (ellipsis / lines.length > limits.maxEllipsisLineRatio) return `ellipsis-lines: ${(ellipsis / lines.length).toFixed(2)} > ${limits.maxEllipsisLineRatio}`;
    const seen = new Set<string>();
    let duplicateLines = 0, duplicateChars = 0, totalChars = 0;
    for (const line of lines) {
      totalChars += line.length;
      if (seen.has(line)) {
        duplicateLines++;
        duplicateChars += line.length;
      } else seen.add(line);
    }
    if (duplicateLines / lines.length > limits.maxDuplicateLineRatio) return `duplicate-lines: ${(duplicateLines / lines.length).toFixed(2)} > ${limits.maxDuplicateLineRatio}`;
    if (duplicateChars / totalChars > limits.maxDuplicateLineCharRatio) return `duplicate-line-chars: ${(duplicateChars / totalChars).toFixed(2)} > ${limits.maxDuplicateLineCharRatio}`;
  }
  const unitChars = units.reduce((sum, unit) => sum + unit.length, 0);
  // n-grams as numbers: each unit gets a small id and an n-gram is a rolling polynomial of ids
  // (below 2^53, so exact for 2-grams and collision-free in practice for longer ones).
  const idOf = new Map<string, number>();
  const ids = new Float64Array(units.length);
  units.forEach((unit, i) => {
    let id = idOf.get(unit);
    if (id === undefined) idOf.set(unit, (id = idOf.size + 1));
    ids[i] = id;
  });
  const gramKey = (at: number, n: number) => {
    let key = 0;
    for (let k = 0; k < n; k++) key = (key * 1_000_003 + ids[at + k]!) % 9_007_199_254_740_881;
    return key;
  };
  const gramChars = (at: number, n: number) => {
    let chars = 0;
    for (let k = 0; k < n; k++) chars += units[at + k]!.length;
    return chars;
  };
  for (const [index, n] of [2, 3, 4].entries()) {
    if (units.length < n * 4) break;
    const counts = new Map<number, number>();
    let topCount = 0, topAt = 0;
    for (let i = 0; i + n <= units.length; i++) {
      const key = gramKey(i, n);
      const seen = (counts.get(key) ?? 0) + 1;
      counts.set(key, seen);
      if (seen > topCount) {
        topCount = seen;
        topAt = i;
      }
    }
    // Only repeated n-grams count; a unique text has top count 1.
    if (topCount > 1) {
      const ratio = (topCount * gramChars(topAt, n)) / unitChars;
      const limit = limits.maxTopNgramCharRatio[index]!;
      if (ratio > limit) return `top-${n}gram: ${ratio.toFixed(2)} > ${limit}`;
    }
  }
  if (units.length >= 10) {
    const seen = new Set<number>();
    const covered = new Uint8Array(units.length);
    for (let i = 0; i + 5 <= units.length; i++) {
      const key = gramKey(i, 5);
      if (seen.has(key)) covered.fill(1, i, i + 5);
      else seen.add(key);
    }
    let coveredChars = 0;
    for (let i = 0; i < units.length; i++) if (covered[i]) coveredChars += units[i]!.length;
    if (coveredChars / unitChars > limits.maxDuplicateNgramCharRatio) return `duplicate-5grams: ${(coveredChars / unitChars).toFixed(2)} > ${limits.maxDuplicateNgramCharRatio}`;
  }
  return null;
}

/** The whole cleaning step for one document: normalise, drop boilerplate, mask PII, judge quality. */
export function cleanText(text: string, options: CleanOptions = {}): CleanResult {
  let out = normalizeText(text);
  if (options.removeBoilerplateLines !== false) out = removeBoilerplateLines(out);
  let masked: Record<string, number> = {};
  if (options.pii !== false) {
    const result = maskPii(out, typeof options.pii === "object" ? options.pii : {});
    out = result.text;
    masked = result.masked;
  }
  const language = detectLanguage(out);
  if (out === "") return { text: out, language, rejection: "empty: no text after cleaning", masked };
  return { text: out, language, rejection: qualityRejection(out, language, options.quality), masked };
}

/** The rule name of a rejection reason ("too-short: 12 units < 50" -> "too-short"). */
export function rejectionRule(reason: string): string {
  const colon = reason.indexOf(":");
  return colon < 0 ? reason : reason.slice(0, colon);
}
