/**
 * `exportRun(run, {format, out})`: a run's newest checkpoint as
 * - `gguf-lora`: llama.cpp LoRA adapter (`--lora`, node-llama-cpp `createContext({lora})`);
 * - `peft`: Hugging Face PEFT folder (adapter_model.safetensors + adapter_config.json);
 * - `gguf-merged`: the base model with the adapter (or the fine-tuned weights) folded in;
 * - `soft-prompt`: the virtual token embeddings, as GGUF (`.gguf`) or a PEFT prompt-tuning folder;
 * - `hf`: the merged model as a transformers folder (model/hf/writeHfModel), from a merged f32 GGUF
 *   written beside it first and removed after.
 */
import fs from "node:fs";
import path from "node:path";
import { gguf, GgmlType, ggmlTypeFromName, readGguf, toF32, writeGguf, type GgufFile, type GgufTensorInput } from "../engine/gguf/index.js";
import { writeHfModel, writeReferenceLogits } from "../model/hf/index.js";
import { addLoraDelta, parseBlockWeightName, writeLoraAdapterFile, type LoraAdapterFile, type LoraPair } from "../model/loraAdapterFile.js";
import { readHyperparameters } from "../model/hyperparameters.js";
import { temporaryPathFor, writeFileAtomic } from "../shared/atomicWrite.js";
import { ConfigError, InputError, ModelError } from "../shared/errors.js";
import type { RunConfig } from "./config.js";
import { writePeftAdapter } from "./exportPeft.js";
import { fingerprintOfGguf } from "./fingerprint.js";
import { readLatestCheckpoint, readRunConfigFile, type Checkpoint } from "./runDirectory.js";
import { encodeSafetensors } from "./safetensors.js";

export type ExportFormat = "gguf-lora" | "peft" | "gguf-merged" | "soft-prompt" | "hf";
export const EXPORT_FORMATS: readonly ExportFormat[] = ["gguf-lora", "peft", "gguf-merged", "soft-prompt", "hf"];

export interface ExportOptions {
  format: ExportFormat;
  /** File (gguf-lora, gguf-merged, soft-prompt .gguf) or folder (peft, soft-prompt otherwise). */
  out: string;
  /**
   * gguf-merged: storage type of the weight matrices ("f32", "f16", "q8_0", "q4_k", …). Defaults
   * to each tensor's type in the base model.
   */
  type?: string;
  /** gguf-merged: base model to merge onto. Defaults to the run's model; must be the same model. */
  base?: string;
  /** peft: base_model_name_or_path. Defaults to the GGUF's general.name. */
  baseModelName?: string;
  /** hf: stored dtype, "f32" (default), "f16" or "bf16". */
  dtype?: string;
  /** hf: shard the weights above this many bytes. Defaults to transformers' 5 GB. */
  maxShardBytes?: number;
  /**
   * hf: also run the merged model on a fixed text and save its logits in the folder
   * (REFERENCE_LOGITS_FILE), for scripts/check-hf-export.py. Off by default (a forward pass).
   */
  referenceLogits?: { threads: number };
}

export interface ExportResult {
  format: ExportFormat;
  out: string;
  /** Step of the checkpoint exported. */
  step: number;
}

type StoredRunConfig = RunConfig & { modelFingerprint: string };

function loraFromCheckpoint(config: StoredRunConfig, checkpoint: Checkpoint, architecture: string): LoraAdapterFile {
  const byName = new Map(checkpoint.parameters.map((parameter) => [parameter.name, parameter]));
  const pairs: LoraPair[] = [];
  for (const [name, a] of byName) {
    if (!name.endsWith(".lora_a")) continue;
    const base = name.slice(0, -".lora_a".length);
    const b = byName.get(`${base}.lora_b`);
    const location = parseBlockWeightName(base);
    if (!b || !location) throw new InputError(`checkpoint tensor ${name} has no pair or names no block weight`, { where: checkpoint.directory });
    pairs.push({ base, ...location, inFeatures: a.shape[0]!, outFeatures: b.shape[1] ?? 1, a: a.data, b: b.data });
  }
  pairs.sort((x, y) => x.layer - y.layer || x.base.localeCompare(y.base));
  return { architecture, rank: config.lora.rank, alpha: config.lora.alpha, pairs };
}

