import path from "node:path";
import { describe, expect, it } from "vitest";
import type { ChatModel } from "../llm/types.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { chunkDocuments } from "../rag/chunkDocuments.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import { ScriptedToolModel } from "./testing/scriptedToolModel.js";
import { countToolCalls, toolLoopChatModel } from "./toolLoopChatModel.js";
import { buildTools, readToolsConfig } from "./toolsConfig.js";

const harbor = path.resolve("examples/harbor");
const retriever = new Bm25Retriever(chunkDocuments(readTextDocuments(path.join(harbor, "docs"))));
// The example's own tools: search_docs over its documents, sql_query over the real tables/harbor.sqlite, calculator.
const tools = buildTools(readToolsConfig(path.join(harbor, "tools.yaml")), { baseDir: harbor, retriever });

/** A scripted tool model that is also a ChatModel (its plain completion says so, to tell the paths apart). */
function chatToolModel(script: ConstructorParameters<typeof ScriptedToolModel>[0]): ScriptedToolModel & ChatModel {
  const model = new ScriptedToolModel(script) as ScriptedToolModel & ChatModel;
  model.chat = async () => {
    throw new Error("chat() is never asked: the loop goes through chatWithTools");
  };
  model.complete = async () => ({ text: "completed", usage: { promptTokens: 1, completionTokens: 1 }, finishReason: "stop" });
  return model;
}

describe("the tool loop as a ChatModel", () => {
  it("answers with the loop's final text and counts the calls made, failed and per tool", async () => {
    const model = chatToolModel((_conversation, turn) => {
      if (turn === 1)
        return {
          calls: [
            { name: "sql_query", arguments: { sql: "SELECT max_loa_m FROM berths WHERE berth = ?", parameters: ["Q01"] } },
            { name: "sql_query", arguments: { sql: "DELETE FROM berths" } }, // refused: the tables are read-only
            { name: "search_docs", arguments: { query: 7 } }, // fails the schema: query is a string
          ],
        };
      if (turn === 2) return { calls: [{ name: "weather", arguments: {} }] }; // no such tool
      return { text: "B" };
    });
    const asked = toolLoopChatModel(model, tools, { maxRounds: 3 });
    expect(asked.id).toBe("scripted-tools+tools(search_docs,sql_query,calculator)");
    const answer = await asked.chat([{ role: "user", content: "Which berth is longest? A) Q01 B) Q02" }]);
    expect(answer.text).toBe("B");
    expect(answer.toolUse).toEqual({ made: 4, failed: 3, byTool: { sql_query: 2, search_docs: 1, weather: 1 } });
    // The real SQLite answered the lookup: the model read a row back.
    const lookup = model.turns[1]!.messages.find((message) => message.role === "tool")!;
    expect(lookup.content.split("\n")[0]).toBe("max_loa_m");
    expect(Number(lookup.content.split("\n")[1])).toBeGreaterThan(0);
  }, 30_000);

  it("withdraws the tools after maxRounds and still answers; no calls is a count of 0, not a missing one", async () => {
    const looping = chatToolModel((_conversation, turn) => (turn <= 2 ? { calls: [{ name: "calculator", arguments: { expression: "2 * 3" } }] } : { text: "6" }));
    const answer = await toolLoopChatModel(looping, tools, { maxRounds: 2 }).chat([{ role: "user", content: "2 * 3?" }]);
    expect(answer.text).toBe("6");
    expect(answer.toolUse).toEqual({ made: 2, failed: 0, byTool: { calculator: 2 } });
    expect(looping.turns.at(-1)!.tools).toEqual([]);
    const silent = chatToolModel(() => ({ text: "A" }));
    expect((await toolLoopChatModel(silent, tools).chat([{ role: "user", content: "?" }])).toolUse).toEqual({ made: 0, failed: 0, byTool: {} });
    // Plain completion has no turns for tools: it is the model's own.
    expect((await toolLoopChatModel(silent, tools).complete("Q:")).text).toBe("completed");
    expect(countToolCalls([])).toEqual({ made: 0, failed: 0, byTool: {} });
  });
});
