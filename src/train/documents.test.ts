import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readTextDocuments, textDocument } from "./documents.js";
import { prepareData } from "./prepareData.js";
import { CharTokenizer } from "./testing/charTokenizer.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-documents-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe("text documents", () => {
  it("a 500 KB text file becomes one document and packed sequences (no call-stack overflow)", async () => {
    // More tokens than a function call takes arguments: push(...tokens) threw a RangeError here.
    const sentence = "The pilot boards at first light and brings each ship to its berth. ";
    const file = path.join(directory, "book.txt");
    fs.writeFileSync(file, sentence.repeat(Math.ceil(500_000 / sentence.length)));
    const tokenizer = new CharTokenizer();
    const [text] = readTextDocuments(file);
    const document = textDocument(text!, tokenizer);
    expect(document.tokens.length).toBe(text!.length + 1);
    expect(document.tokens[document.tokens.length - 1]).toBe(tokenizer.eosId);
    expect(document.lossMask.every((bit) => bit === 1)).toBe(true);

    const data = await prepareData({
      sources: [{ path: file, kind: "text", weight: 1 }],
      objective: "cpt",
      length: 64,
      tokenizer,
      vocabSize: tokenizer.vocabSize,
      seed: 0,
      validationFraction: 0.05,
      validationWanted: true,
    });
    const sequences = data.train[0]!.sequences.length + data.validation.length;
    expect(sequences).toBe(Math.ceil((document.tokens.length - 1) / 64));
    expect(data.validation.length).toBe(Math.round(0.05 * sequences));
  });
});
