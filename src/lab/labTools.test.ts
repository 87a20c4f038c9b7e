/**
 * The tools route's wiring on a filled lab with the harbor example's tools.yaml and its real SQLite tables:
 * the route's system (llama.cpp, MCQ by generation), the backend that answers through the tool loop, the
 * tool use recorded on each scored item and read back by the report's Tools section, and the harbor chat
 * model itself (node-llama-cpp function calling) answering through the loop.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { itemsFile, readItemRecords } from "../eval/results.js";
import { runEvaluation } from "../eval/runEvaluation.js";
import { defineEvalSpec } from "../eval/spec.js";
import { createSystemBackend, type CreateSystemBackend } from "../eval/systemBackend.js";
import type { ChatModel } from "../llm/types.js";
import { ScriptedToolModel } from "../tools/testing/scriptedToolModel.js";
import { loadLabConfig } from "./labConfig.js";
import { labRetriever, labRouteSystem, TOOLS_ROUTE_CONTEXT } from "./routeSystem.js";
import { loadLabTools, toolsBackend, toolsStepInputs, withTools } from "./labTools.js";
import { readToolUse, toolsSection } from "./labToolsReport.js";
import { filledLab } from "./testing/filledLab.js";

const harbor = path.resolve("examples/harbor");
const folder = filledLab();
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
fs.copyFileSync(path.join(harbor, "tools.yaml"), path.join(folder, "tools.yaml"));
fs.mkdirSync(path.join(folder, "tables"));
fs.copyFileSync(path.join(harbor, "tables/harbor.sqlite"), path.join(folder, "tables/harbor.sqlite"));
fs.mkdirSync(path.join(folder, "models"), { recursive: true });
fs.symlinkSync(path.join(harbor, "models/base.gguf"), path.join(folder, "models/base.gguf"));
fs.symlinkSync(path.join(harbor, "models/chat.gguf"), path.join(folder, "models/chat.gguf"));
const yaml = fs.readFileSync(path.join(folder, "lab.yaml"), "utf8").replace("path: models/base.gguf", "path: models/base.gguf\n  chat: models/chat.gguf");
fs.writeFileSync(path.join(folder, "lab.yaml"), `${yaml}\nroutes: [base, tools]\n`);
const config = loadLabConfig(folder);
const toolsOf = () => loadLabTools(config, labRetriever(config));
const mcqItem = { id: "q1", question: "When is pilotage compulsory?", choices: ["over 500 GT", "never", "always", "at night"], answer: 0 };

/** A backend whose chat model is scripted: it looks a berth up in the real tables, then answers "A". */
const scriptedCreate: CreateSystemBackend = async () => {
  const model = new ScriptedToolModel((_conversation, turn) =>
    turn === 1 ? { calls: [{ name: "sql_query", arguments: { sql: "SELECT count(*) AS n FROM berths" } }, { name: "calculator", arguments: { expression: "1 +" } }] } : { text: "The answer is A." },
  ) as ScriptedToolModel & ChatModel;
  model.chat = async () => ({ text: "no tools", usage: { promptTokens: 1, completionTokens: 1 }, finishReason: "stop" });
  model.complete = model.chat as unknown as ChatModel["complete"];
  return { id: "scripted", chat: model, dispose: async () => {} };
};

