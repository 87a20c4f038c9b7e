import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readGgufFileInfo } from "node-llama-cpp";
import { VerticalError } from "../../shared/errors.js";
import {
  GgmlType,
  encodeGguf,
  fromF32,
  gguf,
  ggmlTypeSize,
  ggmlTypeTraits,
  ggmlTypes,
  readGguf,
  readGgufBuffer,
  toF32,
  writeGguf,
  type GgufMetadata,
  type GgufTensorInput,
} from "./index.js";
import { ggmlNative, nativeAvailable, parseWithGgml } from "./nativeReference.test-helper.js";
import { llamaCppVocab } from "../../../test/native/fixtures.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-gguf-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

/** Deterministic pseudo-random numbers (xorshift), so failures reproduce. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

function randomFloats(count: number, seed: number, scale = 1): Float32Array {
  const next = random(seed);
  return Float32Array.from({ length: count }, () => (next() * 2 - 1) * scale);
}

function everyValueType(): GgufMetadata {
  return new Map([
    ["general.architecture", gguf.string("llama")],
    ["general.name", gguf.string("tiny 模型 🦙")],
    ["test.u8", gguf.uint8(255)],
    ["test.i8", gguf.int8(-128)],
    ["test.u16", gguf.uint16(65535)],
    ["test.i16", gguf.int16(-32768)],
    ["test.u32", gguf.uint32(4294967295)],
    ["test.i32", gguf.int32(-2147483648)],
    ["test.f32", gguf.float32(Math.fround(1e-6))],
    ["test.f64", gguf.float64(Math.PI)],
    ["test.u64", gguf.uint64(18446744073709551615n)],
    ["test.i64", gguf.int64(-9223372036854775808n)],
    ["test.bool", gguf.bool(true)],
    ["test.empty", gguf.string("")],
    ["test.strings", gguf.stringArray(["a", "中文", "", "Ġhello"])],
    ["test.int32s", gguf.numberArray("int32", [1, -2, 3])],
    ["test.float32s", gguf.numberArray("float32", [0.5, -0.25])],
    ["test.uint8s", gguf.numberArray("uint8", [0, 255])],
    ["test.int64s", gguf.bigintArray("int64", [-1n, 1n << 40n])],
    ["test.bools", gguf.boolArray([true, false])],
    ["test.emptyArray", gguf.numberArray("uint32", [])],
    ["test.nested", gguf.nestedArray([gguf.stringArray(["x", "y"]), gguf.numberArray("int16", [7]), gguf.nestedArray([gguf.boolArray([false])])])],
  ]);
}

/** One tensor of every type ggml reads; quantised payloads are random bytes (the file format does not care). */
function tensorOfEveryType(): GgufTensorInput[] {
  const next = random(7);
  return ggmlTypes.map((type) => {
    const { blockSize, name } = ggmlTypeTraits(type);
    const shape = [blockSize * 2, 3];
    const data = Uint8Array.from({ length: ggmlTypeSize(type, shape[0]! * shape[1]!) }, () => Math.floor(next() * 256));
    return { name: `t.${name}`, shape, type, data };
  });
}

