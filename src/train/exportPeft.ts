/**
 * LoRA adapter in Hugging Face PEFT's on-disk form: `adapter_model.safetensors` with
 * `base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight` [r, in] and `...lora_B.weight`
 * [out, r], plus `adapter_config.json` (peft_type LORA, task_type CAUSAL_LM, r, lora_alpha,
 * target_modules). transformers, PEFT and vLLM load this for Llama and Qwen2/Qwen3 checkpoints.
 *
 * Llama's GGUF stores attn_q/attn_k rows permuted (convert_hf_to_gguf interleaves the two rotary
 * halves of every head); the exported lora_B rows of q and k are un-permuted to match the Hugging
 * Face weights. Qwen2/Qwen3 use NeoX rotary and are stored unpermuted.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { targetByShort } from "../model/loraTargets.js";
import type { LoraAdapterFile } from "../model/loraAdapterFile.js";
import { encodeSafetensors, type SafetensorsEntry } from "./safetensors.js";
import { PERMUTED_ARCHITECTURES, unpermuteRows } from "../model/hf/ropePermutation.js";

export { unpermuteRows };

export interface PeftExportOptions {
  /** Written as base_model_name_or_path. */
  baseModelName: string;
  /** Attention heads and KV heads of the base model (needed to un-permute llama's q/k). */
  headCount: number;
  headCountKv: number;
  /** Blocks in the base model; when the adapter covers fewer, layers_to_transform lists the ones it has. */
  layerCount: number;
}

export function peftTensors(adapter: LoraAdapterFile, options: PeftExportOptions): SafetensorsEntry[] {
  const permuted = PERMUTED_ARCHITECTURES.has(adapter.architecture);
  const entries: SafetensorsEntry[] = [];
  for (const pair of adapter.pairs) {
    const prefix = `base_model.model.model.layers.${pair.layer}.${targetByShort(pair.target).hf}`;
    let b = pair.b;
    if (permuted && (pair.target === "q" || pair.target === "k")) {
      const heads = pair.target === "q" ? options.headCount : options.headCountKv;
      b = unpermuteRows(pair.b, pair.outFeatures, adapter.rank, heads);
    }
    entries.push({ name: `${prefix}.lora_A.weight`, shape: [adapter.rank, pair.inFeatures], data: pair.a });
    entries.push({ name: `${prefix}.lora_B.weight`, shape: [pair.outFeatures, adapter.rank], data: b });
  }
  return entries;
}

export function peftAdapterConfig(adapter: LoraAdapterFile, options: PeftExportOptions): Record<string, unknown> {
  const targets = [...new Set(adapter.pairs.map((pair) => targetByShort(pair.target).hf.split(".")[1]!))].sort();
  const layers = [...new Set(adapter.pairs.map((pair) => pair.layer))].sort((a, b) => a - b);
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: options.baseModelName,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: layers.length === options.layerCount ? null : layers,
    lora_alpha: adapter.alpha,
    lora_dropout: 0,
    modules_to_save: null,
    peft_type: "LORA",
    r: adapter.rank,
    rank_pattern: {},
    revision: null,
    target_modules: targets,
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: false,
  };
}

/** Writes `adapter_model.safetensors` and `adapter_config.json` into `directory` (created; each file atomic). */
export function writePeftAdapter(directory: string, adapter: LoraAdapterFile, options: PeftExportOptions): void {
  fs.mkdirSync(directory, { recursive: true });
  writeFileAtomic(path.join(directory, "adapter_model.safetensors"), encodeSafetensors(peftTensors(adapter, options), { format: "pt" }));
  writeFileAtomic(path.join(directory, "adapter_config.json"), `${JSON.stringify(peftAdapterConfig(adapter, options), null, 2)}\n`);
}
