// The measurement behind docs/decisions/0005-rag-index.md: LanceDB 0.31.0 vs SQLite (FTS5 + BLOB vectors,
// brute force) on the same synthetic chunks. LanceDB is not a dependency; install it in a scratch folder
// (npm i -E @lancedb/lancedb@0.31.0 apache-arrow@18.1.0) and run: node scripts/compare-rag-index.mjs <scratch>/node_modules
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

const lanceModules = process.argv[2];
const chunkCount = Number(process.argv[3] ?? 20000);
const dimensions = 64;
const require = createRequire(import.meta.url);
const Database = require("better-sqlite3");
const lancedb = await import(path.join(lanceModules, "@lancedb/lancedb/dist/index.js"));

// Seeded synthetic corpus: Zipf-ish words, 60 per chunk; vectors random unit (the index cost does not depend on meaning).
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const vocabulary = Array.from({ length: 5000 }, (_, index) => (index % 3 === 0 ? `港口${index}` : `w${index}`));
const word = () => vocabulary[Math.floor(vocabulary.length * random() ** 2)];
const unit = () => { const v = Float32Array.from({ length: dimensions }, () => random() - 0.5); const n = Math.hypot(...v); return v.map((x) => x / n); };
const chunks = Array.from({ length: chunkCount }, (_, id) => ({ id, text: Array.from({ length: 60 }, word).join(" "), vector: unit() }));
const queries = Array.from({ length: 200 }, () => ({ terms: [word(), word(), word()], vector: unit() }));
const exactTop10 = queries.map((query) => chunks.map((c) => [c.id, dot(c.vector, query.vector)]).sort((a, b) => b[1] - a[1]).slice(0, 10).map((x) => x[0]));
function dot(a, b) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; }
const percentile = (values, p) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const recall = (found) => found.reduce((sum, ids, q) => sum + ids.filter((id) => exactTop10[q].includes(id)).length / 10, 0) / found.length;
async function timeQueries(run) { const times = []; const found = []; for (let q = 0; q < queries.length; q++) { const t = performance.now(); found.push(await run(queries[q])); times.push(performance.now() - t); } return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), found }; }
const folder = fs.mkdtempSync(path.join(os.tmpdir(), "rag-compare-"));
const report = (name, build, fts, vec) => console.log(`${name}: build ${(chunkCount / build).toFixed(0)} chunks/s; fts p50 ${fts.p50.toFixed(2)} ms p99 ${fts.p99.toFixed(2)} ms; vector p50 ${vec.p50.toFixed(2)} ms p99 ${vec.p99.toFixed(2)} ms recall@10 ${recall(vec.found).toFixed(3)}`);

{ // SQLite
  const t = performance.now();
  const db = new Database(path.join(folder, "index.db"));
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE chunks (id INTEGER PRIMARY KEY, text TEXT, vector BLOB); CREATE VIRTUAL TABLE fts USING fts5(terms, content='', tokenize=\"unicode61 tokenchars '.-'\")");
  const insert = db.prepare("INSERT INTO chunks VALUES (?, ?, ?)"), insertFts = db.prepare("INSERT INTO fts(rowid, terms) VALUES (?, ?)");
  db.transaction(() => { for (const c of chunks) { insert.run(c.id, c.text, Buffer.from(c.vector.buffer)); insertFts.run(c.id, c.text); } })();
  const build = (performance.now() - t) / 1000;
  const search = db.prepare("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT 10");
  const fts = await timeQueries((q) => search.all(q.terms.map((x) => `"${x}"`).join(" OR ")).map((r) => r.rowid));
  let matrix; // loaded once into one Float32Array, as RagIndex does; top-10 kept in one pass
  const vec = await timeQueries((q) => {
    if (!matrix) { const rows = db.prepare("SELECT vector FROM chunks ORDER BY id").all(); matrix = new Float32Array(rows.length * dimensions); rows.forEach((r, i) => matrix.set(new Float32Array(r.vector.buffer.slice(r.vector.byteOffset, r.vector.byteOffset + r.vector.byteLength)), i * dimensions)); }
    const top = [];
    for (let i = 0; i < chunkCount; i++) { let s = 0; for (let d = 0; d < dimensions; d++) s += matrix[i * dimensions + d] * q.vector[d]; if (top.length === 10 && s <= top[9][1]) continue; let at = top.length; while (at > 0 && top[at - 1][1] < s) at--; top.splice(at, 0, [i, s]); if (top.length > 10) top.pop(); }
    return top.map((x) => x[0]);
  });
  report("sqlite", build, fts, vec);
  db.close();
}
{ // LanceDB
  const t = performance.now();
  const db = await lancedb.connect(path.join(folder, "lance"));
  const table = await db.createTable("chunks", chunks.map((c) => ({ id: c.id, text: c.text, vector: Array.from(c.vector) })));
  await table.createIndex("text", { config: lancedb.Index.fts({ baseTokenizer: "whitespace", lowercase: true, stem: false, removeStopWords: false }) });
  const build = (performance.now() - t) / 1000;
  const fts = await timeQueries(async (q) => (await table.search(q.terms.join(" "), "fts").limit(10).toArray()).map((r) => r.id));
  const vec = await timeQueries(async (q) => (await table.vectorSearch(Array.from(q.vector)).distanceType("dot").limit(10).toArray()).map((r) => r.id));
  report("lancedb (flat)", build, fts, vec);
  const ti = performance.now();
  await table.createIndex("vector", { config: lancedb.Index.ivfPq({ numPartitions: Math.max(1, Math.round(Math.sqrt(chunkCount))), numSubVectors: dimensions / 8, distanceType: "dot" }) });
  const indexSeconds = (performance.now() - ti) / 1000;
  const ann = await timeQueries(async (q) => (await table.vectorSearch(Array.from(q.vector)).distanceType("dot").limit(10).toArray()).map((r) => r.id));
  console.log(`lancedb ivf_pq: index ${indexSeconds.toFixed(1)} s; vector p50 ${ann.p50.toFixed(2)} ms p99 ${ann.p99.toFixed(2)} ms recall@10 ${recall(ann.found).toFixed(3)}`);
}
const size = (dir) => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((s, e) => s + fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size, 0);
console.log(`on disk: sqlite ${(fs.statSync(path.join(folder, "index.db")).size / 1e6).toFixed(1)} MB (+wal), lancedb ${(size(path.join(folder, "lance")) / 1e6).toFixed(1)} MB; ${chunkCount} chunks, ${dimensions} dims`);
fs.rmSync(folder, { recursive: true, force: true });
