/** GGUF in and out, in TypeScript (docs/decisions/0002-gguf-in-typescript.md; API in docs/engine-api.md). */
export { GgmlType, ggmlTypes, ggmlTypeTraits, ggmlTypeName, ggmlTypeFromName, ggmlTypeSize, isGgmlType, type GgmlTypeTraits } from "./ggmlType.js";
export {
  gguf,
  plainGgufValue,
  ggufValueTypeIds,
  type GgufValue,
  type GgufArrayValue,
  type GgufMetadata,
  type GgufValueType,
  type GgufPlainValue,
  type GgufNumberType,
  type GgufBigIntType,
} from "./ggufValue.js";
export { readGguf, readGgufBuffer, GGUF_DEFAULT_ALIGNMENT, type GgufFile, type GgufTensorInfo } from "./readGguf.js";
export { writeGguf, encodeGguf, type GgufWriteInput, type GgufTensorInput, type GgufWriteOptions, type QuantizeRows } from "./writeGguf.js";
export { toF32, fromF32, fp32ToFp16, fp16ToFp32, fp32ToBf16, bf16ToFp32, quantizeQ8_0, dequantizeQ8_0, typesConvertedInTypeScript } from "./convertTensor.js";
export { describeGguf, type GgufSummary } from "./describeGguf.js";
