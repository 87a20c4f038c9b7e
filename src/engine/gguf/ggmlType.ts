/**
 * ggml tensor types as GGUF stores them: the type id, the block size (elements per block) and the
 * bytes per block. Values copied from ggml's `type_traits` (ggml/src/ggml.c, the version that
 * node-llama-cpp 3.21.1 ships) and checked against the shipped libggml-base.so in ggmlType.test.ts.
 * Tensor data is handed to ggml as is, so sizes are all the reader and writer need to know.
 */
import { EngineError } from "../../shared/errors.js";

export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
  Q2_0 = 42,
}

export interface GgmlTypeTraits {
  /** ggml's own name, e.g. "q8_0", "q4_K". */
  name: string;
  /** Elements per block; a row length must be a multiple of it. */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
  quantized: boolean;
}

const traits = new Map<GgmlType, GgmlTypeTraits>([
  [GgmlType.F32, { name: "f32", blockSize: 1, typeSize: 4, quantized: false }],
  [GgmlType.F16, { name: "f16", blockSize: 1, typeSize: 2, quantized: false }],
  [GgmlType.Q4_0, { name: "q4_0", blockSize: 32, typeSize: 18, quantized: true }],
  [GgmlType.Q4_1, { name: "q4_1", blockSize: 32, typeSize: 20, quantized: true }],
  [GgmlType.Q5_0, { name: "q5_0", blockSize: 32, typeSize: 22, quantized: true }],
  [GgmlType.Q5_1, { name: "q5_1", blockSize: 32, typeSize: 24, quantized: true }],
  [GgmlType.Q8_0, { name: "q8_0", blockSize: 32, typeSize: 34, quantized: true }],
  [GgmlType.Q8_1, { name: "q8_1", blockSize: 32, typeSize: 36, quantized: true }],
  [GgmlType.Q2_K, { name: "q2_K", blockSize: 256, typeSize: 84, quantized: true }],
  [GgmlType.Q3_K, { name: "q3_K", blockSize: 256, typeSize: 110, quantized: true }],
  [GgmlType.Q4_K, { name: "q4_K", blockSize: 256, typeSize: 144, quantized: true }],
  [GgmlType.Q5_K, { name: "q5_K", blockSize: 256, typeSize: 176, quantized: true }],
  [GgmlType.Q6_K, { name: "q6_K", blockSize: 256, typeSize: 210, quantized: true }],
  [GgmlType.Q8_K, { name: "q8_K", blockSize: 256, typeSize: 292, quantized: true }],
  [GgmlType.IQ2_XXS, { name: "iq2_xxs", blockSize: 256, typeSize: 66, quantized: true }],
  [GgmlType.IQ2_XS, { name: "iq2_xs", blockSize: 256, typeSize: 74, quantized: true }],
  [GgmlType.IQ3_XXS, { name: "iq3_xxs", blockSize: 256, typeSize: 98, quantized: true }],
  [GgmlType.IQ1_S, { name: "iq1_s", blockSize: 256, typeSize: 50, quantized: true }],
  [GgmlType.IQ4_NL, { name: "iq4_nl", blockSize: 32, typeSize: 18, quantized: true }],
  [GgmlType.IQ3_S, { name: "iq3_s", blockSize: 256, typeSize: 110, quantized: true }],
  [GgmlType.IQ2_S, { name: "iq2_s", blockSize: 256, typeSize: 82, quantized: true }],
  [GgmlType.IQ4_XS, { name: "iq4_xs", blockSize: 256, typeSize: 136, quantized: true }],
  [GgmlType.I8, { name: "i8", blockSize: 1, typeSize: 1, quantized: false }],
  [GgmlType.I16, { name: "i16", blockSize: 1, typeSize: 2, quantized: false }],
  [GgmlType.I32, { name: "i32", blockSize: 1, typeSize: 4, quantized: false }],
  [GgmlType.I64, { name: "i64", blockSize: 1, typeSize: 8, quantized: false }],
  [GgmlType.F64, { name: "f64", blockSize: 1, typeSize: 8, quantized: false }],
  [GgmlType.IQ1_M, { name: "iq1_m", blockSize: 256, typeSize: 56, quantized: true }],
  [GgmlType.BF16, { name: "bf16", blockSize: 1, typeSize: 2, quantized: false }],
  [GgmlType.TQ1_0, { name: "tq1_0", blockSize: 256, typeSize: 54, quantized: true }],
  [GgmlType.TQ2_0, { name: "tq2_0", blockSize: 256, typeSize: 66, quantized: true }],
  [GgmlType.MXFP4, { name: "mxfp4", blockSize: 32, typeSize: 17, quantized: true }],
  [GgmlType.NVFP4, { name: "nvfp4", blockSize: 64, typeSize: 36, quantized: true }],
  [GgmlType.Q1_0, { name: "q1_0", blockSize: 128, typeSize: 18, quantized: true }],
  [GgmlType.Q2_0, { name: "q2_0", blockSize: 64, typeSize: 18, quantized: true }],
]);

/** Every type id a GGUF tensor may carry (ids of removed types such as 4, 5, 31-33, 36-38 are absent). */
export const ggmlTypes: readonly GgmlType[] = [...traits.keys()];

export function isGgmlType(id: number): id is GgmlType {
  return traits.has(id as GgmlType);
}

/** Block size, bytes per block and name of `type`; throws EngineError for an id ggml does not know. */
export function ggmlTypeTraits(type: GgmlType): GgmlTypeTraits {
  const found = traits.get(type);
  if (!found) throw new EngineError(`unknown ggml type id ${String(type)}`, { hint: `known ids: ${ggmlTypes.join(", ")}` });
  return found;
}

export function ggmlTypeName(type: GgmlType): string {
  return ggmlTypeTraits(type).name;
}

/** The type called `name` ("q8_0", "Q8_0", "f16", …), or undefined. */
export function ggmlTypeFromName(name: string): GgmlType | undefined {
  const wanted = name.toLowerCase();
  for (const [type, entry] of traits) if (entry.name.toLowerCase() === wanted) return type;
  return undefined;
}

/**
 * Bytes that `elements` values of `type` take. Throws EngineError when `elements` is not a whole
 * number of blocks (ggml would assert). Callers pass a row length or a whole tensor's element count.
 */
export function ggmlTypeSize(type: GgmlType, elements: number): number {
  const { blockSize, typeSize, name } = ggmlTypeTraits(type);
  if (!Number.isSafeInteger(elements) || elements < 0) throw new EngineError(`element count ${elements} is not a non-negative integer`);
  if (elements % blockSize !== 0) {
    throw new EngineError(`${elements} elements of type ${name} are not a whole number of blocks of ${blockSize}`, {
      hint: `${name} needs the row length (shape[0]) to be a multiple of ${blockSize}`,
    });
  }
  return (elements / blockSize) * typeSize;
}
