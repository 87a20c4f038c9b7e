import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDocx } from "../data/testing/documentFiles.js";
import { DenseRetriever } from "./denseRetriever.js";
import { IndexBm25Retriever } from "./indexBm25Retriever.js";
import { indexFolder } from "./indexFolder.js";
import { RagIndex } from "./ragIndex.js";
import { HashingEmbedder } from "./testing/hashingEmbedder.js";

const countTokens = (text: string) => Math.ceil(text.length / 4);
const chunking = "chars/4,max=64,overlap=8";

describe("RagIndex + indexFolder (real SQLite)", () => {
  let folder: string;
  let docs: string;
  beforeEach(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "rag-index-"));
    docs = path.join(folder, "docs");
    fs.mkdirSync(path.join(docs, "notices"), { recursive: true });
    fs.writeFileSync(
      path.join(docs, "pilot.md"),
      "# Pilotage\n\nThe pilot boards at Lingjiao Pilot Station.\n\n## Notice\n\nRequests need 18 hours notice.\n",
    );
    fs.writeFileSync(
      path.join(docs, "fees.md"),
      "# Fees\n\n- Harbour dues: CNY 1.85 per gross tonne.\n- Night surcharge: 35%.\n",
    );
    fs.writeFileSync(
      path.join(docs, "notices", "zh.html"),
      "<html><body><h1>引航</h1><p>引航员登轮站为岭角引航站。</p></body></html>",
    );
  });
  afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

  const open = (embedder = new HashingEmbedder()) =>
    RagIndex.open(path.join(folder, "index.db"), {
      embedderId: embedder.id,
      dimensions: embedder.dimensions,
      chunking,
    });

  it("indexes Markdown, HTML and DOCX with heading trails, and finds them by BM25 and by vector", async () => {
    fs.writeFileSync(path.join(docs, "berths.docx"), await makeDocx(["Berth Q03 allows a draft of 14.0 m."]));
    const embedder = new HashingEmbedder();
    using index = open(embedder);
    const result = await indexFolder(index, docs, { countTokens, maxTokens: 64, overlapTokens: 8, embedder });
    expect(result.added).toEqual(["berths.docx", "fees.md", "notices/zh.html", "pilot.md"]);
    const bm25 = new IndexBm25Retriever(index);
    const [pilot] = await bm25.retrieve("How much notice do pilot requests need?", 3);
    expect(pilot).toMatchObject({
      documentId: "pilot",
      sourcePath: "pilot.md",
      headings: ["Pilotage", "Notice"],
      text: "Requests need 18 hours notice.",
    });
    expect(fs.readFileSync(path.join(docs, "pilot.md"), "utf8").slice(pilot!.start, pilot!.end)).toBe(pilot!.text);
    expect((await bm25.retrieve("引航员在哪里登轮", 1))[0]).toMatchObject({
      documentId: "notices/zh",
      headings: ["引航"],
    });
    expect((await bm25.retrieve("Q03 draft", 1))[0]!.documentId).toBe("berths");
    const dense = new DenseRetriever(index, embedder);
    expect((await dense.retrieve("harbour dues per gross tonne", 1))[0]!.documentId).toBe("fees");
  });

  it("re-indexes only the file that changed, and forgets a removed one", async () => {
    const embedder = new HashingEmbedder();
    using index = open(embedder);
    await indexFolder(index, docs, { countTokens, maxTokens: 64, overlapTokens: 8, embedder });
    embedder.embedded.length = 0;
    fs.appendFileSync(path.join(docs, "fees.md"), "- Berth hire: CNY 0.12 per metre hour.\n");
    fs.rmSync(path.join(docs, "notices", "zh.html"));
    const second = await indexFolder(index, docs, { countTokens, maxTokens: 64, overlapTokens: 8, embedder });
    expect(second).toMatchObject({
      added: [],
      updated: ["fees.md"],
      removed: ["notices/zh.html"],
      unchanged: ["pilot.md"],
    });
    expect(embedder.embedded.every((text) => text.startsWith("Fees\n"))).toBe(true);
    expect(embedder.embedded.length).toBeGreaterThan(0);
    expect(await new IndexBm25Retriever(index).retrieve("引航员", 5)).toEqual([]);
    expect((await new IndexBm25Retriever(index).retrieve("berth hire per metre hour", 1))[0]!.documentId).toBe("fees");
    const third = await indexFolder(index, docs, { countTokens, maxTokens: 64, overlapTokens: 8, embedder });
    expect(third.unchanged).toEqual(["fees.md", "pilot.md"]);
  });

  it("skips a corrupt document with its path named, and indexes the rest", async () => {
    fs.writeFileSync(path.join(docs, "broken.pdf"), "%PDF-1.4 this is not a PDF");
    fs.writeFileSync(path.join(docs, "broken.docx"), "not a zip");
    const warnings: string[] = [];
    using index = open();
    const result = await indexFolder(index, docs, {
      countTokens,
      maxTokens: 64,
      overlapTokens: 8,
      embedder: new HashingEmbedder(),
      onWarning: (message) => warnings.push(message),
    });
    expect(result.skipped.map((skip) => skip.path)).toEqual(["broken.docx", "broken.pdf"]);
    expect(warnings[0]).toContain(path.join(docs, "broken.docx"));
    expect(result.added).toEqual(["fees.md", "notices/zh.html", "pilot.md"]);
  });

  it("refuses an index built with another embedder, other dimensions or other chunking", async () => {
    open().close();
    const file = path.join(folder, "index.db");
    expect(() => RagIndex.open(file, { embedderId: "other-model", dimensions: 64, chunking })).toThrow(
      /built with embedderId "hashing-64", this run uses "other-model"[\s\S]*--rebuild/,
    );
    expect(() => RagIndex.open(file, { embedderId: "hashing-64", dimensions: 32, chunking })).toThrow(
      /meta\.dimensions/,
    );
    expect(() => RagIndex.open(file, { embedderId: "hashing-64", dimensions: 64, chunking: "max=128" })).toThrow(
      /chunking/,
    );
    expect(RagIndex.readIdentity(file)).toMatchObject({ version: 1, embedderId: "hashing-64", dimensions: 64 });
  });
});
