/**
 * Must-show of the trained embedder: `trainEmbedder` on the harbor example's base model (real 4096-token
 * tokenizer) writes a GGUF that node-llama-cpp's embedding context loads, with `llama.pooling_type` in
 * its metadata, and whose embeddings equal our engine's (EngineEmbedder) to <= 1e-3 cosine difference,
 * for mean and last-token pooling. A few steps at a small batch: the test checks the export, not quality.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readGguf } from "../../src/engine/gguf/index.js";
import { EngineEmbedder } from "../../src/llm/engineEmbedder.js";
import { LlamaCppEmbedder } from "../../src/llm/llamaCpp.js";
import { trainEmbedder, type EmbedderPair } from "../../src/train/embedder/index.js";

const base = path.resolve("examples/harbor/models/base.gguf");
const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-embedder-native-"));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

const passages = [
  "Berth Q04 belongs to the Nanwan Passenger Terminal and takes ships up to 150 m.",
  "Pilotage is compulsory for vessels longer than 70 m entering the Port of Qinglan.",
  "Harbour dues are charged per gross tonne on every call.",
  "The container terminal at East Cape works around the clock.",
  "Dangerous goods must be declared 48 hours before arrival.",
];
const pairs: EmbedderPair[] = passages.map((text, index) => ({
  query: text.split(" ").slice(0, 4).join(" "),
  positive: { id: `p${index}`, text },
  negatives: [{ id: `p${(index + 1) % passages.length}`, text: passages[(index + 1) % passages.length]! }],
}));
const probes = ["Which terminal owns Berth Q04?", "pilotage", "港口费按总吨计收。", passages[2]!, "A much longer text about the harbour, its berths, its pilots, its dues and its opening hours, to exercise a longer sequence."];

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(normA * normB);
}

describe.each(["mean", "last"] as const)("trained embedder GGUF, %s pooling", (pooling) => {
  it("loads in node-llama-cpp and embeds as our engine does (<= 1e-3 cosine difference)", async () => {
    const out = path.join(folder, `embedder-${pooling}.gguf`);
    const result = await trainEmbedder({ model: base, pairs, out, steps: 3, batch: 2, hardNegatives: 1, pooling, lr: 1e-3, threads: 1 });
    expect(result.steps).toBe(3);
    expect(readGguf(out).getNumber("llama.pooling_type")).toBe(pooling === "mean" ? 1 : 3);

    const ours = await EngineEmbedder.load({ modelPath: out, threads: 1 });
    const theirs = await LlamaCppEmbedder.load({ modelPath: out, threads: 1 });
    try {
      expect(ours.pooling).toBe(pooling);
      const engineVectors = await ours.embed(probes);
      const llamaVectors = await theirs.embed(probes);
      const differences = engineVectors.map((vector, index) => 1 - cosine(vector, llamaVectors[index]!));
      if (process.env.VERTICAL_DEBUG_EMBEDDER) console.log(pooling, differences.map((d) => d.toExponential(1)).join(" "));
      for (const difference of differences) expect(difference).toBeLessThanOrEqual(1e-3);
      // the probes are told apart: equal vectors everywhere would pass the check above trivially
      expect(cosine(engineVectors[0]!, engineVectors[2]!)).toBeLessThan(0.999);
    } finally {
      ours.dispose();
      await theirs.dispose();
    }
  });
});
