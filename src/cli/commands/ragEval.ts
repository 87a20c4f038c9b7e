import type { Command } from "commander";
import { commandGroup } from "./group.js";
import { RAG_GROUP_DESCRIPTION } from "./ragIndex.js";

interface RagEvalOptions {
  model?: string;
  embedder?: string;
  rerank: boolean;
  indexDir?: string;
  maxTokens: string;
  overlapTokens: string;
  top: string;
  rerankCandidates: string;
  bm25Weight: string;
  denseWeight: string;
}

export function register(program: Command): void {
  commandGroup(program, "rag", RAG_GROUP_DESCRIPTION)
    .command("eval")
    .description(
      "recall@k, MRR and nDCG@10 of bm25, dense, hybrid and hybrid+rerank on the folder's eval items (each names its source document)",
    )
    .argument("<folder>", "domain folder with docs/ and eval/*.jsonl (e.g. examples/harbor)")
    .option(
      "--model <gguf>",
      "base model: embeddings for `dense`, tokenizer for the chunk budget, LLM-as-reranker (defaults to <folder>/models/base.gguf)",
    )
    .option(
      "--embedder <gguf>",
      "another embedding GGUF (the trained embedder), measured as dense-trained and hybrid-trained",
    )
    .option("--no-rerank", "leave out hybrid+rerank")
    .option("--index-dir <dir>", "where the indexes are kept and updated (defaults to <folder>/out/rag)")
    .option("--max-tokens <n>", "largest chunk in tokens", "128")
    .option("--overlap-tokens <n>", "tokens repeated between neighbouring chunks", "16")
    .option("-k, --top <n>", "the k of recall@k", "5")
    .option("--rerank-candidates <n>", "hybrid candidates the reranker reorders", "20")
    .option("--bm25-weight <w>", "BM25's weight in reciprocal-rank fusion", "1")
    .option("--dense-weight <w>", "dense retrieval's weight in reciprocal-rank fusion", "1")
    .action(async (folder: string, options: RagEvalOptions) => {
      const path = await import("node:path");
      const fs = await import("node:fs");
      const { InputError } = await import("../../shared/errors.js");
      const { evaluateRetrievalSuite, formatRetrievalScores, readLabelledQueries, LlmReranker } =
        await import("../../rag/index.js");
      const { LlamaCppBackend } = await import("../../llm/llamaCpp.js");
      const { loadFingerprintedEmbedder, openTokenCounter } = await import("./ragModels.js");
      const { parsePositiveInteger } = await import("./ragOptions.js");
      const modelPath = options.model ?? path.join(folder, "models", "base.gguf");
      if (!fs.existsSync(modelPath))
        throw new InputError("base model not found", { where: modelPath, hint: "Pass --model <gguf>." });
      const labelled = readLabelledQueries(folder);
      process.stdout.write(
        `${labelled.queries.length} labelled queries from ${labelled.files.join(", ")} (${labelled.unlabelled} items without a source left out)\n`,
      );
      const counter = await openTokenCounter(modelPath);
      const embedders = [{ name: "dense", embedder: await loadFingerprintedEmbedder(modelPath) }];
      if (options.embedder)
        embedders.push({ name: "dense-trained", embedder: await loadFingerprintedEmbedder(options.embedder) });
      const scorer = options.rerank ? await LlamaCppBackend.load({ modelPath }) : undefined;
      try {
        await evaluateRetrievalSuite({
          documentsFolder: path.join(folder, "docs"),
          indexFolder: options.indexDir ?? path.join(folder, "out", "rag"),
          queries: labelled.queries,
          countTokens: counter.countTokens,
          tokenizerId: counter.id,
          maxTokens: parsePositiveInteger(options.maxTokens, "--max-tokens"),
          overlapTokens: Number(options.overlapTokens),
          embedders,
          ...(scorer
            ? {
                reranker: new LlmReranker(scorer),
                rerankCandidates: parsePositiveInteger(options.rerankCandidates, "--rerank-candidates"),
              }
            : {}),
          weights: { bm25: Number(options.bm25Weight), dense: Number(options.denseWeight) },
          k: parsePositiveInteger(options.top, "--top"),
          onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
          onScores: (scores) => process.stdout.write(`${formatRetrievalScores(scores)}\n`),
        });
      } finally {
        await counter.dispose();
        for (const { embedder } of embedders) await embedder.dispose?.();
        await scorer?.dispose();
      }
    });
}
