import { afterAll, describe, expect, it } from "vitest";
import type { ToolConversationMessage } from "../llm/toolChat.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { createCalculatorTool } from "./calculatorTool.js";
import { runToolLoop } from "./runToolLoop.js";
import { createSearchDocsTool } from "./searchDocsTool.js";
import { createSqlQueryTool } from "./sqlQueryTool.js";
import { lastToolResult, ScriptedToolModel } from "./testing/scriptedToolModel.js";
import { makeBerthDatabase } from "./testing/harborTestDatabase.js";

const database = makeBerthDatabase();
afterAll(() => database.cleanup());

const retriever = new Bm25Retriever([
  {
    id: "pilotage#0",
    documentId: "pilotage",
    text: "Pilotage is compulsory for vessels longer than 150 metres entering the inner harbour.",
  },
  {
    id: "waste#0",
    documentId: "waste",
    text: "Ships must deliver oily waste to the reception facility before departure.",
  },
]);
const tools = [
  createSearchDocsTool(retriever),
  createSqlQueryTool({ databasePath: database.file }),
  createCalculatorTool(),
];
const question: ToolConversationMessage[] = [
  { role: "user", content: "Which berth is longest, its fee, and must I take a pilot?" },
];

function toolResults(conversation: ToolConversationMessage[]): Map<string, string> {
  return new Map(
    conversation.flatMap((message) => (message.role === "tool" ? [[message.name, message.content] as const] : [])),
  );
}

describe("runToolLoop with a scripted model", () => {
  it("runs search_docs and sql_query, sends the results back, and returns the answer built from them", async () => {
    const model = new ScriptedToolModel((conversation, turn) => {
      if (turn === 1)
        return {
          calls: [
            { name: "search_docs", arguments: { query: "pilotage compulsory vessels", k: 1 } },
            {
              name: "sql_query",
              arguments: {
                sql: "SELECT berth, fee_per_day FROM berths ORDER BY length_m DESC LIMIT ?",
                parameters: [1],
              },
            },
          ],
        };
      const results = toolResults(conversation);
      const [, row] = results.get("sql_query")!.split("\n");
      const [berth, fee] = row!.split("\t");
      const passage = results.get("search_docs")!.split("\n")[0]!;
      return {
        text: `${berth} is the longest (fee ${fee} per day). ${passage.replace(/^\[1\] \(pilotage\) /, "")} [1]`,
      };
    });
    const result = await runToolLoop(model, tools, question);
    expect(result.answer).toBe(
      "B2 is the longest (fee 2600 per day). Pilotage is compulsory for vessels longer than 150 metres entering the inner harbour. [1]",
    );
    expect(result.stoppedBy).toBe("answer");
    expect(result.calls.map((record) => [record.call.name, record.ok])).toEqual([
      ["search_docs", true],
      ["sql_query", true],
    ]);
    expect(model.turns[0]!.tools).toEqual(["search_docs", "sql_query", "calculator"]);
    // The second turn saw the assistant's calls and one result per call, paired by id.
    const second = model.turns[1]!.messages;
    expect(second.map((message) => message.role)).toEqual(["user", "assistant", "tool", "tool"]);
    const asked = second[1] as { toolCalls: { id: string }[] };
    expect(second.slice(2).map((message) => (message as { toolCallId: string }).toolCallId)).toEqual(
      asked.toolCalls.map((call) => call.id),
    );
  });

  it("sends arguments that fail the schema back to the model as an error, and lets it retry", async () => {
    const seen: string[] = [];
    const model = new ScriptedToolModel((conversation, turn) => {
      if (turn > 1) seen.push(lastToolResult(conversation));
      if (turn === 1) return { calls: [{ name: "search_docs", arguments: { k: 3 } }] };
      if (turn === 2) return { calls: [{ name: "calculator", arguments: "{expression: 2+2" }] };
      if (turn === 3) return { calls: [{ name: "search_docs", arguments: { query: "waste", k: 99 } }] };
      if (turn === 4) return { calls: [{ name: "calculator", arguments: { expression: "2 + 2" } }] };
      return { text: `four: ${lastToolResult(conversation)}` };
    });
    const result = await runToolLoop(model, tools, question, { maxRounds: 5 });
    expect(seen[0]).toMatch(
      /^Error: tool search_docs: the arguments do not match the schema: .*expected string.*\n.*→ at query/s,
    );
    expect(seen[1]).toMatch(/^Error: tool calculator: the arguments are not valid JSON/);
    expect(seen[2]).toMatch(/Too big: expected number to be <=10/);
    expect(result.answer).toBe("four: 4");
    expect(result.calls.map((record) => record.ok)).toEqual([false, false, false, true]);
  });

  it("names the tools when the model calls one that does not exist, and turns a tool's refusal into a message", async () => {
    const model = new ScriptedToolModel((conversation, turn) => {
      if (turn === 1) return { calls: [{ name: "web_search", arguments: {} }] };
      if (turn === 2)
        return { calls: [{ name: "sql_query", arguments: { sql: "UPDATE berths SET fee_per_day = 0" } }] };
      return { text: lastToolResult(conversation) };
    });
    const result = await runToolLoop(model, tools, question);
    expect(result.calls[0]!.result).toBe(
      'Error: there is no tool named "web_search"; the tools are search_docs, sql_query, calculator.',
    );
    expect(result.answer).toMatch(/^Error: tool sql_query: only SELECT or WITH queries are allowed, not UPDATE\nHint:/);
  });

  it("withdraws the tools after maxRounds so the model has to answer", async () => {
    const model = new ScriptedToolModel((_conversation, turn) =>
      turn <= 2
        ? { calls: [{ name: "calculator", arguments: { expression: `${turn} * 10` } }] }
        : { text: "done", calls: [{ name: "calculator", arguments: { expression: "1" } }] },
    );
    const result = await runToolLoop(model, tools, question, { maxRounds: 2 });
    expect(model.turns.map((turn) => turn.tools.length)).toEqual([3, 3, 0]);
    expect(result).toMatchObject({ answer: "done", stoppedBy: "max-rounds" });
    expect(result.calls.map((record) => record.result)).toEqual(["10", "20"]);
  });
});
