/**
 * The lab's data step: the training files every stage reads, written once under DIR/out/data:
 *   domain.jsonl   the domain documents ({"text"} per document)                      -> cpt, cpt-general, mip
 *   general.jsonl  the general corpus                                                -> cpt-general (1:N by tokens)
 *   sft.jsonl      every conversation of sft/*.jsonl that shares no 13-gram with an eval set -> sft, mip, cpt-sft, chat-sft
 *   sft-small.jsonl a seeded quarter of sft.jsonl                                     -> sft-small, chat-sft-small
 * Conversations overlapping an evaluation item are DROPPED (they would teach the test); domain documents
 * that overlap are only counted (the documents are the knowledge the questions are about).
 * Token counts use the base model's tokenizer, so the report's "training tokens" are real tokens.
 */
import fs from "node:fs";
import path from "node:path";
import { Decontaminator } from "../data/decontaminate.js";
import { readTextDocuments } from "../rag/readTextDocuments.js";
import { writeFileAtomic } from "../shared/atomicWrite.js";
import { InputError } from "../shared/errors.js";
import { SeededRandom } from "../shared/seededRandom.js";
import { tokenizerFromGguf } from "../tokenizer/fromGguf.js";
import { writeTextJsonl } from "./buildBaseModel.js";
import type { LabConfig } from "./labConfig.js";
import { SMALL_SFT_SHARE } from "./routes.js";

export interface LabDataOutputs {
  domainFile: string;
  generalFile: string;
  sftFile: string | null;
  /** A seeded SMALL_SFT_SHARE of the kept conversations (at least one). */
  sftSmallFile: string | null;
  sftSmallConversations: number;
  domainDocuments: number;
  domainTokens: number;
  generalDocuments: number;
  generalTokens: number;
  sftConversations: number;
  sftTokens: number;
  sftDropped: number;
  /** Why conversations were dropped: reason -> count. */
  sftDroppedWhy: Record<string, number>;
  domainDocumentsOverlappingEval: number;
}

interface Conversation {
  messages: { role: string; content: string }[];
}

export function readConversations(folderOrFile: string): { conversation: Conversation; where: string }[] {
  const files = fs.statSync(folderOrFile).isDirectory()
    ? fs
        .readdirSync(folderOrFile)
        .filter((name) => name.endsWith(".jsonl"))
        .sort()
        .map((name) => path.join(folderOrFile, name))
    : [folderOrFile];
  const conversations: { conversation: Conversation; where: string }[] = [];
  for (const file of files) {
    fs.readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, index) => {
        if (line.trim() === "") return;
        const where = `${file}:${index + 1}`;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          throw new InputError(`not valid JSON: ${(error as Error).message}`, { where, cause: error });
        }
        const messages = (value as { messages?: unknown }).messages;
        if (!Array.isArray(messages) || messages.some((message) => typeof message?.content !== "string" || typeof message?.role !== "string"))
          throw new InputError('expected {"messages": [{"role": …, "content": …}, …]}', { where, hint: "SFT files use the OpenAI messages format, one conversation per line." });
        conversations.push({ conversation: { messages: messages as Conversation["messages"] }, where });
      });
  }
  return conversations;
}

