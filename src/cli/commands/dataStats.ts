import type { Command } from "commander";
import { DATA_GROUP_DESCRIPTION } from "./dataIngest.js";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "data", DATA_GROUP_DESCRIPTION)
    .command("stats")
    .description("What was ingested, rejected (by reason), deduplicated, decontaminated, and the final mix: a table, and JSON")
    .option("--store <file>", "corpus store (SQLite)", "corpus.db")
    .option("--build <dirs...>", "dataset directories whose mix to include")
    .option("--json <file>", "also write the statistics as JSON to this file")
    .action(async (options: { store: string; build?: string[]; json?: string }) => {
      const { CorpusStore, corpusStats, statsRows } = await import("../../data/index.js");
      const { default: Table } = await import("cli-table3");
      const { writeFileAtomic } = await import("../../shared/atomicWrite.js");
      using store = new CorpusStore(options.store);
      const stats = corpusStats(store, options.build ?? []);
      const table = new Table({ head: ["what", "count"] });
      for (const row of statsRows(stats)) table.push(row);
      process.stdout.write(`${table.toString()}\n`);
      if (options.json) {
        writeFileAtomic(options.json, `${JSON.stringify(stats, null, 2)}\n`);
        process.stdout.write(`wrote ${options.json}\n`);
      }
    });
}
