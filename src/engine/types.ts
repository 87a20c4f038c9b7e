/** ggml tensor types (enum ggml_type), named as in ggml.h and GGUF. */
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
}

/** Elements per block and bytes per block, as ggml's type traits (no native call needed). */
export const typeTraits: Readonly<Record<number, { blockSize: number; blockBytes: number }>> = {
  [GgmlType.F32]: { blockSize: 1, blockBytes: 4 },
  [GgmlType.F16]: { blockSize: 1, blockBytes: 2 },
  [GgmlType.BF16]: { blockSize: 1, blockBytes: 2 },
  [GgmlType.I8]: { blockSize: 1, blockBytes: 1 },
  [GgmlType.I16]: { blockSize: 1, blockBytes: 2 },
  [GgmlType.I32]: { blockSize: 1, blockBytes: 4 },
  [GgmlType.I64]: { blockSize: 1, blockBytes: 8 },
  [GgmlType.F64]: { blockSize: 1, blockBytes: 8 },
  [GgmlType.Q4_0]: { blockSize: 32, blockBytes: 18 },
  [GgmlType.Q4_1]: { blockSize: 32, blockBytes: 20 },
  [GgmlType.Q5_0]: { blockSize: 32, blockBytes: 22 },
  [GgmlType.Q5_1]: { blockSize: 32, blockBytes: 24 },
  [GgmlType.Q8_0]: { blockSize: 32, blockBytes: 34 },
  [GgmlType.Q8_1]: { blockSize: 32, blockBytes: 36 },
  [GgmlType.Q2_K]: { blockSize: 256, blockBytes: 84 },
  [GgmlType.Q3_K]: { blockSize: 256, blockBytes: 110 },
  [GgmlType.Q4_K]: { blockSize: 256, blockBytes: 144 },
  [GgmlType.Q5_K]: { blockSize: 256, blockBytes: 176 },
  [GgmlType.Q6_K]: { blockSize: 256, blockBytes: 210 },
  [GgmlType.Q8_K]: { blockSize: 256, blockBytes: 292 },
  [GgmlType.IQ2_XXS]: { blockSize: 256, blockBytes: 66 },
  [GgmlType.IQ2_XS]: { blockSize: 256, blockBytes: 74 },
  [GgmlType.IQ3_XXS]: { blockSize: 256, blockBytes: 98 },
  [GgmlType.IQ1_S]: { blockSize: 256, blockBytes: 50 },
  [GgmlType.IQ4_NL]: { blockSize: 32, blockBytes: 18 },
  [GgmlType.IQ3_S]: { blockSize: 256, blockBytes: 110 },
  [GgmlType.IQ2_S]: { blockSize: 256, blockBytes: 82 },
  [GgmlType.IQ4_XS]: { blockSize: 256, blockBytes: 136 },
  [GgmlType.IQ1_M]: { blockSize: 256, blockBytes: 56 },
  [GgmlType.TQ1_0]: { blockSize: 256, blockBytes: 54 },
  [GgmlType.TQ2_0]: { blockSize: 256, blockBytes: 66 },
  [GgmlType.MXFP4]: { blockSize: 32, blockBytes: 17 },
};

export function typeName(type: number): string {
  return GgmlType[type] ?? `type ${type}`;
}

/** Bytes of one row of `elements` values; throws when the row is not a whole number of blocks. */
export function rowBytes(type: number, elements: number): number {
  const traits = typeTraits[type];
  if (!traits) throw new RangeError(`unknown ggml type ${type}`);
  if (elements % traits.blockSize !== 0)
    throw new RangeError(`${typeName(type)} rows must be a multiple of ${traits.blockSize} values, got ${elements}`);
  return (elements / traits.blockSize) * traits.blockBytes;
}

export function isQuantized(type: number): boolean {
  return (typeTraits[type]?.blockSize ?? 1) > 1;
}
