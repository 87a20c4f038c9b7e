/**
 * The `tools:` section of lab.yaml (or a standalone tools YAML file): which built-in tools a system
 * gets and their limits. Validated once with zod; each violation names its field and the value found.
 *
 *   tools:
 *     maxRounds: 4
 *     searchDocs: { k: 4 }
 *     sql: { database: data/harbor.sqlite, maxRows: 50, timeoutMs: 2000 }
 *     calculator: true
 */
import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Retriever } from "../llm/retriever.js";
import { describeIssuePath, valueAt } from "../shared/configIssues.js";
import { ConfigError, InputError } from "../shared/errors.js";
import { CALCULATOR_TOOL, createCalculatorTool } from "./calculatorTool.js";
import { createSearchDocsTool, SEARCH_DOCS_TOOL } from "./searchDocsTool.js";
import { createSqlQueryTool, SQL_QUERY_TOOL } from "./sqlQueryTool.js";
import type { Tool } from "./tool.js";

const positiveInt = (field: string) =>
  z
    .number({ error: `${field} must be a number` })
    .int(`${field} must be a whole number`)
    .min(1, `${field} must be at least 1`);

export const toolsConfigSchema = z.strictObject({
  /** Rounds of tool calls before the model must answer. Defaults to 4. */
  maxRounds: positiveInt("maxRounds").default(4),
  /** `search_docs` over the system's retriever; absent = not offered. */
  searchDocs: z.strictObject({ k: positiveInt("k").default(4), maxK: positiveInt("maxK").default(10) }).optional(),
  /** `sql_query` over a SQLite file (path relative to the YAML file's folder); absent = not offered. */
  sql: z
    .strictObject({
      database: z.string({ error: "database must be the path of a SQLite file" }).min(1),
      maxRows: positiveInt("maxRows").default(50),
      timeoutMs: positiveInt("timeoutMs").default(2000),
    })
    .optional(),
  /** `calculator`. Defaults to false. */
  calculator: z.boolean({ error: "calculator must be true or false" }).default(false),
});

export type ToolsConfig = z.infer<typeof toolsConfigSchema>;

/** `raw` validated; `where` names the file (and section) in messages. */
export function parseToolsConfig(raw: unknown, where: string): ToolsConfig {
  const result = toolsConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = describeIssuePath(issue.path) || "tools";
    return `${field}: ${issue.message} (found ${JSON.stringify(valueAt(raw, issue.path)) ?? "nothing"})`;
  });
  throw new ConfigError(`invalid tools config:\n  ${problems.join("\n  ")}`, {
    where,
    hint: "See docs/tools.md for the fields of `tools:`.",
  });
}

/** A standalone YAML file whose top level is the tools config (or holds it under `tools:`). */
export function readToolsConfig(file: string): ToolsConfig {
  let raw: unknown;
  try {
    raw = parseYaml(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new InputError(`cannot read the tools YAML: ${(error as Error).message}`, { where: file, cause: error });
  }
  const section = raw !== null && typeof raw === "object" && "tools" in raw ? (raw as { tools: unknown }).tools : raw;
  return parseToolsConfig(section, file);
}

/** The SQLite file of `sql_query`, relative paths resolved against `baseDir` (the tools YAML's folder); none without `sql:`. */
export function toolsDatabasePath(config: ToolsConfig, baseDir: string): string | undefined {
  return config.sql ? path.resolve(baseDir, config.sql.database) : undefined;
}

/** The names of the tools `buildTools` builds from `config`, in its order, without building them (no database is opened). */
export function offeredToolNames(config: ToolsConfig): string[] {
  return [...(config.searchDocs ? [SEARCH_DOCS_TOOL] : []), ...(config.sql ? [SQL_QUERY_TOOL] : []), ...(config.calculator ? [CALCULATOR_TOOL] : [])];
}

export interface BuildToolsContext {
  /** Folder that relative paths (the SQL database) are resolved against. */
  baseDir: string;
  /** Needed when `searchDocs` is configured. */
  retriever?: Retriever;
}

export function buildTools(config: ToolsConfig, context: BuildToolsContext): Tool[] {
  const tools: Tool[] = [];
  if (config.searchDocs) {
    if (!context.retriever)
      throw new ConfigError("tools.searchDocs needs a retriever, and this system has none", {
        where: "tools.searchDocs",
        hint: "Give the system documents to search, or remove searchDocs.",
      });
    tools.push(
      createSearchDocsTool(context.retriever, { defaultK: config.searchDocs.k, maxK: config.searchDocs.maxK }),
    );
  }
  if (config.sql)
    tools.push(
      createSqlQueryTool({
        databasePath: toolsDatabasePath(config, context.baseDir)!,
        maxRows: config.sql.maxRows,
        timeoutMs: config.sql.timeoutMs,
      }),
    );
  if (config.calculator) tools.push(createCalculatorTool());
  return tools;
}
