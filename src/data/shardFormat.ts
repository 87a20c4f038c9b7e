/**
 * The on-disk layout of a token shard (docs/data-format.md is the reference). One shard = one file
 * `shard-NNNNN.bin`, little-endian, every array 8-byte aligned so a reader can map the file and view
 * the arrays in place:
 *
 *   header      64 bytes   magic "VTSHARD1", version, seqLen, sequenceCount, docStartCount, padId
 *   tokens      u32[sequenceCount * seqLen]   fixed-length rows; positions >= length[i] hold padId
 *   lengths     u32[sequenceCount]            real (non-padding) tokens of each row
 *   docIndex    u32[sequenceCount + 1]        row i's document starts are docStarts[docIndex[i] .. docIndex[i+1])
 *   docStarts   u32[docStartCount]            positions inside the row where a segment begins (always 0 first)
 *   lossMask    u8[sequenceCount * seqLen]    1 = token t is a training target (predicted from tokens < t)
 */
export const SHARD_MAGIC = "VTSHARD1";
export const SHARD_VERSION = 1;
export const SHARD_HEADER_BYTES = 64;

export interface ShardHeader {
  version: number;
  seqLen: number;
  sequenceCount: number;
  docStartCount: number;
  padId: number;
}

export interface ShardLayout {
  tokensOffset: number;
  lengthsOffset: number;
  docIndexOffset: number;
  docStartsOffset: number;
  lossMaskOffset: number;
  totalBytes: number;
}

function align8(offset: number): number {
  return Math.ceil(offset / 8) * 8;
}

/** Byte offsets of each array for a shard with this header. */
export function shardLayout(header: Pick<ShardHeader, "seqLen" | "sequenceCount" | "docStartCount">): ShardLayout {
  const tokenCount = header.seqLen * header.sequenceCount;
  const tokensOffset = SHARD_HEADER_BYTES;
  const lengthsOffset = align8(tokensOffset + tokenCount * 4);
  const docIndexOffset = align8(lengthsOffset + header.sequenceCount * 4);
  const docStartsOffset = align8(docIndexOffset + (header.sequenceCount + 1) * 4);
  const lossMaskOffset = align8(docStartsOffset + header.docStartCount * 4);
  const totalBytes = align8(lossMaskOffset + tokenCount);
  return { tokensOffset, lengthsOffset, docIndexOffset, docStartsOffset, lossMaskOffset, totalBytes };
}

export function encodeShardHeader(header: ShardHeader): Uint8Array {
  const bytes = new Uint8Array(SHARD_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < SHARD_MAGIC.length; i++) bytes[i] = SHARD_MAGIC.charCodeAt(i);
  view.setUint32(8, header.version, true);
  view.setUint32(12, header.seqLen, true);
  view.setUint32(16, header.sequenceCount, true);
  view.setUint32(20, header.docStartCount, true);
  view.setUint32(24, header.padId, true);
  return bytes;
}

/** Parses a header; returns a reason string instead when the bytes are not a shard of this version. */
export function decodeShardHeader(bytes: Uint8Array): ShardHeader | string {
  if (bytes.byteLength < SHARD_HEADER_BYTES) return `file is ${bytes.byteLength} bytes, shorter than the 64-byte header`;
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== SHARD_MAGIC) return `magic is ${JSON.stringify(magic)}, expected ${JSON.stringify(SHARD_MAGIC)}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, SHARD_HEADER_BYTES);
  const version = view.getUint32(8, true);
  if (version !== SHARD_VERSION) return `shard version ${version}, this reader understands ${SHARD_VERSION}`;
  return {
    version,
    seqLen: view.getUint32(12, true),
    sequenceCount: view.getUint32(16, true),
    docStartCount: view.getUint32(20, true),
    padId: view.getUint32(24, true),
  };
}

/** Name of the i-th shard file. */
export function shardFileName(index: number): string {
  return `shard-${String(index).padStart(5, "0")}.bin`;
}

export const MANIFEST_FILE = "manifest.json";
