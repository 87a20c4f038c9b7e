/**
 * Copy probe: can a model copy from its context at all? Unseen drills of scripts/example-base/copyDrills.ts (a seed
 * never trained on): the mean loss per token (nats) of the second half of a repeat drill given the first, and of the
 * answers of a key-value recall drill given its table. A model with an induction head copies the repeated list at a
 * loss near 0; one without it pays about the entropy of random syllables (~3 nats a token). Together with the reading
 * probe it says which step of reading fails: copying, or finding what to copy.
 *
 * Usage: node --import tsx bench/copyProbe.ts [MODEL.gguf] [DRILLS]
 */
import { Backend } from "../src/engine/index.js";
import { loadModel, scoreContinuations } from "../src/model/index.js";
import { seededRandom } from "../src/shared/seededRandom.js";
import { openLlamaCppTokenizer } from "../src/cli/commands/modelPerplexity.js";
import { recallDrill, repeatDrill } from "../scripts/example-base/copyDrills.js";

/** The drill split at its last cue: what the model reads, and what it must produce. */
function splitAtCue(text: string, cues: readonly string[]): { context: string; target: string } {
  const at = Math.max(...cues.map((cue) => text.lastIndexOf(cue)));
  const cue = cues.find((candidate) => text.startsWith(candidate, at))!;
  return { context: text.slice(0, at + cue.length), target: text.slice(at + cue.length) };
}

export async function copyProbe(modelPath: string, count = 60, seed = 777_101): Promise<{ repeat: number; recall: number; drills: number }> {
  const tokenizer = await openLlamaCppTokenizer(modelPath);
  using backend = Backend.cpu(1);
  using model = loadModel(modelPath, { backend });
  const random = seededRandom(seed);
  const totals = { repeat: { nll: 0, tokens: 0 }, recall: { nll: 0, tokens: 0 } };
  const score = (kind: keyof typeof totals, part: { context: string; target: string }) => {
    const continuation = tokenizer.tokens(part.target);
    const [result] = scoreContinuations(model, [{ context: tokenizer.withBos(part.context), continuation }]);
    totals[kind].nll -= result!.logprob;
    totals[kind].tokens += continuation.length;
  };
  try {
    for (let k = 0; k < count; k++) {
      const language = k % 3 === 0 ? "zh" : "en";
      score("repeat", splitAtCue(repeatDrill(random, language), ["\nAgain:", "\n重复："]));
      score("recall", splitAtCue(recallDrill(random, language), ["\nA:", "\n答："]));
    }
  } finally {
    await tokenizer.dispose();
  }
  return { repeat: totals.repeat.nll / totals.repeat.tokens, recall: totals.recall.nll / totals.recall.tokens, drills: count };
}

if (process.argv[1]?.endsWith("copyProbe.ts")) {
  const result = await copyProbe(process.argv[2] ?? "examples/harbor/models/base.gguf", Number(process.argv[3] ?? 60));
  console.log(`copy probe (${result.drills} unseen drills of each kind): ${result.repeat.toFixed(3)} nats/token on repeated lists, ${result.recall.toFixed(3)} on recalled values`);
}
