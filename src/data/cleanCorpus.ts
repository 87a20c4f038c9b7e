import type { CorpusStore } from "./corpusStore.js";
import { type CleanOptions, cleanText, rejectionRule } from "./cleanText.js";

export interface CleanReport {
  examined: number;
  kept: number;
  rejected: number;
  /** Rejections by rule ("too-short", "language", …). */
  rejectedByRule: Record<string, number>;
  /** PII masks applied, by kind. */
  masked: Record<string, number>;
}

/**
 * Cleans every document still in state "ingested": stores the cleaned text (state "cleaned") or
 * marks it "rejected" with its reason. Streams the store in pages; writes in one transaction per page.
 */
export function cleanCorpus(store: CorpusStore, options: CleanOptions = {}, sources?: readonly string[]): CleanReport {
  const report: CleanReport = { examined: 0, kept: 0, rejected: 0, rejectedByRule: {}, masked: {} };
  const pageSize = 500;
  let page: { id: number; result: ReturnType<typeof cleanText> }[] = [];
  const flush = () => {
    const work = page;
    page = [];
    store.transaction(() => {
      for (const { id, result } of work) {
        if (result.rejection) {
          store.setCleanText(id, result.text, result.language);
          store.setStatus(id, "rejected", result.rejection);
        } else store.setCleanText(id, result.text, result.language);
      }
    });
  };
  for (const doc of store.documents({ statuses: ["ingested"], ...(sources ? { sources } : {}) }, pageSize)) {
    const result = cleanText(doc.text, options);
    report.examined++;
    if (result.rejection) {
      report.rejected++;
      const rule = rejectionRule(result.rejection);
      report.rejectedByRule[rule] = (report.rejectedByRule[rule] ?? 0) + 1;
    } else report.kept++;
    for (const [kind, count] of Object.entries(result.masked)) report.masked[kind] = (report.masked[kind] ?? 0) + count;
    page.push({ id: doc.id, result });
    if (page.length >= pageSize) flush();
  }
  flush();
  store.recordStage("clean", options, report);
  return report;
}
