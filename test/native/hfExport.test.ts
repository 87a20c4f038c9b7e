/**
 * Hugging Face export and import on tiny llama and qwen3 models with real tokenizers:
 * - golden: config.json fields and the state-dict names/shapes are what transformers' own classes
 *   use (field names from models/{llama,qwen3}/configuration_*.py `LlamaConfig`/`Qwen3Config`;
 *   module tree from modeling_llama.py `LlamaForCausalLM` / modeling_qwen3.py `Qwen3ForCausalLM`:
 *   Linear weights [out_features, in_features], Embedding [num_embeddings, embedding_dim]);
 * - round trip: GGUF -> transformers folder -> GGUF gives byte-identical tensors, the same tokenizer
 *   metadata, and identical next-token distributions through real llama.cpp (node-llama-cpp);
 * - sharding: above the shard size the index + shards load back to the same GGUF.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gguf, readGguf, toF32, type GgufFile } from "../../src/engine/gguf/index.js";
import { GgmlType } from "../../src/engine/index.js";
import {
  createModel,
  normalSampler,
  readTokenizerMetadata,
  writeModel,
  type ModelSpec,
} from "../../src/model/index.js";
import {
  convertHfToGguf,
  openSafetensors,
  REFERENCE_LOGITS_FILE,
  unpermuteRows,
  writeHfModel,
  writeReferenceLogits,
} from "../../src/model/hf/index.js";
import { tokenizerFromGguf, tokenizerFromHuggingFace } from "../../src/tokenizer/index.js";
import { llamaCppVocab } from "./fixtures.js";
import { referenceLogprobs } from "./reference.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-hf-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const chatMl =
  "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/** A tiny model with a real byte-level BPE vocabulary; norms perturbed away from 1 so they matter. */
async function writeTiny(
  file: string,
  vocab: string,
  spec: Partial<ModelSpec> & { architecture: string },
): Promise<void> {
  const tokenizer = readTokenizerMetadata(llamaCppVocab(vocab));
  tokenizer.set("tokenizer.chat_template", gguf.string(chatMl));
  const model = createModel(
    { hidden: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, context: 256, seed: 7, initStd: 0.2, ...spec },
    tokenizer,
  );
  const noise = normalSampler(99);
  for (const tensor of model.tensors) {
    if (tensor.matrix) continue;
    for (let i = 0; i < tensor.values.length; i++) tensor.values[i] = 1 + 0.2 * noise();
  }
  await writeModel(file, model, GgmlType.F32);
}

