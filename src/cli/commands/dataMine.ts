import type { Command } from "commander";
import { DATA_GROUP_DESCRIPTION } from "./dataIngest.js";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "data", DATA_GROUP_DESCRIPTION)
    .command("mine")
    .description("Mine reading-comprehension tasks (definitions, cause/effect, fill-in, titles) from domain documents for MIP")
    .requiredOption("--out <file>", "output JSONL (OpenAI messages; usable as an instructions source)")
    .option("--store <file>", "corpus store (SQLite)", "corpus.db")
    .option("--source <names...>", "sources to mine", ["domain"])
    .option("--eval <files...>", "evaluation sets: mined items overlapping them are dropped")
    .option("--per-kind <n>", "tasks of each kind per document", "3")
    .action(async (options: { out: string; store: string; source: string[]; eval?: string[]; perKind: string }) => {
      const { CorpusStore, Decontaminator, mineCorpus } = await import("../../data/index.js");
      using store = new CorpusStore(options.store);
      const decontaminator = options.eval ? Decontaminator.fromFiles(options.eval) : undefined;
      const report = await mineCorpus(store, options.out, { sources: options.source, perKind: Number(options.perKind), ...(decontaminator ? { decontaminator } : {}) });
      process.stdout.write(`${report.documents} documents -> ${report.tasks} tasks in ${options.out} (${report.contaminated} dropped as eval overlap, ${report.duplicates} duplicate questions)\n`);
      for (const [kind, count] of Object.entries(report.byKind)) process.stdout.write(`  ${kind}: ${count}\n`);
    });
}
