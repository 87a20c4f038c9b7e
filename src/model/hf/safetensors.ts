/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}` padded with
 * spaces to 8 bytes, then the raw little-endian tensor bytes. Shapes are row-major, outermost first
 * (PyTorch order), the reverse of ggml's `ne`.
 *
 * Small files (checkpoints, adapters) are encoded in memory; model weights are streamed tensor by
 * tensor (`writeSafetensorsStreaming`, `openSafetensors`) so that a file larger than one Buffer
 * (and than the machine's memory) can be written and read.
 */
import fs from "node:fs";
import { bf16ToFp32, fp16ToFp32, fromF32, GgmlType } from "../../engine/gguf/index.js";
import { InputError } from "../../shared/errors.js";
import { temporaryPathFor, writeFileAtomic } from "../../shared/atomicWrite.js";

export interface SafetensorsEntry {
  name: string;
  /** Row-major shape, outermost first. */
  shape: number[];
  data: Float32Array;
}

/** dtypes read here (converted to f32) and written by writeSafetensorsStreaming (converted from f32). */
export type SafetensorsDtype = "F32" | "F16" | "BF16";
const bytesPerValue: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

function count(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** The padded JSON header for entries of these shapes, in sorted order as PyTorch's writer does. */
function encodeHeader(
  entries: readonly { name: string; shape: number[]; dtype?: SafetensorsDtype }[],
  metadata: Record<string, string>,
): { header: Buffer; order: string[]; dataBytes: number } {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const entry of sorted) {
    if (entry.name in header) throw new InputError(`tensor ${entry.name} appears twice`);
    const dtype = entry.dtype ?? "F32";
    const bytes = count(entry.shape) * bytesPerValue[dtype];
    header[entry.name] = { dtype, shape: entry.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const text = Buffer.from(json, "utf8");
  const out = Buffer.alloc(8 + text.length);
  out.writeBigUInt64LE(BigInt(text.length), 0);
  text.copy(out, 8);
  return { header: out, order: sorted.map((entry) => entry.name), dataBytes: offset };
}

function checkLength(entry: SafetensorsEntry): void {
  const expected = count(entry.shape);
  if (expected !== entry.data.length) {
    throw new InputError(
      `tensor ${entry.name}: shape [${entry.shape}] holds ${expected} values, data has ${entry.data.length}`,
    );
  }
}

/** Serialises f32 tensors; names are written in sorted order as PyTorch's writer does. */
export function encodeSafetensors(entries: readonly SafetensorsEntry[], metadata: Record<string, string> = {}): Buffer {
  entries.forEach(checkLength);
  const { header, order, dataBytes } = encodeHeader(entries, metadata);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const out = Buffer.alloc(header.length + dataBytes);
  header.copy(out, 0);
  let position = header.length;
  for (const name of order) {
    const data = byName.get(name)!.data;
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, position);
    position += data.byteLength;
  }
  return out;
}

export function writeSafetensors(
  file: string,
  entries: readonly SafetensorsEntry[],
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(file, encodeSafetensors(entries, metadata));
}

/** A tensor whose f32 values are produced only when its turn to be written comes. */
export interface LazySafetensorsEntry {
  name: string;
  shape: number[];
  values: () => Float32Array;
  /** Stored dtype (F16/BF16 rounded to nearest even from the f32 values). Defaults to F32. */
  dtype?: SafetensorsDtype;
}

const ggmlTypeOfDtype: Record<SafetensorsDtype, GgmlType> = {
  F32: GgmlType.F32,
  F16: GgmlType.F16,
  BF16: GgmlType.BF16,
};

/** Bytes one value of `dtype` takes. */
export function safetensorsDtypeBytes(dtype: SafetensorsDtype): number {
  return bytesPerValue[dtype];
}

/**
 * Writes `file` one tensor at a time (never more than one tensor's values in memory), to a temporary
 * name renamed into place at the end, so a crash leaves no half-written model behind.
 */
export function writeSafetensorsStreaming(
  file: string,
  entries: readonly LazySafetensorsEntry[],
  metadata: Record<string, string> = {},
): void {
  const { header, order } = encodeHeader(entries, metadata);
  const byName = new Map(entries.map((entry) => [entry.name, entry]));
  const temporary = temporaryPathFor(file);
  const descriptor = fs.openSync(temporary, "w");
  try {
    fs.writeSync(descriptor, header);
    for (const name of order) {
      const entry = byName.get(name)!;
      const data = entry.values();
      checkLength({ name, shape: entry.shape, data });
      const dtype = entry.dtype ?? "F32";
      fs.writeSync(
        descriptor,
        dtype === "F32"
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : fromF32(ggmlTypeOfDtype[dtype], data),
      );
    }
    fs.closeSync(descriptor);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.closeSync(descriptor);
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

/** A safetensors file opened for reading tensor by tensor. */
export interface OpenSafetensors {
  file: string;
  tensors: Map<string, SafetensorsTensorInfo>;
  metadata: Record<string, string>;
  /** The tensor's values as f32 (F16/BF16 widened exactly). */
  read(name: string): Float32Array;
  close(): void;
}

function toFloat32(dtype: SafetensorsDtype, bytes: Buffer): Float32Array {
  if (dtype === "F32") {
    const out = new Float32Array(bytes.length / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const widen = dtype === "F16" ? fp16ToFp32 : bf16ToFp32;
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = widen(bytes.readUInt16LE(i * 2));
  return out;
}

/** Opens `file` and reads its header; tensors are read on demand by `read(name)`. */
export function openSafetensors(file: string): OpenSafetensors {
  let descriptor: number;
  try {
    descriptor = fs.openSync(file, "r");
  } catch (error) {
    throw new InputError(`cannot open: ${(error as Error).message}`, { where: file, cause: error });
  }
  const size = fs.fstatSync(descriptor).size;
  const readAt = (position: number, length: number) => {
    const bytes = Buffer.alloc(length);
    const got = fs.readSync(descriptor, bytes, 0, length, position);
    if (got !== length)
      throw new InputError(`file ends at byte ${position + got}, ${length} bytes were needed from byte ${position}`, {
        where: file,
      });
    return bytes;
  };
  if (size < 8) throw new InputError("file too short for safetensors", { where: file });
  const headerLength = Number(readAt(0, 8).readBigUInt64LE(0));
  if (8 + headerLength > size)
    throw new InputError("safetensors header runs past the end of the file (a partial download?)", { where: file });
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(readAt(8, headerLength).toString("utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new InputError(`the safetensors header is not JSON: ${(error as Error).message}`, {
      where: file,
      cause: error,
    });
  }
  const base = 8 + headerLength;
  const tensors = new Map<string, SafetensorsTensorInfo>();
  const offsets = new Map<string, [number, number]>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = value as Record<string, string>;
      continue;
    }
    const info = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(info.dtype in bytesPerValue)) {
      throw new InputError(`tensor ${name} has dtype ${info.dtype}; Vertical reads F32, F16 and BF16`, {
        where: file,
        hint: "convert the checkpoint to bf16/f16/f32 first",
      });
    }
    const dtype = info.dtype as SafetensorsDtype;
    const [begin, end] = info.data_offsets;
    if (end - begin !== count(info.shape) * bytesPerValue[dtype] || base + end > size) {
      throw new InputError(
        `tensor ${name}: data_offsets [${begin}, ${end}] do not fit shape [${info.shape}] ${dtype} in a ${size}-byte file`,
        { where: file },
      );
    }
    tensors.set(name, { name, dtype, shape: info.shape });
    offsets.set(name, [begin, end]);
  }
  return {
    file,
    tensors,
    metadata,
    read(name) {
      const info = tensors.get(name);
      if (!info) throw new InputError(`no tensor ${name}`, { where: file });
      const [begin, end] = offsets.get(name)!;
      return toFloat32(info.dtype, readAt(base + begin, end - begin));
    },
    close() {
      fs.closeSync(descriptor);
    },
  };
}

/** Reads every tensor of a (small) file as f32. */
export function readSafetensors(file: string): SafetensorsFile {
  const opened = openSafetensors(file);
  try {
    const tensors = new Map<string, SafetensorsEntry>();
    for (const info of opened.tensors.values())
      tensors.set(info.name, { name: info.name, shape: info.shape, data: opened.read(info.name) });
    return { tensors, metadata: opened.metadata };
  } finally {
    opened.close();
  }
}
