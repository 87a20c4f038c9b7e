import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TokenizerLoader } from "@lenml/tokenizers";
import { loadTokenizer } from "../../tokenizer/index.js";
import { runCli } from "../testing/runCli.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-tokenizer-cli-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe("vertical tokenizer train / encode", () => {
  it("trains from text files and JSONL, writes tokenizer.json + tokenizer_config.json the HF reference reads", async () => {
    const corpus = path.join(directory, "corpus");
    fs.mkdirSync(corpus);
    const lines = Array.from({ length: 40 }, (_, index) => `第${index}号泊位今天开放。Berth ${index} opens today at ${index % 12}:00. 🚢`);
    fs.writeFileSync(path.join(corpus, "a.txt"), lines.join("\n"));
    fs.writeFileSync(path.join(corpus, "b.jsonl"), lines.map((line) => JSON.stringify({ text: line.toUpperCase() })).join("\n"));
    fs.writeFileSync(path.join(corpus, "ignored.bin"), "binary");
    const out = path.join(directory, "out", "tokenizer.json");
    const { code, out: stdout } = await runCli("tokenizer", "train", "--input", corpus, "--vocab-size", "320", "--out", out);
    expect(code).toBe(0);
    expect(stdout).toMatch(/trained on 2 files \([\d,]+ bytes\) in [\d.]+s: 320 tokens, 61 merges/);
    const config = JSON.parse(fs.readFileSync(path.join(directory, "out", "tokenizer_config.json"), "utf8")) as { chat_template: string; eos_token: string };
    expect(config.chat_template).toContain("<|im_start|>");
    expect(config.eos_token).toBe("<|endoftext|>");

    const hf = TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(fs.readFileSync(out, "utf8")), tokenizerConfig: config });
    const probe = "第7号泊位 Berth 7 🚢 new words 新词<|im_end|>";
    const { code: encodeCode, out: encoded } = await runCli("tokenizer", "encode", "--tokenizer", out, "--json", probe);
    expect(encodeCode).toBe(0);
    const { ids, pieces } = JSON.parse(encoded) as { ids: number[]; pieces: string[] };
    expect(pieces).toHaveLength(ids.length);
    expect(ids).toEqual(hf.encode(probe, { add_special_tokens: false }));
    expect(loadTokenizer(out).decode(ids)).toBe(probe);

    // convert to a vocabulary-only GGUF: same ids from it, and model info sees the tokenizer
    const vocabulary = path.join(directory, "out", "vocab.gguf");
    const { code: convertCode, out: converted } = await runCli("tokenizer", "convert", "--from", path.dirname(out), "--out", vocabulary);
    expect(convertCode).toBe(0);
    expect(converted).toContain("vocab.gguf: 320 tokens");
    const { code: fromGgufCode, out: fromGguf } = await runCli("tokenizer", "encode", "--tokenizer", vocabulary, "--json", probe);
    expect(fromGgufCode).toBe(0);
    expect((JSON.parse(fromGguf) as { ids: number[] }).ids).toEqual(ids);
    const { out: info } = await runCli("model", "info", vocabulary);
    expect(info).toMatch(/architecture: +qwen2/);
    expect(info).toMatch(/tokenizer: +gpt2 \(pre: qwen2\), 320 tokens, 61 merges, add_bos=false/);
    expect(info).toMatch(/special: +bos=317 "<\|endoftext\|>", eos=317 "<\|endoftext\|>", eot=319 "<\|im_end\|>", padding=317/);
  });

  it("reports a missing input and a bad JSONL line with file and line", async () => {
    const { code, err: stderr } = await runCli("tokenizer", "train", "--input", path.join(directory, "nope"), "--vocab-size", "300", "--out", path.join(directory, "x.json"));
    expect(code).toBe(1);
    expect(stderr).toContain("nope: no such file or directory");
    const bad = path.join(directory, "bad.jsonl");
    fs.writeFileSync(bad, '{"text": "ok"}\n{broken\n');
    const { code: badCode, err: badError } = await runCli("tokenizer", "train", "--input", bad, "--vocab-size", "300", "--out", path.join(directory, "x.json"));
    expect(badCode).toBe(1);
    expect(badError).toContain(`${bad}:2: not valid JSON`);
  });
});
