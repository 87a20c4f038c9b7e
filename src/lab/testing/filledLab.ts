/**
 * A domain folder as `lab init` writes it, with every placeholder replaced by one tiny line of real data, so a
 * test can change the one thing it is about. The model file is whatever the test writes to models/base.gguf.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { initLab } from "../initLab.js";

export function filledLab(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "lab-filled-"));
  initLab(folder);
  fs.rmSync(path.join(folder, "docs/README.md"));
  fs.rmSync(path.join(folder, "general/text/README.txt"));
  fs.writeFileSync(path.join(folder, "docs/pilotage.md"), "Pilotage is compulsory for ships over 500 GT.\n");
  fs.writeFileSync(path.join(folder, "general/text/water.txt"), "Water boils at 100 degrees Celsius at sea level.\n");
  const mcq = (id: string) => JSON.stringify({ id, question: "When is pilotage compulsory?", choices: ["over 500 GT", "never", "always", "at night"], answer: 0 }) + "\n";
  fs.writeFileSync(path.join(folder, "eval/mcq.jsonl"), mcq("q1"));
  fs.writeFileSync(path.join(folder, "eval/mcq-dev.jsonl"), mcq("d1"));
  fs.writeFileSync(path.join(folder, "general/mcq.jsonl"), JSON.stringify({ id: "g1", question: "Water boils at?", choices: ["100 C", "50 C", "0 C", "10 C"], answer: 0 }) + "\n");
  fs.writeFileSync(path.join(folder, "eval/open.jsonl"), JSON.stringify({ id: "o1", question: "Who needs a pilot?", reference: "Ships over 500 GT." }) + "\n");
  fs.writeFileSync(path.join(folder, "sft/chat.jsonl"), JSON.stringify({ messages: [{ role: "user", content: "Pilot?" }, { role: "assistant", content: "Over 500 GT." }] }) + "\n");
  return folder;
}
