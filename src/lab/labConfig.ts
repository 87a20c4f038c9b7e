/**
 * `lab.yaml`: what a domain folder asks the lab to do. One zod schema, validated once before any work
 * starts; every violation is reported with its field path, the value found and what to do. Paths are
 * relative to the domain folder. The format is documented in docs/lab.md (the JSON schema comes from
 * `labJsonSchema()` / `vertical lab schema`).
 */
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeIssuePath, valueAt } from "../shared/configIssues.js";
import { ConfigError, InputError } from "../shared/errors.js";
import { PLACEHOLDER_MARKER, PLACEHOLDERS } from "./initLab.js";
import { readToolsConfig, toolsDatabasePath } from "../tools/toolsConfig.js";
import { ROUTE_NAMES, ROUTES, STAGES, isDefaultRoute, isRouteName, needsChatModel, routeUsesTools, stagesFor, type RouteDefinition, type RouteName } from "./routes.js";

/** The tools route's tools: a file of the lab folder, like examples/harbor/tools.yaml (docs/tools.md). */
export const LAB_TOOLS_FILE = "tools.yaml";

/** The tools.yaml of a lab folder. */
export function labToolsFile(config: Pick<LabConfig, "folder">): string {
  return path.join(config.folder, LAB_TOOLS_FILE);
}

const positiveInt = (field: string) =>
  z
    .number({ error: `${field} must be a number` })
    .int(`${field} must be a whole number`)
    .min(1, `${field} must be at least 1 (a budget of 0 would train or evaluate nothing)`);

const routeName = z.string().superRefine((name, context) => {
  if (!isRouteName(name)) context.addIssue({ code: "custom", message: `unknown route "${name}"; known routes: ${ROUTE_NAMES.join(", ")}` });
});

const budgetSchema = z.strictObject({
  /** Optimiser steps of the stage. */
  steps: positiveInt("steps"),
  /** Training tokens of the stage (steps are cut to fit); unset = steps alone decide. */
  tokens: positiveInt("tokens").optional(),
  /** Wall-clock limit of the stage in minutes; the stage stops early, keeps its last checkpoint and says so. */
  minutes: z.number().gt(0, "minutes must be > 0 (a budget of 0 would train nothing)").optional(),
});

/**
 * The retrieval-embedder route's training (`train:embedder`): small by default, since on the example's
 * 5.3M model 40 steps cost about five minutes on two shared cores and more steps did not find more
 * (docs/training.md, "Does it help?").
 */
const embedderBudgetSchema = z.strictObject({
  /** Optimiser steps (each: `batch` mined queries, their passages and one BM25 hard negative each). Defaults to 30. */
  steps: positiveInt("steps").default(30),
  /** Queries per step. Defaults to 8. */
  batch: z.number().int().min(2, "batch must be at least 2 (in-batch negatives need two queries)").default(8),
  /** Wall-clock limit in minutes: training stops, the embedder reached so far is written and used, the report says so. */
  minutes: z.number().gt(0, "minutes must be > 0 (a budget of 0 would train nothing)").optional(),
});

/** Recipe for a base model built by the lab itself (the shipped example's): tokenizer, shape, pre-training. */
const buildSchema = z.strictObject({
  tokenizer: z
    .strictObject({
      /** BPE vocabulary size, special tokens included. Defaults to 2048. */
      vocabSize: z.number().int().min(300, "vocabSize must be at least 300 (256 bytes + merges + specials)").default(2048),
    })
    .default({ vocabSize: 2048 }),
  /** Defaults to llama. */
  architecture: z.enum(["llama", "qwen2", "qwen3"]).default("llama"),
  hidden: positiveInt("hidden").default(128),
  layers: positiveInt("layers").default(4),
  heads: positiveInt("heads").default(4),
  kvHeads: positiveInt("kvHeads").optional(),
  ffn: positiveInt("ffn").default(384),
  /** Context length in tokens. Defaults to 256. */
  context: positiveInt("context").default(256),
  /** Pre-training on the general corpus (general/). */
  pretrain: z
    .strictObject({
      steps: positiveInt("steps").default(600),
      lr: z.number().gt(0, "lr must be > 0").default(3e-3),
      sequences: positiveInt("sequences").default(8),
      minutes: z.number().gt(0, "minutes must be > 0").optional(),
    })
    .default({ steps: 600, lr: 3e-3, sequences: 8 }),
});

