import type { Command } from "commander";
import { ConfigError } from "../../shared/errors.js";
import { DATA_GROUP_DESCRIPTION } from "./dataIngest.js";
import { commandGroup } from "./group.js";

interface MineFlags {
  out: string;
  store: string;
  source: string[];
  eval?: string[];
  perKind: string;
  llmGguf?: string;
  llmModel?: string;
  llmBaseUrl?: string;
  llmDocuments: string;
  paraphrases?: string;
}

export function register(program: Command): void {
  commandGroup(program, "data", DATA_GROUP_DESCRIPTION)
    .command("mine")
    .description("Mine reading-comprehension tasks (definitions, cause/effect, fill-in, titles) from domain documents for MIP; optionally augment with an LLM")
    .requiredOption("--out <file>", "output JSONL (OpenAI messages; usable as an instructions source)")
    .option("--store <file>", "corpus store (SQLite)", "corpus.db")
    .option("--source <names...>", "sources to mine", ["domain"])
    .option("--eval <files...>", "evaluation sets: generated items overlapping them are dropped")
    .option("--per-kind <n>", "tasks of each kind per document", "3")
    .option("--llm-gguf <model.gguf>", "knowledge augmentation with a local GGUF chat model (Q&A pairs and paraphrases)")
    .option("--llm-model <name>", "knowledge augmentation with an OpenAI-compatible endpoint (OPENAI_BASE_URL or --llm-base-url)")
    .option("--llm-base-url <url>", "base URL of the OpenAI-compatible endpoint")
    .option("--llm-documents <n>", "augment at most this many documents", "100")
    .option("--paraphrases <file>", "where to write LLM paraphrases as {text} JSONL (a text source); default <out>.paraphrases.jsonl")
    .action(async (flags: MineFlags) => {
      const { CorpusStore, Decontaminator, mineCorpus, augmentWithLlm, ACTIVE_STATUSES } = await import("../../data/index.js");
      const perKind = Number(flags.perKind);
      if (!Number.isInteger(perKind) || perKind < 0) throw new ConfigError(`--per-kind must be a non-negative integer, got ${flags.perKind}`, { where: "--per-kind" });
      if (flags.llmGguf && flags.llmModel) throw new ConfigError("give --llm-gguf or --llm-model, not both", { where: "--llm-gguf" });
      using store = new CorpusStore(flags.store);
      const decontaminator = flags.eval ? Decontaminator.fromFiles(flags.eval) : undefined;
      let extraTasks: Awaited<ReturnType<typeof augmentWithLlm>>["tasks"] = [];
      if (flags.llmGguf || flags.llmModel) {
        const model: import("../../llm/types.js").ChatModel = flags.llmGguf
          ? await (await import("../../llm/llamaCpp.js")).LlamaCppBackend.load({ modelPath: flags.llmGguf })
          : new (await import("../../llm/openaiCompatible.js")).OpenAICompatibleBackend({ model: flags.llmModel!, ...(flags.llmBaseUrl ? { baseUrl: flags.llmBaseUrl } : {}) });
        try {
          const limit = Number(flags.llmDocuments);
          const documents: { id: number; text: string }[] = [];
          for (const doc of store.documents({ statuses: ACTIVE_STATUSES, sources: flags.source })) {
            if (documents.length >= limit) break;
            documents.push({ id: doc.id, text: doc.cleanText ?? doc.text });
          }
          const augmented = await augmentWithLlm(documents, model, decontaminator ? { decontaminator } : {});
          extraTasks = augmented.tasks;
          const { writeFileAtomic } = await import("../../shared/atomicWrite.js");
          const paraphraseFile = flags.paraphrases ?? `${flags.out.replace(/\.jsonl$/, "")}.paraphrases.jsonl`;
          writeFileAtomic(paraphraseFile, augmented.paraphrases.map((p) => `${JSON.stringify({ text: p.text, document: p.documentId })}\n`).join(""));
          process.stdout.write(
            `LLM ${model.id}: ${augmented.tasks.length} Q&A, ${augmented.paraphrases.length} paraphrases (${paraphraseFile}), ${augmented.contaminated} dropped as eval overlap, ${augmented.failures.length} unparsable answers\n`,
          );
        } finally {
          await model.dispose?.();
        }
      }
      const report = await mineCorpus(store, flags.out, { sources: flags.source, perKind, extraTasks, ...(decontaminator ? { decontaminator } : {}) });
      process.stdout.write(`${report.documents} documents -> ${report.tasks} tasks in ${flags.out} (${report.contaminated} dropped as eval overlap, ${report.duplicates} duplicate questions)\n`);
      for (const [kind, count] of Object.entries(report.byKind)) process.stdout.write(`  ${kind}: ${count}\n`);
    });
}
