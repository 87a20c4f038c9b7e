import type { Command } from "commander";
import { commandGroup } from "./group.js";

/**
 * Text -> token ids exactly as llama.cpp tokenizes (llama-perplexity uses common_tokenize with
 * add_special = true), through node-llama-cpp's vocabulary-only load of the same GGUF.
 */
export async function tokenizeLikeLlamaCpp(modelPath: string, text: string): Promise<{ tokens: number[]; bosId: number | undefined }> {
  const tokenizer = await openLlamaCppTokenizer(modelPath);
  try {
    return { tokens: tokenizer.withBos(text), bosId: tokenizer.bosId };
  } finally {
    await tokenizer.dispose();
  }
}

/** llama.cpp's tokenizer for a GGUF (node-llama-cpp, vocabulary only), loaded once for many texts. */
export async function openLlamaCppTokenizer(modelPath: string): Promise<{
  /** The BOS token llama.cpp prepends for this model, if it does. */
  bosId: number | undefined;
  /** The text's tokens after that BOS: a prompt as llama.cpp would evaluate it. */
  withBos: (text: string) => number[];
  /** The text's tokens alone: a continuation. */
  tokens: (text: string) => number[];
  dispose: () => Promise<void>;
}> {
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  const bos = model.tokens.bos ?? undefined;
  const bosId = model.tokens.shouldPrependBosToken && bos !== undefined ? bos : undefined;
  const tokens = (text: string) => model.tokenize(text, false) as number[];
  return {
    bosId,
    withBos: (text) => (bosId !== undefined ? [bosId, ...tokens(text)] : tokens(text)),
    tokens,
    dispose: () => model.dispose(),
  };
}

export function register(program: Command): void {
  commandGroup(program, "model", "Create, inspect and score GGUF models")
    .command("perplexity")
    .description("Perplexity of a text under a model, computed as llama-perplexity does")
    .requiredOption("--model <file>", "model GGUF")
    .option("--lora <file>", "LoRA adapter GGUF")
    .requiredOption("--file <text>", "text file to score")
    .requiredOption("--ctx <n>", "window length; the second half of each window is scored", Number)
    .option("--threads <n>", "compute threads (defaults to VERTICAL_THREADS or the core count)", Number)
    .option("--batch <n>", "windows evaluated together", Number, 1)
    .action(async (options: { model: string; lora?: string; file: string; ctx: number; threads?: number; batch: number }) => {
      const fs = await import("node:fs");
      const { settings } = await import("../../config.js");
      const { InputError } = await import("../../shared/errors.js");
      const { Backend, checkThreads } = await import("../../engine/index.js");
      const { loadModel, loadLoraAdapter, perplexity } = await import("../../model/index.js");
      const threads = checkThreads(options.threads ?? settings().threads, "--threads");
      if (!fs.existsSync(options.file)) throw new InputError("text file not found", { where: options.file });
      if (!fs.existsSync(options.model)) throw new InputError("model file not found", { where: options.model });
      const text = fs.readFileSync(options.file, "utf8");
      using backend = Backend.create({ threads });
      using model = loadModel(options.model, { backend });
      using adapter = options.lora ? loadLoraAdapter(options.lora, model) : undefined;
      const { tokens, bosId } = await tokenizeLikeLlamaCpp(options.model, text);
      const result = perplexity(model, tokens, {
        context: options.ctx,
        bosId,
        batch: options.batch,
        lora: adapter?.weights,
        onProgress: (done, total, estimate) => process.stderr.write(`[${done}/${total}] ${estimate.toFixed(4)}\n`),
      });
      process.stdout.write(`windows: ${result.windows}, scored tokens: ${result.scoredTokens}\n`);
      process.stdout.write(`perplexity: ${result.perplexity.toFixed(4)}\n`);
    });
}
