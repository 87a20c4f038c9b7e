/**
 * The way back from Hugging Face PEFT: `adapter_config.json` + `adapter_model.safetensors` (trained anywhere —
 * LLaMA-Factory, transformers, our own PEFT export) as a llama.cpp LoRA GGUF, the reverse of exportPeft.ts.
 *
 * Names and layout, as llama.cpp's convert_lora_to_gguf.py maps them: the `base_model.model.` prefix goes,
 * `model.layers.{i}.self_attn.q_proj` becomes `blk.{i}.attn_q.weight`, and `lora_A.weight` [r, in] /
 * `lora_B.weight` [out, r] become `<weight>.lora_a` (ne [in, r]) / `.lora_b` (ne [r, out]): the same row-major
 * bytes, only the shape is written innermost-first, so nothing is transposed. For llama the rows of q/k's
 * lora_B are permuted as convert_hf_to_gguf permutes the base q/k weights (the two rotary halves of a head
 * interleaved); A is untouched. Scale: PEFT's alpha / r (or alpha / sqrt(r) with use_rslora), kept by writing
 * the alpha that gives llama.cpp's alpha / r the same value.
 */
import fs from "node:fs";
import path from "node:path";
import { gguf, readGguf } from "../engine/gguf/index.js";
import { readHyperparameters } from "../model/hyperparameters.js";
import { resolveTargetModule, targetByShort } from "../model/loraTargets.js";
import { writeLoraAdapterFile, type LoraAdapterFile, type LoraPair } from "../model/loraAdapterFile.js";
import { InputError, ModelError } from "../shared/errors.js";
import { PERMUTED_ARCHITECTURES, permuteRows } from "../model/hf/index.js";
import { readSafetensors } from "./safetensors.js";

export interface PeftTarget {
  architecture: string;
  headCount: number;
  headCountKv: number;
}


interface PeftConfig {
  peft_type?: string;
  r?: number;
  lora_alpha?: number;
  use_rslora?: boolean;
  use_dora?: boolean;
  fan_in_fan_out?: boolean;
  bias?: string;
  rank_pattern?: Record<string, unknown>;
  alpha_pattern?: Record<string, unknown>;
  modules_to_save?: unknown[] | null;
}

function readPeftConfig(directory: string): PeftConfig & { r: number; lora_alpha: number } {
  const file = path.join(directory, "adapter_config.json");
  if (!fs.existsSync(file)) throw new InputError("no adapter_config.json: not a PEFT adapter folder", { where: directory, hint: "point at the folder PEFT's save_pretrained wrote (LLaMA-Factory: the job's output_dir)" });
  const config = JSON.parse(fs.readFileSync(file, "utf8")) as PeftConfig;
  const refuse = (what: string, hint: string) => {
    throw new InputError(`adapter_config.json: ${what}; llama.cpp's LoRA format cannot carry it`, { where: file, hint });
  };
  if (config.peft_type !== "LORA") refuse(`peft_type is ${config.peft_type ?? "missing"}, not LORA`, "only LoRA adapters are imported");
  if (typeof config.r !== "number" || typeof config.lora_alpha !== "number") refuse("r and lora_alpha must be numbers", "re-save the adapter with PEFT");
  if (config.use_dora) refuse("use_dora is true", "train without DoRA, or merge the adapter into the model and import the full model");
  if (config.fan_in_fan_out) refuse("fan_in_fan_out is true (GPT-2 style Conv1D weights)", "only llama-family linear layers are imported");
  if (config.bias && config.bias !== "none") refuse(`bias is ${config.bias}`, "train with bias: none");
  if (Object.keys(config.rank_pattern ?? {}).length > 0 || Object.keys(config.alpha_pattern ?? {}).length > 0) refuse("rank_pattern/alpha_pattern give modules their own rank or alpha", "train with one rank and alpha");
  if (config.modules_to_save && config.modules_to_save.length > 0) refuse(`modules_to_save lists ${config.modules_to_save.join(", ")} (fully trained copies, not low-rank)`, "train without modules_to_save (LLaMA-Factory: additional_target)");
  return config as PeftConfig & { r: number; lora_alpha: number };
}

const TENSOR_NAME = /^base_model\.model\.model\.layers\.(\d+)\.([a-z_]+\.[a-z_]+)\.lora_([AB])\.weight$/;

