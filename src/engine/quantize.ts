/**
 * Conversion of f32 rows to the storage types a GGUF holds, through ggml (the same code llama.cpp
 * uses, so bytes match what llama-quantize would write).
 */
import { EngineError } from "../shared/errors.js";
import { loadGgml } from "./ffi.js";
import { GgmlType, blockOf, rowBytes, typeName } from "./types.js";

/**
 * Quantises (or converts) `rows` rows of `columns` f32 values to `type`. F32 is copied; F16 and
 * BF16 are converted; block types go through ggml_quantize_chunk. K-quants need columns % 256 == 0,
 * the 32-blocks columns % 32 == 0. Types that need an importance matrix are refused.
 */
export function quantizeRows(type: GgmlType, values: Float32Array, rows: number, columns: number): Uint8Array {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(columns) || rows <= 0 || columns <= 0)
    throw new EngineError(`quantizeRows: rows and columns must be positive integers, got ${rows} x ${columns}`);
  if (values.length !== rows * columns)
    throw new EngineError(`quantizeRows: ${values.length} values given for ${rows} x ${columns}`);
  const traits = blockOf(type);
  if (!traits) throw new EngineError(`quantizeRows: unknown ggml type ${type}`);
  if (columns % traits.blockSize !== 0)
    throw new EngineError(
      `quantizeRows: ${typeName(type)} needs rows of a multiple of ${traits.blockSize} values, got ${columns}`,
      { hint: traits.blockSize === 256 ? "use q8_0 or f16 for this tensor, or a row length divisible by 256" : undefined },
    );
  if (type === GgmlType.F32) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const { ggml } = loadGgml();
  if (type === GgmlType.F16 || type === GgmlType.BF16) {
    const out = new Uint16Array(values.length);
    if (type === GgmlType.F16) ggml.ggml_fp32_to_fp16_row(values, out, values.length);
    else ggml.ggml_fp32_to_bf16_row(values, out, values.length);
    return new Uint8Array(out.buffer);
  }
  if (type === GgmlType.I8 || type === GgmlType.I16 || type === GgmlType.I32 || type === GgmlType.I64 || type === GgmlType.F64)
    throw new EngineError(`quantizeRows: ${typeName(type)} is not a quantisation target`);
  if (ggml.ggml_quantize_requires_imatrix(type))
    throw new EngineError(`quantizeRows: ${typeName(type)} needs an importance matrix, which Vertical does not compute`, {
      hint: "use q8_0, q4_k, q5_k or q6_k",
    });
  const out = new Uint8Array(rowBytes(type, columns) * rows);
  const written = ggml.ggml_quantize_chunk(type, values, out, 0, rows, columns, null) as number;
  if (written !== out.length) throw new EngineError(`quantizeRows: ggml wrote ${written} bytes, expected ${out.length}`);
  return out;
}

/** The inverse for F32/F16/BF16 storage (used by tests and merges); block types are not decoded here. */
export function halfToFloat(values: Uint16Array): Float32Array {
  const out = new Float32Array(values.length);
  loadGgml().ggml.ggml_fp16_to_fp32_row(values, out, values.length);
  return out;
}
