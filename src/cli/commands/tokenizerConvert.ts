import type { Command } from "commander";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "tokenizer", "Train, inspect and convert tokenizers")
    .command("convert")
    .description("Write a vocabulary-only GGUF from a Hugging Face tokenizer.json (for model init and llama.cpp)")
    .requiredOption("--from <path>", "tokenizer.json, the directory holding it (with tokenizer_config.json), or a .gguf")
    .requiredOption("--out <file>", "the .gguf to write")
    .option("--arch <name>", "general.architecture to record (defaults to qwen2 for Qwen pre-tokenizers, else llama)")
    .action(async (options: { from: string; out: string; arch?: string }) => {
      const { writeTokenizerGguf } = await import("../../tokenizer/index.js");
      const tokens = await writeTokenizerGguf(options.out, options.from, { architecture: options.arch });
      process.stdout.write(`wrote ${options.out}: ${tokens.toLocaleString("en-US")} tokens\n`);
    });
}
