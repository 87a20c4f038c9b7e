/**
 * `vertical lab DIR --check`: everything the lab would refuse, found now, and the plan — which models,
 * how much data, which steps with how many training steps and items, and how long — without training or
 * evaluating anything. Also says where lab.yaml's settings do not suit the model they point at.
 */
import fs from "node:fs";
import { describeGguf, readGguf, type GgufSummary } from "../engine/gguf/index.js";
import { readOpenQuestions } from "../eval/open/questions.js";
import { loadMcq } from "../eval/mcq/loadMcq.js";
import { pairedItemsNeeded, pairedMinimumDetectableDifference } from "../eval/stats/power.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import { loadLabConfig, type LabConfig } from "./labConfig.js";
import { buildLabSteps, refuseOverlongSequences } from "./labSteps.js";
import { readConversations } from "./prepareLabData.js";
import { needsChatModel, routeUsesTools } from "./routes.js";
import { TOOLS_ROUTE_CONTEXT } from "./routeSystem.js";
import { formatDuration } from "./runSteps.js";

/** Parameters above which full training of every weight stops being the sensible default. */
const SMALL_MODEL_PARAMETERS = 50e6;
/** Discordant share assumed for planning before any route has run (measured ones are in the report). */
const PLANNING_DISCORDANT_SHARE = 0.3;

export interface LabCheck {
  config: LabConfig;
  models: { role: "base" | "chat"; path: string; parameters: number; context: number | null; chatTemplate: boolean }[];
  data: { documents: number; conversations: number; domainMcq: number; domainMcqDev: number; generalMcq: number; open: number };
  plan: { step: string; detail: string; estimateSeconds: number }[];
  warnings: string[];
}

function describeModel(role: "base" | "chat", file: string): LabCheck["models"][number] {
  const summary: GgufSummary = describeGguf(readGguf(file));
  const context = summary.hyperParameters.context_length;
  return { role, path: file, parameters: summary.parameters, context: typeof context === "number" ? context : null, chatTemplate: summary.chatTemplate.present };
}

function countData(config: LabConfig): LabCheck["data"] {
  const limit = (count: number) => Math.min(count, config.eval.limit ?? Infinity);
  const exists = (file: string) => fs.existsSync(file);
  return {
    documents: readTextDocuments(config.data.docs).length,
    conversations: exists(config.data.sft) ? readConversations(config.data.sft).length : 0,
    domainMcq: limit(loadMcq(config.data.domainMcq).length),
    domainMcqDev: exists(config.data.domainMcqDev) ? loadMcq(config.data.domainMcqDev).length : 0,
    generalMcq: limit(loadMcq(config.data.generalMcq).length),
    open: Math.min(readOpenQuestions(config.data.open).length, config.eval.openLimit ?? Infinity),
  };
}

function warningsFor(config: LabConfig, models: LabCheck["models"], data: LabCheck["data"]): string[] {
  const warnings: string[] = [];
  const file = config.file;
  for (const model of models) {
    const millions = (model.parameters / 1e6).toFixed(1);
    if (model.parameters < SMALL_MODEL_PARAMETERS && config.training.method === "lora")
      warnings.push(`${file}: training.method: the ${model.role} model has ${millions}M parameters; a model this small trains better with \`method: full\` and \`lr: 0.001\` (LoRA's defaults suit 0.1-8B models).`);
    if (model.parameters >= SMALL_MODEL_PARAMETERS && config.training.method === "full")
      warnings.push(`${file}: training.method: full training of a ${millions}M-parameter ${model.role} model needs optimiser state for every weight; \`method: lora\` is the usual choice at this size.`);
  }
  const chat = models.find((model) => model.role === "chat");
  if (chat && !chat.chatTemplate && config.routes.some(needsChatModel))
    warnings.push(`${file}: model.chat: ${chat.path} has no tokenizer.chat_template, so the chat routes are asked as plain text; use a GGUF that carries its template.`);
  if (typeof chat?.context === "number" && chat.context < TOOLS_ROUTE_CONTEXT && config.routes.some(routeUsesTools))
    warnings.push(
      `${file}: routes: the tools route offers tools.yaml's tools in node-llama-cpp's function-calling prompt (848 tokens for the harbor example's three, before the question), ` +
        `and model.chat was trained on ${chat.context} positions: the route runs with a ${TOOLS_ROUTE_CONTEXT}-token context, so the model reads positions it never saw in training. Measure it as such, or use a chat model with a longer context.`,
    );
  const mdd = pairedMinimumDetectableDifference(data.domainMcq, PLANNING_DISCORDANT_SHARE);
  if (mdd > 0.1)
    warnings.push(
      `${file}: eval: ${data.domainMcq} domain MCQ items resolve about ${(mdd * 100).toFixed(1)} points (paired test, alpha 0.05, power 0.8, ${PLANNING_DISCORDANT_SHARE * 100}% discordant items assumed); ` +
        `a 10-point difference needs about ${pairedItemsNeeded(0.1, PLANNING_DISCORDANT_SHARE)} items${config.eval.limit ? " (raise or remove eval.limit, or add items)" : " (add items)"}.`,
    );
  if (config.routes.includes("few-shot") && data.domainMcqDev < config.fewShot.shots)
    warnings.push(`${file}: fewShot.shots: ${config.fewShot.shots} shots, but ${config.data.domainMcqDev} has ${data.domainMcqDev} solved examples.`);
  return warnings;
}

