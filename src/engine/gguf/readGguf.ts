/**
 * GGUF reader in TypeScript (why not ggml's gguf API: docs/decisions/0002-gguf-in-typescript.md).
 * Reads header, metadata and tensor infos through a sliding window over the file, so a 500 MB model
 * costs a few MB until tensor data is asked for; `tensorData(name)` then reads just that tensor.
 * Every structural problem raises an InputError that names the file, the offset and what is wrong.
 */
import fs from "node:fs";
import { InputError, ModelError } from "../../shared/errors.js";
import { GgmlType, ggmlTypeTraits, ggmlTypes, isGgmlType } from "./ggmlType.js";
import {
  ggufValueTypeFromId,
  type GgufArrayValue,
  type GgufMetadata,
  type GgufPlainValue,
  type GgufValue,
  type GgufValueType,
  plainGgufValue,
} from "./ggufValue.js";

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian uint32
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS and GGML_MAX_NAME (name length including the terminating zero). */
export const GGUF_MAX_DIMS = 4;
export const GGUF_MAX_TENSOR_NAME = 64;

/**
 * A key or tensor name from the file as messages show it: control characters escaped and at most
 * 64 characters, so a corrupt length or name cannot print kilobytes of binary to the terminal.
 */
function shownName(name: string): string {
  const escaped = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return escaped.length <= 64 ? escaped : `${escaped.slice(0, 60)}... (${Buffer.byteLength(name)} bytes)`;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml's ne: element counts, innermost (row length) first; trailing 1s are dropped as ggml writes them. */
  shape: number[];
  type: GgmlType;
  /** Offset of the data relative to the start of the data section. */
  offset: number;
  /** Bytes of tensor data (without padding). */
  byteSize: number;
  /** Element count (product of shape). */
  elements: number;
}

export interface GgufFile {
  /** The file read, or the name given to readGgufBuffer. */
  path: string;
  version: number;
  /** general.alignment, or 32. */
  alignment: number;
  /** Keys in file order; each value keeps its GGUF type. */
  metadata: GgufMetadata;
  /** Tensor infos in file order. */
  tensors: GgufTensorInfo[];
  /** Absolute file offset of the data section. */
  dataOffset: number;
  fileSize: number;
  tensor(name: string): GgufTensorInfo | undefined;
  /** The raw bytes of tensor `name` (a fresh copy for files, a view for buffers). Throws ModelError if absent. */
  tensorData(name: string): Uint8Array;
  /** Value of `key` without its type, undefined when absent. */
  get(key: string): GgufPlainValue | undefined;
  /** String value of `key`; undefined when absent, ModelError when present with another type. */
  getString(key: string): string | undefined;
  /** Numeric value of `key` (any integer or float type; 64-bit ones must fit a double exactly). */
  getNumber(key: string): number | undefined;
  getBool(key: string): boolean | undefined;
  getArray(key: string): GgufArrayValue | undefined;
  getStringArray(key: string): string[] | undefined;
  /** Any numeric array as numbers (64-bit items must fit a double exactly). */
  getNumberArray(key: string): number[] | undefined;
}

interface ByteSource {
  size: number;
  /** `length` bytes at `position`; callers check bounds first. */
  read(position: number, length: number): Buffer;
  close(): void;
}