describe("GGUF write -> read -> write", () => {
  it("is byte-identical and keeps every metadata value type and every tensor type", async () => {
    const file = path.join(directory, "every-type.gguf");
    const tensors = tensorOfEveryType();
    await writeGguf(file, { metadata: everyValueType(), tensors });
    const first = fs.readFileSync(file);

    const read = readGguf(file);
    expect(read.version).toBe(3);
    expect(read.alignment).toBe(32);
    expect([...read.metadata.keys()]).toEqual([...everyValueType().keys()]);
    expect(read.metadata).toEqual(everyValueType());
    expect(read.tensors.map((tensor) => [tensor.name, tensor.type, tensor.shape])).toEqual(tensors.map((tensor) => [tensor.name, tensor.type, tensor.shape]));
    for (const tensor of tensors) expect(Buffer.from(read.tensorData(tensor.name)).equals(Buffer.from(tensor.data as Uint8Array))).toBe(true);
    expect(read.dataOffset % 32).toBe(0);
    expect(read.tensors.every((tensor) => tensor.offset % 32 === 0)).toBe(true);

    const again = path.join(directory, "every-type-again.gguf");
    await writeGguf(again, {
      metadata: read.metadata,
      tensors: read.tensors.map((tensor) => ({ ...tensor, data: read.tensorData(tensor.name) })),
      version: read.version,
    });
    expect(fs.readFileSync(again).equals(first)).toBe(true);
    expect(Buffer.from(encodeGguf({ metadata: everyValueType(), tensors })).equals(first)).toBe(true);
  });

  it("honours general.alignment and version 2", async () => {
    const file = path.join(directory, "aligned.gguf");
    const tensors = [{ name: "a", shape: [3], type: GgmlType.F32, data: new Float32Array([1, 2, 3]) }, { name: "b", shape: [5], type: GgmlType.F32, data: new Float32Array(5) }];
    await writeGguf(file, { metadata: new Map([["general.architecture", gguf.string("llama")]]), tensors, version: 2, alignment: 64 });
    const read = readGguf(file);
    expect(read.version).toBe(2);
    expect(read.alignment).toBe(64);
    expect(read.getNumber("general.alignment")).toBe(64);
    expect(read.tensors.map((tensor) => tensor.offset)).toEqual([0, 64]);
    expect(read.dataOffset % 64).toBe(0);
    const bytes = fs.readFileSync(file);
    expect(Buffer.from(encodeGguf({ metadata: read.metadata, tensors: read.tensors.map((t) => ({ ...t, data: read.tensorData(t.name) })), version: 2 })).equals(bytes)).toBe(true);
    expect(Array.from(toF32(GgmlType.F32, read.tensorData("a")))).toEqual([1, 2, 3]);
  });

  it("typed getters return values and reject wrong types", () => {
    const read = readGgufBuffer(encodeGguf({ metadata: everyValueType(), tensors: [] }), "memory.gguf");
    expect(read.getString("general.name")).toBe("tiny 模型 🦙");
    expect(read.getNumber("test.i32")).toBe(-2147483648);
    expect(read.getBool("test.bool")).toBe(true);
    expect(read.getStringArray("test.strings")).toEqual(["a", "中文", "", "Ġhello"]);
    expect(read.getNumberArray("test.int64s")).toEqual([-1, 2 ** 40]);
    expect(read.getString("absent")).toBeUndefined();
    expect(() => read.getNumber("general.name")).toThrow(/memory\.gguf: metadata 'general.name' is a string, expected/);
    expect(() => read.getNumber("test.u64")).toThrow(/does not fit a JavaScript number/);
    expect(() => read.tensorData("missing")).toThrow(/no tensor named 'missing'/);
  });
});

