import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, InputError } from "../shared/errors.js";
import { loadRunConfig, parseRunConfig, rawConfigFromFlags } from "./config.js";
import { errorOf } from "./testing/errorOf.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-train-config-"));
const model = path.join(dir, "m.gguf");
const text = path.join(dir, "corpus.txt");
const chat = path.join(dir, "chat.jsonl");
fs.writeFileSync(model, "GGUF");
fs.writeFileSync(text, "hello world");
fs.writeFileSync(chat, `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n`);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = { model, out: path.join(dir, "run"), data: text, steps: 10 };

describe("parseRunConfig", () => {
  it("applies documented defaults", () => {
    const config = parseRunConfig(base, "test");
    expect(config.method).toBe("lora");
    expect(config.lora).toMatchObject({ rank: 16, alpha: 32, targets: ["q", "k", "v", "o", "gate", "up", "down"] });
    expect(config.optimizer.lr).toBe(2e-4);
    expect(config.batch).toEqual({ sequenceLength: 256, sequences: 8, accumulation: 1, attention: "per-document" });
    expect(config.data).toEqual([{ path: text, kind: "text", weight: 1 }]);
  });

  it("names the field for rank 0, lr <= 0 and an unknown target module", () => {
    const rank = errorOf(() => parseRunConfig({ ...base, lora: { rank: 0 } }, "run.yaml"));
    expect(rank).toBeInstanceOf(ConfigError);
    expect(rank.message).toMatch(/run\.yaml: invalid training config/);
    expect(rank.message).toMatch(/lora\.rank: .*>=\s*1.*\(got 0\)/);
    const lr = errorOf(() => parseRunConfig({ ...base, optimizer: { lr: 0 } }, "run.yaml"));
    expect(lr.message).toMatch(/optimizer\.lr: lr must be > 0 \(got 0\)/);
    const target = errorOf(() => parseRunConfig({ ...base, lora: { targets: ["q", "qkv"] } }, "run.yaml"));
    expect(target.message).toMatch(/lora\.targets\[1\]: unknown target module "qkv"; expected one of q, k, v, o, gate, up, down/);
  });

  it("accepts Hugging Face and GGUF module names", () => {
    const config = parseRunConfig({ ...base, lora: { targets: ["q_proj", "attn_v", "down"] } }, "t");
    expect(config.lora.targets).toEqual(["q", "v", "down"]);
  });

  it("reports a missing data file with the field", () => {
    const error = errorOf(() => parseRunConfig({ ...base, data: ["nope.txt"] }, "run.yaml", dir));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain("run.yaml: data[0].path");
    expect(error.message).toContain("nope.txt does not exist");
  });

  it("guesses chat data and refuses it for cpt", () => {
    expect(parseRunConfig({ ...base, data: chat, objective: "sft" }, "t").data[0]!.kind).toBe("chat");
    expect(() => parseRunConfig({ ...base, data: chat, objective: "cpt" }, "t")).toThrow(/objective cpt/);
    expect(() => parseRunConfig({ ...base, objective: "sft" }, "t")).toThrow(/sft needs chat data/);
  });

  it("rejects unknown keys", () => {
    expect(errorOf(() => parseRunConfig({ ...base, learningRate: 1 }, "t")).message).toMatch(/learningRate/);
  });
});

describe("loadRunConfig", () => {
  it("resolves paths against the YAML file and reports YAML syntax errors with a line", () => {
    const recipe = path.join(dir, "recipe.yaml");
    fs.writeFileSync(recipe, "model: m.gguf\nout: run\ndata: corpus.txt\nsteps: 3\nlora:\n  rank: 4\n");
    const config = loadRunConfig(recipe);
    expect(config.model).toBe(model);
    expect(config.lora.rank).toBe(4);
    const broken = path.join(dir, "broken.yaml");
    fs.writeFileSync(broken, "model: m.gguf\nsteps: [1,\n");
    expect(errorOf(() => loadRunConfig(broken)).message).toMatch(/broken\.yaml:\d+: not valid YAML/);
  });
});

describe("rawConfigFromFlags", () => {
  it("maps quick flags onto the schema", () => {
    const raw = rawConfigFromFlags({ model, data: [text], rank: 8, lr: 1e-3, steps: 5, out: "r", method: "full" });
    const config = parseRunConfig(raw, "flags");
    expect(config.lora.rank).toBe(8);
    expect(config.optimizer.lr).toBe(1e-3);
    expect(config.method).toBe("full");
    const engine = parseRunConfig(rawConfigFromFlags({ model, data: [text], steps: 5, out: "r", method: "full", attention: "across-documents", compute: "bf16", blas: "off" }), "flags");
    expect([engine.batch.attention, engine.compute, engine.blas]).toEqual(["across-documents", "bf16", "off"]);
    expect(() => parseRunConfig(rawConfigFromFlags({ model, data: [text], steps: 5, out: "r", attention: "sideways" }), "flags")).toThrow(/batch\.attention/);
  });
});
