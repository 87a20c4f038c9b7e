/**
 * GGUF metadata values with their on-disk type kept, so a value read from a file is written back
 * with the same type and bytes. 64-bit integers are bigint; everything else a plain JS value.
 */
export const ggufValueTypeIds = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufValueType = keyof typeof ggufValueTypeIds;
export type GgufNumberType = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64";
export type GgufBigIntType = "uint64" | "int64";

export type GgufArrayValue =
  | { type: "array"; itemType: GgufNumberType; value: number[] }
  | { type: "array"; itemType: GgufBigIntType; value: bigint[] }
  | { type: "array"; itemType: "bool"; value: boolean[] }
  | { type: "array"; itemType: "string"; value: string[] }
  | { type: "array"; itemType: "array"; value: GgufArrayValue[] };

export type GgufValue =
  | { type: GgufNumberType; value: number }
  | { type: GgufBigIntType; value: bigint }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | GgufArrayValue;

export type GgufMetadata = Map<string, GgufValue>;

const typeNamesById = new Map<number, GgufValueType>(
  Object.entries(ggufValueTypeIds).map(([name, id]) => [id, name as GgufValueType]),
);

export function ggufValueTypeFromId(id: number): GgufValueType | undefined {
  return typeNamesById.get(id);
}

/** Builders, so that callers write `gguf.uint32(4096)` instead of spelling the object. */
export const gguf = {
  uint8: (value: number): GgufValue => ({ type: "uint8", value }),
  int8: (value: number): GgufValue => ({ type: "int8", value }),
  uint16: (value: number): GgufValue => ({ type: "uint16", value }),
  int16: (value: number): GgufValue => ({ type: "int16", value }),
  uint32: (value: number): GgufValue => ({ type: "uint32", value }),
  int32: (value: number): GgufValue => ({ type: "int32", value }),
  float32: (value: number): GgufValue => ({ type: "float32", value }),
  float64: (value: number): GgufValue => ({ type: "float64", value }),
  uint64: (value: bigint | number): GgufValue => ({ type: "uint64", value: BigInt(value) }),
  int64: (value: bigint | number): GgufValue => ({ type: "int64", value: BigInt(value) }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  string: (value: string): GgufValue => ({ type: "string", value }),
  stringArray: (value: string[]): GgufArrayValue => ({ type: "array", itemType: "string", value }),
  numberArray: (itemType: GgufNumberType, value: number[]): GgufArrayValue => ({ type: "array", itemType, value }),
  bigintArray: (itemType: GgufBigIntType, value: bigint[]): GgufArrayValue => ({ type: "array", itemType, value }),
  boolArray: (value: boolean[]): GgufArrayValue => ({ type: "array", itemType: "bool", value }),
  nestedArray: (value: GgufArrayValue[]): GgufArrayValue => ({ type: "array", itemType: "array", value }),
};

/** The value without its type tag: number, bigint, boolean, string or (nested) arrays of those. */
export type GgufPlainValue = number | bigint | boolean | string | GgufPlainValue[];

export function plainGgufValue(value: GgufValue): GgufPlainValue {
  if (value.type !== "array") return value.value;
  if (value.itemType === "array") return value.value.map((item) => plainGgufValue(item));
  return value.value;
}
