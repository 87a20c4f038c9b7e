/**
 * The routes the lab compares. A route = the training stages it needs (shared between routes: "sft" and
 * "retrieval-sft" use the same SFT run) + how the resulting model is asked (plain prompt, few-shot
 * exemplars, retrieved passages, chat template).
 */

/** A training stage: what data, which objective, starting from which model. */
export type StageName = "cpt" | "cpt-general" | "sft" | "sft-small" | "mip" | "cpt-sft" | "chat-sft" | "chat-sft-small" | "soft-prompt" | "chat-soft-prompt";

export interface StageDefinition {
  objective: "cpt" | "sft" | "mip";
  /**
   * Data the stage trains on: domain text, domain + general text (1:N by tokens), SFT chats, a quarter of
   * the SFT chats (the small-data side of the chat-vs-base rule), or text + chats.
   */
  data: "domain" | "domain+general" | "sft" | "sft-small" | "domain+sft";
  /** The stage whose output model this stage starts from; undefined = `model`. */
  startsFrom?: StageName;
  /** Without `startsFrom`: the base model (default) or lab.yaml's `model.chat`. */
  model?: "base" | "chat";
  /** Which budget in lab.yaml applies. */
  budget: "cpt" | "sft" | "mip";
  /**
   * Share of the budget's steps. The small-data stages get a quarter: the same passes over a quarter of
   * the data, i.e. "few resources" in both data and compute. Defaults to 1.
   */
  stepShare?: number;
  /** soft-prompt: train only n virtual tokens (the trainer's softPrompt.tokens), base frozen, whatever training.method says. */
  method?: "soft-prompt";
}

/** Share of the SFT conversations (and of the SFT steps) the `*-small` stages train on. */
export const SMALL_SFT_SHARE = 0.25;

export const STAGES: Record<StageName, StageDefinition> = {
  cpt: { objective: "cpt", data: "domain", budget: "cpt" },
  "cpt-general": { objective: "cpt", data: "domain+general", budget: "cpt" },
  sft: { objective: "sft", data: "sft", budget: "sft" },
  mip: { objective: "mip", data: "domain+sft", budget: "mip" },
  "cpt-sft": { objective: "sft", data: "sft", startsFrom: "cpt-general", budget: "sft" },
  "sft-small": { objective: "sft", data: "sft-small", budget: "sft", stepShare: SMALL_SFT_SHARE },
  "chat-sft": { objective: "sft", data: "sft", model: "chat", budget: "sft" },
  "chat-sft-small": { objective: "sft", data: "sft-small", model: "chat", budget: "sft", stepShare: SMALL_SFT_SHARE },
  "soft-prompt": { objective: "sft", data: "sft", budget: "sft", method: "soft-prompt" },
  "chat-soft-prompt": { objective: "sft", data: "sft", model: "chat", budget: "sft", method: "soft-prompt" },
};

/**
 * How a retrieval route finds its passages; every kind reads the same chunks of docs/. `embedder` is
 * dense retrieval with the embedder the lab trains on docs/ (its `train:embedder` step), not the base's.
 */
export type RetrieverKind = "bm25" | "dense" | "hybrid" | "rerank" | "embedder";

export interface RouteDefinition {
  /** One line for the report and `vertical lab routes`. */
  description: string;
  /** The box the route opens: black = inputs only, grey = prompts, white = weights. */
  box: "black" | "grey" | "white";
  /** The training stage whose model is evaluated; undefined = the base model. */
  stage?: StageName;
  /** How questions are put to the model. */
  prompting: "zero-shot" | "few-shot" | "retrieval";
  /** Whether the model is asked through its chat template (trained on chats) or as plain text. */
  chat: boolean;
  /** Without `stage`: the base model (default) or lab.yaml's `model.chat`. */
  model?: "base" | "chat";
  /** Prompt design on top of `prompting` (src/prompt/): how shots are picked, contextual calibration. */
  prompt?: { selection?: "knn"; calibration?: "contextual"; optimise?: true };
  /**
   * Which passages a retrieval route is shown (src/lab/labRetrievers.ts): BM25 (default), the base model's
   * embeddings, both fused by reciprocal rank, the fused candidates reranked by the base model as judge, or
   * the embedder the lab trains on docs/.
   */
  retriever?: RetrieverKind;
  /**
   * Answers through the tool loop (src/tools/) with the lab folder's tools.yaml: MCQ by generation and
   * answer extraction (a loop has no option log-likelihoods), open questions by the loop's final answer.
   */
  tools?: true;
  /** False: run only when lab.yaml's `routes` lists it (not in the default "every route"). Defaults to true. */
  byDefault?: boolean;
}

