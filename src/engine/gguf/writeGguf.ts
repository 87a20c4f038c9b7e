/**
 * GGUF writer in TypeScript. Layout exactly as ggml's gguf_write_to_file: header, metadata in the
 * order given, tensor infos, zero padding to the alignment, then each tensor's data padded to the
 * alignment, offsets contiguous. The file is written to a temporary path and renamed onto `path`.
 */
import fs from "node:fs";
import { EngineError, InputError } from "../../shared/errors.js";
import { withAtomicPath } from "../../shared/atomicWrite.js";
import { GgmlType, ggmlTypeName, ggmlTypeTraits, isGgmlType } from "./ggmlType.js";
import { fromF32, typesConvertedInTypeScript } from "./convertTensor.js";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_DIMS, GGUF_MAX_TENSOR_NAME } from "./readGguf.js";
import { ggufValueTypeIds, type GgufArrayValue, type GgufMetadata, type GgufValue, type GgufValueType } from "./ggufValue.js";

export interface GgufTensorInput {
  name: string;
  /** ne, innermost (row length) first, 1 to 4 dimensions; written as given (no trailing 1s dropped). */
  shape: readonly number[];
  /** Type stored in the file. */
  type: GgmlType;
  /**
   * Either the tensor's bytes already in `type` (Uint8Array, handed through unchanged), or f32 values
   * (Float32Array) converted here: f32/f16/bf16/q8_0 in TypeScript, other types through `quantize`.
   */
  data: Uint8Array | Float32Array;
}

/** Quantises `rows` rows of `rowLength` f32 values to `type` (the engine's ggml-backed quantizeRows). */
export type QuantizeRows = (type: GgmlType, values: Float32Array, rows: number, rowLength: number) => Uint8Array;

export interface GgufWriteInput {
  /** Written in iteration order (a Map keeps insertion order). */
  metadata: GgufMetadata | Iterable<[string, GgufValue]>;
  tensors: readonly GgufTensorInput[];
  /** GGUF version, 2 or 3. Defaults to 3. */
  version?: number;
  /** Data alignment; sets general.alignment when not 32. Defaults to general.alignment in metadata, else 32. */
  alignment?: number;
}

export interface GgufWriteOptions {
  /**
   * Used only for f32 data stored as a type other than f32/f16/bf16/q8_0. writeGguf defaults to the
   * engine's ggml-backed quantizeRows; encodeGguf needs it passed.
   */
  quantize?: QuantizeRows;
}

/** Growable little-endian byte buffer for the header part of the file. */
class ByteWriter {
  private buffer = Buffer.allocUnsafe(1 << 16);
  length = 0;

  private reserve(bytes: number): number {
    if (this.length + bytes > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    const at = this.length;
    this.length += bytes;
    return at;
  }
  u8(value: number) {
    const at = this.reserve(1); // reserve first: it may replace this.buffer
    this.buffer.writeUInt8(value, at);
  }
  i8(value: number) {
    const at = this.reserve(1); // reserve first: it may replace this.buffer
    this.buffer.writeInt8(value, at);
  }
  u16(value: number) {
    const at = this.reserve(2); // reserve first: it may replace this.buffer
    this.buffer.writeUInt16LE(value, at);
  }
  i16(value: number) {
    const at = this.reserve(2); // reserve first: it may replace this.buffer
    this.buffer.writeInt16LE(value, at);
  }
  u32(value: number) {
    const at = this.reserve(4); // reserve first: it may replace this.buffer
    this.buffer.writeUInt32LE(value, at);
  }
  i32(value: number) {
    const at = this.reserve(4); // reserve first: it may replace this.buffer
    this.buffer.writeInt32LE(value, at);
  }
  f32(value: number) {
    const at = this.reserve(4); // reserve first: it may replace this.buffer
    this.buffer.writeFloatLE(value, at);
  }
  f64(value: number) {
    const at = this.reserve(8); // reserve first: it may replace this.buffer
    this.buffer.writeDoubleLE(value, at);
  }
  u64(value: bigint | number) {
    const at = this.reserve(8); // reserve first: it may replace this.buffer
    this.buffer.writeBigUInt64LE(BigInt(value), at);
  }
  i64(value: bigint) {
    const at = this.reserve(8); // reserve first: it may replace this.buffer
    this.buffer.writeBigInt64LE(value, at);
  }
  string(value: string) {
    const bytes = Buffer.byteLength(value);
    this.u64(bytes);
    const at = this.reserve(bytes);
    this.buffer.write(value, at, bytes, "utf8");
  }
  padTo(alignment: number) {
    const padding = (alignment - (this.length % alignment)) % alignment;
    const at = this.reserve(padding);
    this.buffer.fill(0, at, this.length);
  }
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

const integerRanges: Partial<Record<GgufValueType, [number, number]>> = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff],
};

