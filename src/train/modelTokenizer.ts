/**
 * The tokenizer of a GGUF model, for text and chat data. Kept in one place so the trainer has a
 * single seam onto the tokenizer module.
 */
import { ConfigError } from "../shared/errors.js";
import type { Tokenizer } from "../tokenizer/types.js";

export async function loadModelTokenizer(modelPath: string): Promise<Tokenizer> {
  // Resolved at run time: the GGUF tokenizer is optional for shard-only training.
  const modulePath = "../tokenizer/index.js";
  const module = (await import(modulePath).catch(() => undefined)) as
    | { tokenizerFromGguf?: (path: string) => Tokenizer | Promise<Tokenizer> }
    | undefined;
  if (!module?.tokenizerFromGguf) {
    throw new ConfigError("reading a tokenizer from GGUF is not available in this build", {
      where: modelPath,
      hint: "train from data-pipeline shards (`vertical data build`), which are already tokenised",
    });
  }
  return module.tokenizerFromGguf(modelPath);
}
