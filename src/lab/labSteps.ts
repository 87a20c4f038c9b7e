/**
 * The lab's steps for one domain folder, in order:
 *   model            the base model (a GGUF path, or built from the folder's text and cached)
 *   data             training files (domain text, general text, SFT chats decontaminated against every eval set)
 *   train:<stage>    each training stage the chosen routes need (cpt, cpt-general, sft, mip, cpt-sft)
 *   train:embedder   the retrieval-embedder route's embedder, trained on pairs mined from docs/ (trainLabEmbedder.ts)
 *   eval:<route>     domain MCQ, general MCQ and open-ended questions for each route (base first)
 *   retrieval:<kind> recall@k, MRR, nDCG@10 of each retriever the retrieval routes use (labRetrievalMetrics.ts)
 *   report           report.html + report.md and the comparison table
 * Each step's `inputs` hold everything its output depends on, so editing lab.yaml reruns exactly the
 * steps it affects (and the ones after them); everything else is reused from DIR/out.
 */
import fs from "node:fs";
import path from "node:path";
import { settings } from "../config.js";
import { readGguf } from "../engine/gguf/index.js";
import type { Retriever } from "../llm/retriever.js";
import type { ChatModel } from "../llm/types.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { InputError, InterruptedError } from "../shared/errors.js";
import type { LabConfig } from "./labConfig.js";
import { measuredRetrieverKinds, retrievalStepInputs, retrieverKindsOf } from "./labRetrievalSteps.js";
import { LabRetrievers } from "./labRetrievers.js";
import { loadLabTools, toolsStepInputs } from "./labTools.js";
import { ROUTES, STAGES, retrieverKindOf, routeUsesTools, type RetrieverKind, stageChain, stagesFor, type RouteDefinition, type RouteName, type StageName } from "./routes.js";
import { embedderStepInputs } from "./trainLabEmbedder.js";
import { labRetriever, labRouteModel, labRouteSystem, type RouteModel } from "./routeSystem.js";
import type { LabStep, StepContext } from "./runSteps.js";
import type { TrainStageOutputs as StageOutputs } from "./trainStage.js";

export const DOMAIN_MCQ = "domain-mcq";
export const GENERAL_MCQ = "general-mcq";
export const DOMAIN_OPEN = "domain-open";

export interface LabPaths {
  out: string;
  data: string;
  runs: string;
  models: string;
  eval: string;
}

export function labPaths(outDir: string): LabPaths {
  return {
    out: outDir,
    data: path.join(outDir, "data"),
    runs: path.join(outDir, "runs"),
    models: path.join(outDir, "models"),
    eval: path.join(outDir, "eval"),
  };
}

/** The model a later stage continues from: the merged base + adapter of a LoRA stage, else its model. */
const startingPoint = (outputs: StageOutputs) => outputs.merged ?? outputs.model;
const relative = (paths: LabPaths, file: string) => path.relative(paths.out, file);
const absolute = (paths: LabPaths, file: unknown) => path.resolve(paths.out, String(file));

/** Tokens per training sequence: lab.yaml's, else the model's context (a built model's, or the GGUF's), at most 512. */
export function sequenceLengthOf(config: LabConfig): number {
  if (config.training.sequenceLength !== undefined) return config.training.sequenceLength;
  const context = config.model.build?.context ?? (config.model.path ? contextOfGguf(config.model.path) : undefined);
  return Math.min(512, context ?? 512);
}

/**
 * Refuses, before any work, a training sequence longer than a model's context: the trainer would refuse it at
 * the first training stage (positions past the context were never trained), minutes into the run.
 */
export function refuseOverlongSequences(config: LabConfig): void {
  const sequence = sequenceLengthOf(config);
  const models: [string, string | undefined][] = [["base", config.model.path], ["chat", config.model.chat]];
  for (const [role, file] of models) {
    const context = file ? contextOfGguf(file) : config.model.build && role === "base" ? config.model.build.context : undefined;
    if (context !== undefined && sequence > context)
      throw new InputError(`training.sequenceLength: ${sequence} tokens per sequence, but the ${role} model's context is ${context}`, {
        where: `${config.file}: training.sequenceLength`,
        hint: `Set training.sequenceLength to at most ${context}.`,
      });
  }
}