const modelSchema = z
  .strictObject({
    /** A GGUF model file: the model whose specialisation is measured. */
    path: z.string().min(1).optional(),
    /** Or a recipe: the lab builds (and caches) a small base model from the folder's own text. */
    build: buildSchema.optional(),
    /**
     * A chat GGUF (the base after general-purpose SFT, or any chat model) for the routes `chat`, `chat-sft`
     * and `chat-sft-small`: the seed's "few resources: SFT a chat model; plenty: start from the base" rule.
     */
    chat: z.string().min(1).optional(),
    /**
     * auto: routes trained on conversations are asked through the model's own chat template (GGUF
     * tokenizer.chat_template; a built model gets ChatML from its tokenizer); none: plain text everywhere.
     * Defaults to auto.
     */
    chatTemplate: z.enum(["auto", "none"]).default("auto"),
    /** System prompt of chat routes; defaults to none (the model's own default, if its template has one). */
    systemPrompt: z.string().optional(),
  })
  .superRefine((model, context) => {
    if (model.path === undefined && model.build === undefined)
      context.addIssue({ code: "custom", message: "give the base model: `path: some.gguf` or a `build:` recipe" });
    if (model.path !== undefined && model.build !== undefined)
      context.addIssue({ code: "custom", message: "give either `path` or `build`, not both" });
  });

export const labConfigSchema = z.strictObject({
  /** Shown in the report. Defaults to the folder's name. */
  name: z.string().min(1).optional(),
  /** Seed for model building, data order, sampling and bootstrap intervals. Defaults to 0. */
  seed: z.number().int().min(0).default(0),
  /** Compute threads. Defaults to VERTICAL_THREADS or the number of cores. */
  threads: positiveInt("threads").optional(),
  model: modelSchema,
  /** Where the domain folder's parts are; the defaults are the layout `vertical lab init` writes. */
  data: z
    .strictObject({
      docs: z.string().default("docs"),
      sft: z.string().default("sft"),
      general: z.string().default("general/text"),
      domainMcq: z.string().default("eval/mcq.jsonl"),
      /** Solved examples for the few-shot route; must not overlap the test set. */
      domainMcqDev: z.string().default("eval/mcq-dev.jsonl"),
      generalMcq: z.string().default("general/mcq.jsonl"),
      open: z.string().default("eval/open.jsonl"),
    })
    .default({
      docs: "docs",
      sft: "sft",
      general: "general/text",
      domainMcq: "eval/mcq.jsonl",
      domainMcqDev: "eval/mcq-dev.jsonl",
      generalMcq: "general/mcq.jsonl",
      open: "eval/open.jsonl",
    }),
  /**
   * Routes to compare, in report order. "base" is always run (everything is measured against it). Defaults
   * to all (the chat routes only when `model.chat` is given).
   */
  routes: z.array(routeName).min(1, "routes must list at least one route").optional(),
  /** How the white-box routes train. */
  training: z
    .strictObject({
      /** lora: low-rank adapters on a frozen base; full: every weight (fine for small models). Defaults to lora. */
      method: z.enum(["lora", "full"]).default("lora"),
      rank: positiveInt("rank").default(16),
      alpha: z.number().gt(0).default(32),
      lr: z.number().gt(0, "lr must be > 0").default(2e-4),
      /** Tokens per training sequence. Defaults to the model's context (capped at 512). */
      sequenceLength: z.number().int().min(16).optional(),
      sequences: positiveInt("sequences").default(8),
      /** General tokens per domain token in the cpt-general route. Defaults to 5 (1:5). */
      generalPerDomain: z.number().gt(0).default(5),
    })
    .default({ method: "lora", rank: 16, alpha: 32, lr: 2e-4, sequences: 8, generalPerDomain: 5 }),
  budgets: z
    .strictObject({
      cpt: budgetSchema.default({ steps: 200 }),
      sft: budgetSchema.default({ steps: 200 }),
      mip: budgetSchema.default({ steps: 200 }),
      /** The retrieval-embedder route's embedder training. */
      embedder: embedderBudgetSchema.default({ steps: 30, batch: 8 }),
    })
    .default({ cpt: { steps: 200 }, sft: { steps: 200 }, mip: { steps: 200 }, embedder: { steps: 30, batch: 8 } }),
  retrieval: z
    .strictObject({
      topK: positiveInt("topK").default(3),
      /** Passage size in characters. Defaults to 400. */
      chunkChars: positiveInt("chunkChars").default(400),
      overlapSentences: z.number().int().min(0).default(1),
      /** retrieval-hybrid / -rerank: weights of BM25 and dense in reciprocal-rank fusion. Default to 1 each. */
      fusion: z
        .strictObject({ bm25Weight: z.number().min(0).default(1), denseWeight: z.number().min(0).default(1) })
        .refine((weights) => weights.bm25Weight + weights.denseWeight > 0, "at least one fusion weight must be > 0")
        .default({ bm25Weight: 1, denseWeight: 1 }),
      /** retrieval-rerank: hybrid candidates the base model judges per question. Defaults to 20. */
      rerankCandidates: positiveInt("rerankCandidates").default(20),
    })
    .default({ topK: 3, chunkChars: 400, overlapSentences: 1, fusion: { bm25Weight: 1, denseWeight: 1 }, rerankCandidates: 20 }),
  fewShot: z.strictObject({ shots: positiveInt("shots").default(3) }).default({ shots: 3 }),
  /** The prompt-opt route: candidate instructions `vertical prompt optimise` tries on the dev split (docs/prompt.md). */
  promptOpt: z.strictObject({ budget: positiveInt("budget").default(4) }).default({ budget: 4 }),
  eval: z
    .strictObject({
      /** Score at most this many items per MCQ set (first N); unset = all. */
      limit: positiveInt("limit").optional(),
      /** Open-ended questions answered per route; unset = all. */
      openLimit: positiveInt("openLimit").optional(),
      /** Longest open-ended answer in tokens. Defaults to 64. */
      maxTokens: positiveInt("maxTokens").default(64),
      /** option: log-likelihood of each option's text; letter: of the letters A-D. Defaults to option. */
      scoring: z.enum(["option", "letter"]).default("option"),
      /** MCQ scorer: engine (Vertical's batched scorer) or llama-cpp (node-llama-cpp). Defaults to engine. Generation always uses llama-cpp. */
      scorer: z.enum(["engine", "llama-cpp"]).default("engine"),
      /** Evaluation threads. Defaults to 1 for models under 100 MB (faster and robust to busy cores), else `threads`. */
      threads: positiveInt("threads").optional(),
    })
    .default({ maxTokens: 64, scoring: "option", scorer: "engine" }),
});

