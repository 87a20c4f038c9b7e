import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node as YamlNode } from "yaml";
import { z } from "zod";
import { ConfigError } from "../shared/errors.js";
import type { Objective } from "./datasetManifest.js";

/**
 * A build recipe (`vertical data build RECIPE.yaml`). YAML keys are snake_case; see
 * docs/data-format.md for every field and its default.
 */
const sourceSchema = z.strictObject({
  name: z.string().min(1),
  /** text: documents (cpt, mip); instructions: Q/A or conversations mixed into pre-training (mip); chat: SFT conversations. */
  kind: z.enum(["text", "instructions", "chat"]).default("text"),
  /** A corpus store file (SQLite) to read cleaned, deduplicated documents from. */
  store: z.string().optional(),
  /** Source name inside the store. Defaults to the source's name. */
  store_source: z.string().optional(),
  /** JSONL / TXT / MD files (text) or conversation JSONL (instructions, chat). */
  files: z.array(z.string()).min(1).optional(),
  /** JSONL field holding the text. Defaults to the first of text, content, body. */
  text_field: z.string().optional(),
  /** Share of the output's tokens (0..1]. */
  share: z.number().gt(0).lte(1).optional(),
  /** Allow reading the source more than once to reach its share. Defaults to false. */
  repeat: z.boolean().default(false),
  /** instructions only: train on every token (default) or only the assistant replies. */
  loss: z.enum(["all", "assistant"]).default("all"),
});

const recipeSchema = z.strictObject({
  objective: z.enum(["cpt", "mip", "sft"]),
  /** Tokens per packed row: the model context used for training. */
  seq_len: z.number().int().min(8).max(1 << 20),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  /** Output directory (relative paths are relative to the recipe file). */
  output: z.string().min(1),
  /** tokenizer.json / directory / GGUF used by the CLI; programmatic callers pass a Tokenizer. */
  tokenizer: z.string().optional(),
  /** Default corpus store for sources that name neither store nor files. */
  store: z.string().optional(),
  /** cpt preset "domain:general" by tokens, e.g. "1:5" or "1:10"; needs sources named domain and general. */
  mix: z.string().regex(/^\d+(\.\d+)?:\d+(\.\d+)?$/, 'mix must look like "1:5" (domain:general)').optional(),
  /** Total tokens to produce. Defaults to the most the sources allow at their shares without repeating. */
  total_tokens: z.number().int().positive().optional(),
  sequences_per_shard: z.number().int().positive().default(4096),
  sources: z.array(sourceSchema).min(1),
});

export type RecipeInput = z.input<typeof recipeSchema>;

export interface RecipeSource {
  name: string;
  kind: "text" | "instructions" | "chat";
  /** Absolute store path, when the source reads a corpus store. */
  store: string | undefined;
  storeSource: string;
  /** Absolute file paths, when the source reads files. */
  files: string[];
  textField: string | undefined;
  share: number;
  repeat: boolean;
  loss: "all" | "assistant";
}

export interface Recipe {
  objective: Objective;
  seqLen: number;
  seed: number;
  output: string;
  tokenizer: string | undefined;
  totalTokens: number | undefined;
  sequencesPerShard: number;
  sources: RecipeSource[];
  /** Where the recipe came from, for error messages. */
  file: string;
  sha256: string;
}

interface Problem {
  path: (string | number)[];
  message: string;
}

function fieldName(pathParts: readonly (string | number)[]): string {
  return pathParts.reduce<string>((name, part) => (typeof part === "number" ? `${name}[${part}]` : name ? `${name}.${part}` : part), "") || "(root)";
}

/** Turns problems into one ConfigError naming file:line and field for each. */
function raise(file: string, problems: Problem[], locate: (pathParts: (string | number)[]) => number | undefined): never {
  const lines = problems.map((problem) => {
    const line = locate(problem.path);
    return `${file}${line ? `:${line}` : ""}: ${fieldName(problem.path)}: ${problem.message}`;
  });
  const firstLine = locate(problems[0]!.path);
  throw new ConfigError(`invalid recipe:\n  ${lines.join("\n  ")}`, {
    where: `${file}${firstLine ? `:${firstLine}` : ""}`,
    hint: "See docs/data-format.md (Recipes) for the fields and their meaning.",
  });
}

