/** One entry point for "a tokenizer from wherever the user pointed": a .gguf, a tokenizer.json or its directory. */
import fs from "node:fs";
import { InputError } from "../shared/errors.js";
import type { BpeTokenizer } from "./bpeTokenizer.js";
import { tokenizerFromGguf } from "./fromGguf.js";
import { tokenizerFromHuggingFace } from "./huggingFace.js";

export function loadTokenizer(source: string): BpeTokenizer {
  if (!fs.existsSync(source)) throw new InputError(`no such file or directory`, { where: source, hint: "pass a .gguf, a tokenizer.json or the directory holding it" });
  if (source.endsWith(".gguf")) return tokenizerFromGguf(source);
  return tokenizerFromHuggingFace(source);
}
