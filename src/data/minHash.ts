import { fmix32, hashString32, textUnits } from "./textUnits.js";

/**
 * MinHash signatures over language-aware shingles: n-grams of textUnits, i.e. character n-grams for
 * Chinese/Japanese/Korean and word n-grams otherwise.
 */
export interface MinHashOptions {
  /** Units per shingle. Defaults to 5. */
  ngram?: number;
  /** LSH bands × rows = signature length. Defaults to 20 × 6: a pair at Jaccard 0.8 becomes a candidate with probability 0.998. */
  bands?: number;
  rows?: number;
  /** Seed of the hash family. Defaults to 1. */
  seed?: number;
}

/**
 * Distinct 32-bit hashes of a text's shingles (n-grams of units). Units are hashed once and an
 * n-gram's hash combines its units' hashes, so no n-gram strings are built. A text shorter than n
 * units is one shingle.
 */
export function shingleHashes(text: string, ngram = 5): Set<number> {
  const units = textUnits(text);
  const hashes = new Set<number>();
  if (units.length === 0) return hashes;
  const unitHashes = new Uint32Array(units.length);
  for (let i = 0; i < units.length; i++) unitHashes[i] = hashString32(units[i]!);
  const n = Math.min(ngram, units.length);
  for (let i = 0; i + n <= units.length; i++) {
    let h = 0x9747b28c;
    for (let k = 0; k < n; k++) h = fmix32(Math.imul(h ^ unitHashes[i + k]!, 0x01000193) + k);
    hashes.add(h);
  }
  return hashes;
}

/** Exact Jaccard similarity of two shingle sets. */
export function jaccard(a: ReadonlySet<number>, b: ReadonlySet<number>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const value of small) if (large.has(value)) shared++;
  return shared / (a.size + b.size - shared);
}

export class MinHasher {
  readonly ngram: number;
  readonly bands: number;
  readonly rows: number;
  private readonly multipliers: Uint32Array;
  private readonly offsets: Uint32Array;

  constructor(options: MinHashOptions = {}) {
    this.ngram = options.ngram ?? 5;
    this.bands = options.bands ?? 20;
    this.rows = options.rows ?? 6;
    const size = this.bands * this.rows;
    this.multipliers = new Uint32Array(size);
    this.offsets = new Uint32Array(size);
    let state = (options.seed ?? 1) >>> 0;
    const next = () => (state = fmix32(state + 0x9e3779b9));
    for (let i = 0; i < size; i++) {
      this.multipliers[i] = next();
      this.offsets[i] = next();
    }
  }

  /** Signature of a shingle set: per hash function, the smallest permuted shingle hash. */
  signature(shingles: ReadonlySet<number>): Uint32Array {
    const size = this.multipliers.length;
    const signature = new Uint32Array(size).fill(0xffffffff);
    for (const shingle of shingles) {
      for (let i = 0; i < size; i++) {
        // murmur3's fmix32 of (shingle xor seed_i): a cheaper multiply-add family gave biased estimates.
        let h = (shingle ^ this.offsets[i]!) + this.multipliers[i]!;
        h ^= h >>> 16;
        h = Math.imul(h, 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h, 0xc2b2ae35);
        h = (h ^ (h >>> 16)) >>> 0;
        if (h < signature[i]!) signature[i] = h;
      }
    }
    return signature;
  }

  /** One bucket key per band: a hash of that band's rows. Documents sharing any key are candidates. */
  bandKeys(signature: Uint32Array): number[] {
    const keys: number[] = [];
    for (let band = 0; band < this.bands; band++) {
      let h = 0x811c9dc5 ^ band;
      for (let row = 0; row < this.rows; row++) h = fmix32(Math.imul(h ^ signature[band * this.rows + row]!, 0x01000193));
      // SQLite stores signed 64-bit integers; keep keys as non-negative JS numbers.
      keys.push(h >>> 0);
    }
    return keys;
  }
}
