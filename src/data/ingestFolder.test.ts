import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CorpusStore } from "./corpusStore.js";
import { ingestFolder, ingestTexts } from "./ingestFolder.js";
import { makeDocx, makePdf } from "./testing/documentFiles.js";

let folder: string;
let store: CorpusStore;

beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-ingest-"));
  store = new CorpusStore(path.join(folder, "corpus.db"));
});
afterEach(() => {
  store.dispose();
  fs.rmSync(folder, { recursive: true, force: true });
});

describe("ingestFolder", () => {
  it("ingests every format, reports broken files and bad lines by path/line, and skips unchanged files", async () => {
    const docs = path.join(folder, "docs");
    fs.mkdirSync(path.join(docs, "nested"), { recursive: true });
    fs.writeFileSync(path.join(docs, "a.txt"), "Harbor tides are measured twice a day.");
    fs.writeFileSync(path.join(docs, "b.md"), "# Pilotage\n\nA pilot boards every vessel over 500 tonnes.");
    fs.writeFileSync(
      path.join(docs, "c.html"),
      "<html><head><title>Berths</title><script>var tracking = 1;</script></head><body><nav>Home | About</nav>" +
        "<main><h1>Berths</h1><p>Berth 7 takes container ships.</p><p>港口有七个泊位。</p></main><footer>© 2024 Port Authority</footer></body></html>",
    );
    fs.writeFileSync(path.join(docs, "nested", "d.pdf"), await makePdf("Anchorage zone B is closed in winter."));
    fs.writeFileSync(path.join(docs, "nested", "e.docx"), await makeDocx(["Dredging keeps the channel at 14 metres.", "Second paragraph."]));
    fs.writeFileSync(
      path.join(docs, "f.jsonl"),
      [
        JSON.stringify({ text: "Tugboats assist large ships.", title: "Tugs", id: 1 }),
        JSON.stringify({ text: "拖船协助大型船舶靠泊。", id: 2 }),
        "{not json",
        "",
        JSON.stringify({ body: "no text field here is fine: body counts" }),
        JSON.stringify({ other: "no text at all" }),
      ].join("\n"),
    );
    fs.writeFileSync(path.join(docs, "g.csv"), 'title,text\nLocks,"The lock raises ships 12 metres."\nCranes,"Gantry cranes unload boxes."\n');
    fs.writeFileSync(path.join(docs, "broken.pdf"), "%PDF-1.7\nthis is not really a pdf");
    fs.writeFileSync(path.join(docs, "ignored.bin"), "binary");

    const report = await ingestFolder(store, docs, { source: "domain" });
    expect(report.files).toBe(8);
    expect(report.ingestedFiles).toBe(7);
    expect(report.failedFiles).toBe(1);
    const byPath = report.issues.map((issue) => `${path.basename(issue.path)}:${issue.line ?? "-"}`);
    expect(byPath).toEqual(["broken.pdf:-", "f.jsonl:3", "f.jsonl:6"]);
    expect(report.issues[0]!.reason).toMatch(/cannot parse/);
    expect(report.issues[1]!.reason).toMatch(/invalid JSON/);

    const stored = [...store.documents()];
    const texts = stored.map((doc) => doc.text.replace(/\s+/g, " ").trim());
    expect(texts).toContain("Harbor tides are measured twice a day.");
    expect(stored.find((doc) => doc.path.endsWith("b.md"))!.title).toBe("Pilotage");
    const html = stored.find((doc) => doc.path.endsWith("c.html"))!;
    expect(html.title).toBe("Berths");
    expect(html.text).toContain("Berth 7 takes container ships.");
    expect(html.text).toContain("港口有七个泊位。");
    expect(html.text).not.toMatch(/tracking|Home \| About|Port Authority/);
    expect(stored.find((doc) => doc.path.endsWith("d.pdf"))!.text).toContain("Anchorage zone B is closed in winter.");
    const docx = stored.find((doc) => doc.path.endsWith("e.docx"))!;
    expect(docx.text).toContain("Dredging keeps the channel at 14 metres.");
    expect(docx.text).toContain("Second paragraph.");
    const jsonl = stored.filter((doc) => doc.path.endsWith("f.jsonl"));
    expect(jsonl.map((doc) => [doc.ordinal, doc.language])).toEqual([[1, "en"], [2, "zh"], [5, "en"]]);
    expect(jsonl[0]!.title).toBe("Tugs");
    expect(jsonl[0]!.metadata).toEqual({ id: 1 });
    const csv = stored.filter((doc) => doc.path.endsWith("g.csv"));
    expect(csv.map((doc) => [doc.ordinal, doc.title, doc.text])).toEqual([
      [2, "Locks", "The lock raises ships 12 metres."],
      [3, "Cranes", "Gantry cranes unload boxes."],
    ]);
    expect(stored.every((doc) => doc.source === "domain" && /^[0-9a-f]{64}$/.test(doc.contentHash))).toBe(true);
    const count = stored.length;

    // Re-ingest: nothing changed -> every good file skipped, no duplicates stored.
    const again = await ingestFolder(store, docs, { source: "domain" });
    expect(again.unchangedFiles).toBe(7);
    expect(again.ingestedFiles).toBe(0);
    expect([...store.documents()].length).toBe(count);

    // A changed file replaces its documents.
    fs.writeFileSync(path.join(docs, "a.txt"), "Harbor tides are measured four times a day.");
    const changed = await ingestFolder(store, docs, { source: "domain" });
    expect(changed.ingestedFiles).toBe(1);
    const after = [...store.documents()];
    expect(after.length).toBe(count);
    expect(after.some((doc) => doc.text.includes("four times"))).toBe(true);
    expect(after.some((doc) => doc.text.includes("twice a day"))).toBe(false);
  });

  it("ingestTexts adds in-memory texts with hashes and languages", () => {
    const ids = ingestTexts(store, ["Pilots board ships.", { text: "港口有七个泊位。", title: "泊位" }], { source: "general", origin: "generated" });
    const docs = ids.map((id) => store.document(id)!);
    expect(docs.map((doc) => [doc.source, doc.language, doc.title, doc.path])).toEqual([
      ["general", "en", null, "generated"],
      ["general", "zh", "泊位", "generated"],
    ]);
  });
});
