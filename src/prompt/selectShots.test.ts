import { describe, expect, it } from "vitest";
import { Bm25Retriever } from "../rag/bm25Retriever.js";
import { selectShots, shotPassages, ShotPool, type ShotCandidate } from "./selectShots.js";

const topics = ["berth allocation for container ships", "tide tables and under keel clearance", "pilot boarding ladders", "crane outreach over the quay", "bunker fuel sampling", "ballast water exchange", "mooring line snap-back zones", "customs clearance of reefer cargo"];
const letters = ["A", "B", "C", "D"];
const dev: ShotCandidate<null>[] = topics.map((topic, i) => ({ id: `dev-${i}`, text: `What is the rule for ${topic}?`, label: letters[i % 4]!, subject: "harbor", item: null }));
// Each test question paraphrases exactly one dev topic: its nearest dev item is known.
const tests: ShotCandidate<null>[] = topics.map((topic, i) => ({ id: `test-${i}`, text: `Which procedure governs ${topic} in the port?`, label: letters[(i + 1) % 4]!, subject: "harbor", item: null }));
const testItems = tests.map((test) => ({ file: "test.jsonl", item: test.id, questionTexts: [test.text], answerTexts: [] }));

describe("selectShots", () => {
  it("kNN picks, for every test question, the dev item it was written after", async () => {
    const pool = new ShotPool(dev, testItems);
    const retriever = new Bm25Retriever(shotPassages(pool.shots));
    for (const [i, test] of tests.entries()) {
      const [first] = await selectShots(test, pool, { selection: "knn", k: 3, retriever });
      expect(first!.id).toBe(`dev-${i}`);
    }
  });

  it("never puts a test item among the shots, even when the dev split holds a copy of one", async () => {
    const leaked = { ...tests[2]!, id: "dev-copy-of-test-2", label: "A" };
    const pool = new ShotPool([...dev, leaked], testItems);
    expect(pool.dropped).toEqual([{ id: "dev-copy-of-test-2", testItem: "test.jsonl#test-2" }]);
    const retriever = new Bm25Retriever(shotPassages([...dev, leaked]));
    const testTexts = new Set(tests.map((test) => test.text));
    for (const selection of ["knn", "mmr", "random", "balanced", "subject-first"] as const)
      for (const test of tests) {
        const shots = await selectShots(test, pool, { selection, k: 4, retriever, seed: 7 });
        expect(shots).toHaveLength(4);
        for (const shot of shots) {
          expect(shot.id.startsWith("dev-")).toBe(true);
          expect(testTexts.has(shot.text)).toBe(false);
        }
      }
  });

  it("balances gold letters and lets MMR skip a near-duplicate of the best shot", async () => {
    const pool = new ShotPool(dev, []);
    const balanced = await selectShots(tests[0]!, pool, { selection: "balanced", k: 4, seed: 1 });
    expect(new Set(balanced.map((shot) => shot.label)).size).toBe(4);
    const duplicate = { ...dev[0]!, id: "dev-0-again", text: `${dev[0]!.text} Explain.` };
    const withDuplicate = new ShotPool([...dev, duplicate], []);
    const retriever = new Bm25Retriever(shotPassages(withDuplicate.shots));
    const knn = await selectShots(tests[0]!, withDuplicate, { selection: "knn", k: 2, retriever });
    const mmr = await selectShots(tests[0]!, withDuplicate, { selection: "mmr", k: 2, retriever, mmrLambda: 0.3 });
    expect(knn.map((shot) => shot.id).sort()).toEqual(["dev-0", "dev-0-again"]);
    expect(mmr.map((shot) => shot.id)).toHaveLength(2);
    expect(mmr.filter((shot) => shot.id.startsWith("dev-0")).length).toBe(1);
  });

  it("says which selections need a retriever", async () => {
    await expect(selectShots(tests[0]!, new ShotPool(dev, []), { selection: "knn", k: 2 })).rejects.toThrow(/fewShot\.selection: .*needs a retriever/);
  });
});
