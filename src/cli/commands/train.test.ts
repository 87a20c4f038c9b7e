import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CharTokenizer } from "../../train/testing/charTokenizer.js";
import { writeTinyModel } from "../../train/testing/tinyModel.js";
import { train, type RunResult } from "../../train/train.js";
import { runCli } from "../testing/runCli.js";

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-train-command-"));
let finished: RunResult;

beforeAll(async () => {
  const tokenizer = new CharTokenizer();
  const model = path.join(directory, "tiny.gguf");
  await writeTinyModel(model, {
    vocab: tokenizer.vocabSize,
    hidden: 32,
    layers: 1,
    heads: 4,
    kvHeads: 2,
    ffn: 64,
    context: 64,
  });
  const data = path.join(directory, "text.txt");
  fs.writeFileSync(data, "Ships arriving after dusk anchor in the outer basin and wait for the pilot. ".repeat(3));
  finished = await train({
    model,
    data,
    out: path.join(directory, "run"),
    steps: 2,
    threads: 1,
    tokenizer,
    batch: { sequenceLength: 16, sequences: 2 },
  });
});

afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

describe("vertical train --resume", () => {
  it("on a finished run says it is finished and prints its real final loss", async () => {
    const { code, out, err } = await runCli("train", "--resume", finished.runDirectory);
    expect(code).toBe(0);
    expect(err).toContain(
      "the run finished all its 2 steps already; nothing to train (add --steps N above 2 to train it further)",
    );
    expect(out).toContain(`final loss: ${finished.finalLoss.toFixed(4)}`);
    expect(out).not.toContain("NaN");
  });

  it("refuses flags that would change the run instead of ignoring them", async () => {
    const { code, err } = await runCli("train", "--resume", finished.runDirectory, "--lr", "1", "--seq-len", "32");
    expect(code).toBe(1);
    expect(err).toContain("error: --resume: --lr, --seq-len cannot change a run on --resume");
    expect(err).toContain("only --steps may be given");
  });
});
