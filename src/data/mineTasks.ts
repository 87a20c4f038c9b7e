import fs from "node:fs";
import { withAtomicPath } from "../shared/atomicWrite.js";
import type { ChatModel } from "../llm/types.js";
import { ACTIVE_STATUSES, type CorpusStore } from "./corpusStore.js";
import type { Decontaminator } from "./decontaminate.js";
import { detectLanguage } from "./detectLanguage.js";
import { SeededRandom } from "../shared/seededRandom.js";

/**
 * Reading-comprehension tasks mined from raw domain text without an LLM, in the spirit of AdaptLLM
 * (Cheng et al. 2024, "Adapting Large Language Models via Reading Comprehension"): definitions,
 * cause/effect, fill-in-the-blank and title tasks, each answerable from the document itself.
 */
export type TaskKind = "definition" | "cause" | "effect" | "fill-in" | "title" | "llm-qa";

export interface MinedTask {
  kind: TaskKind;
  question: string;
  answer: string;
  /** Id of the document it came from, when known. */
  documentId?: number;
}

export interface MineOptions {
  /** At most this many tasks of each kind per document. Defaults to 3. */
  perKind?: number;
  /** Seed for the fill-in choices. Defaults to 0. */
  seed?: number;
}

export function splitSentences(text: string): string[] {
  return text
    .replace(/\n+/g, "\n")
    .split(/(?<=[。！？；!?])|(?<=[.])\s+|\n/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length >= 6);
}

const englishDefinition = /^(?:(An?|The)\s+)?([A-Za-z][A-Za-z0-9 -]{1,40}?)\s+(?:is|are|refers to|means)\s+((?:an?|the|one of)\s.{8,})$/;
const chineseDefinition = /^([\u4e00-\u9fffA-Za-z0-9]{2,15}?)(?:是指|指的是|是一种|是一个|是)(.{4,})$/u;

/** Mines tasks from one document. Deterministic for a given text, title and seed. */
export function mineTasks(text: string, title: string | null, options: MineOptions = {}): MinedTask[] {
  const perKind = options.perKind ?? 3;
  const random = new SeededRandom(options.seed ?? 0);
  const chinese = detectLanguage(text) === "zh";
  const sentences = splitSentences(text);
  const tasks: MinedTask[] = [];
  const count = (kind: TaskKind) => tasks.filter((task) => task.kind === kind).length;
  for (const sentence of sentences) {
    if (count("definition") < perKind) {
      const match = chinese ? chineseDefinition.exec(sentence) : englishDefinition.exec(sentence);
      if (match) {
        if (chinese) tasks.push({ kind: "definition", question: `根据上文，什么是${match[1]!.trim()}？`, answer: sentence });
        else {
          const term = match[2]!.trim();
          const article = match[1] ? `${match[1].toLowerCase()} ` : "";
          tasks.push({ kind: "definition", question: `According to the text, what is ${article}${/^[A-Z]{2}/.test(term) ? term : term.toLowerCase()}?`, answer: sentence });
        }
        continue;
      }
    }
    if (chinese) {
      const causeEffect = /^(?:因为|由于)(.+?)[，,](?:所以|因此)?(.+?)[。！？]?$/u.exec(sentence);
      if (causeEffect && count("cause") < perKind) {
        tasks.push({ kind: "cause", question: `根据上文，为什么${causeEffect[2]!.trim()}？`, answer: `因为${causeEffect[1]!.trim()}。` });
        continue;
      }
      const consequence = /^(.+?)[，,](?:因此|所以|从而)(.+?)[。！？]?$/u.exec(sentence);
      if (consequence && count("effect") < perKind) {
        tasks.push({ kind: "effect", question: `根据上文，${consequence[1]!.trim()}会导致什么结果？`, answer: `${consequence[2]!.trim()}。` });
        continue;
      }
    } else {
      const because = /^(.{8,}?),?\s+because\s+(.{6,}?)[.!?]?$/i.exec(sentence);
      if (because && count("cause") < perKind) {
        tasks.push({ kind: "cause", question: `According to the text, why ${because[1]!.trim().replace(/^./, (c) => c.toLowerCase())}?`, answer: `Because ${because[2]!.trim()}.` });
        continue;
      }
      const therefore = /^(.{8,}?)[,;]\s+(?:therefore|so|as a result|consequently),?\s+(.{6,}?)[.!?]?$/i.exec(sentence);
      if (therefore && count("effect") < perKind) {
        tasks.push({ kind: "effect", question: `According to the text, what follows from this: ${therefore[1]!.trim()}?`, answer: `${therefore[2]!.trim().replace(/^./, (c) => c.toUpperCase())}.` });
        continue;
      }
    }
    if (count("fill-in") < perKind && random.next() < 0.5) {
      if (chinese) {
        const runs = [...sentence.matchAll(/[\u4e00-\u9fff]{4,}/gu)];
        if (runs.length > 0) {
          const run = random.pick(runs);
          const at = (run.index ?? 0) + random.int(run[0].length - 1);
          const blank = sentence.slice(at, at + 2);
          tasks.push({ kind: "fill-in", question: `填空：${sentence.slice(0, at)}____${sentence.slice(at + 2)}`, answer: blank });
        }
      } else {
        const words = [...sentence.matchAll(/[A-Za-z]{5,}/g)];
        if (words.length >= 2 && sentence.split(/\s+/).length >= 8) {
          const word = words.reduce((longest, candidate) => (candidate[0].length > longest[0].length ? candidate : longest));
          const at = word.index ?? 0;
          tasks.push({ kind: "fill-in", question: `Fill in the blank: ${sentence.slice(0, at)}____${sentence.slice(at + word[0].length)}`, answer: word[0] });
        }
      }
    }
  }
  if (title && title.trim() !== "" && sentences.length > 0) {
    const excerpt = text.length > 1200 ? `${text.slice(0, 1200)}…` : text;
    tasks.push({ kind: "title", question: chinese ? `为下面的文字拟一个标题：\n${excerpt}` : `Give a suitable title for this text:\n${excerpt}`, answer: title.trim() });
  }
  return tasks;
}

