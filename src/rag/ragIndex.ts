/**
 * The persistent retrieval index: one SQLite file (no server), chosen over LanceDB by measurement
 * (docs/decisions/0005-rag-index.md). Chunks with their source path, heading trail and offsets; an FTS5
 * table over jieba-segmented terms (segmentWords) for BM25; each chunk's embedding as a Float32 BLOB
 * (unit length), searched by brute force. The embedder's id and dimensions and the chunking settings
 * are stored, and an index built otherwise is refused rather than mixed.
 */
import Database from "better-sqlite3";
import { InputError } from "../shared/errors.js";
import type { StructuredChunk } from "./chunkStructured.js";
import { segmentWords } from "./segmentWords.js";

/** Bumped when the tables change; an index of another version is refused. */
export const INDEX_FORMAT_VERSION = 1;

/** What an index was built with; a reader must match it exactly. */
export interface IndexIdentity {
  /** `Embedder.id`, or null for a BM25-only index. */
  embedderId: string | null;
  dimensions: number;
  /** The chunking settings and tokenizer, as one comparable string. */
  chunking: string;
}

export interface IndexedChunk extends StructuredChunk {
  /** Row id in the index. */
  row: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
  row INTEGER PRIMARY KEY, path TEXT NOT NULL, id TEXT NOT NULL, document_id TEXT NOT NULL, headings TEXT NOT NULL,
  text TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, token_count INTEGER NOT NULL, vector BLOB);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, content='', contentless_delete=1, tokenize="unicode61 tokenchars '.-'");