/** The closest known key, for "did you mean" hints. */
function closest(key: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Validates a recipe object (already parsed from YAML/JSON). `file` names it in errors; relative
 * paths resolve against `baseDir`. `locate` maps a field path to a line for error messages.
 */
export function defineRecipe(
  input: unknown,
  options: { file?: string; baseDir?: string; locate?: (pathParts: (string | number)[]) => number | undefined } = {},
): Recipe {
  const file = options.file ?? "recipe";
  const baseDir = options.baseDir ?? process.cwd();
  const locate = options.locate ?? (() => undefined);
  const parsed = recipeSchema.safeParse(input);
  if (!parsed.success) {
    const problems: Problem[] = [];
    for (const issue of parsed.error.issues) {
      const issuePath = issue.path.map((part) => (typeof part === "symbol" ? String(part) : part));
      if (issue.code === "unrecognized_keys") {
        const known = Object.keys((issuePath[0] === "sources" ? sourceSchema : recipeSchema).shape);
        for (const key of issue.keys) {
          const suggestion = closest(key, known);
          problems.push({ path: [...issuePath, key], message: `unknown field${suggestion ? ` (did you mean "${suggestion}"?)` : ""}; known fields: ${known.join(", ")}` });
        }
      } else problems.push({ path: issuePath, message: issue.message });
    }
    raise(file, problems, locate);
  }
  const recipe = parsed.data;
  const problems: Problem[] = [];
  const resolve = (p: string) => path.resolve(baseDir, p);

  // Shares: a cpt preset, or explicit shares that sum to 1, or one source taking everything.
  const shares: number[] = recipe.sources.map((source) => source.share ?? Number.NaN);
  if (recipe.mix) {
    if (recipe.objective !== "cpt") problems.push({ path: ["mix"], message: `the mix preset is for objective cpt (domain:general), not ${recipe.objective}; give each source a share` });
    const [domainPart, generalPart] = recipe.mix.split(":").map(Number) as [number, number];
    const domainIndex = recipe.sources.findIndex((s) => s.name === "domain");
    const generalIndex = recipe.sources.findIndex((s) => s.name === "general");
    if (domainIndex < 0 || generalIndex < 0 || recipe.sources.length !== 2) {
      problems.push({ path: ["mix"], message: `mix "${recipe.mix}" needs exactly two sources named "domain" and "general"` });
    } else {
      recipe.sources.forEach((source, i) => {
        if (source.share !== undefined) problems.push({ path: ["sources", i, "share"], message: `set either mix or shares, not both (mix "${recipe.mix}" already fixes the shares)` });
      });
      shares[domainIndex] = domainPart / (domainPart + generalPart);
      shares[generalIndex] = generalPart / (domainPart + generalPart);
    }
  } else if (recipe.sources.length === 1 && recipe.sources[0]!.share === undefined) {
    shares[0] = 1;
  } else {
    recipe.sources.forEach((source, i) => {
      if (source.share === undefined) problems.push({ path: ["sources", i, "share"], message: "missing: give every source a share (they must sum to 1), or use mix for cpt" });
    });
    const sum = shares.reduce((a, b) => a + (Number.isNaN(b) ? 0 : b), 0);
    if (shares.every((share) => !Number.isNaN(share)) && Math.abs(sum - 1) > 1e-6) {
      problems.push({ path: ["sources"], message: `shares sum to ${Number(sum.toFixed(6))}, they must sum to 1 (${recipe.sources.map((s) => `${s.name}=${s.share}`).join(", ")})` });
    }
  }

  const names = new Set<string>();
  recipe.sources.forEach((source, i) => {
    if (names.has(source.name)) problems.push({ path: ["sources", i, "name"], message: `duplicate source name "${source.name}"` });
    names.add(source.name);
    const store = source.store ?? (source.files ? undefined : recipe.store);
    if (source.files && source.store) problems.push({ path: ["sources", i], message: "give either store or files, not both" });
    if (!source.files && !store) problems.push({ path: ["sources", i], message: "no input: give files, or store (here or at the top level)" });
    const allowed = recipe.objective === "cpt" ? ["text"] : recipe.objective === "sft" ? ["chat"] : ["text", "instructions"];
    if (!allowed.includes(source.kind)) problems.push({ path: ["sources", i, "kind"], message: `kind ${source.kind} does not fit objective ${recipe.objective} (allowed: ${allowed.join(", ")})` });
    if (store && source.kind !== "text") problems.push({ path: ["sources", i, "store"], message: `a corpus store holds documents (kind text); ${source.kind} sources read conversation files` });
    for (const [j, f] of (source.files ?? []).entries()) {
      if (!fs.existsSync(resolve(f))) problems.push({ path: ["sources", i, "files", j], message: `file not found: ${resolve(f)}` });
    }
    if (store && !fs.existsSync(resolve(store))) problems.push({ path: ["sources", i, source.store ? "store" : "name"], message: `corpus store not found: ${resolve(store)}` });
  });
  if (recipe.objective === "mip") {
    if (!recipe.sources.some((s) => s.kind === "instructions")) problems.push({ path: ["sources"], message: "objective mip needs at least one source of kind instructions" });
    if (!recipe.sources.some((s) => s.kind === "text")) problems.push({ path: ["sources"], message: "objective mip needs at least one source of kind text" });
  }
  if (problems.length > 0) raise(file, problems, locate);

  const sources: RecipeSource[] = recipe.sources.map((source, i) => {
    const store = source.store ?? (source.files ? undefined : recipe.store);
    return {
      name: source.name,
      kind: source.kind,
      store: store ? resolve(store) : undefined,
      storeSource: source.store_source ?? source.name,
      files: (source.files ?? []).map(resolve),
      textField: source.text_field,
      share: shares[i]!,
      repeat: source.repeat,
      loss: source.loss,
    };
  });
  const normalised = {
    objective: recipe.objective,
    seqLen: recipe.seq_len,
    seed: recipe.seed,
    output: resolve(recipe.output),
    tokenizer: recipe.tokenizer ? resolve(recipe.tokenizer) : undefined,
    totalTokens: recipe.total_tokens,
    sequencesPerShard: recipe.sequences_per_shard,
    sources,
  };
  // Where the output goes does not change its content: leave it out of the hash.
  const sha256 = createHash("sha256").update(JSON.stringify({ ...normalised, output: undefined })).digest("hex");
  return { ...normalised, file, sha256 };
}

/** Reads and validates a YAML (or JSON) recipe; errors name the file, line and field. */
export function loadRecipe(file: string): Recipe {
  let source: string;
  try {
    source = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read the recipe: ${(error as Error).message}`, { where: file, cause: error });
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, prettyErrors: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new ConfigError(`YAML syntax error: ${first.message.split("\n")[0]}`, { where: `${file}:${first.linePos?.[0]?.line ?? "?"}` });
  }
  const locate = (pathParts: (string | number)[]): number | undefined => {
    // The deepest part of the path that exists: a key's own line for map entries (so unknown keys
    // point at themselves), an item's line for sequence entries.
    for (let depth = pathParts.length - 1; depth >= 0; depth--) {
      const parent = (depth === 0 ? document.contents : document.getIn(pathParts.slice(0, depth), true)) as YamlNode | null | undefined;
      const part = pathParts[depth];
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === part);
        const keyNode = pair?.key as YamlNode | undefined;
        if (keyNode?.range) return lineCounter.linePos(keyNode.range[0]).line;
      } else if (isSeq(parent) && typeof part === "number") {
        const item = parent.items[part] as YamlNode | undefined;
        if (item?.range) return lineCounter.linePos(item.range[0]).line;
      }
    }
    return undefined;
  };
  return defineRecipe(document.toJS(), { file, baseDir: path.dirname(path.resolve(file)), locate });
}
