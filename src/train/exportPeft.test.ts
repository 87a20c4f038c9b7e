import { describe, expect, it } from "vitest";
import type { LoraAdapterFile } from "../model/loraAdapterFile.js";
import { peftAdapterConfig, peftTensors, unpermuteRows } from "./exportPeft.js";

describe("PEFT export", () => {
  it("undoes convert_hf_to_gguf's q/k row permutation", () => {
    // numpy: permute(arange(24).reshape(8, 3), n_head=2) gives these GGUF rows (values of HF rows)
    const gguf = Float32Array.from([0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11, 12, 13, 14, 18, 19, 20, 15, 16, 17, 21, 22, 23]);
    expect([...unpermuteRows(gguf, 8, 3, 2)]).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it("names and shapes tensors as PEFT does and writes its config", () => {
    const adapter: LoraAdapterFile = {
      architecture: "qwen2",
      rank: 2,
      alpha: 4,
      pairs: [
        { base: "blk.1.attn_q.weight", layer: 1, target: "q", inFeatures: 3, outFeatures: 4, a: new Float32Array(6), b: new Float32Array(8) },
        { base: "blk.1.ffn_down.weight", layer: 1, target: "down", inFeatures: 4, outFeatures: 3, a: new Float32Array(8), b: new Float32Array(6) },
      ],
    };
    const options = { baseModelName: "Qwen/Qwen2-0.5B", headCount: 2, headCountKv: 1, layerCount: 2 };
    const tensors = peftTensors(adapter, options);
    expect(tensors.map((t) => [t.name, t.shape])).toEqual([
      ["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", [2, 3]],
      ["base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight", [4, 2]],
      ["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight", [2, 4]],
      ["base_model.model.model.layers.1.mlp.down_proj.lora_B.weight", [3, 2]],
    ]);
    const config = peftAdapterConfig(adapter, options);
    expect(config).toMatchObject({
      peft_type: "LORA",
      task_type: "CAUSAL_LM",
      r: 2,
      lora_alpha: 4,
      target_modules: ["down_proj", "q_proj"],
      base_model_name_or_path: "Qwen/Qwen2-0.5B",
      layers_to_transform: [1],
    });
  });
});