export async function exportRun(runDirectory: string, options: ExportOptions): Promise<ExportResult> {
  const run = path.resolve(runDirectory);
  const config = readRunConfigFile<StoredRunConfig>(run);
  const checkpoint = readLatestCheckpoint(run);
  if (!checkpoint) throw new InputError("the run has no checkpoint yet", { where: run, hint: "train at least one step" });
  if (!EXPORT_FORMATS.includes(options.format)) {
    throw new ConfigError(`unknown export format "${options.format}"; expected ${EXPORT_FORMATS.join(", ")}`, { where: "--format" });
  }
  const out = path.resolve(options.out);
  const basePath = path.resolve(options.base ?? config.model);
  if (!fs.existsSync(basePath)) throw new InputError("base model not found", { where: basePath });
  const base = readGguf(basePath);
  const hp = readHyperparameters(base);
  if (checkpoint.state.modelFingerprint !== config.modelFingerprint) {
    throw new ModelError("the checkpoint and the run config name different models", { where: checkpoint.directory });
  }
  if (options.base) {
    // The fingerprint is computed by the trainer from the loaded model; compare what it covers.
    if (fingerprintOfGguf(base) !== config.modelFingerprint) {
      throw new ModelError(`the run was trained on another model than ${basePath}`, {
        where: "--base",
        hint: "merge onto the model the run was trained from (same architecture, tensor names and shapes)",
      });
    }
  }
  const result: ExportResult = { format: options.format, out, step: checkpoint.state.step };

  if (options.format === "gguf-lora" || options.format === "peft") {
    if (config.method !== "lora") {
      throw new ConfigError(`--format ${options.format} needs a LoRA run; this run's method is ${config.method}`, {
        where: "--format",
        hint: config.method === "soft-prompt" ? "use --format soft-prompt" : "use --format gguf-merged",
      });
    }
    const adapter = loraFromCheckpoint(config, checkpoint, hp.architecture.name);
    if (options.format === "gguf-lora") {
      await writeLoraAdapterFile(out, adapter, [["general.name", gguf.string(`${base.getString("general.name") ?? "model"} LoRA (step ${checkpoint.state.step})`)]]);
    } else {
      writePeftAdapter(out, adapter, {
        baseModelName: options.baseModelName ?? base.getString("general.name") ?? path.basename(basePath, ".gguf"),
        headCount: hp.headCount,
        headCountKv: hp.headCountKv,
        layerCount: hp.blockCount,
      });
    }
    return result;
  }

  if (options.format === "soft-prompt") {
    const prompt = checkpoint.parameters.find((parameter) => parameter.name === "soft_prompt");
    if (!prompt) throw new ConfigError(`--format soft-prompt needs a soft-prompt run; this run's method is ${config.method}`, { where: "--format" });
    const [embedding, tokens] = [prompt.shape[0]!, prompt.shape[1] ?? 1];
    if (out.endsWith(".gguf")) {
      await writeGguf(out, {
        metadata: [
          ["general.architecture", gguf.string(hp.architecture.name)],
          ["general.type", gguf.string("soft_prompt")],
          ["soft_prompt.token_count", gguf.uint32(tokens)],
          ["soft_prompt.embedding_length", gguf.uint32(embedding)],
        ],
        tensors: [{ name: "soft_prompt", shape: [embedding, tokens], type: GgmlType.F32, data: prompt.data }],
      });
    } else {
      fs.mkdirSync(out, { recursive: true });
      // PEFT prompt tuning stores `prompt_embeddings` [num_virtual_tokens, token_dim].
      writeFileAtomic(path.join(out, "adapter_model.safetensors"), encodeSafetensors([{ name: "prompt_embeddings", shape: [tokens, embedding], data: prompt.data }], { format: "pt" }));
      writeFileAtomic(
        path.join(out, "adapter_config.json"),
        `${JSON.stringify(
          {
            base_model_name_or_path: options.baseModelName ?? base.getString("general.name") ?? path.basename(basePath, ".gguf"),
            inference_mode: true,
            num_attention_heads: hp.headCount,
            num_layers: hp.blockCount,
            num_transformer_submodules: 1,
            num_virtual_tokens: tokens,
            peft_type: "PROMPT_TUNING",
            prompt_tuning_init: "RANDOM",
            task_type: "CAUSAL_LM",
            token_dim: embedding,
          },
          null,
          2,
        )}\n`,
      );
    }
    return result;
  }

  if (config.method === "soft-prompt") {
    throw new ConfigError("a soft prompt cannot be merged into the weights", { where: "--format", hint: "use --format soft-prompt" });
  }
  const merge: MergeInput = { run, config, checkpoint, base, architecture: hp.architecture.name };
  if (options.format === "hf") {
    if (options.type !== undefined) {
      throw new ConfigError("--type applies to gguf-merged; --format hf takes --dtype f32|f16|bf16", { where: "--type" });
    }
    hfDtype(options.dtype);
    await exportHf(merge, out, options);
    return result;
  }
  const wantedType = options.type === undefined ? undefined : ggmlTypeFromName(options.type);
  if (options.type !== undefined && wantedType === undefined) {
    throw new ConfigError(`unknown tensor type "${options.type}"; try f32, f16, q8_0 or q4_k`, { where: "--type" });
  }
  await writeMergedGguf(merge, out, wantedType);
  return result;
}

