import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { InputError } from "../shared/errors.js";

/**
 * Where a document stands in the pipeline. Positive states advance ingested -> cleaned -> deduped;
 * the others are terminal rejections and keep their reason.
 */
export type DocumentStatus = "ingested" | "cleaned" | "deduped" | "rejected" | "duplicate" | "contaminated";
export const ACTIVE_STATUSES: readonly DocumentStatus[] = ["ingested", "cleaned", "deduped"];

export interface NewDocument {
  source: string;
  path: string;
  /** Position of the document inside its file (row, line) — 0 for one-document files. */
  ordinal: number;
  contentHash: string;
  language: string;
  title: string | null;
  text: string;
  metadata: Record<string, unknown>;
}

export interface StoredDocument extends NewDocument {
  id: number;
  cleanText: string | null;
  status: DocumentStatus;
  reason: string | null;
  duplicateOf: number | null;
}

interface DocumentRow {
  id: number;
  source: string;
  path: string;
  ordinal: number;
  content_hash: string;
  language: string;
  title: string | null;
  text: string;
  clean_text: string | null;
  metadata: string;
  status: DocumentStatus;
  reason: string | null;
  duplicate_of: number | null;
}

const schema = `
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY, source TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, documents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ingest_issues (path TEXT NOT NULL, line INTEGER, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ingest_issues_path ON ingest_issues(path);
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL, path TEXT NOT NULL, ordinal INTEGER NOT NULL,
  content_hash TEXT NOT NULL, language TEXT NOT NULL, title TEXT, text TEXT NOT NULL,
  clean_text TEXT, metadata TEXT NOT NULL DEFAULT '{}',
  status TEXT NOT NULL DEFAULT 'ingested', reason TEXT, duplicate_of INTEGER
);
CREATE INDEX IF NOT EXISTS documents_path ON documents(path);
CREATE INDEX IF NOT EXISTS documents_status ON documents(status, source);
CREATE TABLE IF NOT EXISTS dedup_exact (hash TEXT PRIMARY KEY, doc_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_bands (band INTEGER NOT NULL, bucket INTEGER NOT NULL, doc_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS dedup_bands_key ON dedup_bands(band, bucket);
CREATE TABLE IF NOT EXISTS contamination (doc_id INTEGER NOT NULL, eval_file TEXT NOT NULL, eval_item TEXT NOT NULL, ngram TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stage_runs (stage TEXT PRIMARY KEY, parameters TEXT NOT NULL, counts TEXT NOT NULL);
`;

function fromRow(row: DocumentRow): StoredDocument {
  return {
    id: row.id,
    source: row.source,
    path: row.path,
    ordinal: row.ordinal,
    contentHash: row.content_hash,
    language: row.language,
    title: row.title,
    text: row.text,
    cleanText: row.clean_text,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    status: row.status,
    reason: row.reason,
    duplicateOf: row.duplicate_of,
  };
}

/**
 * The corpus store: one SQLite file holding ingested documents, their cleaned text, their status
 * and the dedup index. Every stage reads and writes here in pages, so memory stays flat however
 * large the corpus grows. Call dispose() (or use `using`) to close it.
 */
export class CorpusStore implements Disposable {
  readonly db: Database.Database;
  private open = true;