function fileSource(path: string): ByteSource {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    throw new InputError(`cannot open GGUF file: ${(error as Error).message}`, { where: path, cause: error });
  }
  const stat = fs.fstatSync(fd);
  if (stat.isDirectory()) {
    fs.closeSync(fd);
    throw new InputError("is a directory, not a GGUF file", { where: path, hint: "pass the .gguf file itself (ls the folder to find it)" });
  }
  const size = stat.size;
  return {
    size,
    read(position, length) {
      const out = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const got = fs.readSync(fd, out, done, length - done, position + done);
        if (got === 0) throw new InputError(`file shrank while reading: no data at offset ${position + done}`, { where: path });
        done += got;
      }
      return out;
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

function bufferSource(bytes: Uint8Array): ByteSource {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { size: buffer.length, read: (position, length) => buffer.subarray(position, position + length), close() {} };
}

const WINDOW = 1 << 20;

/** Sequential little-endian reads through a window of the source, with bounds checks that name the field. */
class Cursor {
  position = 0;
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly where: string,
  ) {}

  private need(length: number, what: string): Buffer {
    if (this.position + length > this.source.size) {
      throw new InputError(
        `truncated at offset ${this.position}: ${what} needs ${length} bytes but the file ends at ${this.source.size}`,
        { where: this.where, hint: "the file is incomplete (interrupted download or copy?); fetch or write it again" },
      );
    }
    const end = this.windowStart + this.window.length;
    if (this.position < this.windowStart || this.position + length > end) {
      this.windowStart = this.position;
      this.window = this.source.read(this.position, Math.min(Math.max(length, WINDOW), this.source.size - this.position));
    }
    const start = this.position - this.windowStart;
    this.position += length;
    return this.window.subarray(start, start + length);
  }

  remaining(): number {
    return this.source.size - this.position;
  }
  u8(what: string): number {
    return this.need(1, what)[0]!;
  }
  u32(what: string): number {
    return this.need(4, what).readUInt32LE(0);
  }
  i32(what: string): number {
    return this.need(4, what).readInt32LE(0);
  }
  u64(what: string): bigint {
    return this.need(8, what).readBigUInt64LE(0);
  }
  /** A uint64 that must be a safe integer (counts, lengths, offsets). */
  count(what: string): number {
    const at = this.position;
    const value = this.u64(what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new InputError(`${what} at offset ${at} is ${value}, too large to be real`, { where: this.where });
    }
    return Number(value);
  }
  string(what: string): string {
    const at = this.position;
    const length = this.count(`length of ${what}`);
    if (this.position + length > this.source.size) {
      throw new InputError(`truncated at offset ${this.position}: ${what} needs ${length} bytes but the file ends at ${this.source.size}`, {
        where: this.where,
        hint: `the length field at offset ${at} is corrupt or the file is incomplete; fetch or write it again`,
      });
    }
    return this.need(length, what).toString("utf8");
  }
  scalar(type: Exclude<GgufValueType, "array" | "string">, what: string): number | bigint | boolean {
    switch (type) {
      case "uint8":
        return this.need(1, what).readUInt8(0);
      case "int8":
        return this.need(1, what).readInt8(0);
      case "uint16":
        return this.need(2, what).readUInt16LE(0);
      case "int16":
        return this.need(2, what).readInt16LE(0);
      case "uint32":
        return this.need(4, what).readUInt32LE(0);
      case "int32":
        return this.need(4, what).readInt32LE(0);
      case "float32":
        return this.need(4, what).readFloatLE(0);
      case "float64":
        return this.need(8, what).readDoubleLE(0);
      case "uint64":
        return this.need(8, what).readBigUInt64LE(0);
      case "int64":
        return this.need(8, what).readBigInt64LE(0);
      case "bool": {
        const at = this.position;
        const byte = this.need(1, what).readUInt8(0);
        if (byte > 1) throw new InputError(`${what} at offset ${at} is a bool with byte value ${byte} (expected 0 or 1)`, { where: this.where });
        return byte === 1;
      }
    }
  }
}

/** Smallest encoded size of one item of `type`, to reject absurd array lengths before allocating. */
function minimumItemBytes(type: GgufValueType): number {
  switch (type) {
    case "uint8":
    case "int8":
    case "bool":
      return 1;
    case "uint16":
    case "int16":
      return 2;
    case "uint32":
    case "int32":
    case "float32":
      return 4;
    default:
      return 8; // 64-bit scalars, string length, nested array header (4 + 8)
  }
}

function readValueType(cursor: Cursor, where: string, what: string): GgufValueType {
  const at = cursor.position;
  const id = cursor.u32(`value type of ${what}`);
  const type = ggufValueTypeFromId(id);
  if (!type) throw new InputError(`${what} has unknown GGUF value type id ${id} at offset ${at} (known: 0-12)`, { where });
  return type;
}