function writeScalar(out: ByteWriter, type: GgufValueType, value: unknown, what: string): void {
  const range = integerRanges[type];
  if (range) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1]) {
      throw new InputError(`${what} must be a ${type} (integer in [${range[0]}, ${range[1]}]), got ${String(value)}`);
    }
  }
  switch (type) {
    case "uint8":
      return out.u8(value as number);
    case "int8":
      return out.i8(value as number);
    case "uint16":
      return out.u16(value as number);
    case "int16":
      return out.i16(value as number);
    case "uint32":
      return out.u32(value as number);
    case "int32":
      return out.i32(value as number);
    case "float32":
    case "float64":
      if (typeof value !== "number") throw new InputError(`${what} must be a number (${type}), got ${typeof value}`);
      return type === "float32" ? out.f32(value) : out.f64(value);
    case "uint64":
    case "int64": {
      if (typeof value !== "bigint") throw new InputError(`${what} must be a bigint (${type}), got ${typeof value}`);
      const fits = type === "uint64" ? value >= 0n && value < 1n << 64n : value >= -(1n << 63n) && value < 1n << 63n;
      if (!fits) throw new InputError(`${what} = ${value} does not fit ${type}`);
      return type === "uint64" ? out.u64(value) : out.i64(value);
    }
    case "bool":
      if (typeof value !== "boolean") throw new InputError(`${what} must be a boolean, got ${typeof value}`);
      return out.u8(value ? 1 : 0);
    case "string":
      if (typeof value !== "string") throw new InputError(`${what} must be a string, got ${typeof value}`);
      return out.string(value);
    case "array":
      throw new InputError(`${what}: arrays are written by writeArray`);
  }
}

function writeArray(out: ByteWriter, array: GgufArrayValue, what: string): void {
  if (!(array.itemType in ggufValueTypeIds)) throw new InputError(`${what} has unknown item type '${String(array.itemType)}'`);
  if (!Array.isArray(array.value)) throw new InputError(`${what} must hold a JavaScript array of items`);
  out.u32(ggufValueTypeIds[array.itemType]);
  out.u64(array.value.length);
  if (array.itemType === "array") {
    (array.value as GgufArrayValue[]).forEach((item, index) => {
      if (item?.type !== "array") throw new InputError(`${what}[${index}] must be an array value`);
      writeArray(out, item, `${what}[${index}]`);
    });
    return;
  }
  const itemType = array.itemType;
  for (let i = 0; i < array.value.length; i++) writeScalar(out, itemType, array.value[i], `${what}[${i}]`);
}

function writeValue(out: ByteWriter, key: string, value: GgufValue): void {
  if (!value || !(value.type in ggufValueTypeIds)) throw new InputError(`metadata '${key}' has no valid GGUF type (got ${JSON.stringify(value?.type)})`);
  out.u32(ggufValueTypeIds[value.type]);
  if (value.type === "array") writeArray(out, value, `metadata '${key}'`);
  else writeScalar(out, value.type, value.value, `metadata '${key}'`);
}

interface PreparedTensor {
  name: string;
  shape: readonly number[];
  type: GgmlType;
  bytes: Uint8Array;
}

function prepareTensor(tensor: GgufTensorInput, options: GgufWriteOptions): PreparedTensor {
  const { name, shape, type } = tensor;
  if (typeof name !== "string" || name.length === 0) throw new InputError(`tensor name must be a non-empty string`);
  if (Buffer.byteLength(name) >= GGUF_MAX_TENSOR_NAME) throw new InputError(`tensor name '${name}' is longer than ggml's ${GGUF_MAX_TENSOR_NAME - 1} bytes`);
  if (!isGgmlType(type)) throw new EngineError(`tensor '${name}' has unknown ggml type id ${String(type)}`);
  if (shape.length < 1 || shape.length > GGUF_MAX_DIMS || !shape.every((extent) => Number.isSafeInteger(extent) && extent > 0)) {
    throw new EngineError(`tensor '${name}' shape [${shape.join(", ")}] must have 1-${GGUF_MAX_DIMS} positive integer extents`);
  }
  const traits = ggmlTypeTraits(type);
  const rowLength = shape[0]!;
  if (rowLength % traits.blockSize !== 0) {
    throw new EngineError(`tensor '${name}': rows of ${rowLength} elements are not a multiple of the ${traits.name} block size ${traits.blockSize}`);
  }
  const elements = shape.reduce((product, extent) => product * extent, 1);
  const byteSize = (elements / traits.blockSize) * traits.typeSize;
  let bytes: Uint8Array;
  if (tensor.data instanceof Float32Array) {
    if (tensor.data.length !== elements) throw new EngineError(`tensor '${name}' has ${tensor.data.length} f32 values, shape [${shape.join(", ")}] needs ${elements}`);
    if (typesConvertedInTypeScript.includes(type)) bytes = fromF32(type, tensor.data);
    else if (options.quantize) bytes = options.quantize(type, tensor.data, elements / rowLength, rowLength);
    else {
      throw new EngineError(`tensor '${name}': f32 -> ${ggmlTypeName(type)} needs a quantizer`, {
        hint: "pass {quantize: quantizeRows} from src/engine, or quantise first and pass the bytes",
      });
    }
  } else if (tensor.data instanceof Uint8Array) {
    bytes = tensor.data;
  } else {
    throw new InputError(`tensor '${name}' data must be a Uint8Array (raw ${traits.name} bytes) or a Float32Array`);
  }
  if (bytes.length !== byteSize) {
    throw new EngineError(`tensor '${name}' has ${bytes.length} bytes of data, ${traits.name} [${shape.join(", ")}] takes ${byteSize}`);
  }
  return { name, shape, type, bytes };
}

