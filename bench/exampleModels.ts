/**
 * `npm run bench:example-models` — what the example's shipped base model can do, next to the 1.4M-parameter
 * model the lab used to build inside the demo (same lab code, its old recipe; built once and cached):
 *  - general MCQ accuracy (examples/harbor/general/mcq.jsonl, 4 options, chance 25%);
 *  - domain MCQ without help, and with the *gold* passage in the prompt (oracle retrieval: the chunk of the
 *    item's cited source document that contains the correct option) — can the model read;
 *  - perplexity on held-out general text (the 20 Brown samples `npm run example:base` keeps out of training);
 *  - the reading probe (bench/readingProbe.ts): unseen reading tasks in the pre-training mix's own format — whether
 *    the model can copy an answer from its context at all, whatever the lab's prompts look like.
 * Targets from the base-model issue, printed beside the figures, not tuned for: general >= 50%, oracle >= 60%.
 *
 *  - the copy probe (bench/copyProbe.ts): loss per token on the second half of unseen repeat drills and on the answers
 *    of key-value recall drills — whether the model copies from its context at all (an induction head gives ~0).
 * Usage: npm run bench:example-models [-- --limit N --skip-old --model FILE.gguf ...]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Backend } from "../src/engine/index.js";
import { runEvaluation } from "../src/eval/runEvaluation.js";
import { defineEvalSpec } from "../src/eval/spec.js";
import type { Retriever } from "../src/llm/retriever.js";
import { createLabBackend } from "../src/lab/labBackend.js";
import { buildBaseModel, type BuildRecipe } from "../src/lab/buildBaseModel.js";
import { loadModel, perplexity } from "../src/model/index.js";
import { tokenizeLikeLlamaCpp } from "../src/cli/commands/modelPerplexity.js";
import { chunkDocuments } from "../src/rag/chunkDocuments.js";
import { readTextDocuments } from "../src/rag/readTextDocuments.js";
import { heldOutBrownText } from "../scripts/build-example-base.js";
import { copyProbe } from "./copyProbe.js";
import { readingProbeAccuracy } from "./readingProbe.js";

const HARBOR = path.resolve("examples/harbor");
/** The recipe examples/harbor/lab.yaml used before the base model was shipped. */
const OLD_RECIPE = {
  tokenizer: { vocabSize: 2048 },
  architecture: "llama",
  hidden: 128,
  layers: 4,
  heads: 4,
  ffn: 384,
  context: 512,
  pretrain: { steps: 400, lr: 0.003, sequences: 4, minutes: 4.5 },
} as BuildRecipe;

interface McqLine {
  question: string;
  choices: string[];
  answer: number;
  source: string;
}

/** Oracle retrieval: for a question, the chunk of its source document holding the correct option. */
function oracleRetriever(mcqFile: string): Retriever {
  const items = new Map(
    fs
      .readFileSync(mcqFile, "utf8")
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as McqLine)
      .map((item) => [item.question, item]),
  );
  const chunks = chunkDocuments(readTextDocuments(path.join(HARBOR, "docs")), { maxChars: 160, overlapSentences: 1 });
  return {
    id: "oracle",
    async retrieve(query) {
      const item = [...items.values()].find((candidate) => query.includes(candidate.question));
      if (!item) return [];
      const gold = item.choices[item.answer]!;
      const ofSource = chunks.filter((chunk) => chunk.documentId === item.source);
      const chunk = ofSource.find((candidate) => candidate.text.includes(gold)) ?? ofSource[0];
      return chunk ? [{ text: chunk.text, source: item.source, score: 1 }] : [];
    },
  };
}

async function mcqAccuracies(name: string, modelPath: string, limit: number | undefined) {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-example-models-"));
  const system = { backend: "engine", model: modelPath, chatTemplate: "none", scoring: "option", threads: 1 };
  const spec = defineEvalSpec({
    name,
    systems: [
      { ...system, name: "plain" },
      { ...system, name: "oracle", retrieval: { k: 1 } },
    ],
    sets: [
      { name: "general", kind: "mcq", path: path.join(HARBOR, "general/mcq.jsonl"), general: true, ...(limit ? { limit } : {}) },
      { name: "domain", kind: "mcq", path: path.join(HARBOR, "eval/mcq.jsonl"), ...(limit ? { limit } : {}) },
    ],
  });
  const retriever = oracleRetriever(path.join(HARBOR, "eval/mcq.jsonl"));
  const summary = await runEvaluation(spec, { outDir, createBackend: createLabBackend, resolveRetriever: async () => retriever });
  fs.rmSync(outDir, { recursive: true, force: true });
  const accuracy = (systemName: string, set: string) => summary.results.find((row) => row.system === systemName && row.set === set)?.accuracy;
  return { general: accuracy("plain", "general"), domain: accuracy("plain", "domain"), oracle: accuracy("oracle", "domain") };
}

/** Perplexity per character (comparable across the two models' different vocabularies) on held-out Brown text. */
async function heldOutPerplexity(modelPath: string): Promise<number> {
  using backend = Backend.cpu(1);
  using model = loadModel(modelPath, { backend });
  const text = heldOutBrownText()
    .map((sample) => sample.text)
    .join("\n\n");
  const { tokens, bosId } = await tokenizeLikeLlamaCpp(modelPath, text);
  const result = perplexity(model, tokens, { context: 512, ...(bosId !== undefined ? { bosId } : {}) });
  // The scored tokens are the second half of each window: charge them their share of the characters.
  const characters = (text.length * result.scoredTokens) / tokens.length;
  return Math.exp(result.negativeLogLikelihood / characters);
}

const format = (estimate: { value: number; ci95: [number, number] } | null | undefined) =>
  estimate ? `${(estimate.value * 100).toFixed(1)}% [${(estimate.ci95[0] * 100).toFixed(1)}, ${(estimate.ci95[1] * 100).toFixed(1)}]` : "n/a";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { limit: { type: "string" }, "skip-old": { type: "boolean", default: false }, model: { type: "string", multiple: true } } });
  const limit = values.limit ? Number(values.limit) : undefined;
  const models: [string, string][] = [];
  if (!values["skip-old"]) {
    const old = await buildBaseModel({ recipe: OLD_RECIPE, generalFolder: path.join(HARBOR, "general"), docsFolder: path.join(HARBOR, "docs"), seed: 1, threads: 1, cacheDir: path.resolve(".cache") });
    models.push(["1.4M lab-built", old.modelPath]);
  }
  if (values.model?.length) for (const file of values.model) models.push([path.basename(file), path.resolve(file)]);
  else models.push(["shipped base", path.join(HARBOR, "models/base.gguf")]);
  for (const [name, modelPath] of models) {
    const started = Date.now();
    const scores = await mcqAccuracies(name, modelPath, limit);
    const ppl = await heldOutPerplexity(modelPath);
    const reading = await readingProbeAccuracy(modelPath, limit ?? 200);
    const copying = await copyProbe(modelPath);
    console.log(
      `${name}: general MCQ ${format(scores.general)} (target >= 50%), domain MCQ ${format(scores.domain)}, ` +
        `domain MCQ with the gold passage ${format(scores.oracle)} (target >= 60%), held-out Brown perplexity per character ${ppl.toFixed(3)}, ` +
        `reading probe ${(reading.en * 100).toFixed(1)}% en / ${(reading.zh * 100).toFixed(1)}% zh (chance 25%), ` +
        `copy probe ${copying.repeat.toFixed(2)} nats/token on repeated lists, ${copying.recall.toFixed(2)} on recalled values ` +
        `(${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
}

await main();