function readArray(cursor: Cursor, where: string, what: string): GgufArrayValue {
  const itemType = readValueType(cursor, where, `items of ${what}`);
  const at = cursor.position;
  const length = cursor.count(`item count of ${what}`);
  if (length * minimumItemBytes(itemType) > cursor.remaining()) {
    throw new InputError(`${what} at offset ${at} claims ${length} items, more than the remaining ${cursor.remaining()} bytes can hold`, {
      where,
      hint: "the file is truncated or corrupt; fetch or write it again",
    });
  }
  switch (itemType) {
    case "string": {
      const items: string[] = new Array<string>(length);
      for (let i = 0; i < length; i++) items[i] = cursor.string(`${what}[${i}]`);
      return { type: "array", itemType, value: items };
    }
    case "array": {
      const items: GgufArrayValue[] = [];
      for (let i = 0; i < length; i++) items.push(readArray(cursor, where, `${what}[${i}]`));
      return { type: "array", itemType, value: items };
    }
    case "bool": {
      const items: boolean[] = new Array<boolean>(length);
      for (let i = 0; i < length; i++) items[i] = cursor.scalar("bool", `${what}[${i}]`) as boolean;
      return { type: "array", itemType, value: items };
    }
    case "uint64":
    case "int64": {
      const items: bigint[] = new Array<bigint>(length);
      for (let i = 0; i < length; i++) items[i] = cursor.scalar(itemType, `${what}[${i}]`) as bigint;
      return { type: "array", itemType, value: items };
    }
    default: {
      const items: number[] = new Array<number>(length);
      for (let i = 0; i < length; i++) items[i] = cursor.scalar(itemType, `${what}[${i}]`) as number;
      return { type: "array", itemType, value: items };
    }
  }
}

function readValue(cursor: Cursor, where: string, key: string): GgufValue {
  const type = readValueType(cursor, where, `key '${key}'`);
  if (type === "array") return readArray(cursor, where, `key '${key}'`);
  if (type === "string") return { type, value: cursor.string(`value of '${key}'`) };
  const value = cursor.scalar(type, `value of '${key}'`);
  return { type, value } as GgufValue;
}

/** Reads a GGUF file's header, metadata and tensor infos; tensor data is read on demand. */
export function readGguf(path: string): GgufFile {
  const source = fileSource(path);
  try {
    return parseGguf(source, path, fileSource);
  } finally {
    source.close();
  }
}

/** Same as readGguf for bytes already in memory; `name` is used in error messages. */
export function readGgufBuffer(bytes: Uint8Array, name = "<buffer>"): GgufFile {
  const source = bufferSource(bytes);
  return parseGguf(source, name, () => source);
}

/**
 * A Git LFS pointer checked out instead of the model ("version https://git-lfs.github.com/spec/v1", "oid sha256:…",
 * "size N"): common when a repository is cloned without `git lfs`. Named as such, with the size it stands for.
 */
function refuseLfsPointer(source: ByteSource, where: string): void {
  if (source.size > 1024) return;
  const text = Buffer.from(source.read(0, source.size)).toString("utf8");
  if (!text.startsWith("version https://git-lfs.github.com/spec/")) return;
  const size = /^size (\d+)$/m.exec(text)?.[1];
  throw new InputError(`a Git LFS pointer, not the model file${size ? ` (it stands for ${size} bytes)` : ""}`, {
    where,
    hint: "Fetch the real file: `git lfs install && git lfs pull` in its repository, or download it directly.",
  });
}

