/**
 * A summary of a GGUF model for people (`vertical model info`) and scripts (`--json`): architecture,
 * parameter count, sizes, hyper-parameters, tensors, tokenizer and chat template.
 */
import { ggmlTypeName } from "./ggmlType.js";
import { plainGgufValue, type GgufPlainValue, type GgufValue } from "./ggufValue.js";
import type { GgufFile } from "./readGguf.js";

export interface GgufSummary {
  path: string;
  version: number;
  fileBytes: number;
  architecture: string | undefined;
  name: string | undefined;
  /** Total elements of all tensors. */
  parameters: number;
  tensorBytes: number;
  /** Tensor count per ggml type name. */
  tensorTypes: Record<string, number>;
  /** `<architecture>.*` keys without the prefix. */
  hyperParameters: Record<string, JsonValue>;
  tensors: { name: string; type: string; shape: number[]; bytes: number }[];
  tokenizer:
    | {
        model: string | undefined;
        pre: string | undefined;
        vocabSize: number;
        mergeCount: number;
        specialTokens: Record<string, { id: number; text: string | undefined }>;
        addBos: boolean | undefined;
        addEos: boolean | undefined;
      }
    | undefined;
  chatTemplate: { present: boolean; characters: number };
  /** Every other key; arrays longer than 16 items are shown as their length. */
  otherMetadata: Record<string, JsonValue>;
}

export type JsonValue = number | string | boolean | JsonValue[] | { type: string; items: number };

function toJson(value: GgufPlainValue): JsonValue {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toJson);
  return value;
}

/** The shortest decimal that reads back as the same float32 (1e-6, not 9.999999974752427e-7). */
function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function shortValue(value: GgufValue): JsonValue {
  if (value.type === "array" && value.value.length > 16) return { type: `array of ${value.itemType}`, items: value.value.length };
  if (value.type === "float32") return shortestFloat32(value.value);
  if (value.type === "array" && value.itemType === "float32") return value.value.map(shortestFloat32);
  return toJson(plainGgufValue(value));
}

const specialTokenKeys: [string, string][] = [
  ["bos", "bos_token_id"],
  ["eos", "eos_token_id"],
  ["eot", "eot_token_id"],
  ["eom", "eom_token_id"],
  ["padding", "padding_token_id"],
  ["unknown", "unknown_token_id"],
  ["separator", "seperator_token_id"],
];

export function describeGguf(file: GgufFile): GgufSummary {
  const architecture = file.getString("general.architecture");
  const tensorTypes: Record<string, number> = {};
  let parameters = 0;
  let tensorBytes = 0;
  const tensors = file.tensors.map((tensor) => {
    const type = ggmlTypeName(tensor.type);
    tensorTypes[type] = (tensorTypes[type] ?? 0) + 1;
    parameters += tensor.elements;
    tensorBytes += tensor.byteSize;
    return { name: tensor.name, type, shape: tensor.shape, bytes: tensor.byteSize };
  });
  const hyperParameters: Record<string, JsonValue> = {};
  const otherMetadata: Record<string, JsonValue> = {};
  for (const [key, value] of file.metadata) {
    if (architecture && key.startsWith(`${architecture}.`)) hyperParameters[key.slice(architecture.length + 1)] = shortValue(value);
    else if (!key.startsWith("tokenizer.") && key !== "general.architecture" && key !== "general.name") otherMetadata[key] = shortValue(value);
  }
  const tokens = file.metadata.get("tokenizer.ggml.tokens");
  let tokenizer: GgufSummary["tokenizer"];
  if (file.metadata.has("tokenizer.ggml.model") || tokens) {
    const tokenList = tokens?.type === "array" && tokens.itemType === "string" ? tokens.value : [];
    const merges = file.metadata.get("tokenizer.ggml.merges");
    const specialTokens: Record<string, { id: number; text: string | undefined }> = {};
    for (const [label, key] of specialTokenKeys) {
      const value = file.metadata.get(`tokenizer.ggml.${key}`);
      if (value && value.type !== "array" && (typeof value.value === "number" || typeof value.value === "bigint")) {
        const id = Number(value.value);
        specialTokens[label] = { id, text: tokenList[id] };
      }
    }
    const flag = (key: string) => {
      const value = file.metadata.get(key);
      return value?.type === "bool" ? value.value : undefined;
    };
    tokenizer = {
      model: file.metadata.get("tokenizer.ggml.model")?.type === "string" ? (file.metadata.get("tokenizer.ggml.model")!.value as string) : undefined,
      pre: file.metadata.get("tokenizer.ggml.pre")?.type === "string" ? (file.metadata.get("tokenizer.ggml.pre")!.value as string) : undefined,
      vocabSize: tokenList.length,
      mergeCount: merges?.type === "array" ? merges.value.length : 0,
      specialTokens,
      addBos: flag("tokenizer.ggml.add_bos_token"),
      addEos: flag("tokenizer.ggml.add_eos_token"),
    };
  }
  const template = file.metadata.get("tokenizer.chat_template");
  return {
    path: file.path,
    version: file.version,
    fileBytes: file.fileSize,
    architecture,
    name: file.metadata.get("general.name")?.type === "string" ? (file.metadata.get("general.name")!.value as string) : undefined,
    parameters,
    tensorBytes,
    tensorTypes,
    hyperParameters,
    tensors,
    tokenizer,
    chatTemplate: { present: template?.type === "string", characters: template?.type === "string" ? template.value.length : 0 },
    otherMetadata,
  };
}
