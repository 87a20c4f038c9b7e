/**
 * The prompt-opt route's search: `vertical prompt optimise` on the base system over the lab's dev split,
 * with the chat model (or, without one, the base through node-llama-cpp) proposing rewrites. The chosen
 * template is the step's output, which the route's system then uses; its cost is logged and kept.
 */
import { optimiseSystemPrompt } from "../eval/optimiseSystemPrompt.js";
import { systemSchema } from "../eval/spec.js";
import { createLabBackend } from "./labBackend.js";
import type { LabConfig } from "./labConfig.js";
import type { StepContext } from "./runSteps.js";

export interface SearchLabPromptOptions {
  config: LabConfig;
  /** The base route's system, as it is evaluated. */
  base: Record<string, unknown>;
  /** The lab's chat model path, when it has one. */
  chatModel: unknown;
  outDir: string;
  context: StepContext;
}

export async function searchLabPrompt(options: SearchLabPromptOptions) {
  const { config, context } = options;
  const system = systemSchema.parse(options.base);
  // The engine scores but does not generate: rewrites come through node-llama-cpp.
  const rewriterModel = typeof options.chatModel === "string" ? options.chatModel : system.model;
  const rewriterSystem = systemSchema.parse({ name: "rewriter", backend: "llama-cpp", model: rewriterModel, ...(system.threads ? { threads: system.threads } : {}) });
  let done = 0;
  const result = await optimiseSystemPrompt({
    system,
    devFile: config.data.domainMcqDev,
    budget: config.promptOpt.budget,
    outDir: options.outDir,
    rewriterSystem,
    createBackend: createLabBackend,
    ...(context.signal ? { signal: context.signal } : {}),
    onRecord: (record) => {
      if (record.type === "score") context.progress(Math.min(1, ++done / (2 * config.promptOpt.budget)), `${record.id} rung ${record.rung}: ${record.mean.toFixed(3)}`);
    },
  });
  context.log(
    `chose ${result.best.id} (dev ${result.bestScore.mean.toFixed(3)} vs start ${result.startScore.mean.toFixed(3)}); ` +
      `${result.cost.rewriteCalls} rewrite calls, ${result.cost.rewriteTokens} rewrite tokens, ${result.cost.scoringTokens} scoring tokens`,
  );
  return {
    template: result.best.template,
    chosen: result.best.id,
    devScore: result.bestScore.mean,
    startDevScore: result.startScore.mean,
    ...result.cost,
  };
}