function contextOfGguf(file: string): number | undefined {
  try {
    const gguf = readGguf(file);
    const architecture = gguf.getString("general.architecture");
    return architecture ? gguf.getNumber(`${architecture}.context_length`) : undefined;
  } catch {
    return undefined; // not a readable GGUF: the model step reports that with its own error
  }
}

/** Optimiser steps a stage trains for: its budget's steps, cut to the token budget, times its step share. */
export function plannedStepsOf(config: LabConfig, stage: StageName): number {
  const definition = STAGES[stage];
  const budget = config.budgets[definition.budget];
  const tokensPerStep = sequenceLengthOf(config) * config.training.sequences;
  const budgetSteps = budget.tokens !== undefined ? Math.min(budget.steps, Math.floor(budget.tokens / tokensPerStep)) : budget.steps;
  return Math.max(1, Math.round(budgetSteps * (definition.stepShare ?? 1)));
}

/** The lab's steps for `config`, writing into `outDir`. */
export function buildLabSteps(config: LabConfig, outDir: string): LabStep[] {
  const paths = labPaths(outDir);
  const threads = config.threads ?? settings().threads;
  const steps: LabStep[] = [];

  // ---- model ---------------------------------------------------------------------------------
  const recipe = config.model.build;
  const chatModel = config.model.chat;
  steps.push({
    name: "model",
    kind: "model",
    inputs: {
      ...(recipe ? { recipe, seed: config.seed, general: config.data.general, docs: config.data.docs } : { path: config.model.path, size: fs.statSync(config.model.path!).size }),
      ...(chatModel ? { chat: chatModel, chatSize: fs.statSync(chatModel).size } : {}),
    },
    // ~1.2 s per 2048-token step of a ~1M-parameter model on one core; a time budget caps it.
    estimateSeconds: recipe ? 30 + Math.min(recipe.pretrain.steps * 1.2, (recipe.pretrain.minutes ?? Infinity) * 60) : 1,
    async run(context) {
      const chat = chatModel ? { chatModelPath: chatModel } : {};
      if (!recipe) return { modelPath: config.model.path!, built: false, ...chat };
      const { buildBaseModel } = await import("./buildBaseModel.js");
      const built = await buildBaseModel({
        recipe,
        generalFolder: config.data.general,
        docsFolder: config.data.docs,
        seed: config.seed,
        threads,
        cacheDir: settings().cacheDir,
        signal: context.signal,
        progress: (fraction, detail) => context.progress(fraction, detail),
        log: (line) => context.log(line),
      });
      return { ...built, built: true, ...chat };
    },
  });

  // ---- data ----------------------------------------------------------------------------------
  steps.push({
    name: "data",
    kind: "data",
    // format 2: the small SFT set and the reasons for dropped conversations.
    inputs: { format: 2, data: config.data, generalPerDomain: config.training.generalPerDomain, seed: config.seed, systemPrompt: config.model.systemPrompt ?? null },
    after: ["model"],
    estimateSeconds: 10,
    async run(context) {
      const { prepareLabData } = await import("./prepareLabData.js");
      const modelPath = String(context.outputsOf("model").modelPath);
      return { ...(await prepareLabData(config, paths.data, modelPath, (line) => context.log(line))) };
    },
  });

  // ---- training stages -----------------------------------------------------------------------
  const stages = stagesFor(config.routes);
  for (const stage of stages) {
    const definition = STAGES[stage];
    const budget = config.budgets[definition.budget];
    const sequenceLength = sequenceLengthOf(config);
    const plannedSteps = plannedStepsOf(config, stage);
    steps.push({
      name: `train:${stage}`,
      kind: "train",
      inputs: { stage, definition, budget, plannedSteps, training: config.training, sequenceLength, seed: config.seed },
      after: ["model", "data", ...(definition.startsFrom ? [`train:${definition.startsFrom}`] : [])],
      estimateSeconds: Math.min(plannedSteps * 1.2, (budget.minutes ?? Infinity) * 60) + 5,
      async run(context) {
        const { trainStage } = await import("./trainStage.js");
        const startModel = definition.startsFrom
          ? absolute(paths, startingPoint(context.outputsOf(`train:${definition.startsFrom}`) as unknown as StageOutputs))
          : definition.model === "chat"
            ? String(context.outputsOf("model").chatModelPath)
            : String(context.outputsOf("model").modelPath);
        const outputs = await trainStage({
          config,
          stage,
          startModel,
          dataOutputs: context.outputsOf("data"),
          dataDir: paths.data,
          runDirectory: path.join(paths.runs, stage),
          modelsDir: paths.models,
          plannedSteps,
          sequenceLength,
          threads,
          keepMerged: stages.some((other) => STAGES[other].startsFrom === stage),
          context,
        });
        return {
          ...outputs,
          model: relative(paths, outputs.model),
          ...(outputs.adapter ? { adapter: relative(paths, outputs.adapter) } : {}),
          ...(outputs.merged ? { merged: relative(paths, outputs.merged) } : {}),
          ...(outputs.softPrompt ? { softPrompt: relative(paths, outputs.softPrompt) } : {}),
        };
      },
    });
  }

  // ---- the trained embedder (the retrieval-embedder route) -------------------------------------
  const EMBEDDER_STEP = "train:embedder";
  if (retrieverKindsOf(config.routes).includes("embedder")) {
    const budget = config.budgets.embedder;
    steps.push({
      name: EMBEDDER_STEP,
      kind: "train",
      inputs: embedderStepInputs(config),
      after: ["model"],
      // measured: 40 steps of batch 8 on the example's 5.3M base took ~5 min on 2 shared cores.
      estimateSeconds: Math.min(budget.steps * 8, (budget.minutes ?? Infinity) * 60) + 10,
      async run(context) {
        const { trainLabEmbedder } = await import("./trainLabEmbedder.js");
        return { ...(await trainLabEmbedder({ config, modelPath: String(context.outputsOf("model").modelPath), outDir: paths.out, threads, context })) };
      },
    });
  }
  /** Steps a retriever of `kind` reads besides the model: the trained embedder's for the embedder kind. */
  const retrieverSteps = (kind: RetrieverKind) => (kind === "embedder" ? [EMBEDDER_STEP] : []);

  // ---- evaluation, one step per route ----------------------------------------------------------
  // BM25 loads nothing and is shared; the model-backed retrievers share one embedder and one set of passage
  // vectors across the steps of this run (embedding the chunks is the slow part), freed by the report step.
  let sharedBm25: Retriever | undefined;
  let modelRetrievers: LabRetrievers | undefined;
  const retrieverOf = (kind: RetrieverKind, context: StepContext): Retriever =>
    kind === "bm25"
      ? (sharedBm25 ??= labRetriever(config))
      : (modelRetrievers ??= new LabRetrievers(config, String(context.outputsOf("model").modelPath), () => absolute(paths, context.outputsOf(EMBEDDER_STEP).embedder))).of(kind);
  const openRetriever = (route: RouteName, context: StepContext): Retriever => retrieverOf(retrieverKindOf(route), context);
  const routeModel = (route: RouteName, context: StepContext): RouteModel => labRouteModel(route, paths, (step) => context.outputsOf(step));
  const systemFor = (route: RouteName, model: RouteModel) => labRouteSystem(config, route, model, threads);
  const mcqSets = () => [
    { name: DOMAIN_MCQ, kind: "mcq" as const, path: config.data.domainMcq, ...(config.routes.some((route) => ROUTES[route].prompting === "few-shot") ? { dev: config.data.domainMcqDev } : {}), general: false, ...(config.eval.limit ? { limit: config.eval.limit } : {}) },
    { name: GENERAL_MCQ, kind: "mcq" as const, path: config.data.generalMcq, general: true, ...(config.eval.limit ? { limit: config.eval.limit } : {}) },
  ];
  // ---- prompt search (the prompt-opt route) ---------------------------------------------------
  if (config.routes.some((route) => (ROUTES[route] as RouteDefinition).prompt?.optimise)) {
    steps.push({
      name: "prompt:opt",
      kind: "train",
      inputs: { format: 1, budget: config.promptOpt.budget, dev: config.data.domainMcqDev, eval: config.eval, chat: config.model.chat ?? null },
      after: ["model"],
      estimateSeconds: config.promptOpt.budget * 10,
      async run(context) {
        const { searchLabPrompt } = await import("./searchLabPrompt.js");
        return { ...(await searchLabPrompt({ config, base: systemFor("base", routeModel("base", context)), chatModel: context.outputsOf("model").chatModelPath, outDir: path.join(paths.out, "prompt-opt"), context })) };
      },
    });
  }

  const evalSteps: string[] = [];
  for (const route of config.routes) {
    const definition: RouteDefinition = ROUTES[route];
    const name = `eval:${route}`;
    evalSteps.push(name);
    steps.push({
      name,
      kind: "eval",
      inputs: {
        route,
        definition,
        eval: config.eval,
        retrieval: definition.prompting === "retrieval" ? retrievalStepInputs(config, retrieverKindOf(route)) : null,
        fewShot: definition.prompting === "few-shot" ? config.fewShot : null,
        chatTemplate: config.model.chatTemplate,
        systemPrompt: config.model.systemPrompt ?? null,
        data: [config.data.domainMcq, config.data.generalMcq, config.data.open, config.data.domainMcqDev],
        // Only the tools route has the key, so adding it left every other route's key as it was.
        ...(definition.tools ? { tools: toolsStepInputs(config), retrieval: retrievalStepInputs(config, "bm25") } : {}),
      },
      after: [
        "model",
        ...(definition.stage ? stageChain(definition.stage).map((stage) => `train:${stage}`) : []),
        ...(definition.prompting === "retrieval" ? retrieverSteps(retrieverKindOf(route)) : []),
        ...(definition.prompt?.optimise ? ["prompt:opt"] : []),
        ...(route === "base" ? [] : ["eval:base"]),
      ],
      // measured: 5-20 s per route on the example (retrieval prompts are the longest). The tools route generates every
      // MCQ item through the loop instead of scoring it: a first guess of ~0.5 s per item, rescaled as the run goes.
      estimateSeconds: definition.tools ? 250 : 15,
      async run(context) {
        const { evaluateRoute } = await import("./evaluateRoute.js");
        const base = systemFor("base", routeModel("base", context));
        const system = systemFor(route, routeModel(route, context));
        return {
          ...(await evaluateRoute({
            config,
            route,
            baseSystem: base,
            system,
            sets: mcqSets(),
            evalDir: paths.eval,
            retriever: () => openRetriever(route, context),
            // search_docs searches the chunks the BM25 retrieval route reads.
            ...(routeUsesTools(route) ? { tools: () => loadLabTools(config, retrieverOf("bm25", context)) } : {}),
            context,
          })),
        };
      },
    });
  }

  // ---- retrieval metrics, one step per retriever kind the retrieval routes use -----------------
  const retrievalSteps: string[] = [];
  for (const kind of measuredRetrieverKinds(config.routes)) {
    const name = `retrieval:${kind}`;
    retrievalSteps.push(name);
    steps.push({
      name,
      kind: "eval",
      inputs: { format: 1, kind, retrieval: retrievalStepInputs(config, kind), data: [config.data.docs, config.data.domainMcq, config.data.open], limit: config.eval.limit ?? null, openLimit: config.eval.openLimit ?? null },
      after: ["model", ...retrieverSteps(kind)],
      estimateSeconds: kind === "rerank" ? 60 : 5,
      async run(context) {
        const { measureLabRetrieval } = await import("./labRetrievalMetrics.js");
        return { ...(await measureLabRetrieval(config, kind, retrieverOf(kind, context))) };
      },
    });
  }

  // ---- report --------------------------------------------------------------------------------
  steps.push({
    name: "report",
    kind: "report",
    inputs: { routes: config.routes, name: config.name },
    after: [...evalSteps, ...retrievalSteps],
    estimateSeconds: 5,
    async run(context) {
      const { writeLabReport } = await import("./writeLabReport.js");
      const systems = config.routes.map((route) => systemFor(route, routeModel(route, context)));
      try {
        return { ...(await writeLabReport({ config, systems, sets: mcqSets(), paths, context, retrieverOf: (kind) => retrieverOf(kind, context) })) };
      } finally {
        await modelRetrievers?.dispose();
      }
    },
  });
  return steps;
}

/** Throws InterruptedError when the user asked to stop. */
export function checkInterrupted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new InterruptedError(`interrupted during ${what}; rerun to continue`);
}

/** The lab's own small JSON files. */
export function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + "\n");
}

export type { ChatModel };
