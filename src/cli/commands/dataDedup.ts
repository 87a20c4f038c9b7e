import type { Command } from "commander";
import { ConfigError } from "../../shared/errors.js";
import { DATA_GROUP_DESCRIPTION } from "./dataIngest.js";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "data", DATA_GROUP_DESCRIPTION)
    .command("dedup")
    .description("Remove exact and near-duplicate documents (MinHash-LSH; char n-grams for Chinese, word n-grams otherwise)")
    .option("--store <file>", "corpus store (SQLite)", "corpus.db")
    .option("--threshold <jaccard>", "Jaccard similarity that counts as a near-duplicate", "0.8")
    .option("--ngram <n>", "units per shingle", "5")
    .option("--source <names...>", "only these sources")
    .action(async (options: { store: string; threshold: string; ngram: string; source?: string[] }) => {
      const threshold = Number(options.threshold);
      const ngram = Number(options.ngram);
      if (!(threshold > 0 && threshold <= 1)) throw new ConfigError(`--threshold must be in (0, 1], got ${options.threshold}`, { where: "--threshold" });
      if (!Number.isInteger(ngram) || ngram < 1) throw new ConfigError(`--ngram must be a positive integer, got ${options.ngram}`, { where: "--ngram" });
      const { CorpusStore, dedupCorpus } = await import("../../data/index.js");
      using store = new CorpusStore(options.store);
      const report = dedupCorpus(store, { threshold, ngram, ...(options.source ? { sources: options.source } : {}) });
      process.stdout.write(
        `${report.examined} examined: ${report.kept} kept, ${report.exactDuplicates} exact and ${report.nearDuplicates} near duplicates removed\nrule: ${report.rule}\n`,
      );
    });
}
