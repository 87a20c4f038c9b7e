import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../shared/errors.js";
import type { CorpusStore, NewDocument } from "./corpusStore.js";
import { detectLanguage } from "./detectLanguage.js";
import { SUPPORTED_EXTENSIONS, parseDocumentFile, type ParseOptions } from "./parseDocumentFile.js";

export interface IngestOptions extends ParseOptions {
  /** Name of the data source these documents belong to ("domain", "general", …). Defaults to "domain". */
  source?: string;
  /** Called after each file, for progress display. */
  onFile?: (file: string, outcome: "ingested" | "unchanged" | "failed") => void;
}

export interface IngestIssue {
  path: string;
  /** 1-based line (JSONL, CSV) when the problem is inside the file. */
  line: number | null;
  reason: string;
}

export interface IngestReport {
  files: number;
  ingestedFiles: number;
  unchangedFiles: number;
  failedFiles: number;
  documents: number;
  /** Files that failed as a whole and lines that failed inside files that otherwise ingested. */
  issues: IngestIssue[];
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every supported file under `folder`, sorted so ingestion order (and document ids) are repeatable. */
export function listDocumentFiles(folder: string): string[] {
  const found: string[] = [];
  const walk = (directory: string) => {
    const entries = fs.readdirSync(directory, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && (SUPPORTED_EXTENSIONS as readonly string[]).includes(path.extname(entry.name).toLowerCase())) found.push(full);
    }
  };
  walk(folder);
  return found;
}

/**
 * Ingests every supported file under `folder` (or the single file `folder`) into the store. A file
 * whose bytes are unchanged since its last ingestion is skipped; a changed file replaces its old
 * documents. A file that fails to parse is reported with its path and reason and the others go on;
 * bad lines inside JSONL/CSV files are reported with their line number.
 */
export async function ingestFolder(store: CorpusStore, folder: string, options: IngestOptions = {}): Promise<IngestReport> {
  const source = options.source ?? "domain";
  if (!fs.existsSync(folder)) throw new InputError("folder does not exist", { where: folder, hint: "Pass a folder of .txt .md .html .pdf .docx .jsonl .csv files." });
  const files = fs.statSync(folder).isDirectory() ? listDocumentFiles(folder) : [folder];
  const report: IngestReport = { files: files.length, ingestedFiles: 0, unchangedFiles: 0, failedFiles: 0, documents: 0, issues: [] };
  for (const file of files) {
    const filePath = path.resolve(file);
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(filePath);
    } catch (error) {
      report.failedFiles++;
      report.issues.push({ path: filePath, line: null, reason: `cannot read: ${(error as Error).message}` });
      store.recordFileFailure(filePath, `cannot read: ${(error as Error).message}`);
      options.onFile?.(filePath, "failed");
      continue;
    }
    const fileHash = sha256Hex(bytes);
    const previous = store.fileRecord(filePath);
    if (previous && previous.sha256 === fileHash && previous.source === source) {
      report.unchangedFiles++;
      options.onFile?.(filePath, "unchanged");
      continue;
    }
    let parsed;
    try {
      parsed = await parseDocumentFile(filePath, bytes, options);
    } catch (error) {
      const reason = `cannot parse: ${(error as Error).message}`;
      report.failedFiles++;
      report.issues.push({ path: filePath, line: null, reason });
      store.recordFileFailure(filePath, reason);
      options.onFile?.(filePath, "failed");
      continue;
    }
    const documents: NewDocument[] = parsed.documents
      .filter((doc) => doc.text.trim() !== "")
      .map((doc) => ({
        source,
        path: filePath,
        ordinal: doc.ordinal,
        contentHash: sha256Hex(doc.text),
        language: detectLanguage(doc.text),
        title: doc.title,
        text: doc.text,
        metadata: doc.metadata,
      }));
    store.replaceFile(filePath, source, fileHash, bytes.byteLength, documents, parsed.issues);
    for (const issue of parsed.issues) report.issues.push({ path: filePath, ...issue });
    report.ingestedFiles++;
    report.documents += documents.length;
    options.onFile?.(filePath, "ingested");
  }
  store.recordStage(`ingest:${source}`, { source }, report);
  return report;
}

/**
 * Adds in-memory texts (generated, fetched, programmatic) as documents of `source`; hashes and
 * language are computed as for files. `origin` is stored as their path. Returns the new ids.
 */
export function ingestTexts(
  store: CorpusStore,
  texts: readonly (string | { text: string; title?: string; metadata?: Record<string, unknown> })[],
  options: { source?: string; origin?: string } = {},
): number[] {
  const source = options.source ?? "domain";
  return store.insertDocuments(
    texts.map((entry, ordinal) => {
      const { text, title, metadata } = typeof entry === "string" ? { text: entry, title: undefined, metadata: undefined } : entry;
      return { source, path: options.origin ?? "(texts)", ordinal, contentHash: sha256Hex(text), language: detectLanguage(text), title: title ?? null, text, metadata: metadata ?? {} };
    }),
  );
}
