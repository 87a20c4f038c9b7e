/**
 * Reference-based metrics for open-ended answers, on one tokenisation for both languages
 * ("mixed segmentation", as CMRC 2018's evaluation script does): every CJK character is a token,
 * every run of Latin letters or digits is one lower-cased word token, punctuation and spaces are
 * dropped. So English is scored on words and Chinese on characters, and mixed text on both.
 *
 * - ROUGE-L F: LCS over those tokens; P = LCS / |prediction|, R = LCS / |reference|,
 *   F = 2PR / (P + R) (rouge_score's F-measure with beta = 1).
 * - Character F1 (DuReader / SQuAD style): bag-of-tokens F1 over the multiset overlap. (CMRC 2018's
 *   script instead uses the longest common *substring*; we follow the multiset definition.)
 * With several references the best score over them counts (the SQuAD convention).
 */

// CJK Unified Ideographs (+ extension A, compatibility), Hiragana/Katakana, Hangul syllables.
const cjk = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]/u;
const tokenPattern = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]|[\p{L}\p{N}]+/gu;

/** Tokens for scoring: CJK characters one by one, other letter/digit runs as lower-case words. */
export function scoringTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.normalize("NFKC").toLowerCase().matchAll(tokenPattern)) {
    const token = match[0];
    // A run like "abc中" cannot occur (the CJK alternative is tried first per position), but a
    // run may contain CJK if \p{L} swallowed it after Latin letters: split those apart.
    if (token.length > 1 && cjk.test(token)) {
      for (const piece of token.match(
        /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+/gu,
      ) ?? [])
        tokens.push(piece);
    } else tokens.push(token);
  }
  return tokens;
}

/** Length of the longest common subsequence, O(n m) time, O(m) memory. */
export function lcsLength(first: readonly string[], second: readonly string[]): number {
  const row = new Array<number>(second.length + 1).fill(0);
  for (let i = 1; i <= first.length; i++) {
    let diagonal = 0;
    for (let j = 1; j <= second.length; j++) {
      const above = row[j]!;
      row[j] = first[i - 1] === second[j - 1] ? diagonal + 1 : Math.max(above, row[j - 1]!);
      diagonal = above;
    }
  }
  return row[second.length]!;
}

export interface PrecisionRecallF {
  precision: number;
  recall: number;
  f: number;
}

function harmonic(overlap: number, predicted: number, reference: number): PrecisionRecallF {
  if (overlap === 0 || predicted === 0 || reference === 0) return { precision: 0, recall: 0, f: 0 };
  const precision = overlap / predicted;
  const recall = overlap / reference;
  return { precision, recall, f: (2 * precision * recall) / (precision + recall) };
}

export function rougeL(prediction: string, reference: string): PrecisionRecallF {
  const predicted = scoringTokens(prediction);
  const expected = scoringTokens(reference);
  return harmonic(lcsLength(predicted, expected), predicted.length, expected.length);
}

/** Bag-of-tokens F1: overlap = sum over tokens of min(count in prediction, count in reference). */
export function tokenF1(prediction: string, reference: string): PrecisionRecallF {
  const predicted = scoringTokens(prediction);
  const expected = scoringTokens(reference);
  const counts = new Map<string, number>();
  for (const token of expected) counts.set(token, (counts.get(token) ?? 0) + 1);
  let overlap = 0;
  for (const token of predicted) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      overlap++;
      counts.set(token, left - 1);
    }
  }
  return harmonic(overlap, predicted.length, expected.length);
}

/** Best F over several references. */
export function bestOver(
  metric: (prediction: string, reference: string) => PrecisionRecallF,
  prediction: string,
  references: readonly string[],
): number {
  let best = 0;
  for (const reference of references) best = Math.max(best, metric(prediction, reference).f);
  return best;
}
