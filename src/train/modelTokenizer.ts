/**
 * The tokenizer of a GGUF model, for text and chat data: the single seam between the trainer and
 * the tokenizer module (tests inject their own through `train({tokenizer})`).
 */
import { tokenizerFromGguf } from "../tokenizer/index.js";
import type { Tokenizer } from "../tokenizer/types.js";

export async function loadModelTokenizer(modelPath: string): Promise<Tokenizer> {
  return tokenizerFromGguf(modelPath);
}
