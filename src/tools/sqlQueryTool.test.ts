import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { ToolRefusedError } from "../shared/errors.js";
import { createSqlQueryTool } from "./sqlQueryTool.js";
import { makeBerthDatabase } from "./testing/harborTestDatabase.js";

const database = makeBerthDatabase();
afterAll(() => database.cleanup());

describe("sql_query", () => {
  const tool = createSqlQueryTool({ databasePath: database.file, maxRows: 2, timeoutMs: 1500 });

  it("lists the tables and columns in its description", () => {
    expect(tool.definition.description).toContain(
      "berths(berth TEXT, length_m REAL, max_draught_m REAL, fee_per_day INTEGER)",
    );
  });

  it("answers a parameterised SELECT as a small table", async () => {
    const result = await tool.run({
      sql: "SELECT berth, length_m FROM berths WHERE fee_per_day > ? ORDER BY berth",
      parameters: [1500],
    });
    expect(result).toBe("berth\tlength_m\nB1\t210\nB2\t305.5");
  });

  it("cuts the answer at maxRows and says so", async () => {
    const result = await tool.run({
      sql: "WITH all_berths AS (SELECT berth FROM berths) SELECT * FROM all_berths ORDER BY berth",
    });
    expect(result.split("\n")).toEqual(["berth", "B1", "B2", "(only the first 2 rows are shown)"]);
  });

  it("refuses writes — by keyword, by SQLite's readonly flag, and for several statements", async () => {
    const before = fs.readFileSync(database.file);
    await expect(tool.run({ sql: "DELETE FROM berths" })).rejects.toThrow(
      /only SELECT or WITH queries are allowed, not DELETE/,
    );
    await expect(tool.run({ sql: "/* hi */ drop table berths" })).rejects.toThrow(/not DROP/);
    // Starts with WITH but writes: caught by stmt.readonly inside the read-only connection.
    await expect(
      tool.run({
        sql: "WITH doomed AS (SELECT 'B1' AS berth) DELETE FROM berths WHERE berth IN (SELECT berth FROM doomed)",
      }),
    ).rejects.toThrow(ToolRefusedError);
    await expect(tool.run({ sql: "SELECT 1; DELETE FROM berths" })).rejects.toThrow(/more than one statement/);
    expect(fs.readFileSync(database.file).equals(before)).toBe(true);
  });

  it("stops a query that runs past its time limit, with a message the model can act on", async () => {
    const started = Date.now();
    const endless =
      "WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter) SELECT count(*) FROM counter";
    await expect(tool.run({ sql: endless })).rejects.toThrow(/ran longer than its limit of 1500 ms and was stopped/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("charges the limit to the query, not to starting the query process", async () => {
    // Starting Node takes longer than 200 ms on a loaded machine; a one-row lookup takes well under it.
    const strict = createSqlQueryTool({ databasePath: database.file, timeoutMs: 200 });
    expect(await strict.run({ sql: "SELECT length_m FROM berths WHERE berth = ?", parameters: ["B3"] })).toBe("length_m\n150");
  });

  it("reports SQLite's own error for a bad query", async () => {
    await expect(tool.run({ sql: "SELECT nope FROM berths" })).rejects.toThrow(/SQLite: no such column: nope/);
  });
});
