/**
 * Language-aware text units for n-gram work (dedup shingles, decontamination): every CJK character
 * is one unit, every run of letters/digits in other scripts is one lower-cased word. So "13-gram"
 * means 13 characters of Chinese and 13 words of English, and mixed text works unchanged.
 */
const cjkCharacter = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]/u;
// A CJK character alone, or a run of letters/digits that stops at the next CJK character.
const unitPattern = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|(?:(?![\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])[\p{L}\p{N}])+/gu;

export function isCjk(character: string): boolean {
  return cjkCharacter.test(character);
}

/** Units of `text` after NFKC and lower-casing; punctuation and whitespace are dropped. */
export function textUnits(text: string): string[] {
  return text.normalize("NFKC").toLowerCase().match(unitPattern) ?? [];
}

/** The n-grams of `units` joined by a space; a text shorter than n gives one n-gram of all its units. */
export function unitNgrams(units: readonly string[], n: number): string[] {
  if (units.length === 0) return [];
  if (units.length <= n) return [units.join(" ")];
  const grams: string[] = [];
  for (let i = 0; i + n <= units.length; i++) grams.push(units.slice(i, i + n).join(" "));
  return grams;
}

/** 32-bit FNV-1a of a string's UTF-16 code units, finished with murmur3's fmix32 for avalanche. */
export function hashString32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return fmix32(hash);
}

export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
