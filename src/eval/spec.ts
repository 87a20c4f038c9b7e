/**
 * Systems under test and eval specs, declared in YAML and validated once with zod. Errors name the
 * file and the field path (`systems.yaml: systems[1].adapters[0].path: …`). Paths inside a file are
 * resolved against that file's folder. The format is documented in docs/eval-results.md.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { promptTemplateSchema, type PromptTemplate } from "../prompt/promptTemplate.js";
import { describeIssuePath } from "../shared/configIssues.js";
import { ConfigError } from "../shared/errors.js";

const NAME = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/, "use letters, digits, '.', '_' and '-' only (the name becomes a folder name)");

const adapterSchema = z.strictObject({
  path: z.string().min(1),
  /** LoRA scale. Defaults to 1. */
  scale: z.number().positive().default(1),
});

const poolEndpointSchema = z.strictObject({
  baseUrl: z.url(),
  apiKey: z.string().optional(),
  /** Requests this endpoint takes at once (llama-server: its -np slots). Defaults to 1. */
  maxConcurrency: z.number().int().positive().default(1),
});

/** Several endpoints that serve the same model, used as one system (docs/eval-results.md). */
export const poolSchema = z.strictObject({
  endpoints: z.array(poolEndpointSchema).min(1),
  /** How often an endpoint that stopped answering is probed again. Defaults to 5000. */
  probeIntervalMs: z.number().int().positive().optional(),
});
export type PoolSpec = z.infer<typeof poolSchema>;

export const systemSchema = z.strictObject({
  name: NAME,
  backend: z.enum(["llama-cpp", "openai", "engine"]),
  /** GGUF path (llama-cpp, engine) or the model name the endpoint serves (openai). */
  model: z.string().min(1),
  adapters: z.array(adapterSchema).default([]),
  /** engine only: a soft-prompt GGUF (`vertical export --format soft-prompt`) put before every sequence. */
  softPrompt: z.string().min(1).optional(),
  systemPrompt: z.string().optional(),
  /** The prompt as data (docs/prompt.md); its systemPrompt and fewShot override the fields above. */
  prompt: promptTemplateSchema.optional(),
  /** auto: the model's own chat template (GGUF metadata / the server's); none: raw text. Defaults to auto. */
  chatTemplate: z.enum(["auto", "none"]).default("auto"),
  /** Overrides each set's `shots`. */
  fewShot: z.number().int().min(0).optional(),
  /** Defaults to letter; generate for openai systems with logprobs: false. */
  scoring: z.enum(["letter", "option", "generate"]).optional(),
  threads: z.number().int().positive().optional(),
  contextSize: z.number().int().positive().optional(),
  /** llama-cpp: F32 KV cache, no flash attention (exact log-likelihoods; see LlamaCppOptions). Defaults to false. */
  exactAttention: z.boolean().default(false),
  baseUrl: z.url().optional(),
  /**
   * openai: instead of baseUrl, several endpoints serving `model`: a pool YAML file (relative to this
   * file) or the pool inline. Loaded specs always hold it inline.
   */
  pool: z.union([z.string().min(1), poolSchema]).optional(),
  apiKey: z.string().optional(),
  maxConcurrency: z.number().int().positive().optional(),
  timeoutMs: z.number().int().positive().optional(),
  maxRetries: z.number().int().min(0).optional(),
  /**
   * openai: what log-probabilities the endpoint gives. true: prompt logprobs through completions with echo
   * (letter and option scoring); "chat": only the first reply token's top_logprobs through chat (letter
   * scoring, with the server's chat template); false: none (generation + answer extraction). Defaults to true.
   */
  logprobs: z.union([z.boolean(), z.literal("chat")]).default(true),
  maxTokens: z.number().int().positive().optional(),
  /** Opaque to eval except `k`; handed to the caller's resolveRetriever. */
  retrieval: z.looseObject({ k: z.number().int().positive().default(4) }).optional(),
  trainingTokens: z.number().nonnegative().optional(),
  trainingSeconds: z.number().nonnegative().optional(),
});
export type SystemSpec = z.infer<typeof systemSchema>;

/** The template a system's prompts are rendered with: its `prompt`, completed by `systemPrompt`. */
export function systemPromptTemplate(system: SystemSpec): PromptTemplate {
  const systemPrompt = system.prompt?.systemPrompt ?? system.systemPrompt;
  return { ...system.prompt, ...(systemPrompt !== undefined ? { systemPrompt } : {}) };
}

/** Whether a system is asked through its chat template: the template's choice, else the system's. */
export function systemChatTemplate(system: SystemSpec): "auto" | "none" {
  return system.prompt?.chatTemplate ?? system.chatTemplate;
}

/** Shots a system asks with on `set`: the template's, else the system's `fewShot`, else the set's. */
export function systemShots(system: SystemSpec, set: SetSpec): number {
  return system.prompt?.fewShot?.shots ?? system.fewShot ?? set.shots;
}

const systemsFileSchema = z.strictObject({ systems: z.array(systemSchema).min(1) });

export const setSchema = z.strictObject({
  name: NAME,
  kind: z.enum(["mcq", "open"]).default("mcq"),
  path: z.string().min(1),
  format: z.enum(["auto", "ceval", "cmmlu", "mmlu", "jsonl"]).default("auto"),
  dev: z.string().optional(),
  shots: z.number().int().min(0).default(0),
  language: z.enum(["auto", "en", "zh"]).default("auto"),
  general: z.boolean().default(false),
  limit: z.number().int().positive().optional(),
  subject: z.string().optional(),
});
export type SetSpec = z.infer<typeof setSchema>;

