/**
 * `vertical rag train-embedder --model M.gguf --docs DIR [--eval DIR] --out OUT.gguf`: fine-tunes the
 * model as a bi-encoder on pairs mined from the documents (decontaminated against the evaluation
 * sets in --eval) and writes an embedding GGUF node-llama-cpp loads. Progress with ETA like
 * `vertical train`; Ctrl-C stops after the current step and still writes the weights reached.
 */
import type { Command } from "commander";
import type { EmbedderProgress } from "../../train/embedder/index.js";
import { commandGroup } from "./group.js";
import { RAG_GROUP_DESCRIPTION } from "./ragIndex.js";


interface Flags {
  model: string;
  docs: string;
  eval?: string;
  out: string;
  steps?: string;
  batch?: string;
  temperature?: string;
  hardNegatives?: string;
  loraRank?: string;
  full?: boolean;
  lr?: string;
  pooling?: string;
  chunkChars?: string;
  overlapSentences?: string;
  strictDecontamination?: boolean;
  seed?: string;
  threads?: string;
}

/** A numeric flag as a number (zod checks its range), undefined when absent. */
function numberFlag(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const total = Math.round(seconds);
  return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, "0")}s`;
}

export function register(program: Command): void {
  commandGroup(program, "rag", RAG_GROUP_DESCRIPTION)
    .command("train-embedder")
    .description("Train a domain embedding model (bi-encoder, InfoNCE) from a GGUF and a folder of documents; writes an embedding GGUF")
    .requiredOption("--model <gguf>", "base model (llama, qwen2, qwen3 GGUF)")
    .requiredOption("--docs <dir>", "folder of .md / .txt domain documents")
    .option("--eval <dir>", "folder of evaluation sets (.jsonl) to keep out of the training pairs")
    .requiredOption("--out <gguf>", "embedding model to write")
    .option("--steps <n>", "optimiser steps (default 100)")
    .option("--batch <n>", "queries per step (default 8)")
    .option("--temperature <t>", "InfoNCE temperature (default 0.05)")
    .option("--hard-negatives <k>", "BM25 hard negatives per query (default 1)")
    .option("--lora-rank <r>", "LoRA rank (default 8; alpha 2r)")
    .option("--full", "full fine-tuning instead of LoRA")
    .option("--lr <lr>", "peak learning rate (default 5e-4 LoRA, 5e-5 full)")
    .option("--pooling <kind>", "mean | last (default mean)")
    .option("--chunk-chars <n>", "passage size in characters (default 400, the lab's)")
    .option("--overlap-sentences <n>", "sentences shared by consecutive passages (default 1)")
    .option("--strict-decontamination", "also drop pairs whose passage shares an n-gram with an evaluation item")
    .option("--seed <n>", "seed (default 0)")
    .option("--threads <n>", "ggml threads")
    .action(async (flags: Flags) => {
      const { trainDomainEmbedder, evalFilesIn, LAB_CHUNKING } = await import("../../lab/trainDomainEmbedder.js");
      const { settings } = await import("../../config.js");
      const evalFiles = flags.eval ? evalFilesIn(flags.eval) : [];
      if (evalFiles.length === 0) process.stderr.write("no --eval folder: the pairs are not checked against any evaluation set\n");
      const controller = new AbortController();
      const onInterrupt = () => {
        process.stderr.write("\ninterrupted: finishing this step and writing the embedder (Ctrl-C again to kill)\n");
        controller.abort();
      };
      process.once("SIGINT", onInterrupt);
      let bar: import("cli-progress").SingleBar | undefined;
      if (settings().progress) {
        const { SingleBar, Presets } = await import("cli-progress");
        bar = new SingleBar({ format: "step {value}/{total} [{bar}] loss {loss} | ETA {eta}", hideCursor: true, clearOnComplete: false }, Presets.shades_classic);
      }
      let lastLine = 0;
      const onProgress = (progress: EmbedderProgress) => {
        const fields = { loss: progress.loss.toFixed(4), eta: formatSeconds(progress.etaSeconds) };
        if (bar) {
          if (progress.step === 1) bar.start(progress.steps, 0, fields);
          bar.update(progress.step, fields);
        } else if (progress.step === progress.steps || Date.now() - lastLine > 5000) {
          lastLine = Date.now();
          process.stderr.write(`step ${progress.step}/${progress.steps} loss ${fields.loss} | ETA ${fields.eta}\n`);
        }
      };
      try {
        const { mined, training } = await trainDomainEmbedder({
          model: flags.model,
          docs: flags.docs,
          evalFiles,
          out: flags.out,
          chunking: { maxChars: numberFlag(flags.chunkChars) ?? LAB_CHUNKING.maxChars, overlapSentences: numberFlag(flags.overlapSentences) ?? LAB_CHUNKING.overlapSentences },
          dropPassageOverlaps: flags.strictDecontamination ?? false,
          steps: numberFlag(flags.steps),
          batch: numberFlag(flags.batch),
          temperature: numberFlag(flags.temperature),
          hardNegatives: numberFlag(flags.hardNegatives),
          method: flags.full ? "full" : "lora",
          ...(flags.loraRank ? { lora: { rank: Number(flags.loraRank) } } : {}),
          lr: numberFlag(flags.lr),
          pooling: flags.pooling as "mean" | "last" | undefined,
          seed: numberFlag(flags.seed),
          threads: numberFlag(flags.threads),
          signal: controller.signal,
          onProgress,
          onMined: (found) =>
            process.stderr.write(
              `${found.passages} passages; pairs: ${found.found.heading} heading, ${found.found.sentence} sentence; ` +
                `${found.dropped} dropped for overlapping ${found.overlaps.length} evaluation items, ${found.pairs.length} kept` +
                (found.keptPassageOverlaps > 0 ? ` (${found.keptPassageOverlaps} of them with a passage that shares an n-gram with an evaluation item; --strict-decontamination drops those)` : "") +
                "\n",
            ),
        });
        bar?.stop();
        const lines = [
          `embedder: ${training.out}`,
          `pairs: ${mined.kept} (${mined.dropped} dropped by decontamination)`,
          `steps: ${training.steps}${training.interrupted ? " (interrupted)" : ""}`,
          `loss: ${training.firstLoss.toFixed(4)} -> ${training.finalLoss.toFixed(4)} (chance ${training.chanceLoss.toFixed(4)})`,
          `time: ${formatSeconds(training.seconds)}`,
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        bar?.stop();
        process.removeListener("SIGINT", onInterrupt);
      }
    });
}
