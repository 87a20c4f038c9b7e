/**
 * Reciprocal-rank fusion (Cormack, Clarke & Büttcher 2009): score(d) = Σ_r weight_r / (k + rank_r(d)).
 * Only ranks are fused, so BM25 scores and cosines need no common scale.
 */
export interface RankedList<T> {
  items: readonly T[];
  /** Defaults to 1. */
  weight?: number;
}

/** Items of all lists, fused best first; `key` identifies the same item across lists; `k` defaults to 60 (the paper's). */
export function fuseRankings<T>(
  lists: readonly RankedList<T>[],
  key: (item: T) => string,
  k = 60,
): { item: T; score: number }[] {
  const fused = new Map<string, { item: T; score: number; firstSeen: number }>();
  let seen = 0;
  for (const list of lists) {
    const weight = list.weight ?? 1;
    list.items.forEach((item, position) => {
      const id = key(item);
      const entry = fused.get(id) ?? { item, score: 0, firstSeen: seen++ };
      entry.score += weight / (k + position + 1);
      fused.set(id, entry);
    });
  }
  return [...fused.values()]
    .sort((left, right) => right.score - left.score || left.firstSeen - right.firstSeen)
    .map(({ item, score }) => ({ item, score }));
}