export type LabConfigInput = z.input<typeof labConfigSchema>;
type Parsed = z.output<typeof labConfigSchema>;

/** A validated lab: defaults applied, every path absolute and checked to exist where a route needs it. */
export interface LabConfig extends Omit<Parsed, "routes" | "data"> {
  name: string;
  /** The domain folder. */
  folder: string;
  /** The lab.yaml it came from. */
  file: string;
  routes: RouteName[];
  data: Parsed["data"];
}

/** Validates a parsed lab.yaml; `file` names it in errors, paths resolve against `folder`. Does no work. */
export function parseLabConfig(raw: unknown, file: string, folder = path.dirname(file)): LabConfig {
  const result = labConfigSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const found = valueAt(raw, issue.path);
      const shown = issue.code === "unrecognized_keys" || found === undefined || typeof found === "object" ? "" : ` (found ${JSON.stringify(found)})`;
      return `${describeIssuePath(issue.path) || "(top level)"}: ${issue.message}${shown}`;
    });
    throw new ConfigError(`invalid lab config\n  ${lines.join("\n  ")}`, { where: file, hint: "docs/lab.md lists every field, its default and an example." });
  }
  const parsed = result.data;
  const chosen =
    parsed.routes ??
    ROUTE_NAMES.filter((route) => isDefaultRoute(route) && (parsed.model.chat !== undefined || !needsChatModel(route as RouteName)));
  const routes = [...new Set(["base", ...chosen])] as RouteName[];
  const resolve = (relative: string) => path.resolve(folder, relative);
  const data = Object.fromEntries(Object.entries(parsed.data).map(([key, value]) => [key, resolve(value)])) as Parsed["data"];
  const config: LabConfig = {
    ...parsed,
    name: parsed.name ?? path.basename(path.resolve(folder)),
    folder: path.resolve(folder),
    file,
    routes,
    data,
    model: {
      ...parsed.model,
      ...(parsed.model.path !== undefined ? { path: resolve(parsed.model.path) } : {}),
      ...(parsed.model.chat !== undefined ? { chat: resolve(parsed.model.chat) } : {}),
    },
  };
  checkInputsExist(config);
  refusePlaceholders(config);
  return config;
}

