import { describe, expect, it } from "vitest";
import type { Reranker } from "../llm/reranker.js";
import type { ContinuationScore, ScoreRequest, TokenScorer } from "../llm/types.js";
import { fuseRankings } from "./fuseRankings.js";
import { HybridRetriever } from "./hybridRetriever.js";
import { LlmReranker, relevancePrompt } from "./llmReranker.js";
import { RerankingRetriever } from "./rerankingRetriever.js";
import { selectByMmr } from "./selectByMmr.js";
import type { RetrievedPassage, Retriever } from "./types.js";

const passage = (id: string, score = 0): RetrievedPassage => ({
  id,
  documentId: id,
  source: id,
  text: `text of ${id}`,
  score,
  rank: 0,
});
/** A retriever answering every query with a fixed list. */
const fixed = (id: string, ids: string[]): Retriever => ({
  id,
  retrieve: async (_query, k) => ids.slice(0, k).map((each) => passage(each)),
});

describe("reciprocal-rank fusion", () => {
  it("sums weight / (k + rank) per item, as computed by hand", () => {
    const fused = fuseRankings([{ items: ["a", "b", "c"] }, { items: ["c", "a"], weight: 2 }], (item) => item, 60);
    // a: 1/61 + 2/62; c: 1/63 + 2/61; b: 1/62.
    expect(fused.map((entry) => entry.item)).toEqual(["c", "a", "b"]);
    expect(fused[0]!.score).toBeCloseTo(1 / 63 + 2 / 61, 15);
    expect(fused[1]!.score).toBeCloseTo(1 / 61 + 2 / 62, 15);
    expect(fused[2]!.score).toBeCloseTo(1 / 62, 15);
  });

  it("a hybrid retriever fuses its parts' lists and re-ranks from 1", async () => {
    const hybrid = new HybridRetriever([
      { retriever: fixed("x", ["a", "b"]), weight: 1 },
      { retriever: fixed("y", ["b", "c"]), weight: 1 },
    ]);
    const found = await hybrid.retrieve("q", 2);
    expect(found.map((each) => [each.id, (each as RetrievedPassage).rank])).toEqual([
      ["b", 1],
      ["a", 2],
    ]);
    expect(found[0]!.score).toBeCloseTo(1 / 62 + 1 / 61, 15);
    expect(hybrid.id).toBe("hybrid(x*1+y*1)");
  });
});

describe("MMR", () => {
  it("prefers a less relevant but different passage over a near-duplicate", () => {
    const query = Float32Array.of(1, 0);
    const first = Float32Array.of(1, 0);
    const duplicate = Float32Array.of(0.99, Math.sqrt(1 - 0.99 ** 2));
    const different = Float32Array.of(0.6, -0.8);
    // λ = 0.4, after `first` is picked: duplicate 0.4·0.99 − 0.6·0.99 = −0.198; different 0.4·0.6 − 0.6·0.6 = −0.12.
    expect(selectByMmr(query, [first, duplicate, different], 2, 0.4)).toEqual([0, 2]);
    expect(selectByMmr(query, [first, duplicate, different], 3, 1)).toEqual([0, 1, 2]);
    expect(() => selectByMmr(query, [first], 1, 2)).toThrow(/lambda/);
  });
});

/** A TokenScorer that says " yes" is likely exactly when the passage mentions the word it was given. */
class KeywordScorer implements TokenScorer {
  readonly id = "keyword";
  readonly requests: ScoreRequest[] = [];
  constructor(private readonly keyword: string) {}
  async score(requests: ScoreRequest[]): Promise<ContinuationScore[]> {
    this.requests.push(...requests);
    return requests.map((request) => {
      const relevant = request.context.split("\nQuestion:")[0]!.includes(this.keyword);
      const logprob = (request.continuation === " yes") === relevant ? -0.1 : -2.5;
      return { logprob, tokenLogprobs: [logprob], isGreedy: logprob > -1, tokenCount: 1 };
    });
  }
}

describe("reranking", () => {
  it("the LLM reranker scores log P(yes) - log P(no) for the relevance prompt", async () => {
    const scorer = new KeywordScorer("b");
    const scores = await new LlmReranker(scorer).rank("which?", ["text of a", "text of b"]);
    expect(scores).toEqual([-2.4, 2.4].map((value) => expect.closeTo(value, 12)));
    expect(scorer.requests[0]).toEqual({ context: relevancePrompt("which?", "text of a"), continuation: " yes" });
    expect(relevancePrompt("Q?", "P.")).toBe(
      "Passage: P.\nQuestion: Q?\nIs this passage relevant to the question? Answer yes or no.\nAnswer:",
    );
  });

  it("a reranking retriever re-orders its base's candidates by the reranker's scores", async () => {
    const reranker: Reranker = {
      id: "by-length",
      rank: async (_query, texts) => texts.map((text) => (text.endsWith("c") ? 1 : 0)),
    };
    const retriever = new RerankingRetriever(fixed("base", ["a", "b", "c"]), reranker, { candidates: 3 });
    const found = (await retriever.retrieve("q", 2)) as RetrievedPassage[];
    expect(found.map((each) => [each.id, each.rank, each.score])).toEqual([
      ["c", 1, 1],
      ["a", 2, 0],
    ]);
    expect(retriever.id).toBe("base+by-length");
  });
});
