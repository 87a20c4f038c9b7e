/**
 * Does evidence (cited passages, concatenated) support a claim (one sentence of an answer)? Two
 * judges: lexical overlap, which needs no model, and an entailment prompt scored by a TokenScorer.
 */
import type { TokenScorer } from "../../llm/types.js";
import { segmentWords } from "../segmentWords.js";

export interface SupportJudge {
  readonly id: string;
  supports(claim: string, evidence: readonly string[]): Promise<boolean>;
}

export interface LexicalSupportOptions {
  /**
   * Share of the claim's distinct content words (segmentWords: jieba for Chinese, stopwords removed)
   * that must occur in the evidence. Defaults to 0.5: "most of what the sentence says is in the
   * passage" — a definition, not a value fitted to any data set.
   */
  minCoverage?: number;
}

/** Share of `claim`'s distinct content words found in `evidence` (0 for a claim with none). */
export function lexicalCoverage(claim: string, evidence: readonly string[]): number {
  const claimWords = new Set(segmentWords(claim));
  if (claimWords.size === 0) return 0;
  const evidenceWords = new Set(segmentWords(evidence.join("\n")));
  let found = 0;
  for (const word of claimWords) if (evidenceWords.has(word)) found++;
  return found / claimWords.size;
}

export function lexicalSupportJudge(options: LexicalSupportOptions = {}): SupportJudge {
  const minCoverage = options.minCoverage ?? 0.5;
  return {
    id: `lexical@${minCoverage}`,
    supports: async (claim, evidence) => evidence.length > 0 && lexicalCoverage(claim, evidence) >= minCoverage,
  };
}

export interface EntailmentPrompt {
  /** The context before the verdict, from the premise and the hypothesis. */
  render(premise: string, hypothesis: string): string;
  yes: string;
  no: string;
}

export const ENTAILMENT_PROMPTS: Record<"en" | "zh", EntailmentPrompt> = {
  en: {
    render: (premise, hypothesis) =>
      `Premise: ${premise}\nHypothesis: ${hypothesis}\nDoes the premise support the hypothesis? Answer yes or no.\nAnswer:`,
    yes: " yes",
    no: " no",
  },
  zh: {
    render: (premise, hypothesis) =>
      `前提：${premise}\n假设：${hypothesis}\n前提是否支持假设？请回答“是”或“否”。\n回答：`,
    yes: "是",
    no: "否",
  },
};

/**
 * Supported when the model finds " yes" more likely than " no" after the entailment prompt — a
 * comparison of two log-probabilities, so no threshold is involved (the TRUE / ALCE NLI question,
 * asked of whatever model the user configured).
 */
export function entailmentSupportJudge(scorer: TokenScorer, language: "en" | "zh" = "en"): SupportJudge {
  const prompt = ENTAILMENT_PROMPTS[language];
  return {
    id: `entailment:${scorer.id}`,
    async supports(claim, evidence) {
      if (evidence.length === 0) return false;
      const context = prompt.render(evidence.join("\n"), claim);
      const [yes, no] = await scorer.score([
        { context, continuation: prompt.yes },
        { context, continuation: prompt.no },
      ]);
      return yes!.logprob > no!.logprob;
    },
  };
}