function headerOf(folder: string, weights = "model.safetensors"): [string, number[]][] {
  const opened = openSafetensors(path.join(folder, weights));
  try {
    return [...opened.tensors.values()].map((info) => [info.name, info.shape]);
  } finally {
    opened.close();
  }
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** Expected state dict, written out from the transformers module tree (not from our mapping table). */
function expectedStateDict(options: {
  layers: number;
  E: number;
  V: number;
  F: number;
  q: number;
  kv: number;
  D: number;
  qkNorm: boolean;
  tied: boolean;
}): [string, number[]][] {
  const { layers, E, V, F, q, kv, D } = options;
  const entries: [string, number[]][] = [
    ["model.embed_tokens.weight", [V, E]],
    ["model.norm.weight", [E]],
  ];
  if (!options.tied) entries.push(["lm_head.weight", [V, E]]);
  for (let i = 0; i < layers; i++) {
    const l = `model.layers.${i}`;
    entries.push(
      [`${l}.input_layernorm.weight`, [E]],
      [`${l}.post_attention_layernorm.weight`, [E]],
      [`${l}.self_attn.q_proj.weight`, [q, E]],
      [`${l}.self_attn.k_proj.weight`, [kv, E]],
      [`${l}.self_attn.v_proj.weight`, [kv, E]],
      [`${l}.self_attn.o_proj.weight`, [E, q]],
      [`${l}.mlp.gate_proj.weight`, [F, E]],
      [`${l}.mlp.up_proj.weight`, [F, E]],
      [`${l}.mlp.down_proj.weight`, [E, F]],
    );
    if (options.qkNorm) entries.push([`${l}.self_attn.q_norm.weight`, [D]], [`${l}.self_attn.k_norm.weight`, [D]]);
  }
  return entries.sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Name, shape, type and a digest of the bytes of every tensor (a deep equal on MBs of bytes is too slow). */
function tensorBytes(file: GgufFile): Map<string, { shape: number[]; type: GgmlType; sha256: string }> {
  const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
  return new Map(
    file.tensors.map((info) => [
      info.name,
      { shape: [...info.shape], type: info.type, sha256: digest(file.tensorData(info.name)) },
    ]),
  );
}

/** Largest |a - b| over all positions and tokens (0 when identical). */
function largestDifference(a: readonly Float64Array[], b: readonly Float64Array[]): number {
  expect(b.length).toBe(a.length);
  let worst = 0;
  a.forEach((row, t) => {
    expect(b[t]!.length).toBe(row.length);
    for (let v = 0; v < row.length; v++) worst = Math.max(worst, Math.abs(row[v]! - b[t]![v]!));
  });
  return worst;
}

/** tokenizer.* keys whose values differ (compared as JSON: a deep equal on 10^5-entry arrays is too slow). */
function differingTokenizerKeys(a: GgufFile, b: GgufFile): string[] {
  const text = (file: GgufFile, key: string) =>
    JSON.stringify(file.metadata.get(key)?.value ?? null, (_, value: unknown) =>
      typeof value === "bigint" ? String(value) : value,
    );
  return [...a.metadata.keys()].filter((key) => key.startsWith("tokenizer.") && text(a, key) !== text(b, key));
}

const cases = [
  { architecture: "llama", vocab: "ggml-vocab-llama-bpe.gguf", spec: {}, hfClass: "LlamaForCausalLM", tied: false },
  {
    architecture: "qwen3",
    vocab: "ggml-vocab-qwen2.gguf",
    spec: { headDim: 16 },
    hfClass: "Qwen3ForCausalLM",
    tied: true,
  },
] as const;

describe.each(cases)("$architecture", ({ architecture, vocab, spec, hfClass, tied }) => {
  const original = path.join(directory, `${architecture}.gguf`);
  const folder = path.join(directory, `${architecture}-hf`);
  const back = path.join(directory, `${architecture}-back.gguf`);
  beforeAll(async () => {
    await writeTiny(original, vocab, { architecture, ...spec });
    writeHfModel(original, folder);
    await convertHfToGguf(folder, back);
  });

  it("writes config.json with transformers' field names and values", () => {
    const source = readGguf(original);
    const V = source.getStringArray("tokenizer.ggml.tokens")!.length;
    const D = architecture === "qwen3" ? 16 : 8;
    const pad = source.getNumber("tokenizer.ggml.padding_token_id");
    const common = {
      architectures: [hfClass],
      model_type: architecture,
      vocab_size: V,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      hidden_act: "silu",
      max_position_embeddings: 256,
      initializer_range: 0.02,
      rms_norm_eps: architecture === "llama" ? 1e-5 : 1e-6,
      use_cache: true,
      bos_token_id: source.getNumber("tokenizer.ggml.bos_token_id"),
      eos_token_id: source.getNumber("tokenizer.ggml.eos_token_id"),
      tie_word_embeddings: tied,
      rope_theta: architecture === "llama" ? 500000 : 1000000,
      rope_scaling: null,
      attention_dropout: 0,
      torch_dtype: "float32",
      head_dim: D,
      attention_bias: false,
      ...(pad === undefined ? {} : { pad_token_id: pad }),
    };
    const expected =
      architecture === "llama"
        ? { ...common, mlp_bias: false, pretraining_tp: 1 }
        : { ...common, use_sliding_window: false, sliding_window: null, max_window_layers: 2 };
    expect(readJson(path.join(folder, "config.json"))).toEqual(expected);
    expect(readJson(path.join(folder, "generation_config.json")).bos_token_id).toBe(common.bos_token_id);
  });

  it("writes the state dict transformers' module tree has, with PyTorch shapes", () => {
    const V = readGguf(original).getStringArray("tokenizer.ggml.tokens")!.length;
    const D = architecture === "qwen3" ? 16 : 8;
    const expected = expectedStateDict({
      layers: 2,
      E: 32,
      V,
      F: 64,
      q: 4 * D,
      kv: 2 * D,
      D,
      qkNorm: architecture === "qwen3",
      tied,
    });
    expect(headerOf(folder)).toEqual(expected);
    expect(fs.existsSync(path.join(folder, "model.safetensors.index.json"))).toBe(false);
  });

  it(`stores q_proj/k_proj ${architecture === "llama" ? "with llama.cpp's RoPE permutation undone" : "unpermuted (NeoX RoPE)"}`, () => {
    const source = readGguf(original);
    const opened = openSafetensors(path.join(folder, "model.safetensors"));
    try {
      for (const [stem, module, heads] of [
        ["attn_q", "q_proj", 4],
        ["attn_k", "k_proj", 2],
      ] as const) {
        const gguf = toF32(GgmlType.F32, source.tensorData(`blk.1.${stem}.weight`));
        const hf = opened.read(`model.layers.1.self_attn.${module}.weight`);
        const [columns, rows] = source.tensor(`blk.1.${stem}.weight`)!.shape as [number, number];
        const expected = architecture === "llama" ? unpermuteRows(gguf, rows, columns, heads) : gguf;
        expect(hf).toEqual(expected);
        if (architecture === "llama") expect(hf).not.toEqual(gguf);
      }
    } finally {
      opened.close();
    }
  });

  it("writes tokenizer files that tokenise as the GGUF does, with the chat template", () => {
    const text = "Hello world! Ships at 07:40, 1234 tons.\n<|im_start|>user\nÜber  café";
    const fromHf = tokenizerFromHuggingFace(folder);
    const fromGguf = tokenizerFromGguf(original);
    expect(fromHf.encode(text, { addBos: true })).toEqual(fromGguf.encode(text, { addBos: true }));
    const config = readJson(path.join(folder, "tokenizer_config.json"));
    expect(config.chat_template).toBe(chatMl);
    expect(config.tokenizer_class).toBe("PreTrainedTokenizerFast");
  });

  it("converts back to a GGUF with identical tensors and tokenizer", () => {
    const [a, b] = [readGguf(original), readGguf(back)];
    expect(tensorBytes(b)).toEqual(tensorBytes(a));
    // Every key of the original comes back unchanged; the import may spell out what llama.cpp
    // defaults (add_bos_token, add_eos_token, eot_token_id), so the effective values must agree too.
    expect(differingTokenizerKeys(a, b)).toEqual([]);
    const [x, y] = [tokenizerFromGguf(a), tokenizerFromGguf(b)];
    expect([y.addBos, y.bosId, y.eosId, y.eotId, y.padId, y.chatTemplate]).toEqual([
      x.addBos,
      x.bosId,
      x.eosId,
      x.eotId,
      x.padId,
      x.chatTemplate,
    ]);
  });

  it("gives identical next-token distributions through llama.cpp", async () => {
    const tokens = tokenizerFromGguf(original).encode("The harbour master logged three ships at dawn.", {
      addBos: true,
    });
    const [a, b] = [await referenceLogprobs(original, tokens), await referenceLogprobs(back, tokens)];
    expect(largestDifference(a, b)).toBe(0);
  });
});

describe("sharding and reference logits", () => {
  it("shards above the size limit into an index that converts back to the same GGUF", async () => {
    const original = path.join(directory, "qwen3.gguf");
    const folder = path.join(directory, "qwen3-sharded");
    const back = path.join(directory, "qwen3-sharded.gguf");
    // The embedding alone is ~19 MB; 4 MB shards put it in one and the blocks in another.
    writeHfModel(original, folder, { maxShardBytes: 4_000_000 });
    const index = readJson(path.join(folder, "model.safetensors.index.json")) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    const shards = [...new Set(Object.values(index.weight_map))].sort();
    expect(shards).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    expect(fs.existsSync(path.join(folder, "model.safetensors"))).toBe(false);
    const sizes = shards.map((shard) => fs.statSync(path.join(folder, shard)).size);
    expect(index.metadata.total_size).toBeLessThan(sizes.reduce((a, b) => a + b, 0));
    await convertHfToGguf(folder, back);
    expect(tensorBytes(readGguf(back))).toEqual(tensorBytes(readGguf(original)));
  });

  it("saves the engine's logits, matching llama.cpp's distribution", async () => {
    const original = path.join(directory, "llama.gguf");
    const folder = path.join(directory, "llama-hf");
    const { tokens } = writeReferenceLogits(original, folder, { threads: 2 });
    const opened = openSafetensors(path.join(folder, REFERENCE_LOGITS_FILE));
    const logits = opened.read("logits");
    const [T, V] = opened.tensors.get("logits")!.shape as [number, number];
    expect(JSON.parse(opened.metadata.tokens!)).toEqual(tokens);
    opened.close();
    const reference = await referenceLogprobs(original, tokens);
    let worst = 0;
    for (let t = 0; t < T; t++) {
      const row = logits.subarray(t * V, (t + 1) * V);
      const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
      const logSum = Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0)) + max;
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(row[v]! - logSum - reference[t]![v]!));
    }
    expect(worst).toBeLessThan(1e-3);
  });
});
