/**
 * Retrieval metrics over one ranked list of ids (best first) and the set of relevant ids, with binary
 * relevance: recall@k = |relevant ∩ top k| / |relevant|; reciprocal rank = 1 / rank of the first
 * relevant id (0 if none); nDCG@k = DCG@k / ideal DCG@k with DCG = Σ rel_i / log2(i + 1) (Järvelin &
 * Kekäläinen 2002). A ranked list may repeat an id (several chunks of one document): only its first
 * occurrence counts, so a document is found once.
 */
export function recallAtK(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  const found = new Set(
    firstOccurrences(ranked)
      .slice(0, k)
      .filter((id) => relevant.has(id)),
  );
  return found.size / relevant.size;
}

export function reciprocalRank(ranked: readonly string[], relevant: ReadonlySet<string>): number {
  const position = firstOccurrences(ranked).findIndex((id) => relevant.has(id));
  return position < 0 ? 0 : 1 / (position + 1);
}

export function ndcgAtK(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  const gains = firstOccurrences(ranked)
    .slice(0, k)
    .map((id) => (relevant.has(id) ? 1 : 0));
  const dcg = gains.reduce((sum: number, gain, index) => sum + gain / Math.log2(index + 2), 0);
  let ideal = 0;
  for (let index = 0; index < Math.min(k, relevant.size); index++) ideal += 1 / Math.log2(index + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** The ids in order with repeats dropped. */
function firstOccurrences(ranked: readonly string[]): string[] {
  return [...new Set(ranked)];
}
