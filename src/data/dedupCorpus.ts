import { createHash } from "node:crypto";
import type { CorpusStore } from "./corpusStore.js";
import { MinHasher, type MinHashOptions, jaccard, shingleHashes } from "./minHash.js";

export interface DedupOptions extends MinHashOptions {
  /** Jaccard similarity (of shingle sets) at or above which two documents are near-duplicates. Defaults to 0.8. */
  threshold?: number;
  /** Restrict to these sources; by default the whole store is one pool. */
  sources?: readonly string[];
}

export interface DedupReport {
  examined: number;
  kept: number;
  exactDuplicates: number;
  nearDuplicates: number;
  /** LSH candidates checked with the exact Jaccard (cost indicator). */
  candidatesChecked: number;
  rule: string;
}

export const DEDUP_KEEP_RULE =
  "keep the earliest-ingested document (lowest id) of each cluster; a later document is a duplicate of the first kept document whose shingle Jaccard >= threshold";

/**
 * Exact (sha256 of the cleaned text) and near-duplicate (MinHash-LSH, verified with the exact
 * Jaccard) deduplication over every document not yet deduplicated, in id order. The index lives in
 * the store (tables dedup_exact, dedup_bands), so memory stays flat and later runs extend it.
 */
export function dedupCorpus(store: CorpusStore, options: DedupOptions = {}): DedupReport {
  const threshold = options.threshold ?? 0.8;
  const hasher = new MinHasher(options);
  const report: DedupReport = { examined: 0, kept: 0, exactDuplicates: 0, nearDuplicates: 0, candidatesChecked: 0, rule: DEDUP_KEEP_RULE };
  const findExact = store.db.prepare("SELECT doc_id FROM dedup_exact WHERE hash = ?").pluck();
  const insertExact = store.db.prepare("INSERT INTO dedup_exact (hash, doc_id) VALUES (?, ?)");
  const findBucket = store.db.prepare("SELECT doc_id FROM dedup_bands WHERE band = ? AND bucket = ?").pluck();
  const insertBucket = store.db.prepare("INSERT INTO dedup_bands (band, bucket, doc_id) VALUES (?, ?, ?)");
  const textOf = store.db.prepare("SELECT coalesce(clean_text, text) FROM documents WHERE id = ?").pluck();
  const markDeduped = store.db.prepare("UPDATE documents SET status = 'deduped' WHERE id = ?");
  const pageSize = 500;
  // Writes are batched into one transaction per page; until then this page's kept documents are
  // looked up in these overlays as well as in the store.
  let pending: (() => void)[] = [];
  let pageExact = new Map<string, number>();
  let pageBuckets = new Map<string, number[]>();
  let pageTexts = new Map<number, string>();
  const flush = () => {
    const work = pending;
    pending = [];
    pageExact = new Map();
    pageBuckets = new Map();
    pageTexts = new Map();
    store.transaction(() => work.forEach((write) => write()));
  };
  for (const doc of store.documents({ statuses: ["ingested", "cleaned"], ...(options.sources ? { sources: options.sources } : {}) }, pageSize)) {
    report.examined++;
    const text = doc.cleanText ?? doc.text;
    const exactHash = createHash("sha256").update(text).digest("hex");
    if (pending.length >= pageSize) flush();
    const exactOf = pageExact.get(exactHash) ?? (findExact.get(exactHash) as number | undefined);
    if (exactOf !== undefined) {
      report.exactDuplicates++;
      pending.push(() => store.setStatus(doc.id, "duplicate", "exact-duplicate", exactOf));
      continue;
    }
    const shingles = shingleHashes(text, hasher.ngram);
    const keys = hasher.bandKeys(hasher.signature(shingles));
    const candidates = new Set<number>();
    keys.forEach((key, band) => {
      for (const id of findBucket.all(band, key) as number[]) candidates.add(id);
      for (const id of pageBuckets.get(`${band}:${key}`) ?? []) candidates.add(id);
    });
    let duplicateOf: number | undefined;
    let similarity = 0;
    for (const candidate of [...candidates].sort((a, b) => a - b)) {
      report.candidatesChecked++;
      const candidateText = pageTexts.get(candidate) ?? (textOf.get(candidate) as string | undefined);
      if (candidateText === undefined) continue;
      const score = jaccard(shingles, shingleHashes(candidateText, hasher.ngram));
      if (score >= threshold) {
        duplicateOf = candidate;
        similarity = score;
        break;
      }
    }
    if (duplicateOf !== undefined) {
      report.nearDuplicates++;
      const of = duplicateOf;
      pending.push(() => store.setStatus(doc.id, "duplicate", `near-duplicate: jaccard ${similarity.toFixed(3)}`, of));
      continue;
    }
    report.kept++;
    pageExact.set(exactHash, doc.id);
    pageTexts.set(doc.id, text);
    keys.forEach((key, band) => {
      const bucket = `${band}:${key}`;
      const ids = pageBuckets.get(bucket);
      if (ids) ids.push(doc.id);
      else pageBuckets.set(bucket, [doc.id]);
    });
    pending.push(() => {
      insertExact.run(exactHash, doc.id);
      keys.forEach((key, band) => insertBucket.run(band, key, doc.id));
      markDeduped.run(doc.id);
    });
  }
  flush();
  store.recordStage("dedup", { threshold, ngram: hasher.ngram, bands: hasher.bands, rows: hasher.rows, rule: DEDUP_KEEP_RULE }, report);
  return report;
}
