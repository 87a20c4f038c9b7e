import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { InputError, VerticalError } from "../shared/errors.js";

/** One document found in a file, before language detection and hashing. */
export interface ParsedDocument {
  ordinal: number;
  title: string | null;
  text: string;
  metadata: Record<string, unknown>;
}

/** A problem inside a file that did not stop the rest of it (a bad JSONL line, an empty row). */
export interface ParseIssue {
  line: number | null;
  reason: string;
}

export interface ParsedFile {
  documents: ParsedDocument[];
  issues: ParseIssue[];
}

export interface ParseOptions {
  /** Field (JSONL) or column (CSV) holding the text. Defaults to the first of "text", "content", "body". */
  textField?: string;
}

export const SUPPORTED_EXTENSIONS = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl", ".csv"] as const;

const defaultTextFields = ["text", "content", "body"];
/** Elements that carry navigation and page furniture, not content. */
const boilerplateSelectors = "script, style, noscript, nav, header, footer, aside, form, iframe, svg, template, button";

function titleFromMarkdown(text: string): string | null {
  const heading = /^#{1,2}\s+(.+)$/m.exec(text);
  return heading ? heading[1]!.trim() : null;
}

function pickText(record: Record<string, unknown>, textField: string | undefined): { field: string; text: string } | string {
  const candidates = textField ? [textField] : defaultTextFields;
  for (const field of candidates) {
    const value = record[field];
    if (typeof value === "string") return { field, text: value };
  }
  return textField
    ? `field "${textField}" is missing or not a string`
    : `no text field: expected one of ${defaultTextFields.map((f) => `"${f}"`).join(", ")} (or pass a text field)`;
}

async function parseHtml(source: string): Promise<ParsedFile> {
  const { parse } = await import("node-html-parser");
  const root = parse(source, { comment: false, blockTextElements: { pre: true } });
  const title = root.querySelector("title")?.text.trim() || root.querySelector("h1")?.text.trim() || null;
  for (const node of root.querySelectorAll(boilerplateSelectors)) node.remove();
  root.querySelector("head")?.remove();
  const body = root.querySelector("main") ?? root.querySelector("article") ?? root.querySelector("body") ?? root;
  return { documents: [{ ordinal: 0, title, text: body.structuredText, metadata: {} }], issues: [] };
}

async function parsePdf(bytes: Uint8Array): Promise<ParsedFile> {
  const { extractText, getDocumentProxy } = await import("unpdf");
  const pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: true });
    return { documents: [{ ordinal: 0, title: null, text, metadata: { pages: totalPages } }], issues: [] };
  } finally {
    await pdf.destroy();
  }
}

async function parseDocx(bytes: Uint8Array): Promise<ParsedFile> {
  const mammoth = await import("mammoth");
  const result = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
  return { documents: [{ ordinal: 0, title: null, text: result.value, metadata: {} }], issues: [] };
}

function parseJsonl(source: string, options: ParseOptions): ParsedFile {
  const documents: ParsedDocument[] = [];
  const issues: ParseIssue[] = [];
  source.split("\n").forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === "") return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      issues.push({ line: index + 1, reason: `invalid JSON: ${(error as Error).message}` });
      return;
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      issues.push({ line: index + 1, reason: "expected a JSON object" });
      return;
    }
    const picked = pickText(record as Record<string, unknown>, options.textField);
    if (typeof picked === "string") {
      issues.push({ line: index + 1, reason: picked });
      return;
    }
    const { [picked.field]: _text, title, ...rest } = record as Record<string, unknown>;
    documents.push({ ordinal: index + 1, title: typeof title === "string" ? title : null, text: picked.text, metadata: rest });
  });
  return { documents, issues };
}

function parseCsvFile(source: string, options: ParseOptions): ParsedFile {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(source, { columns: true, skip_empty_lines: true, bom: true, relax_column_count: true }) as Record<string, string>[];
  } catch (error) {
    const line = (error as { lines?: number }).lines ?? null;
    return { documents: [], issues: [{ line, reason: `CSV parse error: ${(error as Error).message}` }] };
  }
  const documents: ParsedDocument[] = [];
  const issues: ParseIssue[] = [];
  rows.forEach((row, index) => {
    const lineNumber = index + 2; // line 1 is the header
    const picked = pickText(row, options.textField);
    if (typeof picked !== "string") {
      const { [picked.field]: _text, title, ...rest } = row;
      documents.push({ ordinal: lineNumber, title: title ?? null, text: picked.text, metadata: rest });
    } else if (options.textField) {
      issues.push({ line: lineNumber, reason: picked });
    } else {
      // No text column: the row itself is the document, one "column: value" line per cell.
      const text = Object.entries(row).map(([column, value]) => `${column}: ${value}`).join("\n");
      documents.push({ ordinal: lineNumber, title: null, text, metadata: {} });
    }
  });
  return { documents, issues };
}

/**
 * Parses one file by its extension. Throws an InputError naming the file when the file as a whole cannot be
 * parsed (invalid UTF-8, a broken PDF or DOCX, ...): the parsers' own errors (pdf.js's InvalidPDFException, the zip
 * reader's "Corrupted zip") say neither which file nor what to do — found by `npm run fuzz`.
 */
export async function parseDocumentFile(filePath: string, bytes: Uint8Array, options: ParseOptions = {}): Promise<ParsedFile> {
  const extension = path.extname(filePath).toLowerCase();
  try {
    return await parseByExtension(extension, bytes, options);
  } catch (error) {
    if (VerticalError.isInstance(error)) throw error;
    throw new InputError(`cannot parse as ${extension || "a document"}: ${(error as Error).message}`, {
      where: filePath,
      hint: extension === ".pdf" || extension === ".docx" ? `Open it in its application and export it again, or remove it from the folder.` : "Save it as UTF-8 text, or remove it from the folder.",
      cause: error,
    });
  }
}

async function parseByExtension(extension: string, bytes: Uint8Array, options: ParseOptions): Promise<ParsedFile> {
  const decode = () => new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  switch (extension) {
    case ".txt":
      return { documents: [{ ordinal: 0, title: null, text: decode(), metadata: {} }], issues: [] };
    case ".md":
    case ".markdown": {
      const text = decode();
      return { documents: [{ ordinal: 0, title: titleFromMarkdown(text), text, metadata: {} }], issues: [] };
    }
    case ".html":
    case ".htm":
      return parseHtml(decode());
    case ".pdf":
      return parsePdf(bytes);
    case ".docx":
      return parseDocx(bytes);
    case ".jsonl":
      return parseJsonl(decode(), options);
    case ".csv":
      return parseCsvFile(decode(), options);
    default:
      throw new Error(`unsupported extension "${extension}" (supported: ${SUPPORTED_EXTENSIONS.join(" ")})`);
  }
}
