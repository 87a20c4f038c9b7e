import type { Command } from "commander";
import { commandGroup } from "./group.js";

export const DATA_GROUP_DESCRIPTION = "Ingest, clean, deduplicate, decontaminate, mine and build training data";

export function register(program: Command): void {
  commandGroup(program, "data", DATA_GROUP_DESCRIPTION)
    .command("ingest")
    .description("Ingest a folder of .txt .md .html .pdf .docx .jsonl .csv into the corpus store (unchanged files are skipped)")
    .argument("<folder>", "folder (or single file) to ingest")
    .option("--store <file>", "corpus store (SQLite)", "corpus.db")
    .option("--source <name>", "data source the documents belong to (domain, general, …)", "domain")
    .option("--text-field <field>", "JSONL field / CSV column holding the text (default: text, content or body)")
    .action(async (folder: string, options: { store: string; source: string; textField?: string }) => {
      const { CorpusStore, ingestFolder } = await import("../../data/index.js");
      using store = new CorpusStore(options.store);
      const report = await ingestFolder(store, folder, { source: options.source, ...(options.textField ? { textField: options.textField } : {}) });
      process.stdout.write(
        `${report.files} files: ${report.ingestedFiles} ingested, ${report.unchangedFiles} unchanged, ${report.failedFiles} failed; ${report.documents} documents into ${options.store} (source ${options.source})\n`,
      );
      for (const issue of report.issues) process.stdout.write(`  ${issue.path}${issue.line ? `:${issue.line}` : ""}: ${issue.reason}\n`);
    });
}
