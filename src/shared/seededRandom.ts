/**
 * One seeded PRNG (mulberry32) for everything that must repeat exactly — data mixing, bootstrap
 * intervals, item sampling, the example generator: same seed, same sequence, on every platform.
 * (Training keeps its own generator in train/random.ts because its state is checkpointed.)
 */

/** Uniform numbers in [0, 1). */
export type RandomSource = () => number;

function mulberry32Step(state: number): { state: number; value: number } {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { state: next, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 };
}

export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    const step = mulberry32Step(this.state);
    this.state = step.state;
    return step.value;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** The same generator as a plain function, for code that only needs numbers. */
export function seededRandom(seed: number): RandomSource {
  const random = new SeededRandom(seed);
  return () => random.next();
}
