import type { Command } from "commander";
import { DATA_GROUP_DESCRIPTION } from "./dataIngest.js";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "data", DATA_GROUP_DESCRIPTION)
    .command("clean")
    .description("Normalise, mask PII and apply quality rules to every newly ingested document")
    .option("--store <file>", "corpus store (SQLite)", "corpus.db")
    .option("--config <file>", "cleaning config YAML (pii, remove_boilerplate_lines, quality thresholds)")
    .option("--source <names...>", "only these sources")
    .action(async (options: { store: string; config?: string; source?: string[] }) => {
      const { CorpusStore, cleanCorpus, loadCleanConfig } = await import("../../data/index.js");
      const cleanOptions = options.config ? loadCleanConfig(options.config) : {};
      using store = new CorpusStore(options.store);
      const report = cleanCorpus(store, cleanOptions, options.source);
      process.stdout.write(`${report.examined} examined: ${report.kept} kept, ${report.rejected} rejected\n`);
      for (const [rule, count] of Object.entries(report.rejectedByRule)) process.stdout.write(`  rejected ${rule}: ${count}\n`);
      for (const [kind, count] of Object.entries(report.masked)) process.stdout.write(`  masked ${kind}: ${count}\n`);
    });
}
