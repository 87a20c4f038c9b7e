/**
 * Runs one SQL query on a SQLite file, read-only, in a child Node process that is killed when the time
 * limit passes. better-sqlite3 is synchronous and exposes neither sqlite3_interrupt nor a progress
 * handler, so a query such as an unbounded recursive CTE cannot be stopped from the same thread (nor
 * from a worker thread: terminating one does not stop native code). A process can be killed.
 *
 * Inside the child: the file is opened `readonly` and `fileMustExist`, the statement must report
 * `stmt.readonly` (SQLite's own sqlite3_stmt_readonly) and one statement only (prepare refuses more),
 * values are bound as parameters, and at most `maxRows + 1` rows are read (the extra one tells the
 * caller the answer was cut).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { ToolRefusedError } from "../shared/errors.js";

export type SqlValue = string | number | null;

export interface ReadOnlyQuery {
  databasePath: string;
  sql: string;
  parameters: SqlValue[];
  maxRows: number;
  timeoutMs: number;
}

export interface QueryRows {
  columns: string[];
  rows: SqlValue[][];
  /** True when the query had more rows than maxRows. */
  truncated: boolean;
}

// Plain JavaScript run by `node -e`: no TypeScript loader is needed in the child.
const CHILD_SOURCE = `
const Database = require(process.argv[1]);
process.send({ ready: true });
process.once("message", (query) => {
  let db;
  try {
    db = new Database(query.databasePath, { readonly: true, fileMustExist: true });
    const statement = db.prepare(query.sql);
    if (!statement.readonly) throw Object.assign(new Error("the statement would change the database"), { refused: true });
    if (!statement.reader) throw Object.assign(new Error("the statement returns no rows"), { refused: true });
    statement.raw(true);
    const columns = statement.columns().map((column) => column.name);
    const rows = [];
    for (const row of statement.iterate(...query.parameters)) {
      rows.push(row.map((value) => (typeof value === "bigint" ? Number(value) : value instanceof Uint8Array ? "<blob " + value.length + " bytes>" : value)));
      if (rows.length > query.maxRows) break;
    }
    process.send({ ok: true, columns, rows: rows.slice(0, query.maxRows), truncated: rows.length > query.maxRows }, () => process.exit(0));
  } catch (error) {
    process.send({ ok: false, message: String(error && error.message), refused: Boolean(error && error.refused) }, () => process.exit(0));
  } finally {
    db?.close();
  }
});
`;

type ChildAnswer = { ready: true } | ({ ok: true } & QueryRows) | { ok: false; message: string; refused: boolean };

const betterSqlitePath = createRequire(import.meta.url).resolve("better-sqlite3");

export function runReadOnlyQuery(query: ReadOnlyQuery, signal?: AbortSignal): Promise<QueryRows> {
  const where = `sql ${query.databasePath}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", CHILD_SOURCE, betterSqlitePath], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (child.exitCode === null) child.kill("SIGKILL");
      outcome();
    };
    // The clock starts when the child is ready (Node started, better-sqlite3 loaded): the limit is the
    // query's, not the process start's, which takes 50–500 ms depending on the machine's load.
    let timer: NodeJS.Timeout | undefined;
    const startClock = () =>
      (timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new ToolRefusedError(`the query ran longer than its limit of ${query.timeoutMs} ms and was stopped`, {
                where,
                hint: "Narrow the query (a WHERE clause, a LIMIT) or look up fewer rows.",
              }),
            ),
          ),
        query.timeoutMs,
      ));
    const onAbort = () => finish(() => reject(signal!.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("message", (answer: ChildAnswer) => {
      if ("ready" in answer) {
        startClock();
        child.send({ ...query });
        return;
      }
      finish(() => {
        if (answer.ok) resolve({ columns: answer.columns, rows: answer.rows, truncated: answer.truncated });
        else
          reject(
            new ToolRefusedError(answer.refused ? `refused: ${answer.message}` : `SQLite: ${answer.message}`, {
              where,
            }),
          );
      });
    });
    child.on("error", (error) => finish(() => reject(error)));
    child.on("exit", (code) =>
      finish(() =>
        reject(new Error(`the query process exited (code ${code}) without an answer: ${stderr.slice(0, 500)}`)),
      ),
    );
  });
}
