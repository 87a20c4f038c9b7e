import type { Command } from "commander";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "tokenizer", "Train, inspect and convert tokenizers")
    .command("encode")
    .description("Tokenise text with a tokenizer from a .gguf, a tokenizer.json or its directory")
    .requiredOption("--tokenizer <path>", ".gguf, tokenizer.json or a directory holding it")
    .argument("<text>", "the text to tokenise")
    .option("--bos", "add BOS when the tokenizer asks for it")
    .option("--json", "print {ids, pieces} as JSON")
    .action(async (text: string, options: { tokenizer: string; bos?: boolean; json?: boolean }) => {
      const { loadTokenizer } = await import("../../tokenizer/index.js");
      const tokenizer = loadTokenizer(options.tokenizer);
      const ids = tokenizer.encode(text, { addBos: options.bos ?? false });
      const pieces = ids.map((id) => tokenizer.decode([id]));
      if (options.json) process.stdout.write(`${JSON.stringify({ ids, pieces })}\n`);
      else process.stdout.write(`${ids.length} tokens\n${ids.map((id, index) => `${id}\t${JSON.stringify(pieces[index])}`).join("\n")}\n`);
    });
}
