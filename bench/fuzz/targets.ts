/**
 * The readers the fuzzer attacks: each has a valid seed file (built here, tiny) and the call a user's command makes
 * on such a file. Every mutated file must end in a result or in a VerticalError that names the file (bench/fuzz/outcome.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { describeGguf, encodeGguf, gguf, readGguf } from "../../src/engine/gguf/index.js";
import { parseDocumentFile } from "../../src/data/parseDocumentFile.js";
import { makeDocx, makePdf } from "../../src/data/testing/documentFiles.js";
import { loadEvalSpec } from "../../src/eval/spec.js";
import { loadMcq } from "../../src/eval/mcq/loadMcq.js";
import { loadLabConfig } from "../../src/lab/labConfig.js";
import { readConversations } from "../../src/lab/prepareLabData.js";
import { filledLab } from "../../src/lab/testing/filledLab.js";
import { loadTokenizer } from "../../src/tokenizer/loadTokenizer.js";
import { trainBpe, writeTrainedTokenizer } from "../../src/tokenizer/trainBpe.js";
import { loadRunConfig } from "../../src/train/config.js";

export interface FuzzTarget {
  name: string;
  /** The file name the mutated bytes are written to (inside a fresh folder per case). */
  fileName: string;
  /** A valid file; `folder` may hold companions the reader needs (they are never mutated). */
  seed(folder: string): Uint8Array;
  /** Reads the file as the CLI would; returns nothing useful, only must not crash. */
  read(file: string): unknown;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

function smallGguf(): Uint8Array {
  const metadata = new Map([
    ["general.architecture", gguf.string("llama")],
    ["general.name", gguf.string("tiny 模型")],
    ["general.alignment", gguf.uint32(32)],
    ["test.i8", gguf.int8(-3)],
    ["test.u16", gguf.uint16(65535)],
    ["test.f32", gguf.float32(0.5)],
    ["test.f64", gguf.float64(Math.PI)],
    ["test.u64", gguf.uint64(1n << 40n)],
    ["test.bool", gguf.bool(true)],
    ["test.strings", gguf.stringArray(["a", "中文", ""])],
    ["test.int32s", gguf.numberArray("int32", [1, -2, 3])],
    ["test.nested", gguf.nestedArray([gguf.stringArray(["x"]), gguf.boolArray([false])])],
  ]);
  const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
  return encodeGguf({
    metadata,
    tensors: [
      { name: "a.weight", shape: [4, 2], type: 0, data: f32([1, 2, 3, 4, 5, 6, 7, 8]) },
      { name: "b.weight", shape: [3], type: 0, data: f32([0.25, -1, 2]) },
    ],
  });
}

function readGgufFully(file: string): unknown {
  const parsed = readGguf(file);
  describeGguf(parsed);
  return parsed.tensors.map((tensor) => parsed.tensorData(tensor.name).length);
}

const MCQ_JSONL = [
  { question: "What is the terminal for Berth Q11?", choices: ["East Cape", "Luzhou", "Nanwan", "Baisha"], answer: 0 },
  { question: "Q04号泊位属于哪个码头？", A: "东岬", B: "鹭洲", C: "南湾", D: "白沙", answer: "C", subject: "harbor" },
]
  .map((item) => JSON.stringify(item))
  .join("\n");

const MCQ_CSV = "id,question,A,B,C,D,answer\n1,\"Which berth, if any?\",Q01,Q02,Q03,Q04,B\n2,问题二,甲,乙,丙,丁,D\n";

const SFT_JSONL = [
  { messages: [{ role: "system", content: "You answer." }, { role: "user", content: "Berth Q11?" }, { role: "assistant", content: "East Cape." }] },
  { messages: [{ role: "user", content: "泊位？" }, { role: "assistant", content: "南湾。" }, { role: "user", content: "And?" }, { role: "assistant", content: "No." }] },
]
  .map((item) => JSON.stringify(item))
  .join("\n");

const TRAIN_YAML = `model: base.gguf
out: run
objective: sft
data:
  - { path: chat.jsonl, weight: 1 }
method: lora
lora: { rank: 4, alpha: 8, targets: [q, v] }
optimizer: { lr: 2e-4 }
schedule: { kind: cosine, warmupSteps: 2, minLrRatio: 0.1 }
steps: 5
`;

