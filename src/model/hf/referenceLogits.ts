/**
 * The logits Vertical's engine computes for a short text, saved beside an exported transformers
 * folder so that scripts/check-hf-export.py can load the folder in real transformers and compare
 * (the check needs torch, which only a GPU/torch machine has).
 *
 * File: REFERENCE_LOGITS_FILE, safetensors with `logits` [T, V] f32 and `__metadata__`
 * {text, tokens (JSON array)}.
 */
import path from "node:path";
import { Backend } from "../../engine/index.js";
import { tokenizerFromGguf } from "../../tokenizer/index.js";
import { Evaluator } from "../evaluate.js";
import { loadModel } from "../loadModel.js";
import { writeSafetensors } from "./safetensors.js";

export const REFERENCE_LOGITS_FILE = "vertical-reference-logits.safetensors";

/** Mixed case, digits, punctuation and a newline: exercises the pre-tokenizer as well as the weights. */
const DEFAULT_TEXT = "The harbour master logged 3 ships at dawn; the fourth, late again, docked at 07:40.\nWhy?";

export interface ReferenceLogitsOptions {
  /** Compute threads. */
  threads: number;
  /** Defaults to a fixed sentence. */
  text?: string;
}

/** Runs the GGUF on the text and writes the logits into `directory`; returns the file and token count. */
export function writeReferenceLogits(
  ggufPath: string,
  directory: string,
  options: ReferenceLogitsOptions,
): { file: string; tokens: number[] } {
  const text = options.text ?? DEFAULT_TEXT;
  using backend = Backend.cpu(options.threads);
  using model = loadModel(ggufPath, { backend });
  const tokens = tokenizerFromGguf(model.file).encode(text, { addBos: true });
  using evaluator = new Evaluator(model, { length: tokens.length });
  const logits = evaluator.logits(tokens);
  const file = path.join(directory, REFERENCE_LOGITS_FILE);
  writeSafetensors(file, [{ name: "logits", shape: [tokens.length, evaluator.vocabSize], data: logits }], {
    text,
    tokens: JSON.stringify(tokens),
  });
  return { file, tokens };
}
