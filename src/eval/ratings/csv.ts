/**
 * CSV in and out for ratings, with errors that name the file, the row and the column at fault.
 * Reading goes through csv-parse (RFC 4180: quoted fields, embedded commas/newlines, BOM);
 * writing quotes a field only when it must.
 */
import { parse } from "csv-parse/sync";
import { InputError } from "../../shared/errors.js";

export interface CsvRow {
  /** Data row number, 1 = first row after the header. */
  row: number;
  /** Line where the row ends in the file (rows may span lines inside quotes). */
  line: number;
  values: Record<string, string>;
  file: string;
}

export function parseCsv(
  text: string,
  file: string,
  columns: { required: readonly string[]; optional?: readonly string[] },
): CsvRow[] {
  let parsed: Array<{ record: Record<string, string>; info: { lines: number; records: number } }>;
  try {
    parsed = parse(text, {
      columns: (header: string[]) => header.map((h) => h.trim()),
      info: true,
      bom: true,
      skip_empty_lines: true,
      trim: false,
    });
  } catch (error) {
    const lines = (error as { lines?: number }).lines;
    throw new InputError(`malformed CSV: ${(error as Error).message}`, {
      where: lines ? `${file}:${lines}` : file,
      cause: error,
    });
  }
  const header = text.replace(/^\uFEFF/, "").split(/\r?\n/, 1)[0] ?? "";
  const present = new Set(parse(header, { to_line: 1 })[0]?.map((h: string) => h.trim()) ?? []);
  const missing = columns.required.filter((c) => !present.has(c));
  if (missing.length > 0)
    throw new InputError(`missing column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `"${c}"`).join(", ")}.`, {
      where: `${file}:1`,
      hint: `The header must contain ${columns.required.join(", ")}${columns.optional?.length ? ` (optional: ${columns.optional.join(", ")})` : ""}.`,
    });
  return parsed.map(({ record, info }) => ({ row: info.records, line: info.lines, values: record, file }));
}

/** An InputError located at a row and column: "ratings.csv:4 (row 3), column "score": …". */
export function cellError(row: CsvRow, column: string, message: string, hint?: string): InputError {
  return new InputError(`column "${column}": ${message}`, {
    where: `${row.file}:${row.line} (row ${row.row})`,
    ...(hint ? { hint } : {}),
  });
}

/** A required, non-empty cell. */
export function requiredCell(row: CsvRow, column: string): string {
  const value = row.values[column]?.trim() ?? "";
  if (value === "") throw cellError(row, column, "is empty but required.");
  return value;
}

function quote(field: string): string {
  return /[",\r\n]/.test(field) || field !== field.trim() ? `"${field.replaceAll('"', '""')}"` : field;
}

export function toCsv(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>,
): string {
  const lines = [header.map(quote).join(",")];
  for (const row of rows) lines.push(row.map((v) => quote(v === null || v === undefined ? "" : String(v))).join(","));
  return lines.join("\r\n") + "\r\n";
}
