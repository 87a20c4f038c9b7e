import { afterEach, describe, expect, it } from "vitest";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "../../llm/testing/fakeOpenAIServer.js";
import { runCli } from "../testing/runCli.js";

let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("vertical tools ask", () => {
  it("runs the harbor tools against an OpenAI-compatible endpoint and prints the calls and the answer", async () => {
    server = await startFakeOpenAIServer({
      toolTurn: ({ messages }) => {
        const results = messages.filter((message) => message.role === "tool");
        if (results.length === 0)
          return {
            content: null,
            toolCalls: [
              { name: "sql_query", arguments: JSON.stringify({ sql: "SELECT max(max_loa_m) AS longest FROM berths" }) },
              { name: "sql_query", arguments: JSON.stringify({ sql: "DROP TABLE berths" }) },
            ],
          };
        return { content: `The longest limit is ${String(results[0]!.content).split("\n")[1]} m.` };
      },
    });
    const run = await runCli(
      "tools",
      "ask",
      "Longest berth?",
      "--tools",
      "examples/harbor/tools.yaml",
      "--docs",
      "examples/harbor/docs",
      "--endpoint",
      server.baseUrl,
    );
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    expect(run.out).toBe(
      [
        'round 1 sql_query({"sql":"SELECT max(max_loa_m) AS longest FROM berths"}) -> longest',
        'round 1 sql_query({"sql":"DROP TABLE berths"}) -> [error] Error: tool sql_query: only SELECT or WITH queries are allowed, not DROP',
        "The longest limit is 375 m.",
        "",
      ].join("\n"),
    );
  });

  it("refuses to run without exactly one model", async () => {
    const run = await runCli("tools", "ask", "q", "--tools", "examples/harbor/tools.yaml");
    expect(run.code).not.toBe(0);
    expect(run.err).toContain("give exactly one of --model (a GGUF) or --endpoint");
  });
});
