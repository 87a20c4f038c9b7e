import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CorpusStore } from "./corpusStore.js";
import { Decontaminator, decontaminateCorpus } from "./decontaminate.js";
import { detectLanguage } from "./detectLanguage.js";
import { SeededRandom } from "../shared/seededRandom.js";
import { chineseText, englishText } from "./syntheticText.js";

describe("decontaminateCorpus", () => {
  it("removes every document holding a planted evaluation item and nothing else", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-decon-"));
    const mcq = [
      { id: "q1", question: "Which berth at the northern terminal handles refrigerated containers during the winter season?", choices: ["Berth 2", "Berth 7", "Berth 9", "Berth 11"], answer: "B" },
      { id: "q2", question: "冬季北部码头的哪个泊位负责处理冷藏集装箱以及危险货物？", choices: ["二号", "七号"], answer: "B" },
      { id: "q3", question: "What is the maximum draft allowed in the inner channel at low tide for tankers?", choices: ["10 m", "12 m"], answer: "A" },
    ];
    const open = [
      { id: "o1", prompt: "Explain why pilots must board vessels above five hundred tonnes before they enter the outer channel.", reference: "Because the channel is narrow." },
      { id: "o2", prompt: "请解释为什么超过五百吨的船舶在进入外航道之前必须有引航员登船。", reference: "因为航道狭窄。" },
    ];
    const mcqFile = path.join(folder, "mcq.jsonl");
    const openFile = path.join(folder, "open.jsonl");
    fs.writeFileSync(mcqFile, mcq.map((item) => JSON.stringify(item)).join("\n"));
    fs.writeFileSync(openFile, open.map((item) => JSON.stringify(item)).join("\n"));

    const random = new SeededRandom(11);
    const texts: string[] = [];
    for (let i = 0; i < 200; i++) texts.push(i % 2 ? englishText(random, 200) : chineseText(random, 300));
    // Plant each item (re-cased, re-punctuated, partly: 15+ consecutive units) in a few documents.
    const planted = new Map<number, string>([
      [3, "Q: WHICH berth at the northern terminal handles refrigerated containers, during the winter season?"],
      [10, "冬季北部码头的哪个泊位负责处理冷藏集装箱以及危险货物"],
      [17, "what is the maximum draft allowed in the inner channel at low tide"],
      [42, "explain why pilots must board vessels above five hundred tonnes before they enter"],
      [57, "为什么超过五百吨的船舶在进入外航道之前必须有引航员登船"],
      [120, "the maximum draft allowed in the inner channel at low tide for tankers is twelve metres"],
    ]);
    for (const [index, snippet] of planted) {
      const words = texts[index]!.split(" ");
      texts[index] = index % 2 ? [...words.slice(0, 40), snippet, ...words.slice(40)].join(" ") : texts[index]!.slice(0, 100) + snippet + texts[index]!.slice(100);
    }
    // Near misses that must stay: shared vocabulary and short overlaps (< 13 units), answers alone.
    texts[5] = `${texts[5]} The northern terminal handles refrigerated containers. Berth 7. Because the channel is narrow.`;
    texts[8] = `${texts[8]}冬季北部码头的泊位。七号。`;
    texts[7] = `${texts[7]} Which berth at the northern terminal handles refrigerated containers during the winter`; // 12 words: one short of 13

    const store = new CorpusStore(":memory:");
    store.insertDocuments(texts.map((text, i) => ({ source: "domain", path: "generated", ordinal: i, contentHash: String(i), language: detectLanguage(text), title: null, text, metadata: {} })));
    const report = decontaminateCorpus(store, [mcqFile, openFile]);
    const removed = [...store.documents({ statuses: ["contaminated"] })].map((doc) => doc.ordinal).sort((a, b) => a - b);
    expect(removed).toEqual([...planted.keys()].sort((a, b) => a - b));
    expect(report.contaminated).toBe(planted.size);
    expect(new Set(report.matches.map((match) => `${path.basename(match.file)}#${match.item}`))).toEqual(
      new Set(["mcq.jsonl#q1", "mcq.jsonl#q2", "mcq.jsonl#q3", "open.jsonl#o1", "open.jsonl#o2"]),
    );
    expect([...store.documents({ statuses: ["ingested"] })].length).toBe(200 - planted.size);
    store.dispose();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it("reports a bad evaluation line by file:line", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-decon-"));
    const file = path.join(folder, "eval.jsonl");
    fs.writeFileSync(file, `${JSON.stringify({ question: "fine question here" })}\n{broken\n`);
    expect(() => Decontaminator.fromFiles([file])).toThrow(`${file}:2: invalid JSON`);
    fs.rmSync(folder, { recursive: true, force: true });
  });
});
