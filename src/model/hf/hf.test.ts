import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fp32ToBf16, fp32ToFp16 } from "../../engine/gguf/index.js";
import { ggufMetadataFromConfig, parseHuggingFaceConfig, shortestFloat32 } from "./huggingFaceConfig.js";
import { permuteRows, unpermuteRows } from "./ropePermutation.js";
import { openSafetensors } from "./safetensors.js";
import { ggufTensorName, huggingFaceTensorName } from "./tensorNames.js";

/** numpy's `w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(rows, cols)`, by strides. */
function numpyPermute(values: Float32Array, rows: number, columns: number, heads: number): Float32Array {
  const half = rows / heads / 2;
  const out = new Float32Array(values.length);
  let position = 0;
  // iterate the swapped view (h, j, i, c) in C order; it reads the source at (h, i, j, c)
  for (let h = 0; h < heads; h++)
    for (let j = 0; j < half; j++)
      for (let i = 0; i < 2; i++)
        for (let c = 0; c < columns; c++) out[position++] = values[((h * 2 + i) * half + j) * columns + c]!;
  return out;
}

describe("llama q/k permutation", () => {
  const rows = 24;
  const columns = 5;
  const values = Float32Array.from({ length: rows * columns }, (_, i) => i);
  it("is convert_hf_to_gguf's LlamaModel.permute, and unpermute undoes it", () => {
    for (const heads of [1, 2, 3]) {
      expect(permuteRows(values, rows, columns, heads)).toEqual(numpyPermute(values, rows, columns, heads));
      expect(unpermuteRows(permuteRows(values, rows, columns, heads), rows, columns, heads)).toEqual(values);
    }
    expect(permuteRows(values, rows, columns, 2)).not.toEqual(values);
  });
});

describe("tensor names", () => {
  it("map every llama/qwen3 tensor both ways", () => {
    const pairs: [string, string][] = [
      ["token_embd.weight", "model.embed_tokens.weight"],
      ["output_norm.weight", "model.norm.weight"],
      ["output.weight", "lm_head.weight"],
      ["blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"],
      ["blk.11.attn_q.weight", "model.layers.11.self_attn.q_proj.weight"],
      ["blk.11.attn_q.bias", "model.layers.11.self_attn.q_proj.bias"],
      ["blk.2.attn_k_norm.weight", "model.layers.2.self_attn.k_norm.weight"],
      ["blk.2.attn_output.weight", "model.layers.2.self_attn.o_proj.weight"],
      ["blk.3.ffn_norm.weight", "model.layers.3.post_attention_layernorm.weight"],
      ["blk.3.ffn_down.weight", "model.layers.3.mlp.down_proj.weight"],
    ];
    for (const [gguf, hf] of pairs) {
      expect(huggingFaceTensorName(gguf)).toBe(hf);
      expect(ggufTensorName(hf)).toBe(gguf);
    }
    expect(huggingFaceTensorName("rope_freqs.weight")).toBeUndefined();
    expect(ggufTensorName("model.layers.0.self_attn.rotary_emb.inv_freq")).toBeUndefined();
  });
});

describe("config.json import", () => {
  const llama = {
    model_type: "llama",
    vocab_size: 100,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
  };
  it("names the missing or wrong field and the file", () => {
    const { hidden_size: _, ...missing } = llama;
    expect(() => parseHuggingFaceConfig(missing, "m/config.json")).toThrow(
      /m\/config.json.*hidden_size|hidden_size.*m\/config.json/s,
    );
    expect(() => parseHuggingFaceConfig({ ...llama, model_type: "mistral" }, "c.json")).toThrow(/model_type "mistral"/);
    expect(() => parseHuggingFaceConfig({ ...llama, hidden_act: "gelu" }, "c.json")).toThrow(/hidden_act "gelu"/);
  });
  it("reads transformers 5's rope_parameters as well as rope_theta, and refuses llama3 scaling", () => {
    const v5 = { ...llama, rope_theta: undefined, rope_parameters: { rope_type: "default", rope_theta: 250000 } };
    const metadata = ggufMetadataFromConfig(parseHuggingFaceConfig(v5, "c.json"), "m", "c.json");
    expect(metadata.get("llama.rope.freq_base")?.value).toBe(250000);
    expect(metadata.get("llama.rope.dimension_count")?.value).toBe(8);
    const scaled = { ...llama, rope_scaling: { rope_type: "llama3", factor: 8 } };
    expect(() => ggufMetadataFromConfig(parseHuggingFaceConfig(scaled, "c.json"), "m", "c.json")).toThrow(
      /rope scaling "llama3"/,
    );
  });
  it("writes float32 metadata back as its shortest decimal", () => {
    expect(shortestFloat32(Math.fround(1e-5))).toBe(1e-5);
    expect(shortestFloat32(Math.fround(1e-6))).toBe(1e-6);
    expect(shortestFloat32(500000)).toBe(500000);
  });
});

describe("safetensors reading", () => {
  it("widens F16 and BF16 exactly and rejects other dtypes with the tensor's name", () => {
    const values = [1, -2.5, 0.333251953125, 65504];
    const half = Buffer.alloc(8);
    const brain = Buffer.alloc(8);
    values.forEach((value, i) => {
      half.writeUInt16LE(fp32ToFp16(value), i * 2);
      brain.writeUInt16LE(fp32ToBf16(value), i * 2);
    });
    const write = (header: Record<string, unknown>, data: Buffer) => {
      const json = Buffer.from(JSON.stringify(header));
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(json.length));
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "vertical-st-")), "t.safetensors");
      fs.writeFileSync(file, Buffer.concat([length, json, data]));
      return file;
    };
    const file = write(
      {
        h: { dtype: "F16", shape: [2, 2], data_offsets: [0, 8] },
        b: { dtype: "BF16", shape: [4], data_offsets: [8, 16] },
      },
      Buffer.concat([half, brain]),
    );
    const opened = openSafetensors(file);
    expect([...opened.read("h")]).toEqual(values);
    expect([...opened.read("b")]).toEqual([1, -2.5, 0.333984375, 65536]);
    opened.close();
    const int8 = write({ q: { dtype: "I8", shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1));
    expect(() => openSafetensors(int8)).toThrow(/tensor q has dtype I8/);
  });
});
