/**
 * Type helpers for the wrappers. The enum itself lives with the GGUF code (gguf/ggmlType.ts), so
 * there is one GgmlType in Vertical.
 */
import { GgmlType, ggmlTypeName, ggmlTypeTraits, isGgmlType } from "./gguf/ggmlType.js";

export { GgmlType };

/** "q8_0", or "type N" for an id ggml does not know. */
export function typeName(type: number): string {
  return isGgmlType(type) ? ggmlTypeName(type) : `type ${type}`;
}

/** Elements per block and bytes per block, or undefined for an unknown id. */
export function blockOf(type: number): { blockSize: number; blockBytes: number } | undefined {
  if (!isGgmlType(type)) return undefined;
  const traits = ggmlTypeTraits(type);
  return { blockSize: traits.blockSize, blockBytes: traits.typeSize };
}

/** Bytes of one row of `elements` values; throws RangeError when the row is not whole blocks. */
export function rowBytes(type: number, elements: number): number {
  const block = blockOf(type);
  if (!block) throw new RangeError(`unknown ggml type ${type}`);
  if (elements % block.blockSize !== 0)
    throw new RangeError(`${typeName(type)} rows must be a multiple of ${block.blockSize} values, got ${elements}`);
  return (elements / block.blockSize) * block.blockBytes;
}

export function isQuantized(type: number): boolean {
  return (blockOf(type)?.blockSize ?? 1) > 1;
}
