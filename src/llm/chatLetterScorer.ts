import type { ChatMessage, Usage } from "./types.js";

/**
 * Log-probabilities of candidate first tokens of a chat reply, for chat endpoints that give
 * `logprobs` + `top_logprobs` but cannot echo the prompt (most hosted chat APIs). Letter scoring then
 * reads the distribution of the reply's first token after the server's chat template.
 */
export interface ChatLetterScorer {
  /**
   * For each candidate (e.g. "A".."D"): the largest log-probability among the first-token
   * alternatives that spell it (ignoring surrounding spaces, "(", "**"), or null when the candidate is
   * not among the alternatives the server returned.
   */
  firstTokenLogprobs(
    messages: ChatMessage[],
    candidates: readonly string[],
  ): Promise<{ logprobs: (number | null)[]; usage: Usage }>;
}