interface MergeInput {
  run: string;
  config: StoredRunConfig;
  checkpoint: Checkpoint;
  base: GgufFile;
  architecture: string;
}

const HF_DTYPES = { f32: "F32", f16: "F16", bf16: "BF16" } as const;

function hfDtype(name: string | undefined): (typeof HF_DTYPES)[keyof typeof HF_DTYPES] {
  const dtype = HF_DTYPES[(name ?? "f32") as keyof typeof HF_DTYPES];
  if (!dtype) throw new ConfigError(`--dtype ${name} is not one of f32, f16, bf16`, { where: "--dtype" });
  return dtype;
}

/** The merged model as a transformers folder: merged f32 GGUF beside `out`, converted, then removed. */
async function exportHf(merge: MergeInput, out: string, options: ExportOptions): Promise<void> {
  const merged = temporaryPathFor(`${out}.merged.gguf`);
  try {
    await writeMergedGguf(merge, merged, GgmlType.F32);
    writeHfModel(merged, out, { maxShardBytes: options.maxShardBytes, dtype: hfDtype(options.dtype) });
    if (options.referenceLogits) writeReferenceLogits(merged, out, { threads: options.referenceLogits.threads });
  } finally {
    fs.rmSync(merged, { force: true });
  }
}

/** The base with the run's LoRA delta (or its fine-tuned weights) folded in; matrices stored as `wantedType` (default: the base's). */
async function writeMergedGguf({ run, config, checkpoint, base, architecture }: MergeInput, out: string, wantedType: GgmlType | undefined): Promise<void> {
  const basePath = base.path;
  const replaced = new Map<string, Float32Array>();
  if (config.method === "lora") {
    const adapter = loraFromCheckpoint(config, checkpoint, architecture);
    for (const pair of adapter.pairs) {
      const info = base.tensor(pair.base);
      if (!info) throw new ModelError(`the base model has no ${pair.base}`, { where: basePath, hint: "the adapter is for another model" });
      const weight = toF32(info.type, base.tensorData(pair.base));
      addLoraDelta(weight, pair, adapter.rank, adapter.alpha / adapter.rank);
      replaced.set(pair.base, weight);
    }
  } else {
    for (const parameter of checkpoint.parameters) replaced.set(parameter.name, parameter.data);
  }
  const tensors: GgufTensorInput[] = base.tensors.map((info) => {
    const isMatrix = info.shape.length >= 2 && (info.shape[1] ?? 1) > 1;
    const type = isMatrix && wantedType !== undefined ? wantedType : info.type;
    const values = replaced.get(info.name);
    if (values) return { name: info.name, shape: info.shape, type, data: values };
    if (type === info.type) return { name: info.name, shape: info.shape, type, data: base.tensorData(info.name) };
    return { name: info.name, shape: info.shape, type, data: toF32(info.type, base.tensorData(info.name)) };
  });
  const metadata = new Map(base.metadata);
  metadata.set("general.name", gguf.string(`${base.getString("general.name") ?? "model"} (${path.basename(run)}, step ${checkpoint.state.step})`));
  await writeGguf(out, { metadata, tensors });
}
