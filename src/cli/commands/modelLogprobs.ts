import type { Command } from "commander";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "model", "Create, inspect and score GGUF models")
    .command("logprobs")
    .description("Token ids and per-token log-probabilities of a text, as JSON")
    .requiredOption("--model <file>", "model GGUF")
    .option("--lora <file>", "LoRA adapter GGUF")
    .requiredOption("--text <string>", "text to score (BOS added when the vocabulary asks for it)")
    .option("--threads <n>", "compute threads (defaults to VERTICAL_THREADS or the core count)", Number)
    .action(async (options: { model: string; lora?: string; text: string; threads?: number }) => {
      const fs = await import("node:fs");
      const { settings } = await import("../../config.js");
      const { InputError } = await import("../../shared/errors.js");
      const { Backend, checkThreads } = await import("../../engine/index.js");
      const { loadModel, loadLoraAdapter, tokenLogprobs } = await import("../../model/index.js");
      const { tokenizeLikeLlamaCpp } = await import("./modelPerplexity.js");
      const threads = checkThreads(options.threads ?? settings().threads, "--threads");
      if (!fs.existsSync(options.model)) throw new InputError("model file not found", { where: options.model });
      using backend = Backend.create({ threads });
      using model = loadModel(options.model, { backend });
      using adapter = options.lora ? loadLoraAdapter(options.lora, model) : undefined;
      const { tokens } = await tokenizeLikeLlamaCpp(options.model, options.text);
      const logprobs = tokenLogprobs(model, tokens, { lora: adapter?.weights });
      // logprobs[i] scores tokens[i + 1]; the first token has no prediction.
      const result = { tokens, logprobs: [null, ...logprobs], total: logprobs.reduce((a, b) => a + b, 0) };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
