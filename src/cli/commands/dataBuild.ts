import type { Command } from "commander";
import { ConfigError } from "../../shared/errors.js";
import { DATA_GROUP_DESCRIPTION } from "./dataIngest.js";
import { commandGroup } from "./group.js";

export function register(program: Command): void {
  commandGroup(program, "data", DATA_GROUP_DESCRIPTION)
    .command("build")
    .description("Build a cpt / mip / sft training set from a recipe: mix by token share, pack, write shards + manifest")
    .argument("<recipe>", "recipe YAML")
    .option("--tokenizer <path>", "the model's .gguf, tokenizer.json or its directory (overrides the recipe's tokenizer)")
    .option("--output <dir>", "output directory (overrides the recipe's output)")
    .action(async (recipeFile: string, options: { tokenizer?: string; output?: string }) => {
      const { loadRecipe, buildDataset } = await import("../../data/index.js");
      const { loadTokenizer } = await import("../../tokenizer/index.js");
      const recipe = loadRecipe(recipeFile);
      const tokenizerPath = options.tokenizer ?? recipe.tokenizer;
      if (!tokenizerPath) throw new ConfigError("no tokenizer: set `tokenizer:` in the recipe or pass --tokenizer", { where: recipeFile });
      const tokenizer = loadTokenizer(tokenizerPath);
      const { directory, manifest } = await buildDataset(recipe, { tokenizer, ...(options.output ? { outputDirectory: options.output } : {}) });
      process.stdout.write(
        `${manifest.objective}: ${manifest.totals.sequences} rows of ${manifest.seqLen} tokens in ${manifest.shards.length} shard(s) at ${directory}\n` +
          `${manifest.totals.tokens} tokens (${manifest.totals.targetTokens} trained, ${manifest.totals.paddingTokens} padding)\n`,
      );
      for (const source of manifest.sources) {
        const dropped = Object.entries(source.dropped).map(([reason, n]) => `${n} dropped: ${reason}`).join(", ");
        process.stdout.write(
          `  ${source.name}: ${source.tokens} tokens, share ${source.share.toFixed(4)} asked, ${source.achievedShare.toFixed(4)} achieved; ${source.documents} items${source.truncatedDocuments ? `, ${source.truncatedDocuments} cut` : ""}${source.epochs > 1 ? `, ${source.epochs} epochs` : ""}${dropped ? `; ${dropped}` : ""}\n`,
        );
      }
    });
}
