import { afterAll, afterEach, describe, expect, it } from "vitest";
import { OpenAICompatibleBackend } from "../llm/openaiCompatible.js";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "../llm/testing/fakeOpenAIServer.js";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { runToolLoop } from "./runToolLoop.js";
import { createSearchDocsTool } from "./searchDocsTool.js";
import { createSqlQueryTool } from "./sqlQueryTool.js";
import { makeBerthDatabase } from "./testing/harborTestDatabase.js";

const database = makeBerthDatabase();
afterAll(() => database.cleanup());
let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const retriever = new Bm25Retriever([
  { id: "pilotage#0", documentId: "pilotage", text: "Pilotage is compulsory for vessels longer than 150 metres." },
]);

describe("the tool loop against an OpenAI-compatible server on loopback", () => {
  it("sends tools, receives tool_calls, returns tool messages by tool_call_id, and gets the answer", async () => {
    server = await startFakeOpenAIServer({
      toolTurn: ({ messages }) => {
        const results = messages.filter((message) => message.role === "tool");
        if (results.length === 0)
          return {
            content: null,
            toolCalls: [
              { name: "search_docs", arguments: JSON.stringify({ query: "pilotage" }) },
              { name: "sql_query", arguments: JSON.stringify({ sql: "SELECT max(length_m) AS longest FROM berths" }) },
            ],
          };
        return {
          content: `From the tools: ${results.map((message) => String(message.content).split("\n").at(-1)).join(" | ")}`,
        };
      },
    });
    const backend = new OpenAICompatibleBackend({
      model: "tiny",
      baseUrl: server.baseUrl,
      baseDelayMs: 5,
      maxRetries: 1,
      timeoutMs: 5000,
    });
    const tools = [createSearchDocsTool(retriever), createSqlQueryTool({ databasePath: database.file })];
    const result = await runToolLoop(backend, tools, [{ role: "user", content: "Pilot? Longest berth?" }]);

    expect(result.answer).toBe(
      "From the tools: [1] (pilotage) Pilotage is compulsory for vessels longer than 150 metres. | 305.5",
    );
    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests.map((request) => request.body);
    expect(first!.tools).toEqual([
      expect.objectContaining({
        type: "function",
        function: expect.objectContaining({
          name: "search_docs",
          parameters: expect.objectContaining({ required: ["query"] }),
        }),
      }),
      expect.objectContaining({ type: "function", function: expect.objectContaining({ name: "sql_query" }) }),
    ]);
    const sent = second!.messages as Record<string, unknown>[];
    expect(sent.map((message) => message.role)).toEqual(["user", "assistant", "tool", "tool"]);
    const calls = sent[1]!.tool_calls as { id: string; function: { name: string; arguments: string } }[];
    expect(calls.map((call) => call.function.name)).toEqual(["search_docs", "sql_query"]);
    expect(sent.slice(2).map((message) => message.tool_call_id)).toEqual(calls.map((call) => call.id));
  });
});
