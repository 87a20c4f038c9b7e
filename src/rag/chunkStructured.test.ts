import { describe, expect, it } from "vitest";
import { chunkStructured } from "./chunkStructured.js";
import { segmentWords } from "./segmentWords.js";

/** One token per word (jieba for Chinese): a stand-in tokenizer whose counts a reader can check by eye. */
const countWords = (text: string) => segmentWords(text).length + (text.match(/\b(?:the|a|is|of)\b/gi)?.length ?? 0);

const markdown = `# Port rules

Intro paragraph one. It has two sentences.

## Fees

- Harbour dues: CNY 1.85 per gross tonne.
- Night surcharge: 35%.

| berth | draft |
|---|---|
| Q03 | 14.0 m |

## Pilotage

### Boarding

Pilots board at Lingjiao.
`;

describe("chunkStructured", () => {
  const chunks = chunkStructured(
    { id: "rules", sourcePath: "rules.md", text: markdown },
    { countTokens: countWords, maxTokens: 40, overlapTokens: 0 },
  );

  it("keeps each section's heading trail and never crosses a heading", () => {
    expect(chunks.map((chunk) => chunk.headings)).toEqual([
      ["Port rules"],
      ["Port rules", "Fees"],
      ["Port rules", "Pilotage", "Boarding"],
    ]);
    expect(chunks[1]!.text).toContain("Night surcharge");
    expect(chunks[1]!.text).toContain("| Q03 | 14.0 m |");
    expect(chunks[2]!.text).toBe("Pilots board at Lingjiao.");
  });

  it("records offsets that slice the source back to the chunk text", () => {
    for (const chunk of chunks) expect(markdown.slice(chunk.start, chunk.end)).toBe(chunk.text);
    expect(chunks.map((chunk) => chunk.id)).toEqual(["rules#0", "rules#1", "rules#2"]);
    expect(chunks.every((chunk) => chunk.sourcePath === "rules.md")).toBe(true);
  });

  it("cuts a long list between items, and a long paragraph between Chinese and English sentences, within the budget", () => {
    const small = chunkStructured(
      { id: "r", sourcePath: "r.md", text: markdown },
      { countTokens: countWords, maxTokens: 8, overlapTokens: 0 },
    );
    const fees = small.filter((chunk) => chunk.headings.at(-1) === "Fees");
    // Both items (7 + 3 words) do not fit 8: the list is cut between them, never inside one.
    expect(fees[0]!.text).toBe("- Harbour dues: CNY 1.85 per gross tonne.");
    expect(fees[1]!.text.startsWith("- Night surcharge: 35%.")).toBe(true);
    for (const chunk of small) expect(chunk.tokenCount).toBeLessThanOrEqual(8);
    const text = "引航员登轮站为岭角引航站。申请引航应提前18小时！Pilots board at Lingjiao. Requests need notice.";
    // jieba words per sentence: 8, 6, 3, 3 — a budget of 8 keeps the first two apart and packs the English pair.
    const sentences = chunkStructured(
      { id: "m", sourcePath: "m.md", text },
      { countTokens: countWords, maxTokens: 8, overlapTokens: 0 },
    );
    expect(sentences.map((chunk) => chunk.text)).toEqual([
      "引航员登轮站为岭角引航站。",
      "申请引航应提前18小时！",
      "Pilots board at Lingjiao. Requests need notice.",
    ]);
  });

  it("repeats whole trailing sentences up to the overlap budget", () => {
    const text = "One two. Three four. Five six. Seven eight.";
    const overlapping = chunkStructured(
      { id: "o", sourcePath: "o.md", text },
      { countTokens: countWords, maxTokens: 4, overlapTokens: 2 },
    );
    expect(overlapping.map((chunk) => chunk.text)).toEqual([
      "One two. Three four.",
      "Three four. Five six.",
      "Five six. Seven eight.",
    ]);
  });

  it("cuts a sentence longer than the budget between characters", () => {
    const pieces = chunkStructured(
      { id: "c", sourcePath: "c.md", text: "abcdefghij" },
      { countTokens: (text) => text.length, maxTokens: 4, overlapTokens: 0 },
    );
    expect(pieces.map((chunk) => chunk.text)).toEqual(["abcd", "efgh", "ij"]);
  });

  it("refuses an overlap as large as the budget", () => {
    expect(() =>
      chunkStructured(
        { id: "x", sourcePath: "x", text: "x" },
        { countTokens: countWords, maxTokens: 4, overlapTokens: 4 },
      ),
    ).toThrow(/overlapTokens/);
  });
});
