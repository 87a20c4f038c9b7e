import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDataset } from "./buildDataset.js";
import { CorpusStore } from "./corpusStore.js";
import { detectLanguage } from "./detectLanguage.js";
import { openShards } from "./openShards.js";
import { defineRecipe, loadRecipe } from "./recipe.js";
import { SeededRandom } from "../shared/seededRandom.js";
import { chineseText, englishText } from "./syntheticText.js";
import { qwen3Tokenizer } from "./testing/referenceTokenizers.js";

let folder: string;

function writeJsonl(file: string, records: unknown[]): string {
  fs.writeFileSync(file, records.map((record) => JSON.stringify(record)).join("\n") + "\n");
  return file;
}

beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-build-"));
  const random = new SeededRandom(5);
  writeJsonl(path.join(folder, "domain.jsonl"), Array.from({ length: 40 }, (_, i) => ({ text: i % 2 ? englishText(random, 80 + random.int(120)) : chineseText(random, 100 + random.int(150)) })));
  writeJsonl(path.join(folder, "general.jsonl"), Array.from({ length: 400 }, () => ({ text: englishText(random, 60 + random.int(200)) })));
  writeJsonl(
    path.join(folder, "chat.jsonl"),
    Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0
        ? { instruction: `Define term ${i}.`, input: "", output: englishText(random, 10 + random.int(20)) }
        : { messages: [
            { role: "user", content: `Question ${i}: ${englishText(random, 8)}` },
            { role: "assistant", content: englishText(random, 12) },
            { role: "user", content: chineseText(random, 10) },
            { role: "assistant", content: chineseText(random, 20) },
          ] },
    ),
  );
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

function recipe(overrides: Record<string, unknown>) {
  return defineRecipe({ seq_len: 256, seed: 3, output: "out", sequences_per_shard: 16, ...overrides }, { file: "test.yaml", baseDir: folder });
}

