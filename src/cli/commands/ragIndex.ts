import type { Command } from "commander";
import { commandGroup } from "./group.js";

export const RAG_GROUP_DESCRIPTION =
  "Retrieval: a persistent index of a folder's documents, queries, retrieval metrics, a domain-trained embedder";

export function register(program: Command): void {
  commandGroup(program, "rag", RAG_GROUP_DESCRIPTION)
    .command("index")
    .description(
      "Index a folder (Markdown, HTML, PDF, DOCX, text) into one SQLite file; re-running touches only changed files",
    )
    .argument("<folder>", "folder of documents")
    .requiredOption("--index <file>", "index file (created if absent)")
    .option(
      "--embedder <gguf>",
      "GGUF embedding model (node-llama-cpp) for dense retrieval; without it the index is BM25 only",
    )
    .option(
      "--tokenizer <gguf>",
      "GGUF whose tokenizer measures the chunk budget (defaults to the embedder; without either, words)",
    )
    .option("--max-tokens <n>", "largest chunk in tokens", "128")
    .option("--overlap-tokens <n>", "tokens repeated between neighbouring chunks of a section", "16")
    .option("--rebuild", "delete the index first (after changing embedder or chunking)")
    .action(
      async (
        folder: string,
        options: {
          index: string;
          embedder?: string;
          tokenizer?: string;
          maxTokens: string;
          overlapTokens: string;
          rebuild?: boolean;
        },
      ) => {
        const fs = await import("node:fs");
        const { RagIndex, indexFolder } = await import("../../rag/index.js");
        const { loadFingerprintedEmbedder, openTokenCounter } = await import("./ragModels.js");
        const { parsePositiveInteger } = await import("./ragOptions.js");
        const maxTokens = parsePositiveInteger(options.maxTokens, "--max-tokens");
        const overlapTokens = Number(options.overlapTokens);
        if (options.rebuild)
          for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(`${options.index}${suffix}`, { force: true });
        const counter = await openTokenCounter(options.tokenizer ?? options.embedder);
        const embedder = options.embedder ? await loadFingerprintedEmbedder(options.embedder) : undefined;
        try {
          const chunking = `${counter.id},maxTokens=${maxTokens},overlapTokens=${overlapTokens}`;
          using index = RagIndex.open(options.index, {
            embedderId: embedder?.id ?? null,
            dimensions: embedder?.dimensions ?? 0,
            chunking,
          });
          const started = performance.now();
          const result = await indexFolder(index, folder, {
            countTokens: counter.countTokens,
            maxTokens,
            overlapTokens,
            ...(embedder ? { embedder } : {}),
            onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
          });
          const seconds = (performance.now() - started) / 1000;
          process.stdout.write(
            `added ${result.added.length}, updated ${result.updated.length}, removed ${result.removed.length}, unchanged ${result.unchanged.length}, skipped ${result.skipped.length}; ${result.chunks} chunks in ${options.index} (${seconds.toFixed(1)} s)\n`,
          );
        } finally {
          await counter.dispose();
          await embedder?.dispose?.();
        }
      },
    );
}
