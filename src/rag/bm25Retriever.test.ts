import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Bm25Retriever } from "./bm25Retriever.js";
import { chunkDocuments, splitSentences } from "./chunkDocuments.js";
import { citedDocuments, formatPassages } from "./formatPassages.js";
import { readTextDocuments } from "./readTextDocuments.js";
import { segmentWords } from "./segmentWords.js";

describe("segmentWords", () => {
  it("segments Chinese with jieba and keeps numbers, codes and English words whole", () => {
    const terms = segmentWords("按青澜港规定，Q03号泊位的最大允许吃水是14.0米。");
    expect(terms).toContain("泊位");
    expect(terms).toContain("吃水");
    expect(terms).toContain("q03");
    expect(terms).toContain("14.0");
    expect(terms).not.toContain("的");
    expect(segmentWords("The Maximum draft of QDG-3 cargo is 14.5 m")).toEqual(["maximum", "draft", "qdg-3", "cargo", "14.5", "m"]);
  });

  it("emits the sub-words of long compounds (search mode), so a part matches the whole", () => {
    const terms = segmentWords("船舶交通管理中心");
    expect(terms).toContain("交通管理");
    expect(terms).toContain("管理");
  });
});

describe("chunkDocuments", () => {
  it("splits between sentences, respects maxChars and overlaps by one sentence", () => {
    const text = "One is first. Two is second. Three is third. Four is fourth.";
    const passages = chunkDocuments([{ id: "d", text }], { maxChars: 31, overlapSentences: 1 });
    expect(passages.map((p) => p.text)).toEqual(["One is first. Two is second.", "Two is second. Three is third.", "Three is third. Four is fourth."]);
    expect(passages.map((p) => p.id)).toEqual(["d#0", "d#1", "d#2"]);
    expect(splitSentences("第一条。第二条！\n三")).toEqual(["第一条。", "第二条！", "三"]);
  });

  it("rejects a non-positive size with a ConfigError", () => {
    expect(() => chunkDocuments([{ id: "d", text: "x" }], { maxChars: 0 })).toThrow(/maxChars must be > 0/);
  });
});

describe("Bm25Retriever", () => {
  it("matches the BM25 formula computed by hand", async () => {
    const passages = [
      { id: "a#0", documentId: "a", text: "pilot ladder height" },
      { id: "b#0", documentId: "b", text: "pilot station pilot boat" },
      { id: "c#0", documentId: "c", text: "berth draft limit" },
    ];
    const retriever = new Bm25Retriever(passages, { k1: 1.2, b: 0.75 });
    const [top, second] = await retriever.retrieve("pilot boat", 5);
    // Lengths 3, 4 ("pilot","station","pilot","boat"), 3: avg 10/3. Document b: tf(pilot)=2, tf(boat)=1.
    const idf = (df: number) => Math.log(1 + (3 - df + 0.5) / (df + 0.5));
    const term = (tf: number, length: number) => (tf * 2.2) / (tf + 1.2 * (1 - 0.75 + (0.75 * length) / (10 / 3)));
    expect(top!.documentId).toBe("b");
    expect(top!.score).toBeCloseTo(idf(2) * term(2, 4) + idf(1) * term(1, 4), 12);
    expect(second!.documentId).toBe("a");
    expect(second!.score).toBeCloseTo(idf(2) * term(1, 3), 12);
    expect(await retriever.retrieve("unrelated words")).toEqual([]);
  });

  it("finds the right Chinese and English passages in a mixed corpus", async () => {
    const documents = [
      { id: "zh-pilot", text: "引航员登轮站为岭角引航站。申请引航应提前18小时。" },
      { id: "zh-fee", text: "港务费每总吨费率为1.85元。夜间附加费为35%。" },
      { id: "en-pilot", text: "The pilot boarding station is Lingjiao Pilot Station. Pilot requests need 18 hours notice." },
      { id: "en-fee", text: "Harbour dues are CNY 1.85 per gross tonne. The night surcharge is 35%." },
    ];
    const retriever = new Bm25Retriever(chunkDocuments(documents), { topK: 1 });
    expect((await retriever.retrieve("引航员在哪里登轮？"))[0]!.documentId).toBe("zh-pilot");
    expect((await retriever.retrieve("夜间作业的附加费是多少？"))[0]!.documentId).toBe("zh-fee");
    expect((await retriever.retrieve("Where does the pilot board?"))[0]!.documentId).toBe("en-pilot");
    expect((await retriever.retrieve("What are the harbour dues per gross tonne?"))[0]!.documentId).toBe("en-fee");
  });

  it("retrieves a document stating the fact for most harbor MCQ questions (recall@3)", async () => {
    const root = path.resolve("examples/harbor");
    const facts = JSON.parse(fs.readFileSync(path.join(root, "facts.json"), "utf8")) as { documents: { id: string; facts: string[] }[] };
    const documentsWithFact = new Map<string, Set<string>>();
    for (const document of facts.documents) for (const fact of document.facts) documentsWithFact.set(fact, (documentsWithFact.get(fact) ?? new Set()).add(document.id));
    const retriever = new Bm25Retriever(chunkDocuments(readTextDocuments(path.join(root, "docs")), { maxChars: 300 }));
    const items = fs
      .readFileSync(path.join(root, "eval/mcq.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { question: string; fact: string; language: string });
    let hits = 0;
    for (const item of items) {
      const found = await retriever.retrieve(item.question, 3);
      if (found.some((passage) => documentsWithFact.get(item.fact)!.has(passage.documentId))) hits++;
    }
    const recall = hits / items.length;
    // Measured 2026-11-25: printed so a change in segmentation or chunking shows up in the log.
    console.log(`harbor MCQ recall@3 = ${recall.toFixed(3)} (${hits}/${items.length})`);
    expect(recall).toBeGreaterThan(0.5);
  });
});

describe("formatPassages", () => {
  it("numbers passages, names their documents and resolves citations back", () => {
    const passages = [
      { id: "a#0", documentId: "a", source: "a", text: "First passage text.", score: 2, rank: 1 },
      { id: "b#1", documentId: "b", source: "b", text: "第二段。", score: 1, rank: 2 },
    ];
    const prompt = formatPassages(passages, { language: "zh", maxCharsPerPassage: 5 });
    expect(prompt).toBe("参考资料（引用时请标注[编号]）：\n[1] (a) First…\n[2] (b) 第二段。");
    expect(citedDocuments("Answer [2], see also [1] and [9].", passages)).toEqual(["b", "a"]);
    expect(formatPassages([])).toBe("");
  });
});