`;

interface ChunkRow {
  row: number;
  path: string;
  id: string;
  document_id: string;
  headings: string;
  text: string;
  start: number;
  end: number;
  token_count: number;
}

export class RagIndex implements Disposable {
  private readonly database: Database.Database;
  private vectors: { rows: number[]; matrix: Float32Array } | undefined;

  private constructor(
    readonly file: string,
    readonly identity: IndexIdentity,
  ) {
    this.database = new Database(file);
  }

  /** Opens (creating if absent) the index at `file`; refuses one built with another version, embedder or chunking. */
  static open(file: string, identity: IndexIdentity): RagIndex {
    let index: RagIndex;
    try {
      index = new RagIndex(file, identity);
      index.database.pragma("journal_mode = WAL");
      index.database.exec(SCHEMA);
    } catch (error) {
      throw new InputError(`cannot open the retrieval index: ${(error as Error).message}`, {
        where: file,
        hint: "Delete the file and index again.",
        cause: error,
      });
    }
    index.checkIdentity();
    return index;
  }

  /** The identity stored in an existing index (for `rag query`, which must use the embedder it was built with). */
  static readIdentity(file: string): IndexIdentity & { version: number } {
    const database = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const meta = new Map(
        (database.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[]).map((row) => [
          row.key,
          row.value,
        ]),
      );
      const embedderId = meta.get("embedderId");
      return {
        version: Number(meta.get("version")),
        embedderId: embedderId ? embedderId : null,
        dimensions: Number(meta.get("dimensions")),
        chunking: meta.get("chunking") ?? "",
      };
    } catch (error) {
      throw new InputError(`not a retrieval index: ${(error as Error).message}`, {
        where: file,
        hint: "Build one with `vertical rag index`.",
        cause: error,
      });
    } finally {
      database.close();
    }
  }

  private checkIdentity(): void {
    const meta = new Map(
      (this.database.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[]).map((row) => [
        row.key,
        row.value,
      ]),
    );
    const wanted: Record<string, string> = {
      version: String(INDEX_FORMAT_VERSION),
      embedderId: this.identity.embedderId ?? "",
      dimensions: String(this.identity.dimensions),
      chunking: this.identity.chunking,
    };
    if (meta.size === 0) {
      const insert = this.database.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
      this.database.transaction(() => Object.entries(wanted).forEach(([key, value]) => insert.run(key, value)))();
      return;
    }
    for (const [key, value] of Object.entries(wanted)) {
      if (meta.get(key) === value) continue;
      this.database.close();
      throw new InputError(
        `the index was built with ${key} ${JSON.stringify(meta.get(key) ?? null)}, this run uses ${JSON.stringify(value)}`,
        {
          where: `${this.file} (meta.${key})`,
          hint: "Query it with the embedder and chunking it was built with, or rebuild it (`vertical rag index --rebuild`).",
        },
      );
    }
  }

  /** Content hash stored for each indexed file. */
  fileHashes(): Map<string, string> {
    return new Map(
      (this.database.prepare("SELECT path, hash FROM files").all() as { path: string; hash: string }[]).map((row) => [
        row.path,
        row.hash,
      ]),
    );
  }

  /** Replaces everything indexed for `path` with `chunks` (and their unit vectors, when the index has an embedder), in one transaction. */
  replaceFile(path: string, hash: string, chunks: readonly StructuredChunk[], vectors?: readonly Float32Array[]): void {
    if (this.identity.embedderId !== null && vectors?.length !== chunks.length)
      throw new InputError(
        `expected ${chunks.length} vectors for ${chunks.length} chunks, got ${vectors?.length ?? 0}`,
        { where: path },
      );
    const insert = this.database.prepare(
      "INSERT INTO chunks (path, id, document_id, headings, text, start, end, token_count, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const insertTerms = this.database.prepare("INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)");
    this.database.transaction(() => {
      this.deleteRows(path);
      chunks.forEach((chunk, position) => {
        const vector = vectors?.[position];
        if (vector && vector.length !== this.identity.dimensions)
          throw new InputError(`embedding has ${vector.length} dimensions, the index ${this.identity.dimensions}`, {
            where: path,
          });
        const { lastInsertRowid } = insert.run(
          path,
          chunk.id,
          chunk.documentId,
          JSON.stringify(chunk.headings),
          chunk.text,
          chunk.start,
          chunk.end,
          chunk.tokenCount,
          vector ? Buffer.from(normalised(vector).buffer) : null,
        );
        insertTerms.run(lastInsertRowid, segmentWords([...chunk.headings, chunk.text].join("\n")).join(" "));
      });
      this.database
        .prepare("INSERT INTO files (path, hash) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET hash = excluded.hash")
        .run(path, hash);
    })();
    this.vectors = undefined;
  }

  /** Forgets a file that left the folder (or can no longer be read). */
  removeFile(path: string): void {
    this.database.transaction(() => {
      this.deleteRows(path);
      this.database.prepare("DELETE FROM files WHERE path = ?").run(path);
    })();
    this.vectors = undefined;
  }

  private deleteRows(path: string): void {
    const rows = this.database.prepare("SELECT row FROM chunks WHERE path = ?").pluck().all(path) as number[];
    const deleteTerms = this.database.prepare("DELETE FROM chunks_fts WHERE rowid = ?");
    for (const row of rows) deleteTerms.run(row);
    this.database.prepare("DELETE FROM chunks WHERE path = ?").run(path);
  }

  get chunkCount(): number {
    return this.database.prepare("SELECT count(*) FROM chunks").pluck().get() as number;
  }

  /** BM25 over the segmented terms (FTS5's bm25(), k1 = 1.2, b = 0.75); scores are positive, higher is better. */
  searchTerms(query: string, k: number): { row: number; score: number }[] {
    const terms = [...new Set(segmentWords(query))];
    if (terms.length === 0) return [];
    const expression = terms.map((term) => `"${term.replaceAll('"', '""')}"`).join(" OR ");
    const rows = this.database
      .prepare(
        "SELECT rowid AS row, -bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts), rowid LIMIT ?",
      )
      .all(expression, k);
    return rows as { row: number; score: number }[];
  }

  /** Cosine similarity of every chunk to the (any-length) query vector, best `k`; the matrix is loaded once and kept until the index changes. */
  searchVector(query: Float32Array, k: number): { row: number; score: number }[] {
    const { rows, matrix } = this.loadVectors();
    const unit = normalised(query);
    const dimensions = this.identity.dimensions;
    const scores = new Float32Array(rows.length);
    for (let position = 0; position < rows.length; position++) {
      let sum = 0;
      const offset = position * dimensions;
      for (let dimension = 0; dimension < dimensions; dimension++)
        sum += matrix[offset + dimension]! * unit[dimension]!;
      scores[position] = sum;
    }
    return topPositions(scores, k).map((position) => ({ row: rows[position]!, score: scores[position]! }));
  }

  /** The stored unit vector of a chunk (for MMR). */
  vectorOf(row: number): Float32Array | undefined {
    const blob = this.database.prepare("SELECT vector FROM chunks WHERE row = ?").pluck().get(row) as
      Buffer | null | undefined;
    return blob ? floatsOf(blob) : undefined;
  }

  chunks(rows: readonly number[]): IndexedChunk[] {
    const select = this.database.prepare(
      "SELECT row, path, id, document_id, headings, text, start, end, token_count FROM chunks WHERE row = ?",
    );
    return rows.map((row) => {
      const found = select.get(row) as ChunkRow;
      return {
        row: found.row,
        id: found.id,
        documentId: found.document_id,
        sourcePath: found.path,
        headings: JSON.parse(found.headings) as string[],
        text: found.text,
        start: found.start,
        end: found.end,
        tokenCount: found.token_count,
      };
    });
  }

  private loadVectors(): { rows: number[]; matrix: Float32Array } {
    if (this.identity.embedderId === null)
      throw new InputError("the index holds no embeddings", {
        where: this.file,
        hint: "Index with an embedder (--embedder) for dense retrieval.",
      });
    if (this.vectors) return this.vectors;
    const found = this.database
      .prepare("SELECT row, vector FROM chunks WHERE vector IS NOT NULL ORDER BY row")
      .all() as { row: number; vector: Buffer }[];
    const matrix = new Float32Array(found.length * this.identity.dimensions);
    found.forEach((entry, position) => matrix.set(floatsOf(entry.vector), position * this.identity.dimensions));
    this.vectors = { rows: found.map((entry) => entry.row), matrix };
    return this.vectors;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  close(): void {
    if (this.database.open) this.database.close();
  }
}

function normalised(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  return vector.map((value) => value / norm);
}

/** A copy: SQLite's buffers need not be 4-byte aligned, which a Float32Array view requires. */
function floatsOf(blob: Buffer): Float32Array {
  return new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
}

/** Positions of the k largest scores, best first (ties: lower position first); one pass keeping a sorted top list, as k is small. */
function topPositions(scores: Float32Array, k: number): number[] {
  const top: number[] = [];
  for (let position = 0; position < scores.length; position++) {
    const score = scores[position]!;
    if (top.length === k && score <= scores[top[k - 1]!]!) continue;
    let at = top.length;
    while (at > 0 && scores[top[at - 1]!]! < score) at--;
    top.splice(at, 0, position);
    if (top.length > k) top.pop();
  }
  return top;
}
