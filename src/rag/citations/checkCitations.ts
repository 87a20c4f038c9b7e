/**
 * Checks an answer's citations against the passages it was shown, with ALCE's definitions
 * (Gao et al. 2023, "Enabling Large Language Models to Generate Text with Citations"):
 *
 * - a sentence is *supported* when it cites at least one existing passage and its cited passages,
 *   together, support it; citation recall = supported sentences / sentences;
 * - a citation is *precise* when its sentence is supported and the citation is needed: it supports the
 *   sentence alone, or the sentence's other citations without it no longer do; citation precision =
 *   precise citations / citations (0 when the answer cites nothing). A number with no passage
 *   behind it ("[7]" of five) is a citation, never precise.
 */
import type { RetrievedPassage } from "../../llm/retriever.js";
import { splitCitedSentences } from "./splitCitedSentences.js";
import type { SupportJudge } from "./supportJudge.js";

export interface SentenceCheck {
  text: string;
  cited: number[];
  /** Cited numbers that name no passage. */
  missing: number[];
  supported: boolean;
  /** Per entry of `cited`: precise or not. */
  precise: boolean[];
}

export interface CitationCheck {
  sentences: SentenceCheck[];
  citations: number;
  recall: number;
  precision: number;
}

async function checkSentence(
  sentence: { text: string; claim: string; cited: number[] },
  passages: readonly RetrievedPassage[],
  judge: SupportJudge,
): Promise<SentenceCheck> {
  const textOf = (number: number) => passages[number - 1]?.text;
  const existing = sentence.cited.filter((number) => textOf(number) !== undefined);
  const missing = sentence.cited.filter((number) => textOf(number) === undefined);
  const evidence = (numbers: number[]) => numbers.map((number) => textOf(number)!);
  const supported = existing.length > 0 && (await judge.supports(sentence.claim, evidence(existing)));
  const precise: boolean[] = [];
  for (const number of sentence.cited) {
    if (!supported || !existing.includes(number)) {
      precise.push(false);
      continue;
    }
    if (existing.length === 1 || (await judge.supports(sentence.claim, evidence([number])))) {
      precise.push(true);
      continue;
    }
    const others = existing.filter((other) => other !== number);
    precise.push(!(await judge.supports(sentence.claim, evidence(others))));
  }
  return { text: sentence.text, cited: sentence.cited, missing, supported, precise };
}

export async function checkCitations(
  answer: string,
  passages: readonly RetrievedPassage[],
  judge: SupportJudge,
): Promise<CitationCheck> {
  const sentences: SentenceCheck[] = [];
  for (const sentence of splitCitedSentences(answer)) sentences.push(await checkSentence(sentence, passages, judge));
  const citations = sentences.reduce((sum, sentence) => sum + sentence.cited.length, 0);
  const precise = sentences.reduce((sum, sentence) => sum + sentence.precise.filter(Boolean).length, 0);
  const supported = sentences.filter((sentence) => sentence.supported).length;
  return {
    sentences,
    citations,
    recall: sentences.length === 0 ? 0 : supported / sentences.length,
    precision: citations === 0 ? 0 : precise / citations,
  };
}

export interface CitationSummary {
  answers: number;
  /** Mean of the answers' citation recall (ALCE averages per answer). */
  recall: number;
  /** Mean of the answers' citation precision. */
  precision: number;
  /** Answers that cite at least one passage. */
  answersWithCitations: number;
}

export function summariseCitations(checks: readonly CitationCheck[]): CitationSummary {
  const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  return {
    answers: checks.length,
    recall: mean(checks.map((check) => check.recall)),
    precision: mean(checks.map((check) => check.precision)),
    answersWithCitations: checks.filter((check) => check.citations > 0).length,
  };
}
