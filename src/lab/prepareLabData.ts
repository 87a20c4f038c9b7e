/**
 * The lab's data step: the training files every stage reads, written once under DIR/out/data:
 *   domain.jsonl   the domain documents ({"text"} per document)                      -> cpt, cpt-general, mip
 *   general.jsonl  the general corpus                                                -> cpt-general (1:N by tokens)
 *   sft.jsonl      every conversation of sft/*.jsonl that shares no 13-gram with an eval set -> sft, mip, cpt-sft
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
import { tokenizerFromGguf } from "../tokenizer/fromGguf.js";
import { writeTextJsonl } from "./buildBaseModel.js";
import type { LabConfig } from "./labConfig.js";

export interface LabDataOutputs {
  domainFile: string;
  generalFile: string;
  sftFile: string | null;
  domainDocuments: number;
  domainTokens: number;
  generalDocuments: number;
  generalTokens: number;
  sftConversations: number;
  sftTokens: number;
  sftDropped: number;
  domainDocumentsOverlappingEval: number;
}

interface Conversation {
  messages: { role: string; content: string }[];
}

function readConversations(folderOrFile: string): { conversation: Conversation; where: string }[] {
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
  let sftTokens = 0;
  let kept = 0;
  let dropped = 0;
  if (fs.existsSync(config.data.sft)) {
    const lines: string[] = [];
    for (const { conversation } of readConversations(config.data.sft)) {
      const text = conversation.messages.map((message) => message.content).join("\n");
      if (detector.isContaminated(text)) {
        dropped++;
        continue;
      }
      kept++;
      sftTokens += count(text);
      lines.push(JSON.stringify(conversation));
    }
    sftFile = path.join(dataDir, "sft.jsonl");
    writeFileAtomic(sftFile, lines.join("\n") + "\n");
  }
  log(
    `domain ${domain.length} documents / ${domainTokens} tokens; general ${generalDocuments} / ${generalTokens} tokens; ` +
      `SFT ${kept} conversations / ${sftTokens} tokens (${dropped} dropped: they overlap an eval item); ` +
      `${overlapping} domain documents share a 13-gram with an eval item (kept: they are the knowledge source)`,
  );
  return {
    domainFile: path.basename(domainFile),
    generalFile: path.basename(generalFile),
    sftFile: sftFile ? path.basename(sftFile) : null,
    domainDocuments: domain.length,
    domainTokens,
    generalDocuments,
    generalTokens,
    sftConversations: kept,
    sftTokens,
    sftDropped: dropped,
    domainDocumentsOverlappingEval: overlapping,
  };
}
