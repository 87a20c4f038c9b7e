/**
 * LLM-as-reranker: any model with token log-probabilities (a TokenScorer) judges each passage by
 * log P(" yes") − log P(" no") after "Is this passage relevant to the question?". No reranker needs
 * to exist for the domain; the base model the lab already has will do.
 */
import type { Reranker } from "../llm/reranker.js";
import type { TokenScorer } from "../llm/types.js";

export interface LlmRerankerOptions {
  /** Longest passage text shown, in characters (small models have small context windows). Defaults to 600. */
  maxPassageChars?: number;
}

export class LlmReranker implements Reranker {
  readonly id: string;
  private readonly maxPassageChars: number;

  constructor(
    private readonly scorer: TokenScorer,
    options: LlmRerankerOptions = {},
  ) {
    this.id = `llm-rerank:${scorer.id}`;
    this.maxPassageChars = options.maxPassageChars ?? 600;
  }

  async rank(query: string, passages: readonly string[]): Promise<number[]> {
    const requests = passages.flatMap((passage) => {
      const context = relevancePrompt(query, passage.slice(0, this.maxPassageChars));
      return [
        { context, continuation: " yes" },
        { context, continuation: " no" },
      ];
    });
    const scores = await this.scorer.score(requests);
    return passages.map((_, position) => scores[2 * position]!.logprob - scores[2 * position + 1]!.logprob);
  }
}

/** The judging prompt; exported so tests and docs show exactly what the model reads. */
export function relevancePrompt(query: string, passage: string): string {
  return `Passage: ${passage}\nQuestion: ${query}\nIs this passage relevant to the question? Answer yes or no.\nAnswer:`;
}
