import type { Command } from "commander";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "eval", "Evaluate systems: multiple choice, open-ended, human ratings, reports")
    .command("report")
    .description("One self-contained report.html (inline SVG) and report.md from results folders")
    .argument("<results...>", "results folders of `vertical eval run` (later folders override the same system and set)")
    .requiredOption("--out <dir>", "folder for report.html and report.md")
    .option("--title <text>", "report title (defaults to the eval name)")
    .option("--ratings <db>", "human-ratings database (vertical eval ratings) to include")
    .action(async (results: string[], options: { out: string; title?: string; ratings?: string }) => {
      const { writeReport } = await import("../../eval/report/writeReport.js");
      let humanRatings;
      if (options.ratings) {
        const fs = await import("node:fs");
        const { InputError } = await import("../../shared/errors.js");
        if (!fs.existsSync(options.ratings))
          throw new InputError("ratings database not found.", { where: options.ratings });
        const { RatingsStore } = await import("../../eval/ratings/ratingsStore.js");
        const { raterAgreement } = await import("../../eval/ratings/agreement.js");
        using store = RatingsStore.open(options.ratings);
        humanRatings = { outcomes: store.pairwiseOutcomes(), agreement: raterAgreement(store.ratings()) };
      }
      const { formatPercent, formatPoints } = await import("../../eval/report/format.js");
      const { htmlPath, markdownPath, model } = writeReport(results, {
        outDir: options.out,
        ...(options.title ? { title: options.title } : {}),
        ...(humanRatings ? { humanRatings } : {}),
      });
      for (const cell of model.cells)
        if (cell.accuracy)
          process.stdout.write(
            `${cell.system}\t${cell.set}\t${formatPercent(cell.accuracy.value)}${cell.delta ? `\t${formatPoints(cell.delta.value)}` : ""}\n`,
          );
      process.stdout.write(`wrote ${htmlPath}\nwrote ${markdownPath}\n`);
    });
}
