import { describe, expect, it } from "vitest";
import { Decontaminator } from "../data/decontaminate.js";
import { mineEmbedderPairs } from "./mineEmbedderPairs.js";

const documents = [
  { id: "berths", text: "# Berth Q04\n\nBerth Q04 takes ships up to 215 m. Its terminal is Nanwan Passenger Terminal.\n\nThe Harbour Master is Ouyang Jing." },
  { id: "pilotage", text: "# Pilotage\n\nPilotage is compulsory above 70 m. Pilots board at the outer buoy.\n\nThe Harbour Master is Ouyang Jing." },
  { id: "dues", text: "# Harbour dues\n\nDues are charged per gross tonne. Berth Q04 dues are paid at the terminal office." },
];

describe("mineEmbedderPairs", () => {
  it("pairs headings with their section and sentences with their passage minus the sentence", () => {
    const mined = mineEmbedderPairs(documents, { maxChars: 400, hardNegatives: 2 });
    const heading = mined.pairs.find((pair) => pair.kind === "heading" && pair.query === "Berth Q04")!;
    expect(heading.positive.id).toBe("berths#0");
    const sentence = mined.pairs.find((pair) => pair.query === "Pilots board at the outer buoy.")!;
    expect(sentence.positive.id).toBe("pilotage#0");
    expect(sentence.positive.text).not.toContain("outer buoy");
    expect(sentence.positive.text).toContain("compulsory above 70 m");
    // a sentence two documents share names neither
    expect(mined.pairs.some((pair) => pair.query.includes("Ouyang Jing"))).toBe(false);
    // hard negatives come from other documents and do not contain the query
    const q04 = mined.pairs.find((pair) => pair.query === "Berth Q04 takes ships up to 215 m.")!;
    expect(q04.negatives.length).toBeGreaterThan(0);
    expect(q04.negatives[0]!.id).toBe("dues#0");
    for (const pair of mined.pairs) for (const negative of pair.negatives) expect(negative.id.split("#")[0]).not.toBe(pair.positive.id.split("#")[0]);
    expect(mined.dropped).toBe(0);
  });

  it("drops pairs whose query overlaps an evaluation item, and with dropPassageOverlaps those whose passage does", () => {
    const decontaminator = new Decontaminator([{ file: "eval.jsonl", item: "q1", questionTexts: ["Pilotage is compulsory above 70 m for which ships"], answerTexts: [] }], { ngram: 6 });
    const lenient = mineEmbedderPairs(documents, { decontaminator });
    expect(lenient.dropped).toBe(1);
    expect(lenient.pairs.some((pair) => pair.query.startsWith("Pilotage is compulsory"))).toBe(false);
    expect(lenient.overlaps).toEqual([{ file: "eval.jsonl", item: "q1", pairs: 1 }]);
    // the heading and "Pilots board…" pairs keep a passage that holds the overlapping sentence
    expect(lenient.keptPassageOverlaps).toBe(2);
    const strict = mineEmbedderPairs(documents, { decontaminator, dropPassageOverlaps: true });
    expect(strict.dropped).toBe(3);
    expect(strict.keptPassageOverlaps).toBe(0);
    expect(strict.pairs.every((pair) => pair.positive.id !== "pilotage#0")).toBe(true);
  });
});
