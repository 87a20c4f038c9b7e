/** `vertical export RUN --format gguf-lora|peft|gguf-merged|soft-prompt|hf --out PATH`. */
import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("export")
    .description("Export a training run: LoRA as GGUF or PEFT, a merged GGUF, a soft prompt, or a merged transformers folder")
    .argument("<run>", "run directory of `vertical train`")
    .requiredOption("--format <format>", "gguf-lora | peft | gguf-merged | soft-prompt | hf")
    .requiredOption("--out <path>", "file to write (a folder for peft and hf)")
    .option("--type <type>", "gguf-merged: storage type of the matrices (f32, f16, q8_0, q4_k, …); defaults to the base's")
    .option("--base <file>", "gguf-merged/hf: the base GGUF (defaults to the run's model; must be the same model)")
    .option("--base-model-name <name>", "peft: base_model_name_or_path (defaults to the GGUF's general.name)")
    .option("--dtype <dtype>", "hf: stored dtype f32 (default), f16 or bf16 (the transformers check wants f32)")
    .option("--max-shard-size <bytes>", "hf: shard model.safetensors above this many bytes (default 5e9, transformers' 5GB)", Number)
    .option("--reference-logits", "hf: also save our engine's logits on a fixed text, for scripts/check-hf-export.py")
    .option("--threads <n>", "hf --reference-logits: compute threads (defaults to VERTICAL_THREADS or the core count)", Number)
    .action(async (run: string, flags: Record<string, string | number | boolean | undefined>) => {
      const { exportRun } = await import("../../train/exportRun.js");
      const { settings } = await import("../../config.js");
      const { checkThreads } = await import("../../engine/index.js");
      const referenceLogits = flags.referenceLogits ? { threads: checkThreads((flags.threads as number | undefined) ?? settings().threads, "--threads") } : undefined;
      const result = await exportRun(run, {
        format: flags.format as "gguf-lora",
        out: String(flags.out),
        type: flags.type as string | undefined,
        base: flags.base as string | undefined,
        baseModelName: flags.baseModelName as string | undefined,
        dtype: flags.dtype as string | undefined,
        maxShardBytes: flags.maxShardSize as number | undefined,
        referenceLogits,
      });
      process.stdout.write(`exported step ${result.step} of ${run} as ${result.format}: ${result.out}\n`);
    });
}
