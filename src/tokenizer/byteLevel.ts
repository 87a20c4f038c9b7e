/**
 * GPT-2's byte-level mapping: every byte gets a printable Unicode character, so byte sequences can
 * be BPE tokens stored as text ("Ġ" is the space byte). Same table as HF tokenizers'
 * bytes_to_unicode and llama.cpp's unicode_byte_to_utf8.
 */
const byteToChar: string[] = new Array<string>(256);
const charToByte = new Map<string, number>();

{
  const printable = (byte: number) => (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    const char = printable(byte) ? String.fromCodePoint(byte) : String.fromCodePoint(256 + next++);
    byteToChar[byte] = char;
    charToByte.set(char, byte);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** The byte-level text of `text`'s UTF-8 bytes (one character per byte). */
export function encodeBytes(text: string): string {
  const bytes = encoder.encode(text);
  let out = "";
  for (const byte of bytes) out += byteToChar[byte]!;
  return out;
}

/** The characters of the 256 single-byte tokens, in byte order. */
export function byteAlphabet(): string[] {
  return [...byteToChar];
}

/** Bytes of a byte-level token text, or undefined when it holds a character outside the mapping. */
export function byteLevelToBytes(token: string): number[] | undefined {
  const bytes: number[] = [];
  for (const char of token) {
    const byte = charToByte.get(char);
    if (byte === undefined) return undefined;
    bytes.push(byte);
  }
  return bytes;
}

/** UTF-8 text of bytes; invalid sequences become U+FFFD, as HF's decoder (errors="replace") does. */
export function decodeUtf8(bytes: readonly number[] | Uint8Array): string {
  return decoder.decode(bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
}
