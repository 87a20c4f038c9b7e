import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../shared/errors.js";
import { makeBerthDatabase } from "./testing/harborTestDatabase.js";
import { buildTools, parseToolsConfig, readToolsConfig } from "./toolsConfig.js";

const database = makeBerthDatabase();
afterAll(() => database.cleanup());

describe("tools YAML", () => {
  it("reads a tools file, resolves the database next to it, and builds the tools it names", () => {
    const dir = path.dirname(database.file);
    const file = path.join(dir, "tools.yaml");
    fs.writeFileSync(
      file,
      "tools:\n  maxRounds: 3\n  sql:\n    database: harbor.sqlite\n    maxRows: 5\n  calculator: true\n",
    );
    const config = readToolsConfig(file);
    expect(config).toEqual({
      maxRounds: 3,
      sql: { database: "harbor.sqlite", maxRows: 5, timeoutMs: 2000 },
      calculator: true,
    });
    expect(buildTools(config, { baseDir: dir }).map((tool) => tool.definition.name)).toEqual([
      "sql_query",
      "calculator",
    ]);
  });

  it("names the field and the value found when the config is wrong", () => {
    expect(() =>
      parseToolsConfig(
        { maxRounds: 0, sql: { database: "x.sqlite", timeoutMs: "fast" }, shell: true },
        "lab.yaml tools",
      ),
    ).toThrow(
      /lab\.yaml tools: invalid tools config:\n {2}maxRounds: maxRounds must be at least 1 \(found 0\)\n {2}sql\.timeoutMs: timeoutMs must be a number \(found "fast"\)\n {2}tools: Unrecognized key: "shell"/,
    );
  });

  it("refuses searchDocs without a retriever and a database that does not exist", () => {
    expect(() => buildTools(parseToolsConfig({ searchDocs: {} }, "t"), { baseDir: os.tmpdir() })).toThrow(ConfigError);
    expect(() =>
      buildTools(parseToolsConfig({ sql: { database: "missing.sqlite" } }, "t"), { baseDir: os.tmpdir() }),
    ).toThrow(/missing\.sqlite: the SQL tool's database does not exist/);
  });
});
