/** A tiny berth table in a temporary SQLite file, for SQL tool tests. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";

export function makeBerthDatabase(): { file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-sql-"));
  const file = path.join(dir, "harbor.sqlite");
  const db = new Database(file);
  db.exec("CREATE TABLE berths (berth TEXT PRIMARY KEY, length_m REAL, max_draught_m REAL, fee_per_day INTEGER)");
  const insert = db.prepare("INSERT INTO berths VALUES (?, ?, ?, ?)");
  for (const row of [
    ["B1", 210, 11.5, 1800],
    ["B2", 305.5, 14.2, 2600],
    ["B3", 150, 9, 1200],
  ] as const)
    insert.run(...row);
  db.close();
  return { file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