const evalFileSchema = z.strictObject({
  name: z.string().min(1),
  // A path to a systems file, or the systems inline (validated separately so errors name each field).
  systems: z.unknown(),
  baseSystem: z.string().optional(),
  /** A system that judges open-ended answers (pairwise both orders + ratings); not itself evaluated. */
  judge: z.unknown().optional(),
  sets: z.array(setSchema).min(1),
});

export interface EvalSpec {
  name: string;
  /** Absolute path of the YAML it came from, or undefined when built in code. */
  file?: string;
  systems: SystemSpec[];
  baseSystem: string;
  /** Judge of open-ended sets, if any. */
  judge?: SystemSpec;
  sets: SetSpec[];
}

/** Validates `value` against `schema`, throwing a ConfigError that lists every bad field of `file`. */
function validate<T>(schema: z.ZodType<T>, value: unknown, file: string, prefix: PropertyKey[] = []): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `  ${describeIssuePath([...prefix, ...issue.path]) || "(top level)"}: ${issue.message}`,
  );
  throw new ConfigError(`invalid fields:\n${problems.join("\n")}`, {
    where: file,
    hint: "See docs/eval-results.md for the fields of systems and eval specs.",
  });
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read: ${(error as Error).message}`, { where: file, cause: error });
  }
  try {
    return YAML.parse(text);
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new ConfigError(`not valid YAML: ${(error as Error).message}`, {
      where: line ? `${file}:${line}` : file,
      cause: error,
    });
  }
}

/** A pool file (`endpoints: [...]`), validated; errors name the file and the field. */
export function loadPool(file: string): PoolSpec {
  return validate(poolSchema, readYaml(file), file);
}

function resolvePaths(system: SystemSpec, folder: string): SystemSpec {
  const local = system.backend !== "openai";
  return {
    ...system,
    ...(typeof system.pool === "string" ? { pool: loadPool(path.resolve(folder, system.pool)) } : {}),
    model: local ? path.resolve(folder, system.model) : system.model,
    adapters: system.adapters.map((adapter) => ({ ...adapter, path: path.resolve(folder, adapter.path) })),
    ...(system.softPrompt ? { softPrompt: path.resolve(folder, system.softPrompt) } : {}),
  };
}

function checkUniqueNames(names: string[], what: string, file: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name))
      throw new ConfigError(`${what} "${name}" is declared twice`, {
        where: file,
        hint: `Give each ${what} its own name.`,
      });
    seen.add(name);
  }
}

/** Systems from a YAML file `{systems: [...]}`; model and adapter paths made absolute. */
export function loadSystems(file: string): SystemSpec[] {
  const absolute = path.resolve(file);
  const { systems } = validate(systemsFileSchema, readYaml(absolute), absolute);
  checkUniqueNames(
    systems.map((system) => system.name),
    "system",
    absolute,
  );
  return systems.map((system) => resolvePaths(system, path.dirname(absolute)));
}

/** An eval spec from YAML; `systems` may be inline or a path to a systems file. */
export function loadEvalSpec(file: string): EvalSpec {
  const absolute = path.resolve(file);
  const folder = path.dirname(absolute);
  const parsed = validate(evalFileSchema, readYaml(absolute), absolute);
  const systems =
    typeof parsed.systems === "string"
      ? loadSystems(path.resolve(folder, parsed.systems))
      : validate(z.array(systemSchema).min(1), parsed.systems, absolute, ["systems"]).map((system) =>
          resolvePaths(system, folder),
        );
  checkUniqueNames(
    systems.map((system) => system.name),
    "system",
    absolute,
  );
  checkUniqueNames(
    parsed.sets.map((set) => set.name),
    "set",
    absolute,
  );
  const baseSystem = parsed.baseSystem ?? systems[0]!.name;
  if (!systems.some((system) => system.name === baseSystem))
    throw new ConfigError(
      `baseSystem "${baseSystem}" is not one of the systems (${systems.map((system) => system.name).join(", ")})`,
      {
        where: `${absolute}: baseSystem`,
      },
    );
  const sets = parsed.sets.map((set) => ({
    ...set,
    path: path.resolve(folder, set.path),
    ...(set.dev ? { dev: path.resolve(folder, set.dev) } : {}),
  }));
  const judge =
    parsed.judge === undefined
      ? undefined
      : resolvePaths(validate(systemSchema, parsed.judge, absolute, ["judge"]), folder);
  return { name: parsed.name, file: absolute, systems, baseSystem, sets, ...(judge ? { judge } : {}) };
}

/** Builds a spec in code (the lab): validates systems and sets the same way as the YAML loader. */
export function defineEvalSpec(input: {
  name: string;
  systems: unknown[];
  sets: unknown[];
  baseSystem?: string;
  judge?: unknown;
}): EvalSpec {
  const where = `eval spec "${input.name}"`;
  const parsed = validate(evalFileSchema, input, where);
  const systems = validate(z.array(systemSchema).min(1), parsed.systems, where, ["systems"]).map((system) =>
    typeof system.pool === "string" ? { ...system, pool: loadPool(path.resolve(system.pool)) } : system,
  );
  checkUniqueNames(
    systems.map((system) => system.name),
    "system",
    input.name,
  );
  checkUniqueNames(
    parsed.sets.map((set) => set.name),
    "set",
    input.name,
  );
  const baseSystem = parsed.baseSystem ?? systems[0]!.name;
  if (!systems.some((system) => system.name === baseSystem))
    throw new ConfigError(`baseSystem "${baseSystem}" is not one of the systems`, {
      where: `eval spec "${input.name}"`,
    });
  const judge = parsed.judge === undefined ? undefined : validate(systemSchema, parsed.judge, where, ["judge"]);
  return { name: parsed.name, systems, baseSystem, sets: parsed.sets, ...(judge ? { judge } : {}) };
}
