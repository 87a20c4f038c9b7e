import type { Command } from "commander";
import { commandGroup } from "./group.js";

interface BuildMcqFlags {
  docs: string[];
  out: string;
  perSubject?: number;
  llm?: string;
  llmSystem?: string;
  llmPerSubject?: number;
  seed: number;
  name?: string;
  lmEval?: string;
  opencompass?: string;
}

export function register(program: Command): void {
  commandGroup(program, "eval", "Evaluate systems: multiple choice, open-ended, human ratings, reports")
    .command("build-mcq")
    .description("Build a multiple-choice set from domain documents (rule-based, optionally model-written)")
    .requiredOption("--docs <paths...>", "document files or folders (.txt .md .html .pdf .docx .jsonl)")
    .requiredOption("--out <file>", "output JSONL (Vertical's MCQ format, loadable by `vertical eval run`)")
    .option("--per-subject <n>", "at most N items per subject (sub-folder, or file name without numbers)", Number)
    .option("--llm <systems.yaml>", "also let a model write items (a systems YAML as for `vertical eval run`)")
    .option("--llm-system <name>", "which system of --llm (default: the first)")
    .option("--llm-per-subject <n>", "passages per subject given to the model (default: --per-subject or 10)", Number)
    .option("--seed <n>", "seed for distractor choice, balancing and answer positions", Number, 0)
    .option("--name <name>", "set name for exports (default: the --out file's stem)")
    .option("--lm-eval <dir>", "also write an lm-evaluation-harness task (YAML + JSONL) here")
    .option("--opencompass <dir>", "also write OpenCompass CSVs (custom dataset + C-Eval-style per subject) here")
    .action(async (flags: BuildMcqFlags) => {
      const fs = await import("node:fs");
      const path = await import("node:path");
      const { ConfigError, InputError } = await import("../../shared/errors.js");
      const { collectDocumentFiles } = await import("../../eval/build/documentFiles.js");
      const { buildMcqFromDocuments } = await import("../../eval/build/buildMcq.js");
      const { writeMcqJsonl, exportLmEval, exportOpenCompass } = await import("../../eval/build/exportMcq.js");
      const { parseDocumentFile } = await import("../../data/parseDocumentFile.js");
      for (const [flag, value] of [
        ["--per-subject", flags.perSubject],
        ["--llm-per-subject", flags.llmPerSubject],
      ] as const)
        if (value !== undefined && (!Number.isInteger(value) || value < 1))
          throw new ConfigError(`${flag} must be a positive integer, got ${value}.`);

      const documents: Array<{ id: string; text: string; subject: string }> = [];
      for (const entry of collectDocumentFiles(flags.docs)) {
        let parsed;
        try {
          parsed = await parseDocumentFile(entry.file, fs.readFileSync(entry.file));
        } catch (error) {
          throw new InputError(`cannot read the document: ${(error as Error).message}`, {
            where: entry.file,
            cause: error,
          });
        }
        // One document per file keeps the plain id; files holding several (JSONL, CSV) get "#ordinal".
        for (const document of parsed.documents)
          documents.push({
            id: parsed.documents.length > 1 ? `${entry.id}#${document.ordinal}` : entry.id,
            text: document.text,
            subject: entry.subject,
          });
      }

      let generated;
      if (flags.llm) {
        const { loadSystems } = await import("../../eval/spec.js");
        const { createSystemBackend } = await import("../../eval/systemBackend.js");
        const { paragraphs, generateItemsWithModel } = await import("../../eval/build/generateWithModel.js");
        const { seededRandom } = await import("../../shared/seededRandom.js");
        const systems = loadSystems(flags.llm);
        const system = flags.llmSystem ? systems.find((s) => s.name === flags.llmSystem) : systems[0];
        if (!system)
          throw new ConfigError(
            `no system named "${flags.llmSystem}" in ${flags.llm} (have: ${systems.map((s) => s.name).join(", ")}).`,
          );
        const backend = await createSystemBackend(system);
        try {
          if (!backend.chat)
            throw new ConfigError("this system cannot generate text.", { where: `system "${system.name}"` });
          const random = seededRandom(flags.seed + 1);
          const perSubject = flags.llmPerSubject ?? flags.perSubject ?? 10;
          const bySubject = new Map<string, ReturnType<typeof paragraphs>>();
          for (const document of documents)
            bySubject.set(document.subject, [...(bySubject.get(document.subject) ?? []), ...paragraphs(document)]);
          const passages = [...bySubject.values()].flatMap((list) => {
            const shuffled = [...list].sort(() => random() - 0.5);
            return shuffled.slice(0, perSubject);
          });
          const result = await generateItemsWithModel(backend.chat, passages, {
            onProgress: (done, total) => process.stderr.write(`\rmodel items ${done}/${total}`),
          });
          process.stderr.write("\n");
          generated = result.items;
          process.stdout.write(
            `model: ${result.items.length} items kept, ${result.rejected.length} replies rejected\n`,
          );
        } finally {
          await backend.dispose();
        }
      }

      const name = flags.name ?? path.basename(flags.out).replace(/\.[^.]+$/, "");
      const report = buildMcqFromDocuments(documents, {
        seed: flags.seed,
        idPrefix: name,
        ...(flags.perSubject ? { perSubject: flags.perSubject } : {}),
        ...(generated ? { generated } : {}),
      });
      if (report.items.length === 0)
        throw new InputError("no items could be built from these documents.", {
          where: flags.docs.join(", "),
          hint: 'Rule-based items need statements such as "X is Y" / "X是Y" / "X为Y"; or add --llm to let a model write items.',
        });
      writeMcqJsonl(report.items, flags.out);
      process.stdout.write(
        `${report.items.length} items from ${documents.length} documents (${report.statements} statements, ${report.duplicates} duplicates removed, ${report.withoutDistractors} without enough distractors)\n`,
      );
      for (const [subject, count] of Object.entries(report.perSubject))
        process.stdout.write(
          `  ${subject}\t${count}${flags.perSubject && count < flags.perSubject ? `\t(fewer than ${flags.perSubject})` : ""}\n`,
        );
      process.stdout.write(`wrote ${flags.out}\n`);
      if (flags.lmEval) process.stdout.write(`wrote ${exportLmEval(report.items, flags.lmEval, name).yaml}\n`);
      if (flags.opencompass)
        process.stdout.write(`wrote ${exportOpenCompass(report.items, flags.opencompass, name).custom}\n`);
    });
}
