import fs from "node:fs";
import path from "node:path";
import type { CorpusStore } from "./corpusStore.js";
import { rejectionRule } from "./cleanText.js";
import type { DatasetManifest } from "./datasetManifest.js";
import { MANIFEST_FILE } from "./shardFormat.js";

export interface CorpusStats {
  store: string;
  /** Per source: documents by status. */
  sources: { source: string; documents: number; active: number; rejected: number; duplicate: number; contaminated: number; characters: number }[];
  languages: Record<string, number>;
  rejectedByRule: Record<string, number>;
  duplicates: { exact: number; near: number };
  contamination: { documents: number; items: { file: string; item: string; documents: number }[] };
  ingestIssues: { path: string; line: number | null; reason: string }[];
  stages: { stage: string; parameters: unknown; counts: unknown }[];
  /** Final mixes of the datasets passed in. */
  builds: { directory: string; objective: string; sequences: number; tokens: number; sources: { name: string; share: number; achievedShare: number; tokens: number }[] }[];
}

/** What was ingested, rejected (by reason), deduplicated, decontaminated, and the final mix of builds. */
export function corpusStats(store: CorpusStore, buildDirectories: readonly string[] = []): CorpusStats {
  const db = store.db;
  const sources = db
    .prepare(
      `SELECT source, count(*) AS documents,
        sum(status IN ('ingested','cleaned','deduped')) AS active, sum(status = 'rejected') AS rejected,
        sum(status = 'duplicate') AS duplicate, sum(status = 'contaminated') AS contaminated,
        sum(length(coalesce(clean_text, text))) AS characters
       FROM documents GROUP BY source ORDER BY source`,
    )
    .all() as CorpusStats["sources"];
  const languages: Record<string, number> = {};
  for (const row of db.prepare("SELECT language, count(*) AS n FROM documents WHERE status IN ('ingested','cleaned','deduped') GROUP BY language ORDER BY language").all() as { language: string; n: number }[]) {
    languages[row.language] = row.n;
  }
  const rejectedByRule: Record<string, number> = {};
  for (const row of db.prepare("SELECT reason, count(*) AS n FROM documents WHERE status = 'rejected' GROUP BY reason").all() as { reason: string; n: number }[]) {
    const rule = rejectionRule(row.reason ?? "unknown");
    rejectedByRule[rule] = (rejectedByRule[rule] ?? 0) + row.n;
  }
  const duplicates = db
    .prepare("SELECT sum(reason = 'exact-duplicate') AS exact, sum(reason LIKE 'near-duplicate%') AS near FROM documents WHERE status = 'duplicate'")
    .get() as { exact: number | null; near: number | null };
  const items = db
    .prepare("SELECT eval_file AS file, eval_item AS item, count(DISTINCT doc_id) AS documents FROM contamination GROUP BY eval_file, eval_item ORDER BY eval_file, eval_item")
    .all() as CorpusStats["contamination"]["items"];
  const contaminatedDocuments = (db.prepare("SELECT count(DISTINCT doc_id) AS n FROM contamination").get() as { n: number }).n;
  const builds = buildDirectories.map((directory) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(directory, MANIFEST_FILE), "utf8")) as DatasetManifest;
    return {
      directory,
      objective: manifest.objective,
      sequences: manifest.totals.sequences,
      tokens: manifest.totals.tokens,
      sources: manifest.sources.map((s) => ({ name: s.name, share: s.share, achievedShare: s.achievedShare, tokens: s.tokens })),
    };
  });
  return {
    store: store.file,
    sources,
    languages,
    rejectedByRule,
    duplicates: { exact: duplicates.exact ?? 0, near: duplicates.near ?? 0 },
    contamination: { documents: contaminatedDocuments, items },
    ingestIssues: store.ingestIssues(),
    stages: store.stageRuns(),
    builds,
  };
}

/** Rows for a two-column table ("what", "count"), in reading order. */
export function statsRows(stats: CorpusStats): [string, string][] {
  const rows: [string, string][] = [];
  for (const s of stats.sources) {
    rows.push([`source ${s.source}: documents`, String(s.documents)]);
    rows.push([`  kept (active)`, String(s.active)]);
    rows.push([`  rejected / duplicate / contaminated`, `${s.rejected} / ${s.duplicate} / ${s.contaminated}`]);
    rows.push([`  characters kept`, String(s.characters ?? 0)]);
  }
  for (const [language, n] of Object.entries(stats.languages)) rows.push([`language ${language}`, String(n)]);
  for (const [rule, n] of Object.entries(stats.rejectedByRule)) rows.push([`rejected: ${rule}`, String(n)]);
  rows.push(["duplicates exact / near", `${stats.duplicates.exact} / ${stats.duplicates.near}`]);
  rows.push(["contaminated documents", String(stats.contamination.documents)]);
  for (const item of stats.contamination.items) rows.push([`  matched ${path.basename(item.file)}#${item.item}`, `${item.documents} doc(s)`]);
  rows.push(["ingest issues", String(stats.ingestIssues.length)]);
  for (const issue of stats.ingestIssues.slice(0, 20)) rows.push([`  ${issue.path}${issue.line ? `:${issue.line}` : ""}`, issue.reason.slice(0, 60)]);
  for (const build of stats.builds) {
    rows.push([`build ${build.directory} (${build.objective})`, `${build.sequences} rows, ${build.tokens} tokens`]);
    for (const s of build.sources) rows.push([`  ${s.name}: share asked / achieved`, `${s.share.toFixed(4)} / ${s.achievedShare.toFixed(4)} (${s.tokens} tokens)`]);
  }
  return rows;
}
