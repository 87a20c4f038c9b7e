/**
 * Reading probe for a model pre-trained on scripts/example-base/readingTasks.ts: fresh tasks (a seed never trained on),
 * the asked value against 3 other values of the same relation (those in the passages first), scored by option
 * log-likelihood after the task's own prompt. Chance is 25%. It separates "cannot read at all" from "cannot read the
 * lab's prompts" when the oracle-retrieval figure of bench:example-models is low.
 *
 * Usage: node --import tsx bench/readingProbe.ts [MODEL.gguf] [TASKS]
 */
import { Backend } from "../src/engine/index.js";
import { loadModel, scoreContinuations } from "../src/model/index.js";
import { seededRandom } from "../src/shared/seededRandom.js";
import { openLlamaCppTokenizer } from "../src/cli/commands/modelPerplexity.js";
import { readingTask } from "../scripts/example-base/readingTasks.js";

export async function readingProbeAccuracy(modelPath: string, count = 200, seed = 777_001): Promise<{ en: number; zh: number; tasks: number }> {
  const tokenizer = await openLlamaCppTokenizer(modelPath);
  using backend = Backend.cpu(1);
  using model = loadModel(modelPath, { backend });
  const random = seededRandom(seed);
  const other = seededRandom(seed + 1);
  const correct = { en: 0, zh: 0 };
  const total = { en: 0, zh: 0 };
  try {
    for (let k = 0; k < count; k++) {
      const language = k % 2 === 0 ? "en" : "zh";
      const task = readingTask(random, language);
      const context = tokenizer.withBos(task.prompt);
      const choices = [task.value, ...task.distractors(other, 3)];
      const scores = scoreContinuations(
        model,
        choices.map((choice) => ({ context, continuation: tokenizer.tokens((language === "en" ? " " : "") + choice) })),
      ).map((score) => score.logprob);
      total[language]++;
      if (scores.indexOf(Math.max(...scores)) === 0) correct[language]++;
    }
  } finally {
    await tokenizer.dispose();
  }
  return { en: correct.en / total.en, zh: correct.zh / total.zh, tasks: count };
}

if (process.argv[1]?.endsWith("readingProbe.ts")) {
  const result = await readingProbeAccuracy(process.argv[2] ?? "examples/harbor/models/base.gguf", Number(process.argv[3] ?? 200));
  console.log(`reading probe (${result.tasks} unseen tasks, 4 options): en ${(result.en * 100).toFixed(1)}%, zh ${(result.zh * 100).toFixed(1)}% (chance 25%)`);
}
