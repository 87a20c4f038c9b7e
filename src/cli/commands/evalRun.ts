import type { Command } from "commander";
import { commandGroup } from "./group.js";

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

export function register(program: Command): void {
  commandGroup(program, "eval", "Evaluate systems: multiple choice, open-ended, human ratings, reports")
    .command("run")
    .description(
      "Evaluate every system of an eval spec on every set; resumable (rerun the same command after an interruption)",
    )
    .argument("<eval.yaml>", "eval spec: systems, base system, sets (docs/eval-results.md)")
    .option("--out <dir>", "results folder (defaults to eval-results/<spec name>)")
    .action(async (specFile: string, options: { out?: string }) => {
      const path = await import("node:path");
      const { loadEvalSpec } = await import("../../eval/spec.js");
      const { runEvaluation } = await import("../../eval/runEvaluation.js");
      const { settings } = await import("../../config.js");
      const { BackendError } = await import("../../shared/errors.js");
      const spec = loadEvalSpec(specFile);
      const outDir = path.resolve(options.out ?? path.join("eval-results", spec.name));

      // Ctrl-C stops after the items in flight; they are saved and the next run resumes.
      const controller = new AbortController();
      const onInterrupt = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write("\nstopping after the items in flight (Ctrl-C again to quit at once)…\n");
        controller.abort();
      };
      process.on("SIGINT", onInterrupt);

      const { MultiBar, Presets } = await import("cli-progress");
      const bars = settings().progress
        ? new MultiBar(
            { format: " {label} |{bar}| {value}/{total} acc {accuracy}", hideCursor: true, clearOnComplete: false },
            Presets.shades_classic,
          )
        : undefined;
      const active = new Map<string, ReturnType<NonNullable<typeof bars>["create"]>>();
      try {
        const { Bm25Retriever } = await import("../../rag/bm25Retriever.js");
        const summary = await runEvaluation(spec, {
          outDir,
          shotRetriever: (passages) => new Bm25Retriever(passages),
          signal: controller.signal,
          onProgress: (progress) => {
            const label = `${progress.system} × ${progress.set}`;
            const accuracy = progress.done ? percent(progress.correct / progress.done) : "-";
            if (!bars) {
              if (progress.phase === "end")
                process.stderr.write(`${label}: ${progress.done}/${progress.total} scored, accuracy ${accuracy}\n`);
              return;
            }
            let bar = active.get(label);
            if (!bar) active.set(label, (bar = bars.create(progress.total, progress.done, { label, accuracy })));
            bar.update(progress.done, { accuracy });
          },
        });
        bars?.stop();
        const Table = (await import("cli-table3")).default;
        const table = new Table({
          head: ["system", "set", "scoring", "template", "n", "accuracy [95% CI]", "acc_norm", "status"],
          style: { head: [], border: [] }, // no colour codes: the table is also read from pipes and logs
        });
        for (const row of summary.results) {
          const interval = (estimate: typeof row.accuracy) =>
            estimate ? `${percent(estimate.value)} [${percent(estimate.ci95[0])}, ${percent(estimate.ci95[1])}]` : "-";
          table.push([
            row.system,
            row.set + (row.general ? " (general)" : ""),
            row.scoring,
            row.templateApplied ? "yes" : "no",
            `${row.n}/${row.total}`,
            interval(row.accuracy),
            row.accuracyNorm ? interval(row.accuracyNorm) : "-",
            row.status,
          ]);
        }
        process.stdout.write(table.toString() + "\n");
        for (const row of summary.forgetting)
          process.stdout.write(
            `forgetting: ${row.system} on ${row.set}: ${(row.delta * 100).toFixed(1)} points vs ${summary.baseSystem} [${(row.ci95[0] * 100).toFixed(1)}, ${(row.ci95[1] * 100).toFixed(1)}]\n`,
          );
        for (const system of summary.systems)
          for (const endpoint of system.endpoints ?? [])
            process.stdout.write(
              `endpoint ${system.name} ${endpoint.baseUrl}: ${endpoint.requests} requests, ${endpoint.failures} failures, ${endpoint.retries} retries (${endpoint.state})\n`,
            );
        process.stdout.write(`results: ${outDir}\n`);
        const failed = summary.results.filter((row) => row.status !== "complete");
        if (failed.length > 0)
          throw new BackendError(
            `${failed.length} system × set result(s) did not finish:\n${failed.map((row) => `  ${row.system} × ${row.set}: ${row.error ?? row.status}`).join("\n")}`,
            {
              where: outDir,
              hint: "Fix the cause and run the same command again: finished items are kept and not scored again.",
            },
          );
      } finally {
        bars?.stop();
        process.off("SIGINT", onInterrupt);
      }
    });
}
