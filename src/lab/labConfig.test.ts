import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { initLab, LAB_YAML_TEMPLATE } from "./initLab.js";
import { labJsonSchema, loadLabConfig, parseLabConfig } from "./labConfig.js";
import { isDefaultRoute, ROUTE_NAMES, stagesFor } from "./routes.js";
import { filledLab } from "./testing/filledLab.js";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

/** A filled scaffold with a (fake, existing) base model, so only the field under test can fail. */
function scaffold(): string {
  const folder = filledLab();
  folders.push(folder);
  fs.writeFileSync(path.join(folder, "models/base.gguf"), "GGUF");
  return folder;
}

function withYaml(folder: string, edit: (raw: Record<string, unknown>) => void): string {
  const raw = parseYaml(LAB_YAML_TEMPLATE) as Record<string, unknown>;
  edit(raw);
  fs.writeFileSync(path.join(folder, "lab.yaml"), JSON.stringify(raw));
  return folder;
}

describe("lab.yaml", () => {
  it("refuses the placeholders `lab init` wrote, naming the file and line, before any work", () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), "lab-config-"));
    folders.push(fresh);
    initLab(fresh);
    fs.writeFileSync(path.join(fresh, "models/base.gguf"), "GGUF");
    // The docs README (an untouched init file) would be indexed and trained on as a document.
    expect(() => loadLabConfig(fresh)).toThrow(/docs\/README\.md \(lab\.yaml data\.docs\): docs\/README\.md is still the example `vertical lab init` wrote, not data/);
    const folder = scaffold();
    fs.appendFileSync(path.join(folder, "sft/chat.jsonl"), '{"messages": [{"role": "user", "content": "Replace me: a user question"}, {"role": "assistant", "content": "x"}]}\n');
    expect(() => loadLabConfig(folder)).toThrow(/sft\/chat\.jsonl:2 \(lab\.yaml data\.sft\)/);
  });

  it("loads a filled scaffold with every route but the chat ones (no model.chat), base first", () => {
    const config = loadLabConfig(scaffold());
    expect(config.routes).toEqual(ROUTE_NAMES.filter((route) => !route.startsWith("chat") && isDefaultRoute(route)));
    expect(config.model.path).toMatch(/models\/base\.gguf$/);
    expect(config.budgets.cpt.steps).toBe(200);
    expect(path.isAbsolute(config.data.docs)).toBe(true);
  });

  it("loads the shipped example", () => {
    const config = loadLabConfig("examples/harbor");
    // The demo starts from the shipped model: it never pre-trains one (npm run example:base does).
    expect(config.model.build).toBeUndefined();
    expect(config.model.path).toBe(path.resolve("examples/harbor/models/base.gguf"));
    expect(config.routes[0]).toBe("base");
  });

  it("rejects a missing base model before any work, naming the field and the path", () => {
    const folder = scaffold();
    fs.rmSync(path.join(folder, "models/base.gguf"));
    expect(() => loadLabConfig(folder)).toThrow(/lab\.yaml: model\.path: base model not found: .*models\/base\.gguf/);
  });

  it("refuses the chat routes without model.chat, and runs them by default with one", () => {
    const folder = withYaml(scaffold(), (raw) => {
      raw.routes = ["base", "sft", "chat-sft"];
    });
    expect(() => loadLabConfig(folder)).toThrow(/lab\.yaml: routes: routes chat-sft need a chat model, and model\.chat is not set/);
    withYaml(folder, (raw) => {
      (raw.model as Record<string, unknown>).chat = "models/chat.gguf";
    });
    expect(() => loadLabConfig(folder)).toThrow(/model\.chat: chat model not found: .*models\/chat\.gguf/);
    fs.writeFileSync(path.join(folder, "models/chat.gguf"), "GGUF");
    const config = loadLabConfig(folder);
    expect(config.routes).toEqual(ROUTE_NAMES.filter(isDefaultRoute));
    // The prompt-design routes are opt-in: listed, they run.
    expect(ROUTE_NAMES.filter((route) => !isDefaultRoute(route))).toEqual(["retrieval-dense", "retrieval-hybrid", "retrieval-rerank", "retrieval-embedder", "tools", "few-shot-knn", "soft-prompt", "chat-soft-prompt", "prompt-opt", "calibrated"]);
    expect(config.model.chat).toBe(path.join(folder, "models/chat.gguf"));
    expect(stagesFor(["base", "chat", "chat-sft-small", "sft-small"])).toEqual(["chat-sft-small", "sft-small"]);
  });

  it("refuses the tools route without model.chat, without tools.yaml, and with a tools.yaml whose database is missing", () => {
    const folder = withYaml(scaffold(), (raw) => {
      raw.routes = ["base", "tools"];
    });
    // `vertical lab --check` loads the config first: this is what it prints.
    expect(() => loadLabConfig(folder)).toThrow(/lab\.yaml: routes: routes tools need a chat model, and model\.chat is not set/);
    fs.writeFileSync(path.join(folder, "models/chat.gguf"), "GGUF");
    withYaml(folder, (raw) => {
      raw.routes = ["base", "tools"];
      (raw.model as Record<string, unknown>).chat = "models/chat.gguf";
    });
    expect(() => loadLabConfig(folder)).toThrow(/route tools needs the lab's tools, and tools\.yaml is not in the folder/);
    fs.writeFileSync(path.join(folder, "tools.yaml"), "tools:\n  sql: { database: tables/missing.sqlite }\n  calculator: true\n");
    expect(() => loadLabConfig(folder)).toThrow(/tools\.yaml: tools\.sql\.database: the SQLite file of sql_query not found: .*tables\/missing\.sqlite/);
    fs.writeFileSync(path.join(folder, "tools.yaml"), "tools:\n  calculator: 3\n");
    expect(() => loadLabConfig(folder)).toThrow(/calculator: calculator must be true or false/);
    fs.writeFileSync(path.join(folder, "tools.yaml"), "tools:\n  calculator: true\n");
    expect(loadLabConfig(folder).routes).toEqual(["base", "tools"]);
  });

  it("gives the embedder training small defaults and validates budgets.embedder", () => {
    const config = loadLabConfig(withYaml(scaffold(), (raw) => (raw.routes = ["base", "retrieval-embedder"])));
    expect(config.budgets.embedder).toEqual({ steps: 30, batch: 8 });
    const bad = withYaml(scaffold(), (raw) => {
      (raw.budgets as Record<string, unknown>).embedder = { steps: 10, batch: 1 };
    });
    expect(() => loadLabConfig(bad)).toThrow(/budgets\.embedder\.batch: batch must be at least 2 \(in-batch negatives need two queries\) \(found 1\)/);
  });

  it("rejects a model section with neither path nor build", () => {
    const folder = withYaml(scaffold(), (raw) => {
      raw.model = { chatTemplate: "auto" };
    });
    expect(() => loadLabConfig(folder)).toThrow(/model: give the base model: `path: some.gguf` or a `build:` recipe/);
  });

  it("rejects an unknown route, listing the known ones", () => {
    const folder = withYaml(scaffold(), (raw) => {
      raw.routes = ["base", "rlhf"];
    });
    expect(() => loadLabConfig(folder)).toThrow(/routes\[1\]: unknown route "rlhf"; known routes: base, few-shot, retrieval/);
  });

  it("rejects a budget of 0 with the field and the value found", () => {
    const folder = withYaml(scaffold(), (raw) => {
      (raw.budgets as Record<string, unknown>).sft = { steps: 0 };
    });
    expect(() => loadLabConfig(folder)).toThrow(/budgets\.sft\.steps: steps must be at least 1 \(a budget of 0 would train or evaluate nothing\) \(found 0\)/);
    const minutes = withYaml(scaffold(), (raw) => {
      (raw.budgets as Record<string, unknown>).cpt = { steps: 5, minutes: 0 };
    });
    expect(() => loadLabConfig(minutes)).toThrow(/budgets\.cpt\.minutes: minutes must be > 0/);
  });

  it("rejects a misspelt field instead of ignoring it", () => {
    const folder = withYaml(scaffold(), (raw) => {
      raw.budget = { cpt: { steps: 1 } };
    });
    expect(() => loadLabConfig(folder)).toThrow(/\(top level\): Unrecognized key: "budget"/);
  });

  it("requires SFT data only when a route trains on it", () => {
    const folder = scaffold();
    fs.rmSync(path.join(folder, "sft"), { recursive: true });
    expect(() => loadLabConfig(folder)).toThrow(/data\.sft: SFT conversations not found/);
    withYaml(folder, (raw) => {
      raw.routes = ["base", "retrieval", "cpt"];
    });
    expect(loadLabConfig(folder).routes).toEqual(["base", "retrieval", "cpt"]);
  });

  it("gives a clear error for a folder without lab.yaml and for broken YAML", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "lab-empty-"));
    folders.push(folder);
    expect(() => loadLabConfig(folder)).toThrow(/cannot read lab config/);
    fs.writeFileSync(path.join(folder, "lab.yaml"), "routes: [base\nseed: 1\n");
    expect(() => loadLabConfig(folder)).toThrow(/lab\.yaml:\d+: not valid YAML/);
  });

  it("refuses to overwrite an existing lab.yaml", () => {
    expect(() => initLab(scaffold())).toThrow(/already exists/);
  });

  it("orders training stages so a stage follows the one it starts from", () => {
    expect(stagesFor(["base", "cpt-sft", "retrieval-sft", "sft"])).toEqual(["cpt-general", "cpt-sft", "sft"]);
    expect(stagesFor(["base", "few-shot", "retrieval"])).toEqual([]);
  });

  it("exports a JSON schema listing the fields", () => {
    const schema = labJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["model", "routes", "budgets", "training", "retrieval"]));
    expect(() => parseLabConfig({ model: { path: "x.gguf" }, routes: [] }, "mem.yaml", os.tmpdir())).toThrow(/routes: routes must list at least one route/);
  });
});
