/**
 * (Re-)indexes a folder of documents into a RagIndex, touching only what changed: each file's SHA-256
 * is compared with the one stored, so an unchanged file is neither parsed, chunked nor embedded
 * again; a changed file's chunks are replaced, a vanished file's removed. A file that cannot be read
 * or parsed is skipped with its path named (and whatever was indexed for it before is dropped, as it
 * no longer reflects the file), never a crash.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseDocumentFile } from "../data/parseDocumentFile.js";
import type { Embedder } from "../llm/types.js";
import { InputError } from "../shared/errors.js";
import { chunkStructured, type StructuredChunkOptions } from "./chunkStructured.js";
import { markHtmlStructure } from "./markHtmlStructure.js";
import type { RagIndex } from "./ragIndex.js";

/** Formats whose structure the chunker can follow; datasets (JSONL, CSV) are not documents to retrieve from. */
export const INDEXABLE_EXTENSIONS = new Set([".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"]);

export interface IndexFolderOptions extends StructuredChunkOptions {
  /** Embeds each chunk (heading trail + text) when the index holds vectors. */
  embedder?: Embedder;
  /** Told about each skipped file. Defaults to nothing (the result lists them too). */
  onWarning?: (message: string) => void;
}

export interface IndexFolderResult {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
  skipped: { path: string; reason: string }[];
  chunks: number;
}

export async function indexFolder(
  index: RagIndex,
  folder: string,
  options: IndexFolderOptions,
): Promise<IndexFolderResult> {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory())
    throw new InputError("document folder not found", {
      where: folder,
      hint: "Point `rag index` at a folder of documents.",
    });
  if ((index.identity.embedderId === null) !== (options.embedder === undefined))
    throw new InputError(
      `the index expects ${index.identity.embedderId ?? "no embedder"}, got ${options.embedder?.id ?? "none"}`,
      { where: index.file },
    );
  const result: IndexFolderResult = { added: [], updated: [], removed: [], unchanged: [], skipped: [], chunks: 0 };
  const stored = index.fileHashes();
  const present = listFiles(folder);
  for (const relative of present) {
    const outcome = await indexFile(index, folder, relative, stored.get(relative), options);
    if (typeof outcome === "object") {
      result.skipped.push({ path: relative, reason: outcome.skipped });
      options.onWarning?.(`skipped ${path.join(folder, relative)}: ${outcome.skipped}`);
      if (stored.has(relative)) index.removeFile(relative);
    } else if (outcome === "unchanged") result.unchanged.push(relative);
    else (stored.has(relative) ? result.updated : result.added).push(relative);
  }
  const presentSet = new Set(present);
  for (const relative of stored.keys())
    if (!presentSet.has(relative)) {
      index.removeFile(relative);
      result.removed.push(relative);
    }
  result.chunks = index.chunkCount;
  return result;
}

/** "unchanged", "indexed", or why the file was skipped. */
async function indexFile(
  index: RagIndex,
  folder: string,
  relative: string,
  storedHash: string | undefined,
  options: IndexFolderOptions,
): Promise<"unchanged" | "indexed" | { skipped: string }> {
  const full = path.join(folder, relative);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(full);
  } catch (error) {
    return { skipped: `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  const hash = createHash("sha256").update(bytes).digest("hex");
  if (hash === storedHash) return "unchanged";
  let text: string;
  try {
    text = await documentText(full, bytes);
  } catch (error) {
    // parseDocumentFile names the file itself; the warning names it once.
    const message = error instanceof Error ? error.message : String(error);
    return { skipped: message.split("\n")[0]!.replace(`${full}: `, "") };
  }
  const documentId = relative.slice(0, relative.length - path.extname(relative).length);
  const chunks = chunkStructured({ id: documentId, sourcePath: relative, text }, options);
  const vectors = options.embedder
    ? await options.embedder.embed(chunks.map((chunk) => [...chunk.headings, chunk.text].join("\n")))
    : undefined;
  index.replaceFile(relative, hash, chunks, vectors);
  return "indexed";
}

/** The document's text, with HTML headings and list items marked the Markdown way so the chunker sees them. */
async function documentText(file: string, bytes: Uint8Array): Promise<string> {
  const extension = path.extname(file).toLowerCase();
  const input =
    extension === ".html" || extension === ".htm"
      ? new TextEncoder().encode(markHtmlStructure(new TextDecoder().decode(bytes)))
      : bytes;
  const parsed = await parseDocumentFile(file, input);
  return parsed.documents.map((document) => document.text).join("\n\n");
}

/** Indexable files under `folder`, relative with "/" separators, in a stable order. */
function listFiles(folder: string): string[] {
  const files: string[] = [];
  const walk = (directory: string) => {
    for (const entry of fs
      .readdirSync(directory, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (INDEXABLE_EXTENSIONS.has(path.extname(entry.name).toLowerCase()))
        files.push(path.relative(folder, full).split(path.sep).join("/"));
    }
  };
  walk(folder);
  return files;
}
