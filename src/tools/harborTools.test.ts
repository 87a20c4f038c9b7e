import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { chunkDocuments } from "../rag/chunkDocuments.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import { runToolLoop } from "./runToolLoop.js";
import { lastToolResult, ScriptedToolModel } from "./testing/scriptedToolModel.js";
import { buildTools, offeredToolNames, readToolsConfig } from "./toolsConfig.js";

const harbor = path.resolve("examples/harbor");
const questions = fs
  .readFileSync(path.join(harbor, "eval/open-tables.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as { id: string; question: string; reference: string });

describe("the harbor example's tools", () => {
  const retriever = new Bm25Retriever(chunkDocuments(readTextDocuments(path.join(harbor, "docs"))));
  const tools = buildTools(readToolsConfig(path.join(harbor, "tools.yaml")), { baseDir: harbor, retriever });

  it("offers search_docs, sql_query over tables/harbor.sqlite, and the calculator", () => {
    expect(tools.map((tool) => tool.definition.name)).toEqual(["search_docs", "sql_query", "calculator"]);
    // The lab report names them without building them (no database opened): the same names, in the same order.
    expect(offeredToolNames(readToolsConfig(path.join(harbor, "tools.yaml")))).toEqual(tools.map((tool) => tool.definition.name));
    expect(tools[1]!.definition.description).toContain(
      "berths(berth TEXT, terminal_en TEXT, terminal_zh TEXT, max_loa_m REAL, max_draft_m REAL)",
    );
  });

  it("answers the berth-hire table question by a lookup and a calculation that match its reference", async () => {
    const question = questions.find((item) => item.id === "harbor-table-003")!;
    const berth = /Berth (Q\d+)'s/.exec(question.question)![1]!;
    const model = new ScriptedToolModel((conversation, turn) => {
      if (turn === 1)
        return {
          calls: [
            {
              name: "sql_query",
              arguments: { sql: "SELECT max_loa_m FROM berths WHERE berth = ?", parameters: [berth] },
            },
            { name: "sql_query", arguments: { sql: "SELECT amount FROM fees WHERE fee_id = 'fee.berth-hire'" } },
          ],
        };
      if (turn === 2) {
        const [loa, rate] = conversation
          .filter((message) => message.role === "tool")
          .map((message) => message.content.split("\n")[1]);
        return { calls: [{ name: "calculator", arguments: { expression: `${rate} * ${loa} * 3` } }] };
      }
      return { text: `CNY ${lastToolResult(conversation)}` };
    });
    const result = await runToolLoop(model, tools, [{ role: "user", content: question.question }]);
    expect(question.reference.startsWith(`${result.answer} (`)).toBe(true);
  });
});