/**
 * AdaptLLM's training text: the raw document followed by its comprehension tasks, so the model
 * reads domain knowledge and practises using it in one sequence.
 */
export function readingComprehensionText(text: string, tasks: readonly MinedTask[]): string {
  const chinese = detectLanguage(text) === "zh";
  const questions = tasks.filter((task) => task.kind !== "title").map((task) => (chinese ? `问题：${task.question}\n答案：${task.answer}` : `Question: ${task.question}\nAnswer: ${task.answer}`));
  return questions.length === 0 ? text : `${text}\n\n${questions.join("\n\n")}`;
}

export interface AugmentOptions {
  /** Questions to ask the model for, per document. Defaults to 3. */
  questionsPerDocument?: number;
  /** Also ask for a paraphrase of each document. Defaults to true. */
  paraphrase?: boolean;
  /** Drop generated items that overlap an evaluation set. */
  decontaminator?: Decontaminator;
}

export interface AugmentResult {
  tasks: MinedTask[];
  paraphrases: { documentId?: number; text: string }[];
  /** Documents whose model answer could not be parsed, with the reason. */
  failures: { documentId?: number; reason: string }[];
  /** Generated items dropped because they overlap an evaluation set. */
  contaminated: number;
}

/** The first JSON array in a model answer (models wrap JSON in prose and code fences). */
function extractJsonArray(text: string): unknown[] | undefined {
  const start = text.indexOf("[");
  const end = text.lastIndexOf("]");
  if (start < 0 || end <= start) return undefined;
  try {
    const value = JSON.parse(text.slice(start, end + 1)) as unknown;
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Knowledge augmentation with an LLM backend: question/answer pairs and paraphrases generated
 * from each document (greedy, so reruns agree), filtered against the evaluation sets.
 */
export async function augmentWithLlm(
  documents: readonly { id?: number; text: string }[],
  model: ChatModel,
  options: AugmentOptions = {},
): Promise<AugmentResult> {
  const questions = options.questionsPerDocument ?? 3;
  const result: AugmentResult = { tasks: [], paraphrases: [], failures: [], contaminated: 0 };
  for (const doc of documents) {
    const chinese = detectLanguage(doc.text) === "zh";
    const prompt = chinese
      ? `阅读下面的文字，提出${questions}个可以仅凭文字回答的问题，并给出答案。只输出 JSON 数组，格式为 [{"question": "...", "answer": "..."}]。\n\n${doc.text}`
      : `Read the text below and write ${questions} questions that can be answered from it alone, with their answers. Output only a JSON array like [{"question": "...", "answer": "..."}].\n\n${doc.text}`;
    const generation = await model.chat([{ role: "user", content: prompt }], { temperature: 0, maxTokens: 1024 });
    const items = extractJsonArray(generation.text);
    if (!items) result.failures.push({ documentId: doc.id, reason: `no JSON array in the answer: ${JSON.stringify(generation.text.slice(0, 80))}` });
    for (const item of items ?? []) {
      const { question, answer } = (item ?? {}) as { question?: unknown; answer?: unknown };
      if (typeof question !== "string" || typeof answer !== "string" || question.trim() === "" || answer.trim() === "") continue;
      if (options.decontaminator?.isContaminated(`${question}\n${answer}`)) {
        result.contaminated++;
        continue;
      }
      result.tasks.push({ kind: "llm-qa", question: question.trim(), answer: answer.trim(), ...(doc.id !== undefined ? { documentId: doc.id } : {}) });
    }
    if (options.paraphrase !== false) {
      const rewrite = chinese ? `用不同的措辞改写下面的文字，保留全部事实，只输出改写后的文字。\n\n${doc.text}` : `Rewrite the text below in different words, keeping every fact. Output only the rewritten text.\n\n${doc.text}`;
      const paraphrase = (await model.chat([{ role: "user", content: rewrite }], { temperature: 0, maxTokens: 2048 })).text.trim();
      if (paraphrase === "") result.failures.push({ documentId: doc.id, reason: "empty paraphrase" });
      else if (options.decontaminator?.isContaminated(paraphrase)) result.contaminated++;
      else result.paraphrases.push({ ...(doc.id !== undefined ? { documentId: doc.id } : {}), text: paraphrase });
    }
  }
  return result;
}

/** A mined task as an OpenAI-messages JSONL record (readable as an instructions or chat source). */
export function taskToRecord(task: MinedTask): Record<string, unknown> {
  return {
    messages: [
      { role: "user", content: task.question },
      { role: "assistant", content: task.answer },
    ],
    task: task.kind,
    ...(task.documentId !== undefined ? { document: task.documentId } : {}),
  };
}

export interface MineCorpusReport {
  documents: number;
  tasks: number;
  byKind: Record<string, number>;
  /** Dropped because they overlap an evaluation set. */
  contaminated: number;
  /** Dropped because an identical question was already mined. */
  duplicates: number;
}

/** Mines every active document of the given sources into an instructions JSONL file (atomic write). */
export async function mineCorpus(
  store: CorpusStore,
  outputFile: string,
  options: MineOptions & {
    sources?: readonly string[];
    decontaminator?: Decontaminator;
    /** Further tasks (e.g. from augmentWithLlm) written after the mined ones, through the same filters. */
    extraTasks?: readonly MinedTask[];
  } = {},
): Promise<MineCorpusReport> {
  const report: MineCorpusReport = { documents: 0, tasks: 0, byKind: {}, contaminated: 0, duplicates: 0 };
  const seen = new Set<string>();
  await withAtomicPath(outputFile, (temporary) => {
    const descriptor = fs.openSync(temporary, "w");
    try {
      const documents = store.documents({ statuses: ACTIVE_STATUSES, ...(options.sources ? { sources: options.sources } : {}) });
      const batches = (function* () {
        for (const doc of documents) {
          report.documents++;
          yield mineTasks(doc.cleanText ?? doc.text, doc.title, { ...options, seed: (options.seed ?? 0) + doc.id }).map((task) => ({ ...task, documentId: doc.id }));
        }
        if (options.extraTasks) yield options.extraTasks;
      })();
      for (const batch of batches) {
        for (const task of batch) {
          if (seen.has(task.question)) {
            report.duplicates++;
            continue;
          }
          seen.add(task.question);
          if (options.decontaminator?.isContaminated(`${task.question}\n${task.answer}`)) {
            report.contaminated++;
            continue;
          }
          fs.writeSync(descriptor, `${JSON.stringify(taskToRecord(task))}\n`);
          report.tasks++;
          report.byKind[task.kind] = (report.byKind[task.kind] ?? 0) + 1;
        }
      }
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
  });
  store.recordStage("mine", { output: outputFile }, report);
  return report;
}