  constructor(readonly file: string) {
    if (file !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    try {
      this.db = new Database(file);
    } catch (error) {
      throw new InputError(`cannot open the corpus store: ${(error as Error).message}`, { where: file, cause: error });
    }
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    // A bounded page cache (about 64 MiB) keeps memory flat however large the store grows.
    this.db.pragma("cache_size = -65536");
    this.db.exec(schema);
  }

  dispose(): void {
    if (!this.open) return;
    this.open = false;
    this.db.close();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  fileRecord(filePath: string): { sha256: string; source: string } | undefined {
    return this.db.prepare("SELECT sha256, source FROM files WHERE path = ?").get(filePath) as { sha256: string; source: string } | undefined;
  }

  /** Replaces everything stored for `filePath` with `documents`, atomically. */
  replaceFile(filePath: string, source: string, sha256: string, size: number, documents: NewDocument[], issues: { line: number | null; reason: string }[]): void {
    const insert = this.db.prepare(
      "INSERT INTO documents (source, path, ordinal, content_hash, language, title, text, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const insertIssue = this.db.prepare("INSERT INTO ingest_issues (path, line, reason) VALUES (?, ?, ?)");
    this.db.transaction(() => {
      this.removeFile(filePath);
      for (const doc of documents) {
        insert.run(doc.source, doc.path, doc.ordinal, doc.contentHash, doc.language, doc.title, doc.text, JSON.stringify(doc.metadata));
      }
      for (const issue of issues) insertIssue.run(filePath, issue.line, issue.reason);
      this.db.prepare("INSERT INTO files (path, source, sha256, size, documents) VALUES (?, ?, ?, ?, ?)").run(filePath, source, sha256, size, documents.length);
    })();
  }

  /** Records a file that failed as a whole (unreadable, unparsable) without touching its earlier documents. */
  recordFileFailure(filePath: string, reason: string): void {
    this.db.transaction(() => {
      this.db.prepare("DELETE FROM ingest_issues WHERE path = ?").run(filePath);
      this.db.prepare("INSERT INTO ingest_issues (path, line, reason) VALUES (?, NULL, ?)").run(filePath, reason);
    })();
  }

  private removeFile(filePath: string): void {
    const ids = "SELECT id FROM documents WHERE path = ?";
    this.db.prepare(`DELETE FROM dedup_bands WHERE doc_id IN (${ids})`).run(filePath);
    this.db.prepare(`DELETE FROM dedup_exact WHERE doc_id IN (${ids})`).run(filePath);
    this.db.prepare(`DELETE FROM contamination WHERE doc_id IN (${ids})`).run(filePath);
    this.db.prepare("DELETE FROM documents WHERE path = ?").run(filePath);
    this.db.prepare("DELETE FROM ingest_issues WHERE path = ?").run(filePath);
    this.db.prepare("DELETE FROM files WHERE path = ?").run(filePath);
  }

  /** Inserts documents that come from no file (generated, programmatic); returns their ids. */
  insertDocuments(documents: NewDocument[]): number[] {
    const insert = this.db.prepare(
      "INSERT INTO documents (source, path, ordinal, content_hash, language, title, text, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const ids: number[] = [];
    this.db.transaction(() => {
      for (const doc of documents) {
        const result = insert.run(doc.source, doc.path, doc.ordinal, doc.contentHash, doc.language, doc.title, doc.text, JSON.stringify(doc.metadata));
        ids.push(Number(result.lastInsertRowid));
      }
    })();
    return ids;
  }

  /**
   * Documents in id order, fetched in pages of `pageSize` so the caller may update the store while
   * iterating (better-sqlite3 forbids writes during an open statement iteration).
   */
  *documents(filter: { statuses?: readonly DocumentStatus[]; sources?: readonly string[] } = {}, pageSize = 500): Generator<StoredDocument> {
    const conditions = ["id > ?"];
    const parameters: unknown[] = [];
    if (filter.statuses) {
      conditions.push(`status IN (${filter.statuses.map(() => "?").join(",")})`);
      parameters.push(...filter.statuses);
    }
    if (filter.sources) {
      conditions.push(`source IN (${filter.sources.map(() => "?").join(",")})`);
      parameters.push(...filter.sources);
    }
    const statement = this.db.prepare(`SELECT * FROM documents WHERE ${conditions.join(" AND ")} ORDER BY id LIMIT ${pageSize}`);
    let lastId = 0;
    for (;;) {
      const rows = statement.all(lastId, ...parameters) as DocumentRow[];
      if (rows.length === 0) return;
      for (const row of rows) yield fromRow(row);
      lastId = rows[rows.length - 1]!.id;
    }
  }

  document(id: number): StoredDocument | undefined {
    const row = this.db.prepare("SELECT * FROM documents WHERE id = ?").get(id) as DocumentRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  setStatus(id: number, status: DocumentStatus, reason: string | null = null, duplicateOf: number | null = null): void {
    this.db.prepare("UPDATE documents SET status = ?, reason = ?, duplicate_of = ? WHERE id = ?").run(status, reason, duplicateOf, id);
  }

  setCleanText(id: number, cleanText: string, language: string): void {
    this.db.prepare("UPDATE documents SET clean_text = ?, language = ?, status = 'cleaned', reason = NULL WHERE id = ?").run(cleanText, language, id);
  }

  /** Runs `work` in one transaction (much faster for many small writes). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  recordStage(stage: string, parameters: unknown, counts: unknown): void {
    this.db
      .prepare("INSERT INTO stage_runs (stage, parameters, counts) VALUES (?, ?, ?) ON CONFLICT(stage) DO UPDATE SET parameters = excluded.parameters, counts = excluded.counts")
      .run(stage, JSON.stringify(parameters), JSON.stringify(counts));
  }

  stageRuns(): { stage: string; parameters: unknown; counts: unknown }[] {
    const rows = this.db.prepare("SELECT stage, parameters, counts FROM stage_runs ORDER BY stage").all() as { stage: string; parameters: string; counts: string }[];
    return rows.map((row) => ({ stage: row.stage, parameters: JSON.parse(row.parameters), counts: JSON.parse(row.counts) }));
  }

  ingestIssues(): { path: string; line: number | null; reason: string }[] {
    return this.db.prepare("SELECT path, line, reason FROM ingest_issues ORDER BY path, line").all() as { path: string; line: number | null; reason: string }[];
  }
}

/** Opens (creating if needed) a corpus store file. */
export function openCorpusStore(file: string): CorpusStore {
  return new CorpusStore(file);
}
