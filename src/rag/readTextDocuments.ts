/**
 * Reads a folder of plain-text documents (.md, .txt) for retrieval; the document id is the file's
 * path relative to the folder without its extension. Other formats (PDF, DOCX, HTML) go through the
 * data pipeline's ingestion first.
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../shared/errors.js";
import type { SourceDocument } from "./types.js";

const TEXT_EXTENSIONS = new Set([".md", ".txt", ".markdown"]);

export function readTextDocuments(folder: string): SourceDocument[] {
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    throw new InputError("document folder not found", { where: folder, hint: "Point retrieval at a folder of .md or .txt files." });
  }
  const documents: SourceDocument[] = [];
  const walk = (directory: string) => {
    for (const entry of fs.readdirSync(directory, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (TEXT_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
        const relative = path.relative(folder, full);
        documents.push({ id: relative.slice(0, -path.extname(relative).length).split(path.sep).join("/"), text: fs.readFileSync(full, "utf8") });
      }
    }
  };
  walk(folder);
  if (documents.length === 0) throw new InputError("no .md or .txt documents in the folder", { where: folder });
  return documents;
}