/** Reads a PEFT LoRA folder as the adapter a GGUF LoRA file holds, for a base model of `target`'s shape. */
export function readPeftAdapter(directory: string, target: PeftTarget): LoraAdapterFile {
  const config = readPeftConfig(directory);
  const file = path.join(directory, "adapter_model.safetensors");
  if (!fs.existsSync(file)) throw new InputError("no adapter_model.safetensors", { where: directory, hint: "save the adapter with safe_serialization (PEFT's default); adapter_model.bin is not read" });
  const { tensors } = readSafetensors(file);
  const halves = new Map<string, { layer: number; module: string; a?: Float32Array; b?: Float32Array; inFeatures?: number; outFeatures?: number }>();
  for (const [name, tensor] of tensors) {
    const match = TENSOR_NAME.exec(name);
    if (!match) throw new InputError(`tensor ${name} is not a LoRA matrix of a decoder layer`, { where: file, hint: "only lora_A/lora_B of model.layers.{i}.{self_attn,mlp}.* are imported" });
    const [, layer, module, half] = match;
    const key = `${layer}.${module}`;
    const entry = halves.get(key) ?? { layer: Number(layer), module: module! };
    if (half === "A") Object.assign(entry, { a: tensor.data, inFeatures: tensor.shape[1] });
    else Object.assign(entry, { b: tensor.data, outFeatures: tensor.shape[0] });
    if ((half === "A" ? tensor.shape[0] : tensor.shape[1]) !== config.r) throw new InputError(`tensor ${name} has shape [${tensor.shape}], not rank ${config.r}`, { where: file });
    halves.set(key, entry);
  }
  const pairs: LoraPair[] = [];
  for (const entry of halves.values()) {
    const module = resolveTargetModule(entry.module);
    if (!module || module.hf !== entry.module) throw new InputError(`module ${entry.module} is not one Vertical adapts`, { where: file });
    if (!entry.a || !entry.b) throw new InputError(`layer ${entry.layer} ${entry.module} has only one of lora_A / lora_B`, { where: file });
    let b = entry.b;
    if (PERMUTED_ARCHITECTURES.has(target.architecture) && (module.short === "q" || module.short === "k")) {
      b = permuteRows(b, entry.outFeatures!, config.r, module.short === "q" ? target.headCount : target.headCountKv);
    }
    const base = `blk.${entry.layer}.${targetByShort(module.short).gguf}.weight`;
    pairs.push({ base, layer: entry.layer, target: module.short, inFeatures: entry.inFeatures!, outFeatures: entry.outFeatures!, a: entry.a, b });
  }
  if (pairs.length === 0) throw new InputError("the adapter holds no LoRA matrices", { where: file });
  pairs.sort((x, y) => x.layer - y.layer || x.base.localeCompare(y.base));
  // llama.cpp scales by alpha / r; rsLoRA scales by alpha / sqrt(r) = (alpha * sqrt(r)) / r
  const alpha = config.use_rslora ? config.lora_alpha * Math.sqrt(config.r) : config.lora_alpha;
  return { architecture: target.architecture, rank: config.r, alpha, pairs };
}

/**
 * Converts the PEFT folder `directory` into a LoRA GGUF at `out` for the GGUF model `baseModel`, checking
 * every matrix against the weight it adapts. Returns the adapter written.
 */
export async function importPeftAdapter(directory: string, baseModel: string, out: string): Promise<LoraAdapterFile> {
  const base = readGguf(baseModel);
  const hp = readHyperparameters(base);
  const adapter = readPeftAdapter(directory, { architecture: hp.architecture.name, headCount: hp.headCount, headCountKv: hp.headCountKv });
  for (const pair of adapter.pairs) {
    const info = base.tensor(pair.base);
    if (!info) throw new ModelError(`the base model has no ${pair.base}`, { where: baseModel, hint: `the adapter in ${directory} was trained for another model` });
    if (info.shape[0] !== pair.inFeatures || info.shape[1] !== pair.outFeatures)
      throw new ModelError(`${pair.base} is ${info.shape[1]}x${info.shape[0]} (out x in), the adapter's is ${pair.outFeatures}x${pair.inFeatures}`, { where: baseModel, hint: `the adapter in ${directory} was trained for another model` });
  }
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  await writeLoraAdapterFile(out, adapter, [["general.name", gguf.string(`${base.getString("general.name") ?? "model"} LoRA (imported from ${path.basename(path.resolve(directory))})`)]]);
  return adapter;
}
