/**
 * Conversions between f32 and the tensor types we write in TypeScript: f16, bf16 and q8_0. Each is a
 * bit-exact port of ggml's reference code (ggml-impl.h ggml_compute_fp32_to_fp16 / _bf16,
 * ggml-quants.c quantize_row_q8_0_ref), so a file we write is the file ggml would write; the tests
 * compare against the shipped libggml-base.so.
 */
import { EngineError } from "../../shared/errors.js";
import { GgmlType, ggmlTypeName } from "./ggmlType.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bitsOf(value: number): number {
  f32[0] = value;
  return u32[0]!;
}
function floatFromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

const scaleToInf = floatFromBits(0x77800000); // 0x1.0p+112f
const scaleToZero = floatFromBits(0x08800000); // 0x1.0p-110f

/** IEEE half from a float32, round to nearest even, NaN -> 0x7E00 (ggml_compute_fp32_to_fp16). */
export function fp32ToFp16(value: number): number {
  const fround = Math.fround;
  let base = fround(fround(Math.abs(fround(value)) * scaleToInf) * scaleToZero);
  const w = bitsOf(value);
  const shl1W = (w + w) >>> 0;
  const sign = (w & 0x80000000) >>> 0;
  let bias = (shl1W & 0xff000000) >>> 0;
  if (bias < 0x71000000) bias = 0x71000000;
  base = fround(floatFromBits(((bias >>> 1) + 0x07800000) >>> 0) + base);
  const bits = bitsOf(base);
  const expBits = (bits >>> 13) & 0x00007c00;
  const mantissaBits = bits & 0x00000fff;
  const nonSign = expBits + mantissaBits;
  return ((sign >>> 16) | (shl1W > 0xff000000 ? 0x7e00 : nonSign)) & 0xffff;
}

/** float32 value of an IEEE half (exact). */
export function fp16ToFp32(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 from a float32, round to nearest even, NaN forced quiet (ggml_compute_fp32_to_bf16). */
export function fp32ToBf16(value: number): number {
  const bits = bitsOf(value);
  if ((bits & 0x7fffffff) >>> 0 > 0x7f800000) return ((bits >>> 16) | 64) & 0xffff;
  return (((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 0) >>> 16) & 0xffff;
}

export function bf16ToFp32(value: number): number {
  return floatFromBits((value & 0xffff) << 16);
}

const QK8_0 = 32;
const Q8_0_BLOCK_BYTES = 34;

/** quantize_row_q8_0_ref: per block of 32, d = amax/127 as f16, q = roundf(x/d) (float32 arithmetic throughout). */
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % QK8_0 !== 0) throw new EngineError(`q8_0 needs a multiple of ${QK8_0} values, got ${values.length}`);
  const blocks = values.length / QK8_0;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const fround = Math.fround;
  for (let block = 0; block < blocks; block++) {
    const first = block * QK8_0;
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) {
      const magnitude = Math.abs(values[first + j]!);
      // MAX(a, b) = a > b ? a : b; with a NaN input ggml keeps amax, and so do we
      amax = amax > magnitude ? amax : magnitude;
    }
    const d = fround(amax / 127);
    const inverse = d ? fround(1 / d) : 0;
    const at = block * Q8_0_BLOCK_BYTES;
    view.setUint16(at, fp32ToFp16(d), true);
    for (let j = 0; j < QK8_0; j++) {
      const scaled = fround(values[first + j]! * inverse);
      // roundf: halfway cases away from zero (Math.round would round -2.5 to -2)
      const rounded = scaled < 0 ? -Math.round(-scaled) : Math.round(scaled);
      view.setInt8(at + 2 + j, rounded);
    }
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  if (bytes.length % Q8_0_BLOCK_BYTES !== 0) throw new EngineError(`q8_0 data of ${bytes.length} bytes is not a whole number of ${Q8_0_BLOCK_BYTES}-byte blocks`);
  const blocks = bytes.length / Q8_0_BLOCK_BYTES;
  const out = new Float32Array(blocks * QK8_0);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let block = 0; block < blocks; block++) {
    const at = block * Q8_0_BLOCK_BYTES;
    const d = fp16ToFp32(view.getUint16(at, true));
    for (let j = 0; j < QK8_0; j++) out[block * QK8_0 + j] = d * view.getInt8(at + 2 + j);
  }
  return out;
}

/** Types that fromF32/toF32 convert in TypeScript; every other type goes through ggml. */
export const typesConvertedInTypeScript: readonly GgmlType[] = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0];

/** Tensor bytes of `type` from f32 values (f32, f16, bf16, q8_0). */
export function fromF32(type: GgmlType, values: Float32Array): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    case GgmlType.F16:
    case GgmlType.BF16: {
      const out = new Uint16Array(values.length);
      const convert = type === GgmlType.F16 ? fp32ToFp16 : fp32ToBf16;
      for (let i = 0; i < values.length; i++) out[i] = convert(values[i]!);
      return new Uint8Array(out.buffer);
    }
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    default:
      throw new EngineError(`converting f32 to ${ggmlTypeName(type)} is not done in TypeScript`, {
        hint: "quantise with the engine's quantizeRows (ggml) and pass the bytes",
      });
  }
}

/** f32 values of tensor bytes of `type` (f32, f16, bf16, q8_0) — for tests, inspection and LoRA merging. */
export function toF32(type: GgmlType, bytes: Uint8Array): Float32Array {
  switch (type) {
    case GgmlType.F32: {
      if (bytes.length % 4 !== 0) throw new EngineError(`f32 data of ${bytes.length} bytes is not a multiple of 4`);
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
    case GgmlType.F16:
    case GgmlType.BF16: {
      if (bytes.length % 2 !== 0) throw new EngineError(`${ggmlTypeName(type)} data of ${bytes.length} bytes is not a multiple of 2`);
      const elements = bytes.length / 2;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = new Float32Array(elements);
      const convert = type === GgmlType.F16 ? fp16ToFp32 : bf16ToFp32;
      for (let i = 0; i < elements; i++) out[i] = convert(view.getUint16(i * 2, true));
      return out;
    }
    case GgmlType.Q8_0:
      return dequantizeQ8_0(bytes);
    default:
      throw new EngineError(`dequantising ${ggmlTypeName(type)} is not done in TypeScript`, { hint: "supported here: f32, f16, bf16, q8_0" });
  }
}