export const ROUTES = {
  base: { description: "the base model as it is, zero-shot", box: "black", prompting: "zero-shot", chat: false },
  "few-shot": { description: "base model with solved domain examples in the prompt", box: "grey", prompting: "few-shot", chat: false },
  retrieval: { description: "base model with BM25 top-k passages from docs/ in the prompt", box: "black", prompting: "retrieval", chat: false },
  cpt: { description: "continued pre-training on the domain documents", box: "white", stage: "cpt", prompting: "zero-shot", chat: false },
  "cpt-general": {
    description: "continued pre-training on domain + general text (1:5 by tokens) against forgetting",
    box: "white",
    stage: "cpt-general",
    prompting: "zero-shot",
    chat: false,
  },
  sft: { description: "supervised fine-tuning on the domain conversations", box: "white", stage: "sft", prompting: "zero-shot", chat: true },
  "sft-small": { description: "SFT of the base on a quarter of the conversations (a quarter of the steps)", box: "white", stage: "sft-small", prompting: "zero-shot", chat: true },
  mip: { description: "instruction data mixed into pre-training (MIP): domain text + conversations in one run", box: "white", stage: "mip", prompting: "zero-shot", chat: true },
  "cpt-sft": { description: "CPT on domain + general, then SFT", box: "white", stage: "cpt-sft", prompting: "zero-shot", chat: true },
  "retrieval-sft": { description: "the SFT model, asked with retrieved passages", box: "white", stage: "sft", prompting: "retrieval", chat: true },
  chat: { description: "the chat model (model.chat) as it is, through its chat template", box: "black", prompting: "zero-shot", chat: true, model: "chat" },
  "chat-sft": { description: "SFT on the domain conversations starting from the chat model (its template kept)", box: "white", stage: "chat-sft", prompting: "zero-shot", chat: true },
  "chat-sft-small": { description: "SFT of the chat model on a quarter of the conversations (a quarter of the steps)", box: "white", stage: "chat-sft-small", prompting: "zero-shot", chat: true },
  // Retrieval variants (docs/rag.md): opt-in, each evaluated exactly like `retrieval` apart from the passages shown.
  "retrieval-dense": { description: "base model with the top-k passages by the base model's own embeddings (cosine)", box: "black", prompting: "retrieval", chat: false, retriever: "dense", byDefault: false },
  "retrieval-hybrid": { description: "base model with the top-k passages of BM25 and dense fused by reciprocal rank", box: "black", prompting: "retrieval", chat: false, retriever: "hybrid", byDefault: false },
  "retrieval-rerank": { description: "base model with the hybrid candidates reranked by the base model as relevance judge (LLM-as-reranker)", box: "black", prompting: "retrieval", chat: false, retriever: "rerank", byDefault: false },
  "retrieval-embedder": { description: "base model with the top-k passages by an embedder the lab trains on docs/ (bi-encoder, InfoNCE)", box: "black", prompting: "retrieval", chat: false, retriever: "embedder", byDefault: false },
  // Tool use (docs/tools.md): the chat model, since a loop needs a model that can emit calls; opt-in.
  tools: { description: "the chat model (model.chat) answering through the tool loop: search_docs, sql_query, calculator from tools.yaml", box: "black", prompting: "zero-shot", chat: true, model: "chat", tools: true, byDefault: false },
  // Prompt design (docs/prompt.md): opt-in, their cost on the demo is not measured under its time budget.
  "few-shot-knn": { description: "base model with the most similar solved dev examples (BM25 kNN) in the prompt", box: "grey", prompting: "few-shot", chat: false, prompt: { selection: "knn" }, byDefault: false },
  "soft-prompt": { description: "virtual tokens trained on the domain conversations before every prompt, base frozen (scored by the engine)", box: "grey", stage: "soft-prompt", prompting: "zero-shot", chat: true, byDefault: false },
  "chat-soft-prompt": { description: "virtual tokens trained on the domain conversations in front of the chat model (model.chat), frozen (scored by the engine)", box: "grey", stage: "chat-soft-prompt", prompting: "zero-shot", chat: true, model: "chat", byDefault: false },
  "prompt-opt": { description: "base model with the instruction `vertical prompt optimise` chose on the dev split (gold log-likelihood, successive halving)", box: "grey", prompting: "zero-shot", chat: false, prompt: { optimise: true }, byDefault: false },
  calibrated: { description: "base model zero-shot, option probabilities divided by their content-free bias (Zhao et al. 2021)", box: "grey", prompting: "zero-shot", chat: false, prompt: { calibration: "contextual" }, byDefault: false },
} as const satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];

export function isRouteName(name: string): name is RouteName {
  return Object.hasOwn(ROUTES, name);
}

/** Whether a route runs when lab.yaml lists no `routes` (the opt-in prompt-design routes do not). */
export function isDefaultRoute(route: RouteName): boolean {
  return (ROUTES[route] as RouteDefinition).byDefault !== false;
}

/** The retriever a route is asked with; bm25 for a route that names none (and for non-retrieval routes, which use none). */
export function retrieverKindOf(route: RouteName): RetrieverKind {
  return (ROUTES[route] as RouteDefinition).retriever ?? "bm25";
}

/** Whether a route answers through the tool loop. */
export function routeUsesTools(route: RouteName): boolean {
  return (ROUTES[route] as RouteDefinition).tools === true;
}

/** Whether a route generates (open-ended answers, serving): not a soft prompt, which only the engine scores. */
export function routeGenerates(route: RouteName): boolean {
  const stage = (ROUTES[route] as RouteDefinition).stage;
  return !stage || STAGES[stage].method !== "soft-prompt";
}

/** Whether a route needs lab.yaml's `model.chat` (it is asked, or starts its training, from the chat model). */
export function needsChatModel(route: RouteName): boolean {
  const definition: RouteDefinition = ROUTES[route];
  if (!definition.stage) return definition.model === "chat";
  let at: StageName = definition.stage;
  while (STAGES[at].startsFrom) at = STAGES[at].startsFrom!;
  return STAGES[at].model === "chat";
}

/** A stage and the stages it starts from, outermost last. */
export function stageChain(stage: StageName | undefined): StageName[] {
  const chain: StageName[] = [];
  for (let at = stage; at; at = STAGES[at].startsFrom) chain.push(at);
  return chain;
}

/** Training stages needed by `routes`, in dependency order (a stage after the one it starts from). */
export function stagesFor(routes: readonly RouteName[]): StageName[] {
  const needed = new Set<StageName>();
  const add = (stage: StageName) => {
    const from = STAGES[stage].startsFrom;
    if (from) add(from);
    needed.add(stage);
  };
  for (const route of routes) {
    const stage = (ROUTES[route] as RouteDefinition).stage;
    if (stage) add(stage);
  }
  return [...needed];
}
