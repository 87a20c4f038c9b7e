/**
 * Does a domain-trained embedder find the right passage more often than the base model's embeddings?
 * On the harbor example: the documents chunked at the lab's settings (400 characters, 1 sentence of
 * overlap); a labelled set built from the evaluation items (examples/harbor/eval/*.jsonl, each names
 * its source document): query = the item's question, relevant = every passage of its source document.
 * Retrieval is a brute-force cosine search over all passages. Printed, one line per retriever:
 * recall@5 (share of queries with a relevant passage in the top 5) and MRR@10, for
 *   bm25            the lab's lexical retriever (reference)
 *   base-last       the base GGUF as llama.cpp embeds it without a pooling_type (last token)
 *   base-mean       the base GGUF with mean pooling (what the trained embedder starts from)
 *   trained-mean    `vertical rag train-embedder` on the same documents, pairs decontaminated
 *                   against those evaluation sets (their questions never become training queries)
 *
 *   nice -n 10 npm run bench:embedder [-- --steps 40 --batch 8 --threads 1 --strict]
 *
 * One thread by default: on a shared 2-core machine ggml's spinning workers made 2 threads 5x slower
 * (48 passages: 9 s with 1 thread, 45 s with 2, load average 18).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { EngineEmbedder } from "../src/llm/engineEmbedder.js";
import { evalFilesIn, LAB_CHUNKING, trainDomainEmbedder } from "../src/lab/trainDomainEmbedder.js";
import { Bm25Retriever } from "../src/rag/bm25Retriever.js";
import { chunkDocuments } from "../src/rag/chunkDocuments.js";
import { readTextDocuments } from "../src/rag/readTextDocuments.js";
import type { Pooling } from "../src/model/poolEmbeddings.js";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "40" },
    batch: { type: "string", default: "8" },
    threads: { type: "string", default: "1" },
    "max-passage-tokens": { type: "string", default: "128" },
    strict: { type: "boolean", default: false },
    /** Skip the base model's lines (they do not change between runs: the embeddings are deterministic). */
    "skip-base": { type: "boolean", default: false },
  },
});
const threads = Number(values.threads);
const example = path.resolve("examples/harbor");
const base = path.join(example, "models/base.gguf");
const evalFiles = evalFilesIn(path.join(example, "eval"));

const passages = chunkDocuments(readTextDocuments(path.join(example, "docs")), LAB_CHUNKING);
const queries = new Map<string, string>();
for (const file of evalFiles)
  for (const line of fs.readFileSync(file, "utf8").split("\n").filter((entry) => entry.trim() !== "")) {
    const item = JSON.parse(line) as { question: string; source: string };
    if (passages.some((passage) => passage.documentId === item.source)) queries.set(item.question, item.source);
  }
const labelled = [...queries].map(([question, source]) => ({ question, source }));
console.log(`${passages.length} passages, ${labelled.length} labelled queries (${evalFiles.map((file) => path.basename(file)).join(", ")}); load average ${os.loadavg()[0]!.toFixed(1)}`);

interface Scores {
  recallAt5: number;
  mrrAt10: number;
}

/** recall@5 and MRR@10 of ranked document ids per query. */
function score(ranked: string[][]): Scores {
  let hits = 0;
  let reciprocal = 0;
  ranked.forEach((documents, index) => {
    const rank = documents.slice(0, 10).indexOf(labelled[index]!.source);
    if (rank >= 0 && rank < 5) hits++;
    if (rank >= 0) reciprocal += 1 / (rank + 1);
  });
  return { recallAt5: hits / ranked.length, mrrAt10: reciprocal / ranked.length };
}

function print(name: string, scores: Scores, extra = ""): void {
  console.log(`${name.padEnd(13)} recall@5=${scores.recallAt5.toFixed(3)} mrr@10=${scores.mrrAt10.toFixed(3)}${extra}`);
}

/** Brute-force cosine search (the vectors are unit length): top 10 passages' documents per query. */
async function denseRanking(modelPath: string, pooling: Pooling): Promise<string[][]> {
  const embedder = await EngineEmbedder.load({ modelPath, pooling, threads });
  try {
    const passageVectors = await embedder.embed(passages.map((passage) => passage.text));
    const queryVectors = await embedder.embed(labelled.map((entry) => entry.question));
    return queryVectors.map((query) =>
      passageVectors
        .map((vector, index) => ({ index, similarity: vector.reduce((sum, value, i) => sum + value * query[i]!, 0) }))
        .sort((a, b) => b.similarity - a.similarity)
        .slice(0, 10)
        .map(({ index }) => passages[index]!.documentId),
    );
  } finally {
    embedder.dispose();
  }
}

const bm25 = new Bm25Retriever(passages);
print("bm25", score(labelled.map((entry) => bm25.retrieveSync(entry.question, 10).map((hit) => hit.documentId))));
let started = performance.now();
if (!values["skip-base"]) {
  print("base-last", score(await denseRanking(base, "last")), `  (${((performance.now() - started) / 1000).toFixed(0)} s to embed)`);
  print("base-mean", score(await denseRanking(base, "mean")));
}

const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vertical-bench-embedder-")), "embedder.gguf");
started = performance.now();
const { mined, training } = await trainDomainEmbedder({
  model: base,
  docs: path.join(example, "docs"),
  evalFiles,
  out,
  steps: Number(values.steps),
  batch: Number(values.batch),
  maxPassageTokens: Number(values["max-passage-tokens"]),
  dropPassageOverlaps: values.strict,
  threads,
  onProgress: (progress) => {
    if (progress.step % 10 === 0) console.log(`  step ${progress.step}/${progress.steps} loss ${progress.loss.toFixed(3)} (${progress.elapsedSeconds.toFixed(0)} s)`);
  },
});
console.log(
  `trained on ${mined.kept} pairs (${mined.found.heading} heading + ${mined.found.sentence} sentence found, ${mined.dropped} dropped by decontamination` +
    `${values.strict ? ", passages included" : `, ${mined.keptPassageOverlaps} kept whose passage shares an n-gram with an item`}); ` +
    `${training.steps} steps x ${training.options.batch} queries in ${((performance.now() - started) / 1000).toFixed(0)} s; ` +
    `loss ${training.firstLoss.toFixed(3)} -> ${training.finalLoss.toFixed(3)} (chance ${training.chanceLoss.toFixed(3)}); load average ${os.loadavg()[0]!.toFixed(1)}`,
);
print("trained-mean", score(await denseRanking(out, "mean")));
fs.rmSync(path.dirname(out), { recursive: true, force: true });