describe("tensor conversion in TypeScript matches ggml", () => {
  const values = new Float32Array([
    ...randomFloats(4096, 11, 3),
    0, -0, 1, -1, 0.5, -2.5, 65504, 65520, -65536, 1e-8, -1e-8, 6.1e-5, 5.96e-8, 2.98e-8, 1e30, -1e30, Infinity, -Infinity,
    3.4e38, 1.17549435e-38, 1e-40, 0.333333343, 2 / 3, 1.0009765625, 1.00048828125, 1.000732421875, 1.0001220703125, 0, 0, 0,
  ]);

  it.skipIf(!nativeAvailable)("f16 equals ggml_fp32_to_fp16_row bit for bit", () => {
    const expected = new Uint16Array(values.length);
    ggmlNative().fp32ToFp16Row(values, expected, values.length);
    expect(Buffer.from(fromF32(GgmlType.F16, values)).equals(Buffer.from(expected.buffer))).toBe(true);
    const withNaN = new Float32Array([Number.NaN, -Number.NaN]);
    const nanExpected = new Uint16Array(2);
    ggmlNative().fp32ToFp16Row(withNaN, nanExpected, 2);
    expect(Buffer.from(fromF32(GgmlType.F16, withNaN)).equals(Buffer.from(nanExpected.buffer))).toBe(true);
  });

  it.skipIf(!nativeAvailable)("bf16 equals ggml_fp32_to_bf16_row_ref bit for bit", () => {
    const expected = new Uint16Array(values.length);
    ggmlNative().fp32ToBf16RowRef(values, expected, values.length);
    expect(Buffer.from(fromF32(GgmlType.BF16, values)).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it.skipIf(!nativeAvailable)("q8_0 equals ggml_quantize_chunk bit for bit, also on exact .5 ties", () => {
    const ties = new Float32Array(64);
    // amax 127 gives d = 1, so x*id lands exactly on .5 for these: roundf rounds away from zero
    for (let i = 0; i < 32; i++) ties[i] = i === 0 ? 127 : (i % 2 ? -1 : 1) * (i + 0.5);
    ties.set(randomFloats(32, 5, 1e-3), 32);
    // q8_0 of an infinity is undefined behaviour in C (NaN cast to int8): compare finite values only
    const finite = new Float32Array(Math.ceil(values.length / 32) * 32);
    finite.set(values.filter((value) => Number.isFinite(value) && Math.abs(value) < 1e30));
    for (const input of [finite, ties]) {
      const expected = new Uint8Array(ggmlTypeSize(GgmlType.Q8_0, input.length));
      const written = ggmlNative().quantizeChunk(GgmlType.Q8_0, input, expected, 0, input.length / 32, 32, null);
      expect(Number(written)).toBe(expected.length);
      expect(Buffer.from(fromF32(GgmlType.Q8_0, input)).equals(Buffer.from(expected))).toBe(true);
    }
  });

  it("dequantises within the expected error", () => {
    const input = randomFloats(1024, 3, 2);
    const q8 = toF32(GgmlType.Q8_0, fromF32(GgmlType.Q8_0, input));
    const f16 = toF32(GgmlType.F16, fromF32(GgmlType.F16, input));
    const bf16 = toF32(GgmlType.BF16, fromF32(GgmlType.BF16, input));
    const maxError = (a: Float32Array) => Math.max(...a.map((value, i) => Math.abs(value - input[i]!)));
    expect(maxError(q8)).toBeLessThan(2 / 127);
    expect(maxError(f16)).toBeLessThan(2 * 2 ** -11);
    expect(maxError(bf16)).toBeLessThan(2 * 2 ** -8);
    expect(() => toF32(GgmlType.Q4_K, new Uint8Array(144))).toThrow(/not done in TypeScript/);
  });
});

describe.skipIf(!nativeAvailable)("type table and files agree with ggml itself", () => {
  it("block and type sizes equal the shipped libggml-base", () => {
    for (const type of ggmlTypes) {
      const traits = ggmlTypeTraits(type);
      expect([traits.name, Number(ggmlNative().blockSize(type)), Number(ggmlNative().typeSize(type))]).toEqual([traits.name, traits.blockSize, traits.typeSize]);
    }
  });

  it("ggml's gguf parser and node-llama-cpp read our file with the same offsets", async () => {
    const file = path.join(directory, "for-ggml.gguf");
    const metadata = everyValueType();
    metadata.delete("test.nested"); // ggml's parser rejects nested arrays
    const tensors: GgufTensorInput[] = [
      { name: "token_embd.weight", shape: [64, 10], type: GgmlType.Q8_0, data: randomFloats(640, 1) },
      { name: "output_norm.weight", shape: [64], type: GgmlType.F32, data: randomFloats(64, 2) },
      { name: "x.bf16", shape: [7, 3], type: GgmlType.BF16, data: randomFloats(21, 3) },
      ...tensorOfEveryType(),
    ];
    await writeGguf(file, { metadata, tensors });
    const ours = readGguf(file);
    const theirs = parseWithGgml(file);
    expect(theirs).not.toBeNull();
    expect(theirs!.keys).toBe(metadata.size);
    expect(theirs!.dataOffset).toBe(ours.dataOffset);
    expect(theirs!.tensors).toEqual(ours.tensors.map((tensor) => ({ name: tensor.name, type: tensor.type, offset: tensor.offset, size: tensor.byteSize })));

    const info = await readGgufFileInfo(file, { logWarnings: false });
    expect(info.version).toBe(3);
    expect(info.metadata.general.architecture).toBe("llama");
    expect(info.tensorInfo?.map((tensor) => [tensor.name, tensor.ggmlType, Number(tensor.offset)])).toEqual(ours.tensors.map((tensor) => [tensor.name, tensor.type, tensor.offset]));
  });

  it("writes f32 data as q4_K through the engine's quantizeRows", async () => {
    const file = path.join(directory, "q4k.gguf");
    const values = randomFloats(256 * 4, 9);
    await writeGguf(file, { metadata: new Map(), tensors: [{ name: "w", shape: [256, 4], type: GgmlType.Q4_K, data: values }] });
    const expected = new Uint8Array(ggmlTypeSize(GgmlType.Q4_K, values.length));
    ggmlNative().quantizeChunk(GgmlType.Q4_K, values, expected, 0, 4, 256, null);
    expect(Buffer.from(readGguf(file).tensorData("w")).equals(Buffer.from(expected))).toBe(true);
    expect(() => encodeGguf({ metadata: new Map(), tensors: [{ name: "w", shape: [256, 4], type: GgmlType.Q4_K, data: values }] })).toThrow(/needs a quantizer/);
  });

  it("re-writes a GGUF written by llama.cpp's tooling byte for byte", () => {
    const file = llamaCppVocab("ggml-vocab-qwen2.gguf");
    const original = fs.readFileSync(file);
    const read = readGguf(file);
    expect(read.getStringArray("tokenizer.ggml.tokens")?.length).toBe(151936);
    const rewritten = Buffer.from(encodeGguf({ metadata: read.metadata, tensors: [], version: read.version }));
    // gguf-py leaves out the padding after the header when there are no tensors; ggml's writer (and ours) pads
    expect(rewritten.subarray(0, original.length).equals(original)).toBe(true);
    expect(rewritten.subarray(original.length).every((byte) => byte === 0)).toBe(true);
  });
});

describe("bad GGUF input gives a VerticalError naming the file", () => {
  const goodBytes = () => Buffer.from(encodeGguf({ metadata: new Map([["general.architecture", gguf.string("llama")], ["general.name", gguf.string("x")]]), tensors: [{ name: "w", shape: [32, 2], type: GgmlType.F32, data: new Float32Array(64) }] }));

  function expectError(bytes: Uint8Array, pattern: RegExp) {
    const file = path.join(directory, `bad-${Math.random().toString(36).slice(2)}.gguf`);
    fs.writeFileSync(file, bytes);
    let caught: unknown;
    try {
      readGguf(file);
    } catch (error) {
      caught = error;
    }
    expect(VerticalError.isInstance(caught)).toBe(true);
    expect((caught as Error).message).toContain(file);
    expect((caught as Error).message).toMatch(pattern);
  }

  it("corrupt magic", () => {
    const bytes = goodBytes();
    bytes.write("GGUX", 0, "latin1");
    expectError(bytes, /not a GGUF file: magic is "GGUX"/);
  });

  it("truncated header, metadata and tensor data", () => {
    const bytes = goodBytes();
    expectError(bytes.subarray(0, 2), /too short for the magic/);
    expectError(bytes.subarray(0, 30), /truncated at offset \d+/);
    expectError(bytes.subarray(0, bytes.length - 10), /tensor 'w' data \(256 bytes at file offset \d+\) runs past the end of the file/);
    // ...and says how much of the file is there, as for an interrupted download.
    expectError(bytes.subarray(0, bytes.length - 10), new RegExp(`it has ${bytes.length - 10} bytes of the ${bytes.length} its tensor table needs \\(9\\d\\.\\d%\\)`));
  });

  it("a Git LFS pointer checked out instead of the model", () => {
    const pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 1234567\n";
    expectError(Buffer.from(pointer), /a Git LFS pointer, not the model file \(it stands for 1234567 bytes\)/);
  });

  it("unknown tensor type id and bad version", () => {
    const bytes = goodBytes();
    const read = readGgufBuffer(bytes);
    // the type id sits right before the 8-byte offset at the end of the only tensor info
    const infoEnd = bytes.indexOf(Buffer.from("w")) + 1 + 4 + 2 * 8;
    expect(bytes.readInt32LE(infoEnd)).toBe(GgmlType.F32);
    bytes.writeInt32LE(99, infoEnd);
    expectError(bytes, /tensor 'w' has unknown ggml type id 99/);
    expect(read.tensors[0]?.type).toBe(GgmlType.F32);
    const versioned = goodBytes();
    versioned.writeUInt32LE(1, 4);
    expectError(versioned, /unsupported GGUF version 1/);
  });

  it("a corrupt tensor name is shown escaped and cut short, not as kilobytes of binary", () => {
    const data = Float32Array.from({ length: 32 * 100 }, (_, i) => Math.sin(i) * 1e-30);
    const bytes = Buffer.from(encodeGguf({ metadata: new Map([["general.architecture", gguf.string("llama")]]), tensors: [{ name: "w", shape: [32, 100], type: GgmlType.F32, data }] }));
    const lengthAt = bytes.indexOf(Buffer.from("w")) - 8;
    expect(bytes.readBigUInt64LE(lengthAt)).toBe(1n);
    bytes.writeBigUInt64LE(3000n, lengthAt);
    const file = path.join(directory, "corrupt-name.gguf");
    fs.writeFileSync(file, bytes);
    let message = "";
    try {
      readGguf(file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/tensor #0 name 'w.*\.\.\. \(\d+ bytes\)' is \d+ bytes; ggml allows at most 63/);
    expect(message.length).toBeLessThan(file.length + 200);
    expect(message).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });

  it("a directory is named as such", () => {
    expect(() => readGguf(directory)).toThrow(`${directory}: is a directory, not a GGUF file`);
  });

  it("a missing file and a bad row length", async () => {
    expect(() => readGguf(path.join(directory, "absent.gguf"))).toThrow(/absent\.gguf: cannot open GGUF file/);
    await expect(writeGguf(path.join(directory, "bad-row.gguf"), { metadata: new Map(), tensors: [{ name: "q", shape: [40], type: GgmlType.Q8_0, data: new Float32Array(40) }] })).rejects.toThrow(
      /bad-row\.gguf: cannot write GGUF: tensor 'q': rows of 40 elements are not a multiple of the q8_0 block size 32/,
    );
    expect(fs.existsSync(path.join(directory, "bad-row.gguf"))).toBe(false);
  });
});