const EVAL_YAML = `name: fuzz
systems:
  - { name: base, backend: engine, model: base.gguf, scoring: option }
sets:
  - { name: mcq, kind: mcq, path: mcq.jsonl, shots: 0, limit: 5 }
`;

/** The companions a config points at, so the reader gets past "file not found" into the file's own content. */
function writeCompanions(folder: string): void {
  fs.writeFileSync(path.join(folder, "base.gguf"), smallGguf());
  fs.writeFileSync(path.join(folder, "chat.jsonl"), SFT_JSONL);
  fs.writeFileSync(path.join(folder, "mcq.jsonl"), MCQ_JSONL);
}

/** A lab folder as `lab init` writes it, filled with one line of data each; its lab.yaml (comments and all) is the seed. */
function labFolder(folder: string): Uint8Array {
  fs.cpSync(filledLab(), folder, { recursive: true });
  fs.writeFileSync(path.join(folder, "models/base.gguf"), smallGguf());
  return fs.readFileSync(path.join(folder, "lab.yaml"));
}

let trainedTokenizer: { json: Uint8Array; config: Uint8Array } | undefined;
/** A 300-token BPE trained here; its tokenizer_config.json is the unmutated companion. */
function smallTokenizerJson(folder: string): Uint8Array {
  if (!trainedTokenizer) {
    const out = fs.mkdtempSync(path.join(folder, "trained-"));
    const texts = ["The Port of Qinglan has twenty berths.", "青澜港有二十个泊位。", "Pilots board at the outer anchorage."];
    const written = writeTrainedTokenizer(path.join(out, "tokenizer.json"), trainBpe({ texts, vocabSize: 300 }));
    trainedTokenizer = { json: fs.readFileSync(written.tokenizerPath), config: fs.readFileSync(written.configPath) };
    fs.rmSync(out, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(folder, "tokenizer_config.json"), trainedTokenizer.config);
  return trainedTokenizer.json;
}

const PDF_SEED = await makePdf("Anchorage zone B is closed in winter.", { useObjectStreams: false });
const DOCX_SEED = new Uint8Array(await makeDocx(["Dredging keeps the channel at 14 metres.", "青澜港"]));
const HTML_SEED = `<!doctype html><html><head><title>Pilotage</title></head><body><h1>Pilotage</h1><p>A pilot boards every vessel over 500 tonnes.</p><ul><li>Q01 &amp; Q02</li></ul><script>x()</script></body></html>`;
const ingest = (file: string) => parseDocumentFile(file, fs.readFileSync(file));

export const FUZZ_TARGETS: FuzzTarget[] = [
  { name: "gguf", fileName: "model.gguf", seed: smallGguf, read: readGgufFully },
  { name: "tokenizer.json", fileName: "tokenizer.json", seed: smallTokenizerJson, read: (file) => loadTokenizer(path.dirname(file)).encode("Port 港 berth") },
  { name: "mcq-jsonl", fileName: "set.jsonl", seed: () => utf8(MCQ_JSONL), read: (file) => loadMcq(file) },
  { name: "mcq-csv", fileName: "set.csv", seed: () => utf8(MCQ_CSV), read: (file) => loadMcq(file) },
  { name: "sft-jsonl", fileName: "chat.jsonl", seed: () => utf8(SFT_JSONL), read: (file) => readConversations(file) },
  { name: "lab-yaml", fileName: "lab.yaml", seed: labFolder, read: (file) => loadLabConfig(file) },
  { name: "train-yaml", fileName: "train.yaml", seed: (folder) => (writeCompanions(folder), utf8(TRAIN_YAML)), read: (file) => loadRunConfig(file) },
  { name: "html", fileName: "page.html", seed: () => utf8(HTML_SEED), read: ingest },
  { name: "pdf", fileName: "doc.pdf", seed: () => PDF_SEED, read: ingest },
  { name: "docx", fileName: "doc.docx", seed: () => DOCX_SEED, read: ingest },
  { name: "eval-yaml", fileName: "eval.yaml", seed: (folder) => (writeCompanions(folder), utf8(EVAL_YAML)), read: (file) => loadEvalSpec(file) },
];
