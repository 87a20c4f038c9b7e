import type { Command } from "commander";
import { commandGroup } from "./group.js";

interface PromptOptimiseOptions {
  system: string;
  name?: string;
  dev: string;
  budget: number;
  seed: string[];
  metric: "loglik" | "accuracy";
  rewriter?: string;
  firstRung?: number;
  out: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  commandGroup(program, "prompt", "Design prompts: optimise a system's instruction on a dev split")
    .command("optimise")
    .description("Search instructions (seeds + LLM rewrites) scored by gold-answer log-likelihood on a dev split, with successive halving; resumable")
    .requiredOption("--system <systems.yaml>", "systems file (docs/eval-results.md); the first system, or --name")
    .option("--name <system>", "which system of the file")
    .requiredOption("--dev <file>", "dev split (MCQ JSONL/CSV), never the test set")
    .requiredOption("--budget <n>", "candidate prompts to try, the starting one and seeds included", Number)
    .option("--seed <instruction>", "an instruction to try as it is (repeatable)", collect, [])
    .option("--metric <metric>", "loglik (mean gold-answer log-likelihood) or accuracy (option accuracy)", "loglik")
    .option("--rewriter <name>", "system of the same file whose chat model proposes rewrites (defaults to the system itself)")
    .option("--first-rung <items>", "dev items on the first successive-halving rung", Number)
    .requiredOption("--out <dir>", "folder for prompt.txt, system.yaml and history.jsonl (rerun with the same folder to resume)")
    .action(async (options: PromptOptimiseOptions) => {
      const { loadSystems } = await import("../../eval/spec.js");
      const { ConfigError } = await import("../../shared/errors.js");
      const { optimiseSystemPrompt } = await import("../../eval/optimiseSystemPrompt.js");
      if (options.metric !== "loglik" && options.metric !== "accuracy")
        throw new ConfigError(`unknown metric "${String(options.metric)}"`, { where: "--metric", hint: "Use loglik or accuracy." });
      const systems = loadSystems(options.system);
      const pick = (name: string | undefined) => {
        const found = name === undefined ? systems[0] : systems.find((system) => system.name === name);
        if (!found) throw new ConfigError(`no system "${name}" (${systems.map((system) => system.name).join(", ")})`, { where: options.system });
        return found;
      };
      const controller = new AbortController();
      const onInterrupt = () => controller.abort();
      process.once("SIGINT", onInterrupt);
      try {
        const result = await optimiseSystemPrompt({
          system: pick(options.name),
          devFile: options.dev,
          budget: options.budget,
          outDir: options.out,
          seeds: options.seed,
          metric: options.metric,
          ...(options.rewriter ? { rewriterSystem: pick(options.rewriter) } : {}),
          ...(options.firstRung ? { firstRungItems: options.firstRung } : {}),
          signal: controller.signal,
          onRecord: (record) => {
            if (record.type === "score")
              process.stderr.write(`${record.id} rung ${record.rung} (${record.items} items): ${record.mean.toFixed(4)} [${record.ci95.map((x) => x.toFixed(4)).join(", ")}]\n`);
            else process.stderr.write(`${record.id} ${record.source}${record.rejected ? ` (${record.rejected}, not scored)` : ""}: ${record.template.instruction ?? "(benchmark instruction)"}\n`);
          },
        });
        const format = (score: typeof result.startScore) => `${score.mean.toFixed(4)} [${score.ci95.map((x) => x.toFixed(4)).join(", ")}] on ${score.items} dev items`;
        process.stdout.write(
          `start  ${result.startScore.id}: ${format(result.startScore)}\n` +
            `chosen ${result.best.id}: ${format(result.bestScore)}\n` +
            `instruction: ${result.best.template.instruction ?? "(the benchmark's own)"}\n` +
            `cost: ${result.cost.rewriteCalls} rewrite calls (${result.cost.rewriteTokens} tokens), ${result.cost.scoringTokens} scoring tokens\n` +
            `wrote ${result.files.prompt}, ${result.files.system}, ${result.files.history}\n`,
        );
      } finally {
        process.off("SIGINT", onInterrupt);
      }
    });
}
