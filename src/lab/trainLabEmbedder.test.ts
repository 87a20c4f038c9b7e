/**
 * The lab's train:embedder step on a filled lab with a dozen harbor documents and the harbor base model
 * (real training, two steps): the embedder GGUF appears only whole, a Ctrl-C leaves none, a time budget
 * cuts training but still yields an embedder, and the retrieval-embedder route's retriever reads it.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readGguf } from "../engine/gguf/index.js";
import { LlamaCppEmbedder } from "../llm/llamaCpp.js";
import { PassageDenseRetriever } from "../rag/passageDenseRetriever.js";
import { InterruptedError } from "../shared/errors.js";
import { loadLabConfig, type LabConfig } from "./labConfig.js";
import { measuredRetrieverKinds, retrievalStepInputs } from "./labRetrievalSteps.js";
import { labPassages, LabRetrievers } from "./labRetrievers.js";
import { isDefaultRoute, retrieverKindOf } from "./routes.js";
import type { StepContext } from "./runSteps.js";
import { embedderStepInputs, trainLabEmbedder } from "./trainLabEmbedder.js";
import { filledLab } from "./testing/filledLab.js";

const harbor = path.resolve("examples/harbor");
const modelPath = path.join(harbor, "models/base.gguf");
const folder = filledLab();
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
for (const name of fs.readdirSync(path.join(harbor, "docs")).sort().slice(0, 12)) fs.copyFileSync(path.join(harbor, "docs", name), path.join(folder, "docs", name));
fs.mkdirSync(path.join(folder, "models"), { recursive: true });
fs.symlinkSync(modelPath, path.join(folder, "models/base.gguf"));
const loaded = loadLabConfig(folder);
const config: LabConfig = { ...loaded, routes: ["base", "retrieval-embedder"], budgets: { ...loaded.budgets, embedder: { steps: 2, batch: 2 } } };

function stepContext(outDir: string, signal?: AbortSignal): StepContext & { lines: string[] } {
  const lines: string[] = [];
  return { outDir, signal, outputsOf: () => ({}), progress: () => {}, log: (line) => lines.push(line), lines };
}
const leftovers = (outDir: string) => fs.readdirSync(path.join(outDir, "models")).filter((name) => name !== "embedder.gguf");

describe("the lab's trained embedder", () => {
  it("is an opt-in retrieval route whose table row is set against dense with the base's embeddings", () => {
    expect(retrieverKindOf("retrieval-embedder")).toBe("embedder");
    expect(isDefaultRoute("retrieval-embedder")).toBe(false);
    expect(measuredRetrieverKinds(["base", "retrieval-embedder"])).toEqual(["embedder", "dense"]);
    expect(measuredRetrieverKinds(["base", "retrieval-dense", "retrieval-embedder"])).toEqual(["dense", "embedder"]);
    expect(retrievalStepInputs(config, "embedder")).toEqual({ topK: 3, chunkChars: 400, overlapSentences: 1, retriever: "embedder" });
    // The budget and the chunking are part of the step's key: editing them trains again.
    expect(embedderStepInputs(config)).toMatchObject({ budget: { steps: 2, batch: 2 }, chunking: { chunkChars: 400, overlapSentences: 1 } });
    expect(embedderStepInputs({ ...config, retrieval: { ...config.retrieval, chunkChars: 200 } })).not.toEqual(embedderStepInputs(config));
  });

  it("trains within budgets.embedder, writes the GGUF whole, and the embedder retriever searches with it", async () => {
    const outDir = path.join(folder, "out");
    const context = stepContext(outDir);
    const outputs = await trainLabEmbedder({ config, modelPath, outDir, threads: 1, context });
    expect(outputs).toMatchObject({ embedder: path.join("models", "embedder.gguf"), steps: 2, plannedSteps: 2, stoppedEarly: false });
    expect(outputs.pairs).toBeGreaterThan(2);
    expect(Number.isFinite(outputs.finalLoss)).toBe(true);
    expect(leftovers(outDir)).toEqual([]);
    const file = path.join(outDir, outputs.embedder);
    expect(readGguf(file).getNumber("llama.pooling_type")).toBe(1); // mean, which llama.cpp's embedding context applies
    expect(context.lines.some((line) => /training pairs/.test(line))).toBe(true);

    let asked = 0;
    const retrievers = new LabRetrievers(config, modelPath, () => (asked++, file));
    const direct = await LlamaCppEmbedder.load({ modelPath: file });
    try {
      const query = "Which terminal does the berth belong to?";
      const found = await retrievers.of("embedder").retrieve(query, 3);
      expect(asked).toBe(1);
      const expected = await new PassageDenseRetriever(labPassages(config), direct).retrieve(query, 3);
      expect(found.map((passage) => [passage.source, passage.text])).toEqual(expected.map((passage) => [passage.source, passage.text]));
      // Not the base model's ranking scores: the trained weights are in use.
      const base = await retrievers.of("dense").retrieve(query, 3);
      expect(found.map((passage) => passage.score)).not.toEqual(base.map((passage) => passage.score));
    } finally {
      await direct.dispose();
      await retrievers.dispose();
    }
  }, 120_000);

  it("leaves no embedder when interrupted, and one cut short by its time budget (recorded as stopped early)", async () => {
    const interruptedOut = path.join(folder, "out-interrupted");
    const controller = new AbortController();
    controller.abort();
    await expect(trainLabEmbedder({ config, modelPath, outDir: interruptedOut, threads: 1, context: stepContext(interruptedOut, controller.signal) })).rejects.toBeInstanceOf(InterruptedError);
    expect(fs.existsSync(path.join(interruptedOut, "models"))).toBe(true);
    expect(fs.readdirSync(path.join(interruptedOut, "models"))).toEqual([]);

    const cutOut = path.join(folder, "out-cut");
    const cut = { ...config, budgets: { ...config.budgets, embedder: { steps: 10_000, batch: 2, minutes: 0.001 } } };
    const context = stepContext(cutOut);
    const outputs = await trainLabEmbedder({ config: cut, modelPath, outDir: cutOut, threads: 1, context });
    expect(outputs.stoppedEarly).toBe(true);
    expect(outputs.steps).toBeLessThan(10_000);
    expect(fs.existsSync(path.join(cutOut, outputs.embedder))).toBe(true);
    expect(context.lines.some((line) => /stopped by its time budget/.test(line))).toBe(true);
  }, 120_000);
});
