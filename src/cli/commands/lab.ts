import type { Command } from "commander";
import { ConfigError, InterruptedError } from "../../shared/errors.js";

interface LabFlags {
  out?: string;
  check?: boolean;
  export?: string;
  hfBase?: string;
  hfChat?: string;
  importRuns?: string;
}

async function exportJobs(dir: string, target: string | undefined, flags: LabFlags): Promise<void> {
  if (flags.export !== "llamafactory") throw new ConfigError(`unknown export format "${flags.export}"; expected llamafactory`, { where: "--export" });
  if (!target) throw new ConfigError("--export llamafactory needs the folder to write", { where: "--export", hint: "vertical lab DIR --export llamafactory OUT/" });
  const { exportLlamaFactory } = await import("../../lab/llamaFactory/exportLlamaFactory.js");
  const { printProgress } = await import("../../lab/runSteps.js");
  const manifest = await exportLlamaFactory(dir, target, {
    ...(flags.out ? { labOutDir: flags.out } : {}),
    ...(flags.hfBase ? { baseModel: flags.hfBase } : {}),
    ...(flags.hfChat ? { chatModel: flags.hfChat } : {}),
    onProgress: printProgress((text) => process.stderr.write(text)),
  });
  for (const stage of manifest.stages) process.stdout.write(`${target}/${stage.job}  ${stage.method} ${stage.stage}, ${stage.plannedSteps} steps${stage.startsFrom ? `, after ${stage.startsFrom}` : ""}\n`);
  process.stdout.write(`run: ${target}/train.sh   then: vertical lab ${dir} --import-runs ${target}\n`);
}

async function importRuns(dir: string, from: string, flags: LabFlags): Promise<void> {
  const { importLlamaFactoryRuns } = await import("../../lab/llamaFactory/importRuns.js");
  const imported = await importLlamaFactoryRuns(dir, from, { ...(flags.out ? { labOutDir: flags.out } : {}) });
  for (const stage of imported) process.stdout.write(`${stage.stage}: ${stage.weights} (${stage.steps} steps, from ${stage.from})\n`);
  process.stdout.write(`next: vertical lab ${dir} evaluates them (trained stages not imported are trained by the lab)\n`);
}

/**
 * `vertical lab DIR` runs every route of DIR/lab.yaml and prints the comparison; `lab init DIR` scaffolds a
 * domain folder; `lab schema` prints lab.yaml's JSON schema; `lab routes` lists the routes.
 */
export function register(program: Command): void {
  const lab = program
    .command("lab")
    .description("Compare every route (prompting, retrieval, CPT, SFT, MIP) on one domain folder and write report.html")
    .argument("[dir]", "domain folder with a lab.yaml")
    .option("--out <dir>", "where state, models, results and the report go (default: DIR/out)")
    .option("--check", "validate lab.yaml, the models and every data file, print the plan, and train nothing")
    .option("--export <format>", "write the white-box stages as jobs for another trainer (llamafactory) into the folder given as the next argument")
    .option("--hf-base <model>", "with --export: the base model in Hugging Face form (folder or hub id; default models/base in the export)")
    .option("--hf-chat <model>", "with --export: the chat model in Hugging Face form (default models/chat in the export)")
    .option("--import-runs <dir>", "bring the trained adapters of an exported job folder back as the lab's trained stages")
    .argument("[target]", "with --export: the folder to write")
    .action(async (dir: string | undefined, target: string | undefined, flags: LabFlags) => {
      if (!dir) throw new ConfigError("no domain folder given", { hint: "vertical lab examples/harbor, or `vertical lab init DIR` to start one" });
      if (flags.export !== undefined) return exportJobs(dir, target, flags);
      if (flags.importRuns !== undefined) return importRuns(dir, flags.importRuns, flags);
      if (flags.check) {
        const path = await import("node:path");
        const { checkLab, formatLabCheck } = await import("../../lab/checkLab.js");
        const check = checkLab(dir, { outDir: path.resolve(flags.out ?? path.join(dir, "out")) });
        process.stdout.write(`${formatLabCheck(check)}\n`);
        return;
      }
      const { runLab, formatComparisonTable } = await import("../../lab/runLab.js");
      const controller = new AbortController();
      // First Ctrl-C: stop after the step in flight saves what it can; a second one exits at once.
      const onSignal = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write("\nstopping: finishing what is in flight (Ctrl-C again to quit now); rerun the same command to continue\n");
        controller.abort();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        const run = await runLab(dir, { ...(flags.out ? { outDir: flags.out } : {}), signal: controller.signal });
        process.stdout.write(`\n${formatComparisonTable(run.rows, run.power)}\n`);
        process.stdout.write(`\nWhat this lab says:\n${[...run.advice.rules.map((finding) => finding.sentence), ...run.advice.closing].map((line) => `  ${line}`).join("\n")}\n`);
        const unhelpful = run.rows.filter((row) => row.verdict === "no clear difference" || row.verdict === "worse than base").map((row) => row.route);
        if (unhelpful.length > 0) process.stdout.write(`Routes that did not beat the base on the domain set here: ${unhelpful.join(", ")}.\n`);
        process.stdout.write(`\nreport: ${run.reportHtml}\n        ${run.reportMarkdown}\n`);
      } catch (error) {
        if (controller.signal.aborted && !(error instanceof InterruptedError))
          throw new InterruptedError("interrupted; rerun the same command to continue from the last finished step", { cause: error });
        throw error;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });

  lab
    .command("init")
    .description("Scaffold a domain folder: a commented lab.yaml and the folders it names")
    .argument("<dir>", "folder to create or fill")
    .action(async (dir: string) => {
      const { initLab } = await import("../../lab/initLab.js");
      const written = initLab(dir);
      process.stdout.write(`wrote ${written.map((file) => `${dir}/${file}`).join("\n      ")}\nnext: put your documents in ${dir}/docs and a GGUF path in ${dir}/lab.yaml, then replace every example file ("Replace me") with your data and run: vertical lab ${dir} --check, then vertical lab ${dir}\n`);
    });

  lab
    .command("schema")
    .description("Print the JSON schema of lab.yaml")
    .action(async () => {
      const { labJsonSchema } = await import("../../lab/labConfig.js");
      process.stdout.write(JSON.stringify(labJsonSchema(), null, 2) + "\n");
    });

  lab
    .command("routes")
    .description("List the routes a lab can compare")
    .action(async () => {
      const { ROUTES } = await import("../../lab/routes.js");
      for (const [name, route] of Object.entries(ROUTES)) process.stdout.write(`${name.padEnd(14)} ${route.box}-box  ${route.description}\n`);
    });
}
