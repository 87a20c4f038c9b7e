/**
 * The lab's `train:embedder` step (the retrieval-embedder route): the code of `vertical rag
 * train-embedder` (trainDomainEmbedder) on the lab's docs/, chunked as the lab's retrieval chunks them,
 * pairs decontaminated against every evaluation set the lab reads, from the base model, within
 * lab.yaml's `budgets.embedder`. The GGUF is written beside its final name and renamed onto it, so a
 * kill leaves either no embedder or a whole one; the step is recorded only after the rename, so a
 * rerun after a kill trains again (minutes) and a finished step is skipped.
 */
import fs from "node:fs";
import path from "node:path";
import { InterruptedError } from "../shared/errors.js";
import { withAtomicPath } from "../shared/atomicWrite.js";
import type { LabConfig } from "./labConfig.js";
import type { StepContext } from "./runSteps.js";
import { trainDomainEmbedder } from "./trainDomainEmbedder.js";
import { timeBudget } from "../shared/timeBudget.js";

export interface LabEmbedderOutputs {
  /** The embedder GGUF, relative to the lab's out/ folder. */
  embedder: string;
  steps: number;
  plannedSteps: number;
  /** Cut by budgets.embedder.minutes. */
  stoppedEarly: boolean;
  pairs: number;
  droppedPairs: number;
  firstLoss: number;
  finalLoss: number;
  chanceLoss: number;
  seconds: number;
}

/** Everything the trained embedder depends on (the step's key adds the model step's). */
export function embedderStepInputs(config: LabConfig): Record<string, unknown> {
  const { chunkChars, overlapSentences } = config.retrieval;
  return {
    format: 1,
    budget: config.budgets.embedder,
    chunking: { chunkChars, overlapSentences },
    seed: config.seed,
    data: [config.data.docs, ...labEvalFiles(config)],
  };
}

/** The files whose questions must never become training queries: every set the lab evaluates or shows. */
export function labEvalFiles(config: LabConfig): string[] {
  return [config.data.domainMcq, config.data.domainMcqDev, config.data.generalMcq, config.data.open].filter((file) => fs.existsSync(file));
}

export async function trainLabEmbedder(options: { config: LabConfig; modelPath: string; outDir: string; threads: number; context: StepContext }): Promise<LabEmbedderOutputs> {
  const { config, context } = options;
  const budget = config.budgets.embedder;
  const target = path.join(options.outDir, "models", "embedder.gguf");
  // A time budget stops training like Ctrl-C does (the weights reached are written), but is not an interruption.
  const limit = timeBudget(context.signal, budget.minutes);
  try {
    const { mined, training } = await withAtomicPath(target, (temporary) =>
      trainDomainEmbedder({
        model: options.modelPath,
        docs: config.data.docs,
        evalFiles: labEvalFiles(config),
        chunking: { maxChars: config.retrieval.chunkChars, overlapSentences: config.retrieval.overlapSentences },
        out: temporary,
        steps: budget.steps,
        batch: budget.batch,
        seed: config.seed,
        threads: options.threads,
        signal: limit.signal,
        onMined: (found) => context.log(`${found.passages} passages, ${found.pairs.length} training pairs (${found.dropped} dropped: their query overlaps an evaluation item)`),
        onProgress: (progress) => context.progress(progress.step / progress.steps, `step ${progress.step}/${progress.steps}, loss ${progress.loss.toFixed(3)}`),
      }).then((result) => {
        // Checked before the rename: an interrupted run must not leave an embedder a rerun would take as finished.
        if (context.signal?.aborted) throw new InterruptedError("interrupted while training the embedder; rerun to train it again");
        return result;
      }),
    );
    const stoppedEarly = training.interrupted;
    if (stoppedEarly) context.log(`stopped by its time budget (${budget.minutes} min) after ${training.steps} of ${budget.steps} steps`);
    context.log(`InfoNCE ${training.firstLoss.toFixed(3)} -> ${training.finalLoss.toFixed(3)} (chance ${training.chanceLoss.toFixed(3)})`);
    return {
      embedder: path.relative(options.outDir, target),
      steps: training.steps,
      plannedSteps: budget.steps,
      stoppedEarly,
      pairs: mined.kept,
      droppedPairs: mined.dropped,
      firstLoss: training.firstLoss,
      finalLoss: training.finalLoss,
      chanceLoss: training.chanceLoss,
      seconds: training.seconds,
    };
  } finally {
    limit.clear();
  }
}