describe("buildDataset", () => {
  it("cpt 1:5 and 1:10: achieved token shares within 1% of the recipe, rows readable, masks and boundaries right", async () => {
    for (const mix of ["1:5", "1:10"]) {
      const built = await buildDataset(
        recipe({ objective: "cpt", mix, output: `cpt-${mix.replace(":", "-")}`, sources: [{ name: "domain", files: ["domain.jsonl"] }, { name: "general", files: ["general.jsonl"] }] }),
        { tokenizer: qwen3Tokenizer() },
      );
      const [domainPart, generalPart] = mix.split(":").map(Number) as [number, number];
      const { manifest } = built;
      const domain = manifest.sources[0]!;
      expect(Math.abs(domain.achievedShare - domainPart / (domainPart + generalPart))).toBeLessThan(0.01);
      expect(domain.tokens).toBe(domain.availableTokens); // domain is the scarce source: all of it is used
      expect(manifest.sources[1]!.tokens + domain.tokens).toBe(manifest.totals.tokens);

      const dataset = openShards(built.directory);
      expect(dataset.sequenceCount).toBe(manifest.totals.sequences);
      let tokens = 0, padding = 0, documents = 0;
      for (const row of dataset) {
        expect(row.tokens.length).toBe(256);
        expect(row.docStarts[0]).toBe(0);
        tokens += row.length;
        padding += 256 - row.length;
        documents += row.docStarts.length;
        for (let t = 0; t < 256; t++) expect(row.lossMask[t]).toBe(t < row.length ? 1 : 0);
        for (let t = row.length; t < 256; t++) expect(row.tokens[t]).toBe(manifest.padId);
      }
      expect(tokens).toBe(manifest.totals.tokens);
      expect(padding).toBe(manifest.totals.paddingTokens);
      expect(padding).toBeLessThan(256); // only the last row is padded
      expect(documents).toBeGreaterThanOrEqual(domain.documents + manifest.sources[1]!.documents);
      // Every document ends with EOS: EOS count equals the documents used, minus a truncated tail.
      let eos = 0;
      for (const row of dataset) for (let t = 0; t < row.length; t++) if (row.tokens[t] === qwen3Tokenizer().eosId) eos++;
      expect(eos).toBe(domain.documents + manifest.sources[1]!.documents - manifest.sources[1]!.truncatedDocuments);
    }
  });

  it("is deterministic: same inputs + seed give identical bytes; another seed gives another order", async () => {
    const make = (output: string, seed: number) =>
      buildDataset(recipe({ objective: "cpt", mix: "1:5", seed, output, sources: [{ name: "domain", files: ["domain.jsonl"] }, { name: "general", files: ["general.jsonl"] }] }), { tokenizer: qwen3Tokenizer() });
    const a = await make("same-a", 9);
    const b = await make("same-b", 9);
    const c = await make("other", 10);
    const files = fs.readdirSync(a.directory).sort();
    expect(files).toEqual(fs.readdirSync(b.directory).sort());
    expect(files.filter((f) => f.startsWith("."))).toEqual([]); // no temporary files left
    for (const file of files) expect(fs.readFileSync(path.join(a.directory, file)).equals(fs.readFileSync(path.join(b.directory, file)))).toBe(true);
    expect(fs.readFileSync(path.join(a.directory, "shard-00000.bin")).equals(fs.readFileSync(path.join(c.directory, "shard-00000.bin")))).toBe(false);
    expect(a.manifest.sources[0]!.inputs[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("mip with a corpus store source, general text and instructions: three shares within 1%", async () => {
    const storeFile = path.join(folder, "corpus.db");
    const store = new CorpusStore(storeFile);
    const random = new SeededRandom(8);
    store.insertDocuments(Array.from({ length: 50 }, (_, i) => {
      const text = englishText(random, 100 + random.int(100));
      return { source: "domain", path: "generated", ordinal: i, contentHash: String(i), language: detectLanguage(text), title: null, text, metadata: {} };
    }));
    store.setStatus(1, "duplicate", "exact-duplicate", 2); // rejected documents are never used
    store.dispose();
    const built = await buildDataset(
      recipe({
        objective: "mip",
        output: "mip",
        store: "corpus.db",
        sources: [
          { name: "domain", share: 0.3 },
          { name: "general", files: ["general.jsonl"], share: 0.5 },
          { name: "tasks", kind: "instructions", files: ["chat.jsonl"], share: 0.2 },
        ],
      }),
      { tokenizer: qwen3Tokenizer() },
    );
    const shares = built.manifest.sources.map((s) => s.achievedShare);
    [0.3, 0.5, 0.2].forEach((share, i) => expect(Math.abs(shares[i]! - share)).toBeLessThan(0.01));
    expect(built.manifest.sources[0]!.inputs[0]!.input).toBe(`store:${storeFile}#domain`);
    expect(built.manifest.sources[0]!.documents).toBeLessThanOrEqual(49);
  });

  it("sft: whole conversations per row, loss only on assistant replies, prompts never trained", async () => {
    const tokenizer = qwen3Tokenizer();
    const built = await buildDataset(recipe({ objective: "sft", output: "sft", seq_len: 512, sources: [{ name: "chat", kind: "chat", files: ["chat.jsonl"] }] }), { tokenizer });
    const imStart = tokenizer.tokenToId("<|im_start|>")!;
    const imEnd = tokenizer.tokenToId("<|im_end|>")!;
    let conversations = 0, maskedRuns = 0;
    for (const row of openShards(built.directory)) {
      conversations += row.docStarts.length;
      for (let t = 0; t < row.length; t++) if (row.lossMask[t] && !row.lossMask[t - 1]) maskedRuns++;
      for (let t = 0; t < row.length; t++) {
        if (row.tokens[t] === imStart) expect(row.lossMask[t]).toBe(0);
        // Every masked run ends on <|im_end|>, and every assistant <|im_end|> is masked.
        if (row.lossMask[t] && !row.lossMask[t + 1]) expect(row.tokens[t]).toBe(imEnd);
      }
    }
    expect(conversations).toBe(30);
    expect(built.manifest.totals.targetTokens).toBeGreaterThan(0);
    expect(maskedRuns).toBe(20 * 2 + 10); // every assistant turn: two in each chat, one in each Alpaca record
    expect(built.manifest.totals.targetTokens).toBeLessThan(built.manifest.totals.tokens);
  });
});

describe("recipe errors and failed builds", () => {
  it("names file, line and field for unknown fields and shares that do not sum to 1", () => {
    const file = path.join(folder, "bad.yaml");
    fs.writeFileSync(file, ["objective: cpt", "seq_len: 128", "output: out", "sources:", "  - name: domain", "    files: [domain.jsonl]", "    shares: 0.5", "  - name: general", "    files: [general.jsonl]", "    share: 0.5"].join("\n"));
    expect(() => loadRecipe(file)).toThrow(`${file}:7: sources[0].shares: unknown field (did you mean "share"?)`);
    fs.writeFileSync(file, ["objective: cpt", "seq_len: 128", "output: out", "sources:", "  - name: domain", "    files: [domain.jsonl]", "    share: 0.5", "  - name: general", "    files: [general.jsonl]", "    share: 0.4"].join("\n"));
    expect(() => loadRecipe(file)).toThrow(`${file}:4: sources: shares sum to 0.9, they must sum to 1`);
    fs.writeFileSync(file, ["objective: cpt", "seq_len: many", "output: out", "sources:", "  - name: domain", "    files: [missing.jsonl]"].join("\n"));
    expect(() => loadRecipe(file)).toThrow(`${file}:2: seq_len:`);
    fs.writeFileSync(file, ["objective: sft", "seq_len: 64", "output: out", "sources:", "  - name: domain", "    files: [missing.jsonl]"].join("\n"));
    expect(() => loadRecipe(file)).toThrow(/sources\[0\]\.kind: kind text does not fit objective sft[\s\S]*sources\[0\]\.files\[0\]: file not found/);
  });

  it("a conversation whose roles break the rules stops the build with file:line and field, leaving no shard behind", async () => {
    const bad = writeJsonl(path.join(folder, "bad-chat.jsonl"), [
      { messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] },
      { messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] },
      { messages: [{ role: "assistant", content: "I start?" }, { role: "user", content: "no" }] },
    ]);
    const before = new Set(fs.readdirSync(folder));
    await expect(buildDataset(recipe({ objective: "sft", output: "bad-sft", sources: [{ name: "chat", kind: "chat", files: ["bad-chat.jsonl"] }] }), { tokenizer: qwen3Tokenizer() })).rejects.toThrow(
      `${bad}:3: messages[0].role is "assistant", expected "user"`,
    );
    expect(fs.readdirSync(folder).filter((entry) => !before.has(entry))).toEqual([]);
  });
});
