/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}` padded with
 * spaces to 8 bytes, then the raw little-endian tensor bytes. Shapes are row-major, outermost first
 * (PyTorch order), the reverse of ggml's `ne`.
 */
import fs from "node:fs";
import { GgmlType, toF32 } from "../engine/gguf/index.js";
import { InputError } from "../shared/errors.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";

export interface SafetensorsEntry {
  name: string;
  /** Row-major shape, outermost first. */
  shape: number[];
  data: Float32Array;
}

/** Serialises f32 tensors; names are written in sorted order as PyTorch's writer does. */
export function encodeSafetensors(entries: readonly SafetensorsEntry[], metadata: Record<string, string> = {}): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const entry of sorted) {
    const expected = entry.shape.reduce((product, dim) => product * dim, 1);
    if (expected !== entry.data.length) {
      throw new InputError(`tensor ${entry.name}: shape [${entry.shape}] holds ${expected} values, data has ${entry.data.length}`);
    }
    if (entry.name in header) throw new InputError(`tensor ${entry.name} appears twice`);
    header[entry.name] = { dtype: "F32", shape: entry.shape, data_offsets: [offset, offset + entry.data.byteLength] };
    offset += entry.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let position = 8 + headerBytes.length;
  for (const entry of sorted) {
    Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength).copy(out, position);
    position += entry.data.byteLength;
  }
  return out;
}

export function writeSafetensors(file: string, entries: readonly SafetensorsEntry[], metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(entries, metadata));
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** dtypes read (as f32): PEFT saves adapters in the training precision, often bf16 or f16. */
const READABLE_DTYPES: Record<string, GgmlType> = { F32: GgmlType.F32, F16: GgmlType.F16, BF16: GgmlType.BF16 };

/** Reads F32/F16/BF16 tensors as f32 (other dtypes are rejected with the tensor's name). */
export function readSafetensors(file: string): SafetensorsFile {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 8) throw new InputError("file too short for safetensors", { where: file });
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (8 + headerLength > bytes.length) throw new InputError("safetensors header runs past the end of the file", { where: file });
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, unknown>;
  const base = 8 + headerLength;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = value as Record<string, string>;
      continue;
    }
    const info = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const type = READABLE_DTYPES[info.dtype];
    if (type === undefined) throw new InputError(`tensor ${name} has dtype ${info.dtype}; only ${Object.keys(READABLE_DTYPES).join(", ")} are read here`, { where: file });
    const [begin, end] = info.data_offsets;
    // copied: the slice of the file buffer may not be 4-byte aligned for a Float32Array view
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(base + begin, base + end));
    tensors.set(name, { name, shape: info.shape, data: toF32(type, raw) });
  }
  return { tensors, metadata };
}