export async function prepareLabData(config: LabConfig, dataDir: string, modelPath: string, log: (line: string) => void): Promise<LabDataOutputs> {
  fs.mkdirSync(dataDir, { recursive: true });
  const tokenizer = tokenizerFromGguf(modelPath);
  const count = (text: string) => tokenizer.encode(text).length;
  const evalFiles = [config.data.domainMcq, config.data.domainMcqDev, config.data.generalMcq, config.data.open].filter((file) => fs.existsSync(file));
  const detector = Decontaminator.fromFiles(evalFiles);

  const domain = readTextDocuments(config.data.docs);
  const domainFile = path.join(dataDir, "domain.jsonl");
  writeTextJsonl(domainFile, domain.map((document) => document.text));
  const domainTokens = domain.reduce((sum, document) => sum + count(document.text), 0);
  const overlapping = domain.filter((document) => detector.isContaminated(document.text)).length;

  const generalFile = path.join(dataDir, "general.jsonl");
  let generalTokens = 0;
  let generalDocuments = 0;
  if (fs.existsSync(config.data.general)) {
    const general = readTextDocuments(config.data.general);
    writeTextJsonl(generalFile, general.map((document) => document.text));
    generalTokens = general.reduce((sum, document) => sum + count(document.text), 0);
    generalDocuments = general.length;
  }

  let sftFile: string | null = null;
  let sftSmallFile: string | null = null;
  let sftTokens = 0;
  let kept = 0;
  let dropped = 0;
  let smallCount = 0;
  const droppedWhy: Record<string, number> = {};
  if (fs.existsSync(config.data.sft)) {
    const lines: string[] = [];
    for (const { conversation } of readConversations(config.data.sft)) {
      const text = conversation.messages.map((message) => message.content).join("\n");
      const reason = dropReason(conversation, text, detector);
      if (reason) {
        dropped++;
        droppedWhy[reason] = (droppedWhy[reason] ?? 0) + 1;
        continue;
      }
      kept++;
      sftTokens += count(text);
      lines.push(JSON.stringify(withSystemPrompt(conversation, config.model.systemPrompt)));
    }
    sftFile = path.join(dataDir, "sft.jsonl");
    writeFileAtomic(sftFile, lines.join("\n") + "\n");
    // Seeded, not the first quarter: files are often grouped by topic.
    const small = new SeededRandom(config.seed).shuffle([...lines]).slice(0, Math.max(1, Math.round(lines.length * SMALL_SFT_SHARE)));
    smallCount = lines.length === 0 ? 0 : small.length;
    sftSmallFile = path.join(dataDir, "sft-small.jsonl");
    writeFileAtomic(sftSmallFile, small.join("\n") + "\n");
  }
  log(
    `domain ${domain.length} documents / ${domainTokens} tokens; general ${generalDocuments} / ${generalTokens} tokens; ` +
      `SFT ${kept} conversations / ${sftTokens} tokens (${describeDrops(droppedWhy)}), ${smallCount} of them in the small set; ` +
      `${overlapping} domain documents share a 13-gram with an eval item (kept: they are the knowledge source)`,
  );
  return {
    domainFile: path.basename(domainFile),
    generalFile: path.basename(generalFile),
    sftFile: sftFile ? path.basename(sftFile) : null,
    sftSmallFile: sftSmallFile ? path.basename(sftSmallFile) : null,
    sftSmallConversations: smallCount,
    domainDocuments: domain.length,
    domainTokens,
    generalDocuments,
    generalTokens,
    sftConversations: kept,
    sftTokens,
    sftDropped: dropped,
    sftDroppedWhy: droppedWhy,
    domainDocumentsOverlappingEval: overlapping,
  };
}

/**
 * The chat routes are asked with model.systemPrompt, so they are trained with it too: it becomes every
 * conversation's system turn, replacing one the data brings (a model trained under one prompt and asked
 * under another is measured on a mismatch it was never taught; the seed's rule is to SFT a chat model in its
 * own template *and system prompt*). Without a systemPrompt the conversations keep their own, and the
 * template's default applies where they have none.
 */
function withSystemPrompt(conversation: Conversation, systemPrompt: string | undefined): Conversation {
  if (systemPrompt === undefined) return conversation;
  const turns = conversation.messages.filter((message) => message.role !== "system");
  return { messages: [{ role: "system", content: systemPrompt }, ...turns] };
}

export const DROP_OVERLAPS_EVAL = "shares a 13-gram with an evaluation item";
export const DROP_NO_ANSWER = "has no non-empty assistant turn";

/** Why a conversation must not be trained on, or null to keep it. */
function dropReason(conversation: Conversation, text: string, detector: Decontaminator): string | null {
  // SFT's loss is on assistant tokens only: without one the conversation teaches nothing.
  if (!conversation.messages.some((message) => message.role === "assistant" && message.content.trim() !== "")) return DROP_NO_ANSWER;
  if (detector.isContaminated(text)) return DROP_OVERLAPS_EVAL;
  return null;
}

export function describeDrops(droppedWhy: Record<string, number>): string {
  const entries = Object.entries(droppedWhy);
  return entries.length === 0 ? "none dropped" : entries.map(([reason, count]) => `${count} dropped: ${reason}`).join("; ");
}
