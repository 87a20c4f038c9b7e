import { describe, expect, it } from "vitest";
import { CorpusStore } from "./corpusStore.js";
import { dedupCorpus } from "./dedupCorpus.js";
import { detectLanguage } from "./detectLanguage.js";
import { MinHasher, jaccard, shingleHashes } from "./minHash.js";
import { SeededRandom } from "../shared/seededRandom.js";
import { chineseText, editedCopy, englishText } from "./syntheticText.js";

function newDocument(text: string, ordinal: number) {
  return { source: "domain", path: "generated", ordinal, contentHash: String(ordinal), language: detectLanguage(text), title: null, text, metadata: {} };
}

describe("dedupCorpus", () => {
  it("finds planted near-duplicates in Chinese and English with precision and recall >= 0.95 at Jaccard 0.8", () => {
    const random = new SeededRandom(7);
    const texts: string[] = [];
    const bases: { text: string; chinese: boolean }[] = [];
    for (let i = 0; i < 160; i++) {
      const chinese = i % 2 === 0;
      const text = chinese ? chineseText(random, 200 + random.int(200)) : englishText(random, 150 + random.int(150));
      bases.push({ text, chinese });
      texts.push(text);
    }
    // Planted copies: light edits (near-duplicates), heavy edits (should mostly fall below 0.8), exact copies.
    for (let i = 0; i < 160; i++) {
      const base = bases[random.int(bases.length)]!;
      const edits = i < 100 ? 1 + random.int(4) : i < 140 ? 15 + random.int(20) : 0;
      texts.push(editedCopy(random, base.text, edits, base.chinese));
    }
    const store = new CorpusStore(":memory:");
    store.insertDocuments(texts.map(newDocument));
    const report = dedupCorpus(store);

    // Reference: brute-force exact Jaccard of each document against every earlier kept document.
    const shingles = texts.map((text) => shingleHashes(text));
    const truthDuplicate: boolean[] = [];
    const keptSoFar: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      const duplicate = keptSoFar.some((k) => jaccard(shingles[i]!, shingles[k]!) >= 0.8);
      truthDuplicate.push(duplicate);
      if (!duplicate) keptSoFar.push(i);
    }
    const flagged = [...store.documents()].map((doc) => doc.status === "duplicate");
    let truePositives = 0, falsePositives = 0, falseNegatives = 0;
    flagged.forEach((isFlagged, i) => {
      if (isFlagged && truthDuplicate[i]) truePositives++;
      else if (isFlagged) falsePositives++;
      else if (truthDuplicate[i]) falseNegatives++;
    });
    const plantedNear = truthDuplicate.filter(Boolean).length;
    expect(plantedNear).toBeGreaterThan(110); // the planted set really contains near-duplicates (and some heavy edits below 0.8)
    expect(truthDuplicate.slice(0, 160).every((d) => !d)).toBe(true); // independent bases are not duplicates
    const precision = truePositives / (truePositives + falsePositives);
    const recall = truePositives / (truePositives + falseNegatives);
    console.log(`dedup: planted-true ${plantedNear}, TP ${truePositives}, FP ${falsePositives}, FN ${falseNegatives}, precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}`);
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(report.exactDuplicates).toBe(20);
    expect(report.kept + report.exactDuplicates + report.nearDuplicates).toBe(texts.length);
    // Every duplicate points at a kept, earlier document.
    for (const doc of store.documents({ statuses: ["duplicate"] })) {
      expect(doc.duplicateOf).toBeLessThan(doc.id);
      expect(store.document(doc.duplicateOf!)!.status).toBe("deduped");
    }
    store.dispose();
  });

  it("MinHash signatures estimate the exact Jaccard without bias (pins the hash family)", () => {
    const random = new SeededRandom(3);
    const hasher = new MinHasher();
    let error = 0, signedError = 0;
    for (let i = 0; i < 200; i++) {
      const chinese = i % 2 === 0;
      const text = chinese ? chineseText(random, 300) : englishText(random, 200);
      const a = shingleHashes(text);
      const b = shingleHashes(editedCopy(random, text, 1 + random.int(12), chinese));
      const exact = jaccard(a, b);
      const sa = hasher.signature(a), sb = hasher.signature(b);
      let equal = 0;
      for (let k = 0; k < sa.length; k++) if (sa[k] === sb[k]) equal++;
      error += Math.abs(equal / sa.length - exact);
      signedError += equal / sa.length - exact;
    }
    // Standard error at J ~ 0.8 with 120 hashes is ~0.037; a broken family showed 0.19.
    expect(error / 200).toBeLessThan(0.05);
    expect(Math.abs(signedError / 200)).toBeLessThan(0.02);
  });
});
