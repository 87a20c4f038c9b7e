import type { Command } from "commander";
import { ConfigError } from "../../shared/errors.js";
import { DATA_GROUP_DESCRIPTION } from "./dataIngest.js";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "data", DATA_GROUP_DESCRIPTION)
    .command("decontaminate")
    .description("Drop (or flag) documents that share an n-gram with an evaluation set (MCQ or open-ended JSONL)")
    .requiredOption("--eval <files...>", "evaluation set JSONL files")
    .option("--store <file>", "corpus store (SQLite)", "corpus.db")
    .option("--ngram <n>", "n-gram length (words; characters for Chinese)", "13")
    .option("--flag-only", "record matches without removing documents")
    .option("--source <names...>", "only these sources")
    .action(async (options: { eval: string[]; store: string; ngram: string; flagOnly?: boolean; source?: string[] }) => {
      const ngram = Number(options.ngram);
      if (!Number.isInteger(ngram) || ngram < 1) throw new ConfigError(`--ngram must be a positive integer, got ${options.ngram}`, { where: "--ngram" });
      const { CorpusStore, decontaminateCorpus } = await import("../../data/index.js");
      using store = new CorpusStore(options.store);
      const report = decontaminateCorpus(store, options.eval, { ngram, action: options.flagOnly ? "flag" : "drop", ...(options.source ? { sources: options.source } : {}) });
      process.stdout.write(`${report.examined} examined: ${report.contaminated} ${report.action === "drop" ? "removed" : "flagged"} (${report.ngram}-grams)\n`);
      for (const match of report.matches) process.stdout.write(`  document ${match.docId} matches ${match.file}#${match.item}: "${match.ngram}"\n`);
    });
}
