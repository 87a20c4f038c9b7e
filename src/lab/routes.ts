/**
 * The routes the lab compares. A route = the training stages it needs (shared between routes: "sft" and
 * "retrieval-sft" use the same SFT run) + how the resulting model is asked (plain prompt, few-shot
 * exemplars, retrieved passages, chat template).
 */

/** A training stage: what data, which objective, starting from which model. */
export type StageName = "cpt" | "cpt-general" | "sft" | "mip" | "cpt-sft";

export interface StageDefinition {
  objective: "cpt" | "sft" | "mip";
  /** Data the stage trains on: domain text, domain + general text (1:N by tokens), SFT chats, or text + chats. */
  data: "domain" | "domain+general" | "sft" | "domain+sft";
  /** The stage whose output model this stage starts from; undefined = the base model. */
  startsFrom?: StageName;
  /** Which budget in lab.yaml applies. */
  budget: "cpt" | "sft" | "mip";
}

export const STAGES: Record<StageName, StageDefinition> = {
  cpt: { objective: "cpt", data: "domain", budget: "cpt" },
  "cpt-general": { objective: "cpt", data: "domain+general", budget: "cpt" },
  sft: { objective: "sft", data: "sft", budget: "sft" },
  mip: { objective: "mip", data: "domain+sft", budget: "mip" },
  "cpt-sft": { objective: "sft", data: "sft", startsFrom: "cpt-general", budget: "sft" },
};

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
  mip: { description: "instruction data mixed into pre-training (MIP): domain text + conversations in one run", box: "white", stage: "mip", prompting: "zero-shot", chat: true },
  "cpt-sft": { description: "CPT on domain + general, then SFT", box: "white", stage: "cpt-sft", prompting: "zero-shot", chat: true },
  "retrieval-sft": { description: "the SFT model, asked with retrieved passages", box: "white", stage: "sft", prompting: "retrieval", chat: true },
} as const satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];

export function isRouteName(name: string): name is RouteName {
  return Object.hasOwn(ROUTES, name);
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
