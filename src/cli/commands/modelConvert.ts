/** `vertical model convert --from hf DIR --to gguf OUT`: a transformers checkpoint in, a GGUF out. */
import type { Command } from "commander";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "model", "Create, inspect and score GGUF models")
    .command("convert")
    .description("Convert a transformers model folder (llama, qwen2, qwen3; safetensors) to a GGUF llama.cpp loads")
    .requiredOption("--from <format>", "source format: hf")
    .argument(
      "<source>",
      "the folder save_pretrained wrote (config.json, model.safetensors[.index.json], tokenizer.json)",
    )
    .requiredOption("--to <format>", "target format: gguf")
    .argument("<out>", "the .gguf to write")
    .option("--type <type>", "storage type of the matrices: f32, f16, bf16, q8_0 (defaults to the checkpoint's dtype)")
    .option("--name <name>", "general.name (defaults to the folder's name)")
    .action(
      async (source: string, out: string, options: { from: string; to: string; type?: string; name?: string }) => {
        const { InputError } = await import("../../shared/errors.js");
        if (options.from !== "hf" || options.to !== "gguf") {
          throw new InputError(`converting --from ${options.from} --to ${options.to} is not supported`, {
            where: "--from/--to",
            hint: "use --from hf DIR --to gguf OUT",
          });
        }
        const { convertHfToGguf } = await import("../../model/hf/index.js");
        const result = await convertHfToGguf(source, out, { type: options.type, name: options.name });
        process.stdout.write(`wrote ${result.out}: ${result.architecture}, ${result.tensorCount} tensors\n`);
      },
    );
}
