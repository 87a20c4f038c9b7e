/**
 * `sql_query`: read-only SQL over one domain SQLite database, for facts that live in a table (fees,
 * berth lengths) rather than in prose. Only a single SELECT or WITH … SELECT is accepted, values go in
 * as bound parameters, the answer is cut at `maxRows` rows and the query is killed after `timeoutMs`
 * (see runReadOnlyQuery). The tool's description lists the tables and their columns, read once from
 * the database, so the model can write a query without a separate schema call.
 */
import fs from "node:fs";
import Database from "better-sqlite3";
import { InputError, ToolRefusedError } from "../shared/errors.js";
import { runReadOnlyQuery, type QueryRows } from "./runReadOnlyQuery.js";
import type { Tool } from "./tool.js";

export interface SqlQueryToolOptions {
  databasePath: string;
  /** Tool name. Defaults to "sql_query". */
  name?: string;
  /** Rows returned at most. Defaults to 50. */
  maxRows?: number;
  /** Wall-clock limit per query, counted from when the query process is ready (its start is not charged). Defaults to 2000. */
  timeoutMs?: number;
}

/** Comments and leading whitespace removed, so "-- note\nSELECT" counts as a SELECT. */
function leadingKeyword(sql: string): string {
  const stripped = sql.replace(/^(\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/)+/, "");
  return (/^[A-Za-z]+/.exec(stripped)?.[0] ?? "").toUpperCase();
}

/** "table(column TYPE, …)" for every table, read through a readonly connection. */
export function describeTables(databasePath: string): string {
  if (!fs.existsSync(databasePath))
    throw new InputError("the SQL tool's database does not exist", {
      where: databasePath,
      hint: "Point `database:` at a SQLite file (for the harbor example: npm run example:generate).",
    });
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    return tables
      .map((table) => {
        const columns = db.prepare("SELECT name, type FROM pragma_table_info(?)").all(table) as {
          name: string;
          type: string;
        }[];
        return `${table}(${columns.map((column) => `${column.name} ${column.type}`.trim()).join(", ")})`;
      })
      .join("; ");
  } finally {
    db.close();
  }
}

/** Rows as a small tab-separated table (a header line, one line per row): compact for a model to read. */
export function formatRows({ columns, rows, truncated }: QueryRows, maxRows: number): string {
  if (rows.length === 0) return "(no rows)";
  const lines = [
    columns.join("\t"),
    ...rows.map((row) => row.map((value) => (value === null ? "NULL" : String(value))).join("\t")),
  ];
  if (truncated) lines.push(`(only the first ${maxRows} rows are shown)`);
  return lines.join("\n");
}

/** The name the model calls the tool by, unless `options.name` renames it. */
export const SQL_QUERY_TOOL = "sql_query";

export function createSqlQueryTool(options: SqlQueryToolOptions): Tool {
  const maxRows = options.maxRows ?? 50;
  const timeoutMs = options.timeoutMs ?? 2000;
  const tables = describeTables(options.databasePath);
  return {
    definition: {
      name: options.name ?? SQL_QUERY_TOOL,
      description:
        `Run one read-only SQL query (SELECT or WITH only; SQLite dialect) on the domain database. ` +
        `Put values in "parameters" and write ? in the SQL. At most ${maxRows} rows. Tables: ${tables}.`,
      parameters: {
        type: "object",
        properties: {
          sql: { type: "string", minLength: 1, description: "One SELECT statement, with ? for each parameter." },
          parameters: {
            type: "array",
            items: { type: ["string", "number", "null"] },
            description: "Values bound to the ? placeholders, in order.",
          },
        },
        required: ["sql"],
        additionalProperties: false,
      },
    },
    async run(args, signal) {
      const sql = args.sql as string;
      const keyword = leadingKeyword(sql);
      if (keyword !== "SELECT" && keyword !== "WITH")
        throw new ToolRefusedError(`only SELECT or WITH queries are allowed, not ${keyword || "this statement"}`, {
          where: `tool ${options.name ?? "sql_query"}`,
          hint: "The database is read-only: look data up with SELECT.",
        });
      const rows = await runReadOnlyQuery(
        {
          databasePath: options.databasePath,
          sql,
          parameters: (args.parameters as (string | number | null)[]) ?? [],
          maxRows,
          timeoutMs,
        },
        signal,
      );
      return formatRows(rows, maxRows);
    },
  };
}
