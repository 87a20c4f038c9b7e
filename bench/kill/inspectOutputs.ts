/**
 * What the kill harness checks in an output folder after each SIGKILL: every file visible under its final name is
 * whole (JSON parses, each JSONL line parses and the file ends at a line end, a safetensors file holds exactly the
 * bytes its header promises, a GGUF reads, a shard folder's manifest matches its shards, a SQLite database passes
 * `PRAGMA integrity_check`). Temporary files (`.NAME.PID.TIME.tmp`, src/shared/atomicWrite.ts) are counted, not read:
 * a kill may leave one behind, but never under a final name.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { readGguf } from "../../src/engine/gguf/readGguf.js";
import { openShards } from "../../src/data/index.js";

export interface Inspection {
  /** Files (or folders) that are not whole under their final name, each with what is wrong. */
  halfWritten: string[];
  /** SQLite databases whose integrity_check did not answer "ok". */
  corruptDatabases: string[];
  /** Temporary files left by a killed writer (harmless: never read under a final name). */
  temporaryFiles: number;
}

const isTemporary = (name: string) => name.startsWith(".") && name.endsWith(".tmp");

function listFiles(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  const files: string[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files.push(path.join(entry.parentPath, entry.name));
  }
  return files.sort();
}

function checkJsonLines(text: string): string | undefined {
  if (text.length > 0 && !text.endsWith("\n")) return "does not end at a line end (a torn append)";
  const lines = text.split("\n").filter((line) => line.length > 0);
  for (const [index, line] of lines.entries()) {
    try {
      JSON.parse(line);
    } catch {
      return `line ${index + 1} is not JSON`;
    }
  }
  return undefined;
}

function checkSafetensors(file: string): string | undefined {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 8) return `${bytes.length} bytes, no header`;
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (8 + headerLength > bytes.length) return "header longer than the file";
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<
    string,
    { data_offsets?: [number, number] }
  >;
  const end = Math.max(0, ...Object.values(header).map((entry) => entry.data_offsets?.[1] ?? 0));
  return 8 + headerLength + end === bytes.length
    ? undefined
    : `data ends at ${8 + headerLength + end}, file has ${bytes.length} bytes`;
}

async function checkFile(file: string): Promise<string | undefined> {
  try {
    if (file.endsWith(".json")) JSON.parse(fs.readFileSync(file, "utf8"));
    else if (file.endsWith(".jsonl")) return checkJsonLines(fs.readFileSync(file, "utf8"));
    else if (file.endsWith(".safetensors")) return checkSafetensors(file);
    else if (file.endsWith(".gguf")) await readGguf(file);
    return undefined;
  } catch (error) {
    return (error as Error).message.split("\n")[0];
  }
}

function checkDatabase(file: string): string | undefined {
  try {
    const database = new Database(file, { fileMustExist: true });
    try {
      const rows = database.pragma("integrity_check") as { integrity_check: string }[];
      const answer = rows.map((row) => row.integrity_check).join("; ");
      return answer === "ok" ? undefined : answer;
    } finally {
      database.close();
    }
  } catch (error) {
    return (error as Error).message;
  }
}

/** Shard folders (a manifest.json beside shard-*.bin) must open as a whole dataset. */
function checkShardFolders(files: string[]): string[] {
  const folders = new Set(
    files
      .filter((file) => file.endsWith(".bin") && path.basename(file).startsWith("shard-"))
      .map((file) => path.dirname(file)),
  );
  const problems: string[] = [];
  for (const folder of folders) {
    try {
      openShards(folder);
    } catch (error) {
      problems.push(`${folder}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  return problems;
}

export async function inspectOutputs(root: string): Promise<Inspection> {
  const files = listFiles(root);
  const inspection: Inspection = { halfWritten: [], corruptDatabases: [], temporaryFiles: 0 };
  for (const file of files) {
    const name = path.basename(file);
    if (isTemporary(name) || file.split(path.sep).some(isTemporary)) {
      inspection.temporaryFiles++;
      continue;
    }
    if (/\.(db|sqlite)$/.test(name)) {
      const problem = checkDatabase(file);
      if (problem) inspection.corruptDatabases.push(`${file}: ${problem}`);
      continue;
    }
    if (/\.(db|sqlite)-(wal|shm|journal)$/.test(name)) continue;
    const problem = await checkFile(file);
    if (problem) inspection.halfWritten.push(`${file}: ${problem}`);
  }
  inspection.halfWritten.push(...checkShardFolders(files.filter((file) => !file.split(path.sep).some(isTemporary))));
  return inspection;
}
