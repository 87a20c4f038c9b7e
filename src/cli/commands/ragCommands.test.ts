import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../testing/runCli.js";

let folder: string;

beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-rag-cli-"));
  fs.mkdirSync(path.join(folder, "docs"));
  fs.writeFileSync(path.join(folder, "docs", "fees.md"), "# Fees\n\n## Night work\n\nThe night surcharge is 35%.\n");
  fs.writeFileSync(
    path.join(folder, "docs", "pilot.md"),
    "# Pilotage\n\nThe pilot boards at Lingjiao Pilot Station.\n",
  );
  fs.writeFileSync(path.join(folder, "docs", "broken.pdf"), "not a pdf");
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

describe("vertical rag index / query (BM25-only index, no model)", () => {
  it("indexes, warns about the broken file by name, re-indexes nothing the second time, and answers with source, offsets and heading trail", async () => {
    const index = path.join(folder, "docs.db");
    const first = await runCli("rag", "index", path.join(folder, "docs"), "--index", index);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^added 2, updated 0, removed 0, unchanged 0, skipped 1; 2 chunks/);
    expect(first.err).toContain(`skipped ${path.join(folder, "docs", "broken.pdf")}`);
    const second = await runCli("rag", "index", path.join(folder, "docs"), "--index", index);
    expect(second.out).toMatch(/^added 0, updated 0, removed 0, unchanged 2, skipped 1;/);
    const query = await runCli("rag", "query", index, "What is the night surcharge?", "-k", "1");
    expect(query.code).toBe(0);
    const text = "The night surcharge is 35%.";
    const start = fs.readFileSync(path.join(folder, "docs", "fees.md"), "utf8").indexOf(text);
    expect(query.out).toContain(`fees.md:${start}-${start + text.length} Fees > Night work\n    ${text}`);
  });

  it("refuses dense retrieval on an index built without an embedder, saying what is missing", async () => {
    const result = await runCli("rag", "query", path.join(folder, "docs.db"), "night", "--retriever", "dense");
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(/--retriever dense needs --embedder \(the index was embedded by nothing\)/);
  });
});
