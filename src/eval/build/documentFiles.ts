/**
 * Which files `vertical eval build-mcq --docs` reads, and the subject each document counts toward:
 * - a file inside a sub-folder of a given folder: the first sub-folder's name ("docs/berths/a.md" -> "berths");
 * - a file directly in the folder, or named on the command line: its name without extension and
 *   without trailing numbers ("en-notice-2024-003.md" -> "en-notice").
 */
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../../shared/errors.js";

export const documentExtensions = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl"];

export interface DocumentFile {
  file: string;
  /** Id used in item sources: the path relative to the folder it was found in (or the path as given). */
  id: string;
  subject: string;
}

export function subjectFromName(file: string): string {
  const stem = path.basename(file).replace(/\.[^.]+$/, "");
  return stem.replace(/(?:[-_ .]?\d+)+$/u, "") || stem;
}

export function collectDocumentFiles(targets: readonly string[]): DocumentFile[] {
  const files: DocumentFile[] = [];
  for (const target of targets) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(target);
    } catch (error) {
      throw new InputError("document file or folder not found.", { where: target, cause: error });
    }
    if (!stat.isDirectory()) {
      files.push({ file: target, id: target, subject: subjectFromName(target) });
      continue;
    }
    const walk = (folder: string) => {
      for (const entry of fs
        .readdirSync(folder, { withFileTypes: true })
        .sort((a, b) => a.name.localeCompare(b.name))) {
        if (entry.name.startsWith(".")) continue;
        const full = path.join(folder, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (documentExtensions.includes(path.extname(entry.name).toLowerCase())) {
          const relative = path.relative(target, full);
          const parts = relative.split(path.sep);
          files.push({
            file: full,
            id: relative.split(path.sep).join("/"),
            subject: parts.length > 1 ? parts[0]! : subjectFromName(full),
          });
        }
      }
    };
    walk(target);
  }
  if (files.length === 0)
    throw new InputError(`no documents found (looked for ${documentExtensions.join(" ")}).`, {
      where: targets.join(", "),
    });
  return files;
}
