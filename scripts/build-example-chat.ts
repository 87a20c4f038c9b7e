/**
 * `npm run example:chat` — the example's chat model (examples/harbor/models/chat.gguf + chat.json): the shipped
 * base after general-purpose SFT in its ChatML template, for the lab's chat routes (chat, chat-sft, chat-sft-small).
 *
 * The conversations are general, never the domain's: reading tasks about invented facts (passages + a question in
 * the user turn, the answer with its [n] citation in the assistant turn; scripts/example-base/readingTasks.ts with
 * another seed than the base's pre-training), under one general system prompt. Assistant-only loss, full weights,
 * the trainer's own SFT path; resumable (rerun after a kill continues from the checkpoint).
 *
 * Usage: npm run example:chat [-- --steps N --threads T]
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { writeFileAtomic } from "../src/shared/atomicWrite.js";
import { seededRandom } from "../src/shared/seededRandom.js";
import { exportRun } from "../src/train/exportRun.js";
import { trainOrResume } from "../src/train/train.js";
import { progressLines } from "./example-base/progressLine.js";
import { readingTask } from "./example-base/readingTasks.js";

const SEED = 20261206;
const CONVERSATIONS = 4000;
const SYSTEM_PROMPT = "You are a helpful assistant. Answer from the reference material and cite it as [n].";
const STEPS = 600;

function writeConversations(file: string): void {
  const random = seededRandom(SEED);
  const lines: string[] = [];
  for (let k = 0; k < CONVERSATIONS; k++) {
    const task = readingTask(random, random() < 0.35 ? "zh" : "en");
    // The user turn is the passages and the question, without the completion-style answer cue.
    const user = task.prompt.replace(/\n(Answer:|答案：)$/, "");
    const messages = [
      { role: "system", content: SYSTEM_PROMPT },
      { role: "user", content: user },
      { role: "assistant", content: task.answer },
    ];
    lines.push(JSON.stringify({ messages }));
  }
  writeFileAtomic(file, lines.join("\n") + "\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { steps: { type: "string" }, threads: { type: "string", default: "2" }, out: { type: "string", default: "examples/harbor/models" } } });
  const out = path.resolve(values.out);
  const base = path.join(out, "base.gguf");
  if (!fs.existsSync(base)) throw new Error(`${base} is missing: run npm run example:base first`);
  const steps = values.steps ? Number(values.steps) : STEPS;
  const work = path.resolve(".cache/example-chat", createHash("sha256").update(fs.readFileSync(base)).digest("hex").slice(0, 12) + `-${steps}`);
  fs.mkdirSync(work, { recursive: true });
  const data = path.join(work, "conversations.jsonl");
  if (!fs.existsSync(data)) writeConversations(data);
  const runDirectory = path.join(work, "sft");
  const started = performance.now();
  const onProgress = progressLines("chat SFT");
  const result = await trainOrResume({
    model: base,
    out: runDirectory,
    objective: "sft",
    method: "full",
    data: [{ path: data, kind: "chat", weight: 1 }],
    steps,
    optimizer: { lr: 1e-3 },
    schedule: { kind: "cosine", warmupSteps: 20, minLrRatio: 0.1 },
    batch: { sequenceLength: 512, sequences: 4, accumulation: 1 },
    checkpoint: { every: 50, keep: 1 },
    validation: { fraction: 0, every: 0, batches: 1 },
    seed: SEED,
    threads: Number(values.threads),
    onProgress,
  });
  const target = path.join(out, "chat.gguf");
  await exportRun(runDirectory, { format: "gguf-merged", out: `${target}.partial`, base });
  fs.renameSync(`${target}.partial`, target);
  const manifest = {
    file: "chat.gguf",
    sha256: createHash("sha256").update(fs.readFileSync(target)).digest("hex"),
    from: "base.gguf",
    fromSha256: createHash("sha256").update(fs.readFileSync(base)).digest("hex"),
    systemPrompt: SYSTEM_PROMPT,
    conversations: CONVERSATIONS,
    seed: SEED,
    steps: result.steps,
    tokens: result.steps * 512 * 4,
    seconds: Math.round((performance.now() - started) / 1000),
    finalLoss: result.finalLoss,
    threads: Number(values.threads),
    machine: `${os.cpus()[0]!.model}, ${os.cpus().length} cores`,
    builtAt: new Date().toISOString(),
  };
  writeFileAtomic(path.join(out, "chat.json"), JSON.stringify(manifest, null, 2) + "\n");
  console.log(`wrote ${target}: ${result.steps} SFT steps, final loss ${result.finalLoss.toFixed(3)}, ${manifest.seconds} s`);
}

await main();
