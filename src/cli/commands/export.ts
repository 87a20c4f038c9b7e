/** `vertical export RUN --format gguf-lora|peft|gguf-merged|soft-prompt --out PATH`. */
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("export")
    .description("Export a training run: LoRA as GGUF or PEFT, a merged GGUF, or a soft prompt")
    .argument("<run>", "run directory of `vertical train`")
    .requiredOption("--format <format>", "gguf-lora | peft | gguf-merged | soft-prompt")
    .requiredOption("--out <path>", "file to write (a folder for peft)")
    .option("--type <type>", "gguf-merged: storage type of the matrices (f32, f16, q8_0, q4_k, …); defaults to the base's")
    .option("--base <file>", "gguf-merged: the base GGUF (defaults to the run's model; must be the same model)")
    .option("--base-model-name <name>", "peft: base_model_name_or_path (defaults to the GGUF's general.name)")
    .action(async (run: string, flags: Record<string, string | undefined>) => {
      const { exportRun } = await import("../../train/exportRun.js");
      const result = await exportRun(run, {
        format: flags.format as "gguf-lora",
        out: String(flags.out),
        type: flags.type,
        base: flags.base,
        baseModelName: flags.baseModelName,
      });
      process.stdout.write(`exported step ${result.step} of ${run} as ${result.format}: ${result.out}\n`);
    });
}