function planOf(config: LabConfig, outDir: string, data: LabCheck["data"]): LabCheck["plan"] {
  return buildLabSteps(config, outDir).map((step) => {
    const inputs = step.inputs as { plannedSteps?: number; stage?: string; definition?: { startsFrom?: string; model?: string; data?: string }; route?: string };
    let detail = "";
    if (step.name === "train:embedder") detail = `${config.budgets.embedder.steps} embedder steps on pairs mined from docs/, from the base model`;
    else if (step.kind === "train") {
      const from = inputs.definition?.startsFrom ? `the ${inputs.definition.startsFrom} model` : inputs.definition?.model === "chat" ? "the chat model" : "the base model";
      detail = `${inputs.plannedSteps} steps on ${inputs.definition?.data} from ${from}`;
    } else if (step.kind === "eval") detail = `${data.domainMcq} domain + ${data.generalMcq} general MCQ items, ${data.open} open questions`;
    else if (step.kind === "model") detail = config.model.build ? "build the base model from the folder's text (cached)" : "use model.path";
    return { step: step.name, detail, estimateSeconds: step.estimateSeconds };
  });
}

export function checkLab(folder: string, options: { outDir: string }): LabCheck {
  const config = loadLabConfig(folder);
  refuseOverlongSequences(config);
  const models = [
    ...(config.model.path ? [describeModel("base", config.model.path)] : []),
    ...(config.model.chat ? [describeModel("chat", config.model.chat)] : []),
  ];
  const data = countData(config);
  return { config, models, data, plan: planOf(config, options.outDir, data), warnings: warningsFor(config, models, data) };
}

export function formatLabCheck(check: LabCheck): string {
  const lines = [`lab ${check.config.name}: ${check.config.file} is valid; routes: ${check.config.routes.join(", ")}`];
  for (const model of check.models)
    lines.push(`  ${model.role} model: ${model.path} (${(model.parameters / 1e6).toFixed(1)}M parameters, context ${model.context ?? "?"}, chat template ${model.chatTemplate ? "yes" : "no"})`);
  if (check.config.model.build) lines.push("  base model: built from the folder's text by model.build (cached after the first run)");
  const data = check.data;
  lines.push(
    `  data: ${data.documents} documents, ${data.conversations} SFT conversations, ${data.domainMcq} domain MCQ (${data.domainMcqDev} few-shot examples), ${data.generalMcq} general MCQ, ${data.open} open questions`,
    "plan (nothing is trained or evaluated by --check):",
  );
  for (const row of check.plan) lines.push(`  ${row.step.padEnd(24)} ${row.detail}${row.detail ? " · " : ""}~${formatDuration(row.estimateSeconds)}`);
  lines.push(`  total ~${formatDuration(check.plan.reduce((sum, row) => sum + row.estimateSeconds, 0))} (first estimates; the run rescales them as steps finish)`);
  if (check.warnings.length > 0) lines.push("warnings:", ...check.warnings.map((warning) => `  ${warning}`));
  return lines.join("\n");
}
