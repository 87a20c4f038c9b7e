/**
 * The optimiser's dev signal for multiple-choice sets: a template's prompt for each of the first n dev
 * items, scored through a TokenScorer exactly as `eval run` scores it (same buildMcqPrompt, same chat
 * template text). `loglik`: the gold answer's log-likelihood (one request per item, a dense signal
 * that moves before accuracy does); `accuracy`: 1 when the highest-scored option is the gold one.
 */
import type { ChatMessage, ScoreRequest, TokenScorer } from "../../llm/types.js";
import type { DevScorer } from "../../prompt/optimisePrompt.js";
import { buildMcqPrompt, detectLanguage, selectExemplars, type McqLanguage } from "./buildPrompt.js";
import { predictFromLoglikelihoods } from "./scoreChoices.js";
import type { McqItem } from "./types.js";

export type DevMetric = "loglik" | "accuracy";

export interface McqDevScorerOptions {
  items: readonly McqItem[];
  scorer: TokenScorer;
  metric: DevMetric;
  mode: "letter" | "option";
  language: McqLanguage | "auto";
  /** The backend's chat-template text; given when the system is asked through its template. */
  renderChatPrompt?: (messages: ChatMessage[]) => string;
}

/** A template's score on the first `n` dev items, one value per item. */
export function mcqDevScorer(options: McqDevScorerOptions): DevScorer {
  const { items, scorer, metric, mode } = options;
  return async (template, n) => {
    const scores: number[] = [];
    let tokens = 0;
    for (const item of items.slice(0, n)) {
      const prompt = buildMcqPrompt({
        item,
        // Shots for a dev item come from the other dev items (never itself).
        exemplars: selectExemplars(item, items, template.fewShot?.shots ?? 0),
        language: options.language === "auto" ? detectLanguage(item) : options.language,
        mode,
        templateApplied: Boolean(options.renderChatPrompt),
        template,
      });
      const context = options.renderChatPrompt ? options.renderChatPrompt(prompt.messages) : prompt.rawText;
      const gold = prompt.continuations.findIndex((continuation) => continuation.letter === item.answer);
      const asked = metric === "loglik" ? [prompt.continuations[gold]!] : prompt.continuations;
      const requests: ScoreRequest[] = asked.map((continuation) => ({ context, continuation: continuation.text }));
      const results = await scorer.score(requests);
      tokens += results.reduce((sum, result) => sum + (result.contextTokenCount ?? 0) + result.tokenCount, 0);
      if (metric === "loglik") scores.push(results[0]!.logprob);
      else {
        const { prediction } = predictFromLoglikelihoods(results.map((result) => result.logprob), asked.map((continuation) => continuation.choice));
        scores.push(prediction === gold ? 1 : 0);
      }
    }
    return { scores, tokens };
  };
}
