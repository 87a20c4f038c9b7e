import { describe, expect, it } from "vitest";
import { InputError } from "../../shared/errors.js";
import { Random } from "../random.js";
import { EmbedderBatches, type EmbedderPair } from "./embedderBatches.js";

// one "token" per character code, so the padded arrays can be read back as text
const encode = (text: string) => [...text].map((character) => character.charCodeAt(0));
const decode = (tokens: Int32Array, length: number, count: number, lengths: number[]) =>
  Array.from({ length: count }, (_, index) => String.fromCharCode(...tokens.subarray(index * length, index * length + lengths[index]!)));

// two queries per passage: a batch must never hold both
const pairs: EmbedderPair[] = ["a", "b", "c", "d"].flatMap((id, index, ids) =>
  [1, 2].map((n) => ({ query: `${id}${n}`, positive: { id, text: `P${id}` }, negatives: [{ id: ids[(index + 1) % ids.length]!, text: `P${ids[(index + 1) % ids.length]}` }] })),
);

describe("EmbedderBatches", () => {
  it("holds distinct positives and no negative that is one of the batch's positives", () => {
    const batches = new EmbedderBatches(pairs, encode, { maxQueryTokens: 8, maxPassageTokens: 8, eosId: undefined }, { batch: 2, hardNegatives: 1 }, new Random(1));
    for (let step = 0; step < 20; step++) {
      const batch = batches.next();
      const passages = decode(batch.passages.tokens, batches.passageLength, 4, batch.passages.lengths);
      const positives = passages.slice(0, 2);
      expect(new Set(positives).size).toBe(2);
      for (const negative of passages.slice(2)) expect(positives).not.toContain(negative);
      // each query's positive is its own passage
      decode(batch.queries.tokens, batches.queryLength, 2, batch.queries.lengths).forEach((query, b) => expect(positives[b]).toBe(`P${query[0]}`));
    }
  });

  it("cuts long texts, keeping the final EOS, and refuses too few passages for a batch", () => {
    const long: EmbedderPair[] = pairs.map((pair) => ({ ...pair, positive: { ...pair.positive, text: `${pair.positive.text}xxxxxxxx!` } }));
    const batches = new EmbedderBatches(long, encode, { maxQueryTokens: 8, maxPassageTokens: 4, eosId: "!".charCodeAt(0) }, { batch: 2, hardNegatives: 1 }, new Random(1));
    expect(batches.passageLength).toBe(4);
    const batch = batches.next();
    expect(decode(batch.passages.tokens, 4, 1, batch.passages.lengths)[0]).toMatch(/^P.x!$/);
    expect(() => new EmbedderBatches(pairs, encode, { maxQueryTokens: 8, maxPassageTokens: 8, eosId: undefined }, { batch: 4, hardNegatives: 1 }, new Random(1))).toThrow(InputError);
  });
});