/** Every file a chosen route reads must be there before the first step runs: a missing one is found now, not in an hour. */
function checkInputsExist(config: LabConfig): void {
  const { file } = config;
  if (config.model.path !== undefined && !fs.existsSync(config.model.path)) {
    throw new InputError(`base model not found: ${config.model.path}`, {
      where: `${file}: model.path`,
      hint: "Point model.path at a GGUF file (relative to the lab folder), or replace it with a `build:` recipe to let the lab build a small model.",
    });
  }
  const chatRoutes = config.routes.filter(needsChatModel);
  if (chatRoutes.length > 0 && config.model.chat === undefined)
    throw new ConfigError(`routes ${chatRoutes.join(", ")} need a chat model, and model.chat is not set`, {
      where: `${file}: routes`,
      hint: "Add `chat: path/to/chat.gguf` under model: (the base after general-purpose SFT, or any chat GGUF), or remove those routes.",
    });
  if (config.model.chat !== undefined && !fs.existsSync(config.model.chat))
    throw new InputError(`chat model not found: ${config.model.chat}`, {
      where: `${file}: model.chat`,
      hint: "Point model.chat at a GGUF file (relative to the lab folder), or remove it and the chat routes.",
    });
  const stages = stagesFor(config.routes);
  const needs: [keyof LabConfig["data"], string, boolean][] = [
    ["docs", "the domain documents", true],
    ["domainMcq", "the domain multiple-choice set", true],
    ["generalMcq", "the general multiple-choice set (measures forgetting)", true],
    ["open", "the open-ended questions", true],
    ["domainMcqDev", "few-shot exemplars and the prompt search's dev split", config.routes.some((route) => ROUTES[route].prompting === "few-shot" || (ROUTES[route] as RouteDefinition).prompt?.optimise === true)],
    ["sft", "SFT conversations", stages.some((stage) => STAGES[stage].data.includes("sft"))],
    ["general", "the general corpus", config.model.build !== undefined || stages.some((stage) => STAGES[stage].data === "domain+general")],
  ];
  for (const [key, what, needed] of needs) {
    if (needed && !fs.existsSync(config.data[key]))
      throw new InputError(`${what} not found: ${config.data[key]}`, {
        where: `${file}: data.${key}`,
        hint: `Create it (\`vertical lab init\` shows the layout) or remove the routes that need it.`,
      });
  }
  checkToolsFile(config);
}

/** A tools route needs the folder's tools.yaml, valid, and the SQLite file it names. */
function checkToolsFile(config: LabConfig): void {
  const routes = config.routes.filter(routeUsesTools);
  if (routes.length === 0) return;
  const file = labToolsFile(config);
  if (!fs.existsSync(file))
    throw new InputError(`route ${routes.join(", ")} needs the lab's tools, and ${LAB_TOOLS_FILE} is not in the folder`, {
      where: `${config.file}: routes`,
      hint: `Write ${file} (fields in docs/tools.md; examples/harbor/tools.yaml offers search_docs, sql_query and calculator), or remove the route.`,
    });
  const database = toolsDatabasePath(readToolsConfig(file), path.dirname(file));
  if (database && !fs.existsSync(database))
    throw new InputError(`the SQLite file of sql_query not found: ${database}`, {
      where: `${file}: tools.sql.database`,
      hint: "Point sql.database at the domain's SQLite file (relative to tools.yaml), or remove `sql:`.",
    });
}

/** Files under a data path (a file, or a folder's files at any depth), sorted. */
function filesUnder(target: string): string[] {
  if (!fs.existsSync(target)) return [];
  if (!fs.statSync(target).isDirectory()) return [target];
  return fs
    .readdirSync(target, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

const placeholderTexts = new Set(Object.values(PLACEHOLDERS).map((text) => text.trim()));
const MARKER_SCAN_BYTES = 1 << 20;

/**
 * `lab init`'s example files are a layout to fill, not data: a lab that trained on them (SFT on one fake
 * conversation, the docs README indexed as a document) would report numbers about nothing. Any data file
 * still equal to one, or with a line holding the marker, stops the lab before any work.
 */
function refusePlaceholders(config: LabConfig): void {
  for (const [key, target] of Object.entries(config.data)) {
    for (const file of filesUnder(target)) {
      const size = fs.statSync(file).size;
      if (size > MARKER_SCAN_BYTES) continue;
      const text = fs.readFileSync(file, "utf8");
      const line = text.split("\n").findIndex((row) => row.includes(PLACEHOLDER_MARKER));
      if (!placeholderTexts.has(text.trim()) && line < 0) continue;
      throw new InputError(`${path.relative(config.folder, file)} is still the example \`vertical lab init\` wrote, not data`, {
        where: `${file}${line >= 0 ? `:${line + 1}` : ""} (lab.yaml data.${key})`,
        hint: "Replace it with the domain's own files, or delete it; the lab never trains or measures on placeholders.",
      });
    }
  }
}

/** Reads DIR/lab.yaml (or the given file) and validates it. */
export function loadLabConfig(folderOrFile: string): LabConfig {
  const target = path.resolve(folderOrFile);
  const file = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, "lab.yaml") : target;
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(`cannot read lab config: ${(error as Error).message}`, {
      where: file,
      hint: "A domain folder needs a lab.yaml; `vertical lab init DIR` writes a commented one.",
      cause: error,
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigError(`not valid YAML: ${(error as Error).message.split("\n")[0]}`, { where: line ? `${file}:${line}` : file, cause: error });
  }
  return parseLabConfig(raw, file, path.dirname(file));
}

/** JSON Schema of lab.yaml (input side: defaults shown, nothing required that has one). */
export function labJsonSchema(): unknown {
  return z.toJSONSchema(labConfigSchema, { io: "input", unrepresentable: "any" });
}
