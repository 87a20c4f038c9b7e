/**
 * Contextual calibration of a multiple-choice prompt (src/prompt/contextualCalibration.ts): the item's
 * prompt with its question and option texts replaced by each content-free input (letters, exemplars,
 * template and chat template kept), scored like the item, gives the prompt's option bias; the item's
 * prediction is the argmax of its option probabilities divided by that bias.
 */
import { argmax } from "./scoreChoices.js";
import { calibrate, CONTENT_FREE_INPUTS, estimateOptionBias } from "../../prompt/contextualCalibration.js";
import type { McqItem } from "./types.js";

/**
 * The item with its content replaced by `input`. Letter scoring: the question and the option texts (the
 * labels are the letters). Option scoring: the question only — the option texts are the labels scored,
 * and replacing them would make every option the same continuation.
 */
export function contentFreeItem(item: McqItem, input: string, mode: "letter" | "option"): McqItem {
  if (mode === "option") return { ...item, question: input };
  return { ...item, question: input, options: item.options.map((option) => ({ letter: option.letter, text: input })) };
}

/** Content-free variants of `item`, rendered by the caller exactly as the item is. */
export function contentFreeItems(item: McqItem, mode: "letter" | "option"): McqItem[] {
  return CONTENT_FREE_INPUTS.map((input) => contentFreeItem(item, input, mode));
}

/** The calibrated prediction index and the bias, from the item's and the content-free prompts' option log-likelihoods. */
export function calibratedPrediction(itemLogprobs: readonly number[], contentFreeLogprobs: readonly (readonly number[])[]): { index: number; bias: number[] } {
  const bias = estimateOptionBias(contentFreeLogprobs);
  return { index: argmax(calibrate(itemLogprobs, bias)), bias };
}
