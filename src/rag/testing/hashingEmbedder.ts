/**
 * A deterministic bag-of-words embedder for tests that need vectors but not a model: each segmented
 * word adds 1 to a hashed dimension. It records every text it embeds, so a test can see what an
 * incremental re-index embedded again.
 */
import type { Embedder } from "../../llm/types.js";
import { segmentWords } from "../segmentWords.js";

export class HashingEmbedder implements Embedder {
  readonly embedded: string[] = [];

  constructor(
    readonly dimensions = 64,
    readonly id = `hashing-${dimensions}`,
  ) {}

  async embed(texts: string[]): Promise<Float32Array[]> {
    this.embedded.push(...texts);
    return texts.map((text) => {
      const vector = new Float32Array(this.dimensions);
      for (const word of segmentWords(text)) {
        let hash = 2166136261;
        for (const character of word) hash = Math.imul(hash ^ character.codePointAt(0)!, 16777619);
        vector[(hash >>> 0) % this.dimensions]! += 1;
      }
      return vector;
    });
  }
}
