import type { Command } from "commander";
import { commandGroup } from "./group.js";
import { RAG_GROUP_DESCRIPTION } from "./ragIndex.js";

export function register(program: Command): void {
  commandGroup(program, "rag", RAG_GROUP_DESCRIPTION)
    .command("query")
    .description("The best passages of an index for a question, with source, heading trail and offsets")
    .argument("<index>", "index file of `vertical rag index`")
    .argument("<question>", "the question")
    .option("--retriever <name>", "bm25, dense or hybrid (dense and hybrid need --embedder)", "bm25")
    .option("--embedder <gguf>", "the GGUF the index was embedded with")
    .option("-k, --top <n>", "passages to print", "5")
    .option("--json", "print the passages as JSON")
    .action(
      async (
        indexFile: string,
        question: string,
        options: { retriever: string; embedder?: string; top: string; json?: boolean },
      ) => {
        const fs = await import("node:fs");
        const { ConfigError, InputError } = await import("../../shared/errors.js");
        const { RagIndex, IndexBm25Retriever, DenseRetriever, HybridRetriever } = await import("../../rag/index.js");
        const { loadFingerprintedEmbedder } = await import("./ragModels.js");
        const { parsePositiveInteger } = await import("./ragOptions.js");
        const k = parsePositiveInteger(options.top, "--top");
        if (!["bm25", "dense", "hybrid"].includes(options.retriever))
          throw new ConfigError(`unknown retriever "${options.retriever}"; use bm25, dense or hybrid`, {
            where: "--retriever",
          });
        if (!fs.existsSync(indexFile))
          throw new InputError("index not found", {
            where: indexFile,
            hint: "Build it with `vertical rag index <folder> --index <file>`.",
          });
        const identity = RagIndex.readIdentity(indexFile);
        if (options.retriever !== "bm25" && !options.embedder)
          throw new ConfigError(
            `--retriever ${options.retriever} needs --embedder (the index was embedded by ${identity.embedderId ?? "nothing"})`,
            { where: "--embedder" },
          );
        const embedder = options.embedder ? await loadFingerprintedEmbedder(options.embedder) : undefined;
        try {
          using index = RagIndex.open(indexFile, {
            embedderId: embedder?.id ?? identity.embedderId,
            dimensions: embedder?.dimensions ?? identity.dimensions,
            chunking: identity.chunking,
          });
          const bm25 = new IndexBm25Retriever(index);
          const retriever =
            options.retriever === "bm25"
              ? bm25
              : options.retriever === "dense"
                ? new DenseRetriever(index, embedder!)
                : new HybridRetriever([
                    { retriever: bm25, weight: 1 },
                    { retriever: new DenseRetriever(index, embedder!), weight: 1 },
                  ]);
          const passages = await retriever.retrieve(question, k);
          if (options.json) process.stdout.write(`${JSON.stringify(passages, null, 2)}\n`);
          else
            for (const [position, passage] of passages.entries()) {
              const located = passage as { sourcePath?: string; headings?: string[]; start?: number; end?: number };
              const where = located.sourcePath
                ? `${located.sourcePath}:${located.start}-${located.end}`
                : passage.source;
              const trail = located.headings?.length ? ` ${located.headings.join(" > ")}` : "";
              process.stdout.write(
                `[${position + 1}] ${passage.score.toFixed(4)} ${where}${trail}\n    ${passage.text.replaceAll("\n", "\n    ")}\n`,
              );
            }
        } finally {
          await embedder?.dispose?.();
        }
      },
    );
}