function parseGguf(source: ByteSource, where: string, reopen: (path: string) => ByteSource): GgufFile {
  const cursor = new Cursor(source, where);
  if (source.size < 4) throw new InputError(`not a GGUF file: ${source.size} bytes, too short for the magic "GGUF"`, { where });
  const magic = cursor.u32("magic");
  refuseLfsPointer(source, where);
  if (magic !== GGUF_MAGIC) {
    const seen = Buffer.alloc(4);
    seen.writeUInt32LE(magic);
    throw new InputError(`not a GGUF file: magic is ${JSON.stringify(seen.toString("latin1"))} (0x${magic.toString(16).padStart(8, "0")}), expected "GGUF"`, {
      where,
      hint: "pass a .gguf model file (convert safetensors with llama.cpp's convert_hf_to_gguf.py)",
    });
  }
  const version = cursor.u32("version");
  if (version !== 2 && version !== 3) {
    const hint =
      version === 1
        ? "GGUF v1 is no longer supported by llama.cpp either; re-convert the model"
        : (version & 0xffff) === 0
          ? "the file looks big-endian; only little-endian GGUF is supported"
          : "only GGUF versions 2 and 3 are supported";
    throw new InputError(`unsupported GGUF version ${version}`, { where, hint });
  }
  const tensorCount = cursor.count("tensor count");
  const keyCount = cursor.count("metadata key count");
  // every key takes at least 8 (name length) + 4 (type) + 1 bytes, every tensor info at least 8 + 4 + 4 + 8
  if (keyCount * 13 > source.size || tensorCount * 24 > source.size) {
    throw new InputError(`header claims ${keyCount} metadata keys and ${tensorCount} tensors, more than a ${source.size}-byte file can hold`, { where });
  }

  const metadata: GgufMetadata = new Map();
  for (let i = 0; i < keyCount; i++) {
    const at = cursor.position;
    const key = cursor.string(`metadata key #${i}`);
    const label = shownName(key);
    if (key.length === 0) throw new InputError(`metadata key #${i} at offset ${at} is empty`, { where });
    if (metadata.has(key)) throw new InputError(`duplicate metadata key '${label}' at offset ${at}`, { where });
    metadata.set(key, readValue(cursor, where, label));
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const alignmentValue = metadata.get("general.alignment");
  if (alignmentValue) {
    if (alignmentValue.type !== "uint32") throw new InputError(`general.alignment must be uint32, found ${alignmentValue.type}`, { where });
    alignment = alignmentValue.value;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw new InputError(`general.alignment ${alignment} is not a power of two`, { where });
  }

  const tensors: GgufTensorInfo[] = [];
  const byName = new Map<string, GgufTensorInfo>();
  for (let i = 0; i < tensorCount; i++) {
    const at = cursor.position;
    const name = cursor.string(`name of tensor #${i}`);
    const label = shownName(name);
    if (Buffer.byteLength(name) >= GGUF_MAX_TENSOR_NAME) {
      throw new InputError(`tensor #${i} name '${label}' is ${Buffer.byteLength(name)} bytes; ggml allows at most ${GGUF_MAX_TENSOR_NAME - 1}`, { where });
    }
    if (byName.has(name)) throw new InputError(`duplicate tensor name '${label}' at offset ${at}`, { where });
    const dims = cursor.u32(`dimension count of tensor '${label}'`);
    if (dims > GGUF_MAX_DIMS) throw new InputError(`tensor '${label}' has ${dims} dimensions; ggml allows at most ${GGUF_MAX_DIMS}`, { where });
    const shape: number[] = [];
    for (let d = 0; d < dims; d++) {
      const dimAt = cursor.position;
      const extent = cursor.u64(`dimension ${d} of tensor '${label}'`);
      if (extent > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(`tensor '${label}' dimension ${d} at offset ${dimAt} is ${extent}, too large`, { where });
      shape.push(Number(extent));
    }
    const typeAt = cursor.position;
    const typeId = cursor.i32(`type of tensor '${label}'`);
    if (!isGgmlType(typeId)) {
      throw new InputError(`tensor '${label}' has unknown ggml type id ${typeId} at offset ${typeAt}`, {
        where,
        hint: `known type ids: ${ggmlTypes.join(", ")}; the file may come from a newer llama.cpp or be corrupt`,
      });
    }
    const traits = ggmlTypeTraits(typeId);
    const offsetAt = cursor.position;
    const offset = cursor.count(`data offset of tensor '${label}'`);
    const elements = shape.reduce((product, extent) => product * extent, 1);
    if (!Number.isSafeInteger(elements)) throw new InputError(`tensor '${label}' shape [${shape.join(", ")}] has too many elements`, { where });
    const rowLength = shape[0] ?? 1;
    if (rowLength % traits.blockSize !== 0) {
      throw new InputError(`tensor '${label}' of type ${traits.name} has rows of ${rowLength} elements, not a multiple of its block size ${traits.blockSize}`, { where });
    }
    if (offset % alignment !== 0) throw new InputError(`tensor '${label}' data offset ${offset} (at file offset ${offsetAt}) is not a multiple of the alignment ${alignment}`, { where });
    const info: GgufTensorInfo = { name, shape, type: typeId, offset, byteSize: (elements / traits.blockSize) * traits.typeSize, elements };
    tensors.push(info);
    byName.set(name, info);
  }

  const dataOffset = tensorCount > 0 ? Math.ceil(cursor.position / alignment) * alignment : cursor.position;
  // The size the tensor table implies: a file shorter than that is most often an interrupted download.
  const needed = tensors.reduce((most, info) => Math.max(most, dataOffset + info.offset + info.byteSize), 0);
  for (const info of tensors) {
    const end = dataOffset + info.offset + info.byteSize;
    if (end > source.size) {
      const share = ((100 * source.size) / needed).toFixed(source.size / needed < 0.001 ? 3 : 1);
      throw new InputError(
        `tensor '${shownName(info.name)}' data (${info.byteSize} bytes at file offset ${dataOffset + info.offset}) runs past the end of the file: ` +
          `it has ${source.size} bytes of the ${needed} its tensor table needs (${share}%)`,
        { where, hint: "the file is truncated — a partial download or an interrupted copy; fetch or write it again" },
      );
    }
  }

  const fileSize = source.size;
  const typed = <T extends GgufValue["type"]>(key: string, types: readonly T[]): Extract<GgufValue, { type: T }> | undefined => {
    const value = metadata.get(key);
    if (value === undefined) return undefined;
    if (!(types as readonly string[]).includes(value.type)) {
      throw new ModelError(`metadata '${key}' is ${describeType(value)}, expected ${types.join(" or ")}`, { where });
    }
    return value as Extract<GgufValue, { type: T }>;
  };
  const toNumber = (key: string, value: number | bigint): number => {
    if (typeof value === "number") return value;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ModelError(`metadata '${key}' value ${value} does not fit a JavaScript number`, { where });
    }
    return Number(value);
  };
  const numberTypes = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64", "uint64", "int64"] as const;

  return {
    path: where,
    version,
    alignment,
    metadata,
    tensors,
    dataOffset,
    fileSize,
    tensor: (name) => byName.get(name),
    tensorData(name) {
      const info = byName.get(name);
      if (!info) throw new ModelError(`no tensor named '${name}'`, { where });
      const reader = reopen(where);
      try {
        if (reader.size < dataOffset + info.offset + info.byteSize) throw new InputError(`file shrank since it was read; tensor '${name}' is past its end`, { where });
        return reader.read(dataOffset + info.offset, info.byteSize);
      } finally {
        reader.close();
      }
    },
    get(key) {
      const value = metadata.get(key);
      return value === undefined ? undefined : plainGgufValue(value);
    },
    getString: (key) => typed(key, ["string"] as const)?.value,
    getBool: (key) => typed(key, ["bool"] as const)?.value,
    getNumber(key) {
      const value = typed(key, numberTypes);
      return value === undefined ? undefined : toNumber(key, value.value);
    },
    getArray: (key) => typed(key, ["array"] as const),
    getStringArray(key) {
      const value = typed(key, ["array"] as const);
      if (value === undefined) return undefined;
      if (value.itemType !== "string") throw new ModelError(`metadata '${key}' is ${describeType(value)}, expected an array of string`, { where });
      return value.value;
    },
    getNumberArray(key) {
      const value = typed(key, ["array"] as const);
      if (value === undefined) return undefined;
      if (value.itemType === "string" || value.itemType === "bool" || value.itemType === "array") {
        throw new ModelError(`metadata '${key}' is ${describeType(value)}, expected a numeric array`, { where });
      }
      return (value.value as (number | bigint)[]).map((item) => toNumber(key, item));
    },
  };
}

function describeType(value: GgufValue): string {
  return value.type === "array" ? `an array of ${value.itemType}` : `a ${value.type}`;
}
