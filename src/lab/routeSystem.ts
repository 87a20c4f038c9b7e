/**
 * What each route of a lab *is* as a system (src/eval/spec.ts): the model file and adapter its stages
 * produced, its chat template, system prompt, few-shot count and retrieval — the one definition the
 * lab's evaluation steps and `vertical serve --lab` both use, so a served route is the route that was
 * measured.
 */
import path from "node:path";
import type { Retriever } from "../llm/retriever.js";
import type { PromptTemplate } from "../prompt/promptTemplate.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { chunkDocuments } from "../rag/chunkDocuments.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import type { LabConfig } from "./labConfig.js";
import { evaluationThreads } from "./labBackend.js";
import type { LabPaths } from "./labSteps.js";
import { ROUTES, STAGES, type RouteDefinition, type RouteName, type StageName } from "./routes.js";
import type { TrainStageOutputs } from "./trainStage.js";

/** Model file (and adapter) a route is evaluated with. */
export interface RouteModel {
  model: string;
  adapters: { path: string; scale: number }[];
  /** A trained soft prompt; the route is then scored by the engine (llama.cpp takes no input embeddings). */
  softPrompt?: string;
  /** The prompt-opt route: the template the lab's prompt search chose. */
  prompt?: PromptTemplate;
  trainingTokens: number | null;
  trainingSeconds: number | null;
}

/**
 * Context of the tools route, in tokens. node-llama-cpp's function-calling prompt for the harbor tools is
 * 848 tokens before the question (measured with the harbor chat model's tokenizer), and each search_docs
 * result adds up to ~800 characters: a model trained on 512 positions (the harbor chat model) then reads
 * positions it never saw in training. The route runs and is measured anyway; `--check` warns.
 */
export const TOOLS_ROUTE_CONTEXT = 4096;

const absolute = (paths: LabPaths, file: unknown) => path.resolve(paths.out, String(file));

/** The BM25 retriever over the lab's documents that retrieval routes use. */
export function labRetriever(config: LabConfig): Retriever {
  return new Bm25Retriever(
    chunkDocuments(readTextDocuments(config.data.docs), { maxChars: config.retrieval.chunkChars, overlapSentences: config.retrieval.overlapSentences }),
    { topK: config.retrieval.topK },
  );
}

/** The model of `route`, from the outputs of the steps that made it (`outputsOf("train:sft")`, …). */
export function labRouteModel(route: RouteName, paths: LabPaths, outputsOf: (step: string) => Record<string, unknown>): RouteModel {
  const definition: RouteDefinition = ROUTES[route];
  // Chat routes start from the chat model (`model.chat`), the others from the base.
  const start = String(outputsOf("model")[definition.model === "chat" ? "chatModelPath" : "modelPath"]);
  if (definition.prompt?.optimise)
    return { model: start, adapters: [], prompt: outputsOf("prompt:opt").template as PromptTemplate, trainingTokens: null, trainingSeconds: null };
  if (!definition.stage) return { model: start, adapters: [], trainingTokens: null, trainingSeconds: null };
  const stage = outputsOf(`train:${definition.stage}`) as unknown as TrainStageOutputs;
  // Training cost of a route = every stage on its path (cpt-sft counts its CPT too).
  let tokens = 0;
  let seconds = 0;
  for (let at: StageName | undefined = definition.stage; at; at = STAGES[at].startsFrom) {
    const outputs = outputsOf(`train:${at}`) as unknown as TrainStageOutputs;
    tokens += outputs.tokens;
    seconds += outputs.seconds;
  }
  return {
    model: absolute(paths, stage.model),
    adapters: stage.adapter ? [{ path: absolute(paths, stage.adapter), scale: 1 }] : [],
    ...(stage.softPrompt ? { softPrompt: absolute(paths, stage.softPrompt) } : {}),
    trainingTokens: tokens,
    trainingSeconds: seconds,
  };
}

/** A prompt-design route's template (src/prompt/promptTemplate.ts): kNN shots, contextual calibration. */
function routePromptTemplate(definition: RouteDefinition, config: LabConfig) {
  return {
    ...(definition.prompt?.selection ? { fewShot: { shots: config.fewShot.shots, selection: definition.prompt.selection } } : {}),
    ...(definition.prompt?.calibration ? { calibration: definition.prompt.calibration } : {}),
  };
}

/** The system (spec.ts fields) a route is evaluated as. */
export function labRouteSystem(config: LabConfig, route: RouteName, model: RouteModel, threads: number) {
  const definition: RouteDefinition = ROUTES[route];
  const chat = definition.chat && config.model.chatTemplate === "auto";
  return {
    name: route,
    // A soft prompt only the engine takes; the tool loop generates, so it needs llama.cpp and answer extraction.
    backend: model.softPrompt ? ("engine" as const) : definition.tools ? ("llama-cpp" as const) : config.eval.scorer,
    model: model.model,
    adapters: model.adapters,
    ...(model.softPrompt ? { softPrompt: model.softPrompt } : {}),
    chatTemplate: chat ? ("auto" as const) : ("none" as const),
    ...(chat && config.model.systemPrompt ? { systemPrompt: config.model.systemPrompt } : {}),
    fewShot: definition.prompting === "few-shot" ? config.fewShot.shots : 0,
    ...(definition.prompt ? { prompt: { ...routePromptTemplate(definition, config), ...model.prompt } } : {}),
    scoring: definition.tools ? ("generate" as const) : config.eval.scoring,
    ...(definition.prompting === "retrieval" ? { retrieval: { k: config.retrieval.topK } } : {}),
    threads: config.eval.threads ?? evaluationThreads(model.model, threads),
    ...(definition.tools ? { contextSize: TOOLS_ROUTE_CONTEXT } : config.model.build ? { contextSize: config.model.build.context } : {}),
    maxTokens: config.eval.maxTokens,
    ...(model.trainingTokens !== null ? { trainingTokens: model.trainingTokens } : {}),
    ...(model.trainingSeconds !== null ? { trainingSeconds: model.trainingSeconds } : {}),
  };
}