describe("the tools route", () => {
  it("is the chat model through llama.cpp, MCQ by generation; its key follows tools.yaml and the database's bytes", () => {
    const system = labRouteSystem(config, "tools", { model: config.model.chat!, adapters: [], trainingTokens: null, trainingSeconds: null }, 1);
    expect(system).toMatchObject({ name: "tools", backend: "llama-cpp", scoring: "generate", chatTemplate: "auto", model: config.model.chat, contextSize: TOOLS_ROUTE_CONTEXT });
    const before = toolsStepInputs(config);
    expect(before.tools).toMatchObject({ maxRounds: 4, searchDocs: { k: 4 }, calculator: true });
    fs.appendFileSync(path.join(folder, "tables/harbor.sqlite"), Buffer.alloc(0));
    expect(toolsStepInputs(config)).toEqual(before);
    const copy = path.join(folder, "tables/harbor.sqlite");
    const bytes = fs.readFileSync(copy);
    fs.writeFileSync(copy, Buffer.concat([bytes, Buffer.alloc(512)]));
    try {
      expect(toolsStepInputs(config).database).not.toBe(before.database);
    } finally {
      fs.writeFileSync(copy, bytes);
    }
  });

  it("records each MCQ item's tool use when scored by generation, and the Tools section counts it", async () => {
    const evalDir = path.join(folder, "out-eval");
    const spec = defineEvalSpec({
      name: "tools-test",
      systems: [{ name: "tools", backend: "llama-cpp", model: config.model.chat!, scoring: "generate", maxTokens: 8 }],
      sets: [{ name: "domain-mcq", path: config.data.domainMcq }],
      baseSystem: "tools",
    });
    await runEvaluation(spec, { outDir: evalDir, createBackend: toolsBackend(scriptedCreate, "tools", toolsOf) });
    const [record] = readItemRecords(itemsFile(evalDir, "tools", "domain-mcq"));
    expect(record).toMatchObject({ id: `mcq/${mcqItem.id}`, prediction: "A", correct: true, toolUse: { made: 2, failed: 1, byTool: { sql_query: 1, calculator: 1 } } });
    const [mcq, open] = readToolUse(evalDir, ["tools"], ["domain-mcq"], "domain-open");
    expect(mcq).toEqual({ route: "tools", set: "domain-mcq", answers: 1, withCalls: 1, made: 2, failed: 1, byTool: { sql_query: 1, calculator: 1 } });
    expect(open).toMatchObject({ set: "domain-open", answers: 0, made: 0 });
    const section = toolsSection([mcq!, open!], ["search_docs", "sql_query", "calculator"])!;
    expect(section.blocks[0]).toMatchObject({ kind: "table", rows: [["tools", "domain-mcq", "1", "1", "2", "1", "sql_query 1, calculator 1"], ["tools", "domain-open", "0", "0", "0", "0", "–"]] });
    // Other systems of the same evaluation keep their own backend.
    const base = await toolsBackend(scriptedCreate, "tools", toolsOf)({ ...spec.systems[0]!, name: "base" });
    expect((await base.chat!.chat([{ role: "user", content: "?" }])).text).toBe("no tools");
  }, 60_000);

  it("asks the harbor chat model through node-llama-cpp function calling; whatever it does is counted", async () => {
    const system = defineEvalSpec({ name: "t", systems: [{ name: "tools", backend: "llama-cpp", model: config.model.chat!, threads: 1, contextSize: TOOLS_ROUTE_CONTEXT }], sets: [{ name: "s", path: config.data.domainMcq }] }).systems[0]!;
    const backend = await toolsBackend(createSystemBackend, "tools", toolsOf)(system);
    try {
      expect(backend.id).toMatch(/\+tools$/);
      const answer = await backend.chat!.chat([{ role: "user", content: "How many berths does the port have? Use the tools." }], { maxTokens: 12, temperature: 0 });
      expect(typeof answer.text).toBe("string");
      expect(answer.toolUse).toBeDefined();
      expect(answer.toolUse!.failed).toBeLessThanOrEqual(answer.toolUse!.made);
      expect(Object.values(answer.toolUse!.byTool).reduce((sum, count) => sum + count, 0)).toBe(answer.toolUse!.made);
      console.log(`harbor chat model through the tool loop: ${answer.toolUse!.made} calls (${answer.toolUse!.failed} failed), answer ${JSON.stringify(answer.text)}`);
    } finally {
      await backend.dispose();
    }
  }, 120_000);

  it("refuses a model that cannot be offered tools, naming the route", () => {
    const plain: ChatModel = { id: "plain", chat: async () => ({ text: "", usage: { promptTokens: 0, completionTokens: 0 }, finishReason: "stop" }), complete: async () => ({ text: "", usage: { promptTokens: 0, completionTokens: 0 }, finishReason: "stop" }) };
    expect(() => withTools(plain, toolsOf(), 'route "tools"')).toThrow(/the tools route needs a model that can be offered tools; plain cannot/);
  });
});
