/**
 * `vertical prompt optimise` as a library call: a declared system, a dev split and a budget in; the
 * chosen prompt (prompt.txt), the system with it (system.yaml) and the search history (history.jsonl)
 * out. Every input is checked before any model is loaded or called.
 */
import path from "node:path";
import YAML from "yaml";
import type { ChatModel } from "../llm/types.js";
import { checkOptimiseOptions, optimisePrompt, type OptimisePromptResult } from "../prompt/optimisePrompt.js";
import type { PromptTemplate } from "../prompt/promptTemplate.js";
import type { CandidateRecord, ScoreRecord } from "../prompt/searchHistory.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { ConfigError } from "../shared/errors.js";
import { buildMcqPrompt, detectLanguage } from "./mcq/buildPrompt.js";
import { loadMcq } from "./mcq/loadMcq.js";
import { mcqDevScorer, type DevMetric } from "./mcq/scoreTemplateOnDev.js";
import { systemChatTemplate, systemPromptTemplate, type SystemSpec } from "./spec.js";
import { bootstrapMeanCi } from "./stats/bootstrap.js";
import { createSystemBackend, type CreateSystemBackend, type SystemBackend } from "./systemBackend.js";

export interface OptimiseSystemPromptOptions {
  system: SystemSpec;
  devFile: string;
  budget: number;
  outDir: string;
  seeds?: readonly string[];
  /** Defaults to loglik. */
  metric?: DevMetric;
  /** The system whose chat model rewrites; defaults to the optimised system itself. */
  rewriterSystem?: SystemSpec;
  /** Dev items on the first rung of successive halving; defaults to what reaches the whole split. */
  firstRungItems?: number;
  createBackend?: CreateSystemBackend;
  signal?: AbortSignal;
  onRecord?: (record: CandidateRecord | ScoreRecord) => void;
}

export interface OptimiseSystemPromptResult extends OptimisePromptResult {
  files: { prompt: string; system: string; history: string };
}

/** Log-probability scoring needs a scorer: refuse an endpoint without prompt logprobs before calling it. */
function checkScorable(system: SystemSpec): void {
  if (system.backend === "openai" && system.logprobs !== true)
    throw new ConfigError(
      `the optimiser scores candidates by log-likelihood, and system "${system.name}" declares logprobs: ${String(system.logprobs)}`,
      {
        where: `system "${system.name}": logprobs`,
        hint: "Use an endpoint that returns prompt logprobs (completions with echo; set logprobs: true), or a local GGUF system.",
      },
    );
}

/** The chosen prompt as text: its system prompt, instruction and answer cue, then one dev item rendered. */
function promptText(template: PromptTemplate, example: string): string {
  const fields = [
    template.systemPrompt !== undefined ? `system prompt: ${template.systemPrompt}` : "system prompt: (none)",
    `instruction: ${template.instruction ?? "(the benchmark's own)"}`,
    ...(template.answerCue ? [`answer cue: ${template.answerCue}`] : []),
  ];
  return `${fields.join("\n")}\n\n--- the first dev item as the model sees it ---\n${example}\n`;
}

export async function optimiseSystemPrompt(options: OptimiseSystemPromptOptions): Promise<OptimiseSystemPromptResult> {
  const { system } = options;
  const metric = options.metric ?? "loglik";
  const dev = loadMcq(options.devFile);
  checkOptimiseOptions({ budget: options.budget, devItems: dev.length });
  checkScorable(system);
  if (options.rewriterSystem?.backend === "engine")
    throw new ConfigError("the engine backend scores but does not generate, so it cannot rewrite prompts", {
      where: `system "${options.rewriterSystem.name}"`,
      hint: "Give a llama-cpp or openai system as the rewriter.",
    });
  const createBackend = options.createBackend ?? createSystemBackend;
  const backends: SystemBackend[] = [];
  try {
    const backend = await createBackend(system);
    backends.push(backend);
    if (!backend.scorer) throw new ConfigError(`backend ${backend.id} gives no log-probabilities`, { where: `system "${system.name}"` });
    let rewriter: ChatModel | undefined = backend.chat;
    if (options.rewriterSystem) {
      const rewriterBackend = await createBackend(options.rewriterSystem);
      backends.push(rewriterBackend);
      rewriter = rewriterBackend.chat;
    }
    const renderChatPrompt = systemChatTemplate(system) === "auto" ? backend.renderChatPrompt : undefined;
    const mode = system.scoring === "option" ? "option" : "letter";
    const historyFile = path.join(options.outDir, "history.jsonl");
    const start = systemPromptTemplate(system);
    const result = await optimisePrompt({
      start,
      ...(options.seeds ? { seeds: options.seeds } : {}),
      budget: options.budget,
      devItems: dev.length,
      scoreDev: mcqDevScorer({ items: dev, scorer: backend.scorer, metric, mode, language: "auto", ...(renderChatPrompt ? { renderChatPrompt } : {}) }),
      ...(rewriter ? { rewriter } : {}),
      interval: (scores) => bootstrapMeanCi(scores),
      historyFile,
      ...(options.firstRungItems ? { firstRungItems: options.firstRungItems } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onRecord ? { onRecord: options.onRecord } : {}),
    });
    const example = buildMcqPrompt({ item: dev[0]!, language: detectLanguage(dev[0]!), mode, template: result.best.template });
    const files = { prompt: path.join(options.outDir, "prompt.txt"), system: path.join(options.outDir, "system.yaml"), history: historyFile };
    writeFileAtomic(files.prompt, promptText(result.best.template, renderChatPrompt ? renderChatPrompt(example.messages) : example.rawText));
    const { prompt: _old, ...rest } = system;
    writeFileAtomic(files.system, YAML.stringify({ systems: [{ ...rest, name: `${system.name}-optimised`, prompt: result.best.template }] }));
    return { ...result, files };
  } finally {
    for (const backend of backends) await backend.dispose();
  }
}
