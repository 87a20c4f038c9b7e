import type { Command } from "commander";
import { commandGroup } from "./group.js";

/** `vertical eval ratings …`: the human-ratings database (SQLite) from the command line. */
export function register(program: Command): void {
  const ratings = commandGroup(
    commandGroup(program, "eval", "Evaluate systems: multiple choice, open-ended, human ratings, reports"),
    "ratings",
    "Human ratings in SQLite: import, export, serve, agreement",
  );
  const open = async (db: string) => (await import("../../eval/ratings/ratingsStore.js")).RatingsStore.open(db);
  const readText = async (file: string) => {
    const fs = await import("node:fs");
    const { InputError } = await import("../../shared/errors.js");
    if (!fs.existsSync(file)) throw new InputError("file not found.", { where: file });
    return fs.readFileSync(file, "utf8");
  };

  ratings
    .command("import-items")
    .description(
      "Import items and answers from CSV (item_id, question, reference?, subject?, set?, answer:<system>...)",
    )
    .argument("<csv>", "items CSV")
    .requiredOption("--db <file>", "ratings database (created if missing)")
    .option("--base <system>", "compare every system with this one (default: every pair)")
    .action(async (csv: string, options: { db: string; base?: string }) => {
      using store = await open(options.db);
      const items = store.importItemsCsv(await readText(csv), csv);
      const pairs = store.createPairs(options.base ? { base: options.base } : {});
      process.stdout.write(`imported ${items} items, ${pairs} new pairs to rate\n`);
    });

  ratings
    .command("import-open")
    .description("Import the answers of an open-ended run (RESULTS/open/<set>/answers.jsonl) as items to rate")
    .argument("<questions>", "the question set JSONL the run used")
    .requiredOption("--results <dir>", "results folder")
    .requiredOption("--set <name>", "open-ended set name")
    .requiredOption("--db <file>", "ratings database (created if missing)")
    .option("--base <system>", "compare every system with this one (default: every pair)")
    .action(async (questionsFile: string, options: { results: string; set: string; db: string; base?: string }) => {
      const path = await import("node:path");
      const { readOpenQuestions } = await import("../../eval/open/questions.js");
      const { readItemRecords } = await import("../../eval/results.js");
      const questions = readOpenQuestions(questionsFile);
      const answers = readItemRecords<{ id: string; system: string; answer: string }>(
        path.join(options.results, "open", options.set, "answers.jsonl"),
      );
      using store = await open(options.db);
      store.addItems(
        questions.map((q) => ({
          id: q.id,
          question: q.question,
          set: options.set,
          ...(q.references[0] ? { reference: q.references[0] } : {}),
          ...(q.subject ? { subject: q.subject } : {}),
          answers: Object.fromEntries(answers.filter((a) => a.id === q.id).map((a) => [a.system, a.answer])),
        })),
      );
      const pairs = store.createPairs(options.base ? { base: options.base } : {});
      process.stdout.write(
        `imported ${questions.length} items (${answers.length} answers), ${pairs} new pairs to rate\n`,
      );
    });

  ratings
    .command("import")
    .description(
      "Import ratings from CSV (the export format); a bad row names file, line and column and nothing is written",
    )
    .argument("<csv>", "ratings CSV")
    .requiredOption("--db <file>", "ratings database")
    .action(async (csv: string, options: { db: string }) => {
      using store = await open(options.db);
      process.stdout.write(`imported ${store.importRatingsCsv(await readText(csv), csv)} ratings\n`);
    });

  ratings
    .command("export")
    .description("Export every rating as CSV or JSON Lines (to stdout, or --out)")
    .requiredOption("--db <file>", "ratings database")
    .option("--format <csv|jsonl>", "CSV (the format `import` reads) or one JSON rating per line", "csv")
    .option("--out <file>", "write here instead of stdout")
    .action(async (options: { db: string; format: string; out?: string }) => {
      if (options.format !== "csv" && options.format !== "jsonl") {
        const { ConfigError } = await import("../../shared/errors.js");
        throw new ConfigError(`expected "csv" or "jsonl", got "${options.format}"`, { where: "--format" });
      }
      using store = await open(options.db);
      const text = options.format === "csv" ? store.exportRatingsCsv() : store.exportRatingsJsonl();
      if (!options.out) return void process.stdout.write(text);
      const { writeFileAtomic } = await import("../../shared/atomicWrite.js");
      writeFileAtomic(options.out, text);
      process.stdout.write(`wrote ${options.out}\n`);
    });

  ratings
    .command("agreement")
    .description("Agreement between raters (kappa, weighted kappa, Spearman) and with the judge of an open-ended run")
    .requiredOption("--db <file>", "ratings database")
    .option("--results <dir>", "results folder with open/<set>.json and judgements, to compare the judge with people")
    .option("--set <name>", "open-ended set (with --results)")
    .action(async (options: { db: string; results?: string; set?: string }) => {
      const { raterAgreement, judgeHumanAgreement } = await import("../../eval/ratings/agreement.js");
      const { fitBradleyTerry } = await import("../../eval/stats/bradleyTerry.js");
      using store = await open(options.db);
      const all = store.ratings();
      for (const row of raterAgreement(all))
        process.stdout.write(
          `${row.raterA} vs ${row.raterB}\t${row.kind}${row.criterion ? ` (${row.criterion})` : ""}\tn=${row.n}\tkappa=${row.kappa.toFixed(3)}` +
            (row.weightedKappa !== undefined
              ? `\tweighted=${row.weightedKappa.toFixed(3)}\tspearman=${row.spearman!.toFixed(3)}`
              : "") +
            "\n",
        );
      const outcomes = store.pairwiseOutcomes();
      if (outcomes.length > 0) {
        const fit = fitBradleyTerry(outcomes);
        fit.systems.forEach((system, i) =>
          process.stdout.write(`people: ${system}\tBradley–Terry ${fit.ratings[i]!.toFixed(0)}\n`),
        );
      }
      if (options.results && options.set) {
        const { readJudgeVerdicts } = await import("../../eval/ratings/readJudgeVerdicts.js");
        const agreement = judgeHumanAgreement(all, readJudgeVerdicts(options.results, options.set) ?? {});
        if (agreement.preference)
          process.stdout.write(
            `judge vs people (preference)\tn=${agreement.preference.n}\tkappa=${agreement.preference.kappa.toFixed(3)}\taccuracy=${agreement.preference.accuracy.toFixed(3)}\n`,
          );
        if (agreement.score)
          process.stdout.write(
            `judge vs people (score)\tn=${agreement.score.n}\tspearman=${agreement.score.spearman.toFixed(3)}\n`,
          );
      }
    });

  ratings
    .command("serve")
    .description("Serve the ratings HTTP API (JSON) for the web console")
    .requiredOption("--db <file>", "ratings database")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <n>", "port (0 = any free port)", Number, 8787)
    .action(async (options: { db: string; host: string; port: number }) => {
      const { startRatingsServer } = await import("../../serve/ratingsApi.js");
      const store = await open(options.db);
      const server = await startRatingsServer(store, { host: options.host, port: options.port });
      process.stdout.write(`ratings API on ${server.url}/api/ratings (Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => process.once("SIGINT", resolve));
      await server.close();
      store.dispose();
    });
}
