/**
 * One route's evaluation: the domain and general MCQ sets through the evaluation harness (the base
 * system is part of every spec, so forgetting is measured against it; its items are scored once and
 * reused), then the open-ended questions answered by the route's model, asked the route's way.
 * Everything lands in DIR/out/eval, the results folder the report reads; both harnesses resume.
 */
import fs from "node:fs";
import { readOpenQuestions } from "../eval/open/questions.js";
import { runOpenEval } from "../eval/open/runOpenEval.js";
import { runEvaluation } from "../eval/runEvaluation.js";
import { defineEvalSpec, type SystemSpec } from "../eval/spec.js";
import { createSystemBackend } from "../eval/systemBackend.js";
import type { Retriever } from "../llm/retriever.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { InterruptedError, ModelError } from "../shared/errors.js";
import { createLabBackend } from "./labBackend.js";
import { toolsBackend, withTools, type LabTools } from "./labTools.js";
import { DOMAIN_MCQ, DOMAIN_OPEN, GENERAL_MCQ } from "./labSteps.js";
import type { LabConfig } from "./labConfig.js";
import { routeChatModel } from "./routeChatModels.js";
import { ROUTES, type RouteDefinition, type RouteName } from "./routes.js";
import type { StepContext } from "./runSteps.js";

export interface EvaluateRouteOptions {
  config: LabConfig;
  route: RouteName;
  baseSystem: Record<string, unknown>;
  system: Record<string, unknown>;
  sets: Record<string, unknown>[];
  evalDir: string;
  retriever: () => Retriever;
  /** The tools route: its tools (loaded per use, disposed after it). */
  tools?: () => LabTools;
  context: StepContext;
}

export interface RouteScores {
  domainAccuracy: number | null;
  generalAccuracy: number | null;
  openRougeL: number | null;
  openCharF1: number | null;
}

/** Few-shot exemplars for open questions: the dev MCQ items as (question, correct option). */
export function exemplarsFrom(devFile: string, shots: number): { question: string; answer: string }[] {
  if (!fs.existsSync(devFile)) return [];
  const items = fs
    .readFileSync(devFile, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { question: string; choices?: string[]; answer: number | string });
  const pairs = items
    .filter((item) => Array.isArray(item.choices) && typeof item.answer === "number")
    .map((item) => ({ question: item.question, answer: item.choices![item.answer as number]! }));
  // `shots` per language: the wrapper keeps the exemplars in the question's language.
  const zh = pairs.filter((pair) => /\p{Script=Han}/u.test(pair.question)).slice(0, shots);
  const en = pairs.filter((pair) => !/\p{Script=Han}/u.test(pair.question)).slice(0, shots);
  return [...en, ...zh];
}

export async function evaluateRoute(options: EvaluateRouteOptions): Promise<RouteScores> {
  const { config, route, context } = options;
  const definition: RouteDefinition = ROUTES[route];
  const systems = route === "base" ? [options.baseSystem] : [options.baseSystem, options.system];
  const spec = defineEvalSpec({ name: config.name, systems, sets: options.sets, baseSystem: "base" });
  const [routeSpec] = spec.systems.filter((system) => system.name === route) as [SystemSpec];
  const totalItems = spec.sets.length;
  const summary = await runEvaluation(spec, {
    outDir: options.evalDir,
    createBackend: options.tools ? toolsBackend(createLabBackend, route, options.tools) : createLabBackend,
    signal: context.signal,
    resolveRetriever: async () => options.retriever(),
    // kNN few-shot routes pick their shots by BM25 over the dev split.
    shotRetriever: (passages) => new Bm25Retriever(passages),
    onProgress: (progress) => {
      if (progress.system !== route) return;
      const setIndex = spec.sets.findIndex((set) => set.name === progress.set);
      // MCQ is ~70% of a route's evaluation time, open-ended the rest.
      context.progress((0.7 * (setIndex + progress.done / Math.max(1, progress.total))) / totalItems, `${progress.set} ${progress.done}/${progress.total}`);
    },
  });
  if (context.signal?.aborted) throw new InterruptedError(`interrupted while evaluating ${route}; rerun to continue (scored items are kept)`);
  const failed = summary.results.filter((row) => (row.system === route || row.system === "base") && row.status === "failed");
  if (failed.length > 0)
    throw new ModelError(`route "${failed[0]!.system}" could not be evaluated on ${failed.map((row) => row.set).join(", ")}: ${failed[0]!.error}`, {
      where: `${config.file}: routes`,
      hint: "Scored items are kept. A prompt longer than the context (few-shot exemplars, retrieved passages) needs a larger model context or fewer shots / smaller retrieval.topK or chunkChars; fix lab.yaml and rerun.",
    });

  const accuracy = (set: string) => summary.results.find((row) => row.system === route && row.set === set)?.accuracy?.value ?? null;
  if (routeSpec.softPrompt) {
    // llama.cpp cannot take the soft prompt's input embeddings and the engine does not sample: MCQ only.
    context.log("open-ended questions skipped: a soft prompt is scored by the engine, which does not generate");
    return { domainAccuracy: accuracy(DOMAIN_MCQ), generalAccuracy: accuracy(GENERAL_MCQ), openRougeL: null, openCharF1: null };
  }

  // Open-ended questions.
  const questions = readOpenQuestions(config.data.open).slice(0, config.eval.openLimit ?? Infinity);
  // Generation always goes through node-llama-cpp (the engine scores, it does not sample).
  const backend = await createSystemBackend({ ...routeSpec, backend: "llama-cpp" });
  const tools = options.tools?.();
  let openResult: Awaited<ReturnType<typeof runOpenEval>>;
  try {
    if (!backend.chat) throw new Error(`backend ${backend.id} cannot generate text for the open-ended questions`);
    const model = routeChatModel(tools ? withTools(backend.chat, tools, `route "${route}"`) : backend.chat, {
      chat: routeSpec.chatTemplate === "auto",
      ...(definition.prompting === "few-shot" ? { exemplars: exemplarsFrom(config.data.domainMcqDev, config.fewShot.shots) } : {}),
      ...(definition.prompting === "retrieval" ? { retriever: options.retriever(), k: config.retrieval.topK } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
    });
    openResult = await runOpenEval({
      set: DOMAIN_OPEN,
      questions,
      systems: [{ name: route, model, ...(routeSpec.systemPrompt ? { systemPrompt: routeSpec.systemPrompt } : {}) }],
      outDir: options.evalDir,
      generate: { maxTokens: config.eval.maxTokens, temperature: 0 },
      // The answers file holds every route's answers, so `done` starts at what earlier routes wrote: count from there.
      onProgress: (() => {
        let first: number | undefined;
        return (done: number) => {
          first ??= done;
          const own = Math.min(questions.length, done - first + 1);
          context.progress(0.7 + (0.3 * own) / Math.max(1, questions.length), `${DOMAIN_OPEN} ${own}/${questions.length}`);
        };
      })(),
    });
  } finally {
    await tools?.dispose();
    await backend.dispose();
  }
  const open = openResult.systems.find((entry) => entry.system === route);
  const scores: RouteScores = {
    domainAccuracy: accuracy(DOMAIN_MCQ),
    generalAccuracy: accuracy(GENERAL_MCQ),
    openRougeL: open?.rougeL ?? null,
    openCharF1: open?.charF1 ?? null,
  };
  return scores;
}
