/**
 * `vertical train CONFIG.yaml` or `vertical train --model M.gguf --data FILE --steps N --out RUN`,
 * and `vertical train --resume RUN`. Shows a progress bar (step, loss, tokens/s, ETA); the first
 * Ctrl-C finishes the current step, writes a checkpoint and exits cleanly (a second one kills).
 */
import type { Command } from "commander";
import type { RunConfig } from "../../train/config.js";
import type { RunResult, TrainProgress, TrainStartInfo } from "../../train/train.js";

function integer(value: string): number {
  return Number(value);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  program
    .command("train")
    .description("Fine-tune a GGUF model (LoRA, full, layer subset or soft prompt; CPT, SFT or MIP)")
    .argument("[config]", "YAML run config (docs/training.md); flags given beside it override its fields")
    .option("--model <file>", "GGUF model to start from")
    .option("--data <path>", "text file, chat JSONL or shard folder (repeat for several sources)", collect)
    .option("--objective <kind>", "cpt | sft | mip")
    .option("--method <kind>", "lora | full | subset | soft-prompt")
    .option("--rank <n>", "LoRA rank", integer)
    .option("--alpha <x>", "LoRA alpha", Number)
    .option("--targets <list>", "LoRA target modules, comma-separated (q,k,v,o,gate,up,down)")
    .option("--steps <n>", "optimiser steps", integer)
    .option("--lr <x>", "peak learning rate", Number)
    .option("--seq-len <n>", "tokens per sequence", integer)
    .option("--batch-size <n>", "sequences per micro-batch", integer)
    .option("--accumulation <n>", "micro-batches per step", integer)
    .option("--attention <mode>", "per-document | across-documents (packed sequences)")
    .option("--compute <precision>", "f32 | bf16 (full/subset on the CPU)")
    .option("--blas <mode>", "auto | off: ggml's BLAS backend for CPU training (npm run build:blas)")
    .option("--soft-prompt-tokens <n>", "virtual tokens (method soft-prompt)", integer)
    .option("--checkpoint-every <n>", "steps between checkpoints", integer)
    .option("--seed <n>", "seed", integer)
    .option("--device <name>", "cpu | cuda | vulkan")
    .option("--threads <n>", "compute threads", integer)
    .option("--out <dir>", "run directory")
    .option("--resume <dir>", "continue a run from its newest checkpoint (with --steps N: train it to N steps in all)")
    .action(async (configFile: string | undefined, flags: Record<string, unknown>) => {
      const { ConfigError } = await import("../../shared/errors.js");
      const { settings } = await import("../../config.js");
      const { loadRunConfig, parseRunConfig, rawConfigFromFlags } = await import("../../train/config.js");
      if (flags.resume !== undefined) {
        if (configFile) throw new ConfigError("--resume takes the run directory only; the config is read from the run", { where: "--resume" });
        // A resumed run keeps its config (its batches and schedule must match the checkpoint); a
        // flag that would change it is refused rather than silently ignored. --steps extends it.
        const ignored = Object.keys(flags).filter((name) => name !== "resume" && name !== "steps");
        if (ignored.length > 0) {
          const names = ignored.map((name) => `--${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`);
          throw new ConfigError(`${names.join(", ")} cannot change a run on --resume; it continues with the config it was started with`, {
            where: "--resume",
            hint: "leave those flags out (only --steps may be given, to train the run further), or start a new run with another --out",
          });
        }
        await runTrainingFromCli({ resume: String(flags.resume), steps: flags.steps as number | undefined }, settings().progress);
        return;
      }
      const raw = rawConfigFromFlags({
        model: flags.model as string | undefined,
        data: flags.data as string[] | undefined,
        objective: flags.objective as string | undefined,
        method: flags.method as string | undefined,
        rank: flags.rank as number | undefined,
        alpha: flags.alpha as number | undefined,
        targets: typeof flags.targets === "string" ? flags.targets.split(",").map((name) => name.trim()) : undefined,
        steps: flags.steps as number | undefined,
        lr: flags.lr as number | undefined,
        out: flags.out as string | undefined,
        sequenceLength: flags.seqLen as number | undefined,
        batchSize: flags.batchSize as number | undefined,
        accumulation: flags.accumulation as number | undefined,
        attention: flags.attention as string | undefined,
        compute: flags.compute as string | undefined,
        blas: flags.blas as string | undefined,
        seed: flags.seed as number | undefined,
        device: flags.device as string | undefined,
        threads: flags.threads as number | undefined,
        checkpointEvery: flags.checkpointEvery as number | undefined,
        softPromptTokens: flags.softPromptTokens as number | undefined,
      });
      const config = configFile ? loadRunConfig(configFile, raw) : parseRunConfig(raw, "command line");
      await runTrainingFromCli({ config }, settings().progress);
    });
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  return hours > 0 ? `${hours}h${String(minutes).padStart(2, "0")}m` : `${minutes}m${String(rest).padStart(2, "0")}s`;
}