/** Encodes everything before the data section (header, metadata, tensor infos, padding). */
function encodeHeader(input: GgufWriteInput, tensors: PreparedTensor[], alignment: number, metadata: GgufMetadata): Buffer {
  const version = input.version ?? 3;
  if (version !== 2 && version !== 3) throw new InputError(`GGUF version ${version} cannot be written; use 2 or 3`);
  const out = new ByteWriter();
  out.u32(GGUF_MAGIC);
  out.u32(version);
  out.u64(tensors.length);
  out.u64(metadata.size);
  for (const [key, value] of metadata) {
    if (typeof key !== "string" || key.length === 0) throw new InputError(`metadata keys must be non-empty strings`);
    out.string(key);
    writeValue(out, key, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    out.string(tensor.name);
    out.u32(tensor.shape.length);
    for (const extent of tensor.shape) out.u64(extent);
    out.i32(tensor.type);
    out.u64(offset);
    offset += Math.ceil(tensor.bytes.length / alignment) * alignment;
  }
  out.padTo(alignment);
  return out.bytes();
}

function resolveMetadata(input: GgufWriteInput): { metadata: GgufMetadata; alignment: number } {
  const metadata: GgufMetadata = new Map();
  for (const [key, value] of input.metadata) {
    if (metadata.has(key)) throw new InputError(`duplicate metadata key '${key}'`);
    metadata.set(key, value);
  }
  const stored = metadata.get("general.alignment");
  if (stored && stored.type !== "uint32") throw new InputError(`general.alignment must be a uint32, got ${stored.type}`);
  const alignment = input.alignment ?? (stored?.type === "uint32" ? stored.value : GGUF_DEFAULT_ALIGNMENT);
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new InputError(`alignment ${alignment} is not a power of two`);
  if (input.alignment !== undefined && (stored !== undefined || alignment !== GGUF_DEFAULT_ALIGNMENT)) {
    metadata.set("general.alignment", { type: "uint32", value: alignment });
  }
  return { metadata, alignment };
}

/** The whole file as bytes (small files, tests). writeGguf streams the same bytes to disk. */
export function encodeGguf(input: GgufWriteInput, options: GgufWriteOptions = {}): Uint8Array {
  const { metadata, alignment } = resolveMetadata(input);
  const tensors = prepareTensors(input, options);
  const header = encodeHeader(input, tensors, alignment, metadata);
  const parts: Uint8Array[] = [header];
  for (const tensor of tensors) {
    parts.push(tensor.bytes);
    const padding = (alignment - (tensor.bytes.length % alignment)) % alignment;
    if (padding) parts.push(new Uint8Array(padding));
  }
  return Buffer.concat(parts);
}

function prepareTensors(input: GgufWriteInput, options: GgufWriteOptions): PreparedTensor[] {
  const names = new Set<string>();
  return input.tensors.map((tensor) => {
    if (names.has(tensor.name)) throw new InputError(`duplicate tensor name '${tensor.name}'`);
    names.add(tensor.name);
    return prepareTensor(tensor, options);
  });
}

/** Writes a GGUF file atomically (temporary file + rename). Errors name `path`. */
export async function writeGguf(path: string, input: GgufWriteInput, options: GgufWriteOptions = {}): Promise<void> {
  const needsGgml = input.tensors.some((tensor) => tensor.data instanceof Float32Array && !typesConvertedInTypeScript.includes(tensor.type));
  if (needsGgml && !options.quantize) {
    // loaded only when needed, so reading and writing f32/f16/bf16/q8_0 files never loads ggml
    const { quantizeRows } = await import("../quantize.js");
    options = { ...options, quantize: quantizeRows };
  }
  let header: Buffer;
  let tensors: PreparedTensor[];
  let alignment: number;
  try {
    const resolved = resolveMetadata(input);
    alignment = resolved.alignment;
    tensors = prepareTensors(input, options);
    header = encodeHeader(input, tensors, alignment, resolved.metadata);
  } catch (error) {
    // name the file being written; keep the class (InputError for bad metadata, EngineError for bad tensors)
    if (error instanceof EngineError) throw new EngineError(`cannot write GGUF: ${error.message}`, { where: path, cause: error });
    if (error instanceof InputError) throw new InputError(`cannot write GGUF: ${error.message}`, { where: path, cause: error });
    throw error;
  }
  const zeros = new Uint8Array(alignment);
  await withAtomicPath(path, (temporaryPath) => {
    const fd = fs.openSync(temporaryPath, "w");
    try {
      writeAll(fd, header);
      for (const tensor of tensors) {
        writeAll(fd, tensor.bytes);
        const padding = (alignment - (tensor.bytes.length % alignment)) % alignment;
        if (padding) writeAll(fd, zeros.subarray(0, padding));
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** fs.writeSync may write less than asked for large buffers; loop until everything is out. */
function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}
