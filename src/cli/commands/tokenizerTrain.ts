import type { Command } from "commander";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "tokenizer", "Train, inspect and convert tokenizers")
    .command("train")
    .description("Train a byte-level BPE tokenizer (Chinese + English) and write a Hugging Face tokenizer.json")
    .requiredOption("--input <paths...>", "text files or directories (.txt, .md, .jsonl with a \"text\" field)")
    .requiredOption("--vocab-size <n>", "total vocabulary: 256 bytes + merges + special tokens", (value) => Number(value))
    .requiredOption("--out <file>", "tokenizer.json to write (tokenizer_config.json is written beside it)")
    .option("--special-tokens <tokens>", "comma-separated special tokens", "<|endoftext|>,<|im_start|>,<|im_end|>")
    .option("--min-frequency <n>", "merge only pairs seen at least this often", (value) => Number(value), 2)
    .action(async (options: { input: string[]; vocabSize: number; out: string; specialTokens: string; minFrequency: number }) => {
      const { trainBpe, writeTrainedTokenizer, readTrainingTexts } = await import("../../tokenizer/index.js");
      const texts = readTrainingTexts(options.input);
      const started = performance.now();
      const trained = trainBpe({
        texts: texts.texts,
        vocabSize: options.vocabSize,
        specialTokens: options.specialTokens.split(",").filter((token) => token.length > 0),
        minFrequency: options.minFrequency,
      });
      const written = writeTrainedTokenizer(options.out, trained);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `trained on ${texts.files} files (${texts.bytes.toLocaleString("en-US")} bytes) in ${seconds}s: ${trained.vocabSize} tokens, ${trained.mergeCount} merges\n` +
          `wrote ${written.tokenizerPath} and ${written.configPath}\n`,
      );
      if (trained.vocabSize < options.vocabSize) {
        process.stdout.write(`note: the data ran out of pairs seen ${options.minFrequency}+ times before reaching ${options.vocabSize} tokens\n`);
      }
    });
}