/** Runs (or resumes) training with a progress bar and Ctrl-C handling, then prints the result. */
async function runTrainingFromCli(what: { config: RunConfig } | { resume: string; steps: number | undefined }, showBar: boolean): Promise<void> {
  const { train, resumeTraining } = await import("../../train/train.js");
  const { InterruptedError } = await import("../../shared/errors.js");
  const controller = new AbortController();
  const onInterrupt = () => {
    process.stderr.write("\ninterrupted: finishing this step and writing a checkpoint (Ctrl-C again to kill)\n");
    controller.abort();
  };
  process.once("SIGINT", onInterrupt);
  let bar: import("cli-progress").SingleBar | undefined;
  const onStart = (info: TrainStartInfo) => {
    process.stderr.write(
      `training ${info.trainableValues.toLocaleString("en-US")} values on ${info.sequences} sequences with ${info.backends.join(" + ")}` +
        (info.startStep > 0 ? `, resuming at step ${info.startStep}` : "") +
        (info.truncated > 0 ? ` (${info.truncated} chat examples cut to fit the sequence length)` : "") +
        "\n",
    );
  };
  if (showBar) {
    const { SingleBar, Presets } = await import("cli-progress");
    bar = new SingleBar(
      { format: "step {value}/{total} [{bar}] loss {loss} | {speed} tok/s | ETA {eta}", hideCursor: true, clearOnComplete: false },
      Presets.shades_classic,
    );
  }
  let started = false;
  let lastLine = 0;
  const onProgress = (progress: TrainProgress) => {
    const fields = { loss: progress.loss.toFixed(4), speed: Math.round(progress.tokensPerSecond), eta: formatSeconds(progress.etaSeconds) };
    if (bar) {
      if (!started) bar.start(progress.steps, progress.step - 1, fields);
      started = true;
      bar.update(progress.step, fields);
    } else if (progress.step === progress.steps || Date.now() - lastLine > 5000) {
      lastLine = Date.now();
      process.stderr.write(`step ${progress.step}/${progress.steps} loss ${fields.loss} | ${fields.speed} tok/s | ETA ${fields.eta}\n`);
    }
    if (progress.validation) {
      const line = `validation at step ${progress.step}: loss ${progress.validation.loss.toFixed(4)}, perplexity ${progress.validation.perplexity.toFixed(2)}`;
      if (bar) bar.update(progress.step, fields);
      process.stderr.write(bar ? `\n${line}\n` : `${line}\n`);
    }
  };
  let result: RunResult;
  try {
    const hooks = { signal: controller.signal, onProgress, onStart };
    result = "resume" in what ? await resumeTraining(what.resume, hooks, { steps: what.steps }) : await train({ ...what.config, ...hooks });
  } finally {
    bar?.stop();
    process.removeListener("SIGINT", onInterrupt);
  }
  if (result.alreadyFinished) {
    process.stderr.write(
      `the run finished all its ${result.steps} steps already; nothing to train (add --steps N above ${result.steps} to train it further)\n`,
    );
  }
  const lines = [
    `run: ${result.runDirectory}`,
    `steps: ${result.steps}`,
    `final loss: ${result.finalLoss.toFixed(4)}`,
    ...(result.validation ? [`validation: loss ${result.validation.loss.toFixed(4)}, perplexity ${result.validation.perplexity.toFixed(2)}`] : []),
    ...(result.alreadyFinished ? [] : [`tokens/s: ${Math.round(result.tokensPerSecond)}`]),
    `checkpoint: ${result.checkpoint}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (result.interrupted) {
    throw new InterruptedError(`stopped at step ${result.steps}; the checkpoint is saved`, {
      hint: `continue with: vertical train --resume ${result.runDirectory}`,
    });
  }
}
