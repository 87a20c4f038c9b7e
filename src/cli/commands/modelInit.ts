import type { Command } from "commander";
import { commandGroup } from "./group.js";

function integer(value: string): number {
  return Number(value);
}

export function register(program: Command): void {
  commandGroup(program, "model", "Create, inspect and score GGUF models")
    .command("init")
    .description("Write a randomly initialised llama/qwen2/qwen3 model with a real tokenizer")
    .requiredOption("--arch <name>", "llama, qwen2 or qwen3")
    .requiredOption("--tokenizer <file>", "a GGUF to copy tokenizer.* from, or a Hugging Face tokenizer.json (or its directory)")
    .requiredOption("--hidden <n>", "embedding length", integer)
    .requiredOption("--layers <n>", "transformer blocks", integer)
    .requiredOption("--heads <n>", "attention heads", integer)
    .option("--kv-heads <n>", "key/value heads (defaults to --heads)", integer)
    .requiredOption("--ffn <n>", "feed-forward length", integer)
    .requiredOption("--ctx <n>", "training context length", integer)
    .option("--head-dim <n>", "head size (qwen3 only; defaults to hidden / heads)", integer)
    .option("--tied", "tie the output projection to the embeddings (default for qwen2/qwen3)")
    .option("--untied", "separate output projection (default for llama)")
    .option("--seed <n>", "seed of the random weights", integer, 0)
    .option("--type <type>", "storage type of the matrices: f32, f16, bf16, q8_0, q4_k, q5_k, q6_k", "f32")
    .requiredOption("--out <file>", "the GGUF to write")
    .action(async (options: Record<string, string | number | boolean | undefined>) => {
      const { ggmlTypeFromName } = await import("../../engine/gguf/index.js");
      const { InputError } = await import("../../shared/errors.js");
      const { initModel } = await import("../../model/index.js");
      const type = ggmlTypeFromName(String(options.type));
      if (type === undefined) throw new InputError(`--type ${String(options.type)} is not a ggml type`, { hint: "use f32, f16, q8_0 …" });
      if (options.tied && options.untied) throw new InputError("--tied and --untied contradict each other");
      const { parameters } = await initModel({
        architecture: String(options.arch),
        tokenizer: String(options.tokenizer),
        hidden: options.hidden as number,
        layers: options.layers as number,
        heads: options.heads as number,
        kvHeads: options.kvHeads as number | undefined,
        ffn: options.ffn as number,
        context: options.ctx as number,
        headDim: options.headDim as number | undefined,
        tiedOutput: options.tied ? true : options.untied ? false : undefined,
        seed: options.seed as number,
        type,
        out: String(options.out),
      });
      process.stdout.write(`wrote ${String(options.out)}: ${String(options.arch)}, ${parameters.toLocaleString("en-US")} parameters\n`);
    });
}
