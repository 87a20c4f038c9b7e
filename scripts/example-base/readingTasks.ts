/**
 * Reading tasks for the example's pre-training mix: a short passage about invented entities, then a
 * question answered from it, in the exact shape the lab's retrieval and MCQ prompts use
 * ("Reference material:\n[1] (source) …\n\nQuestion: …\nAnswer: …"). The entities are made-up
 * syllable names, so no fact can be memorised: the only way to lower the loss on the answer is to
 * find it in the passage — the ability retrieval and few-shot routes rely on. Nothing here comes from
 * the harbor documents or its evaluation sets.
 */
import { seededRandom } from "../../src/shared/seededRandom.js";

export type Random = () => number;
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** `count` texts made by `make` from one stream seeded with `seed`, joined by blank lines into documents of `perDocument`. */
export function seededDocuments(seed: number, count: number, perDocument: number, make: (random: Random) => string): string[] {
  const random = seededRandom(seed);
  const documents: string[] = [];
  for (let start = 0; start < count; start += perDocument) {
    const texts: string[] = [];
    for (let k = start; k < Math.min(count, start + perDocument); k++) texts.push(make(random));
    documents.push(texts.join("\n\n"));
  }
  return documents;
}

const SYLLABLES = ["ka", "lo", "ven", "mir", "tas", "ro", "bel", "dun", "sha", "kor", "eli", "pan", "tor", "vi", "mes", "al", "gri", "nu"];
const ZH_CHARS = "安柏岑达恩枫广海嘉景坤岚梅宁沛清融松泰文曦雅远正舟".split("");

function englishName(random: Random): string {
  const parts = 2 + Math.floor(random() * 2);
  const word = Array.from({ length: parts }, () => pick(random, SYLLABLES)).join("");
  return word[0]!.toUpperCase() + word.slice(1);
}

function chineseName(random: Random): string {
  return Array.from({ length: 2 }, () => pick(random, ZH_CHARS)).join("");
}

interface Relation {
  statement: (subject: string, value: string) => string;
  question: (subject: string) => string;
  values: (random: Random) => string;
}

const colours = ["red", "blue", "green", "white", "black", "yellow", "grey", "orange"];
const EN_RELATIONS: Relation[] = [
  { statement: (s, v) => `The town of ${s} lies on the river ${v}.`, question: (s) => `On which river does the town of ${s} lie?`, values: (r) => englishName(r) },
  { statement: (s, v) => `The mayor of ${s} is ${v}.`, question: (s) => `Who is the mayor of ${s}?`, values: (r) => `${englishName(r)} ${englishName(r)}` },
  { statement: (s, v) => `The ship ${s} is painted ${v}.`, question: (s) => `What colour is the ship ${s}?`, values: (r) => pick(r, colours) },
  { statement: (s, v) => `The bridge at ${s} is ${v} metres long.`, question: (s) => `How long is the bridge at ${s}?`, values: (r) => `${10 + Math.floor(r() * 900)} metres` },
  { statement: (s, v) => `The ${s} market opens at ${v}.`, question: (s) => `When does the ${s} market open?`, values: (r) => `${1 + Math.floor(r() * 11)} o'clock` },
  { statement: (s, v) => `${s} was founded in the year ${v}.`, question: (s) => `In which year was ${s} founded?`, values: (r) => String(1100 + Math.floor(r() * 900)) },
];
const zhColours = ["红色", "蓝色", "绿色", "白色", "黑色", "黄色", "灰色"];
const ZH_RELATIONS: Relation[] = [
  { statement: (s, v) => `${s}镇位于${v}河畔。`, question: (s) => `${s}镇位于哪条河畔？`, values: (r) => `${chineseName(r)}` },
  { statement: (s, v) => `${s}市的市长是${v}。`, question: (s) => `${s}市的市长是谁？`, values: (r) => `${pick(r, ["王", "李", "张", "刘", "陈"])}${chineseName(r)}` },
  { statement: (s, v) => `${s}号船漆成${v}。`, question: (s) => `${s}号船是什么颜色？`, values: (r) => pick(r, zhColours) },
  { statement: (s, v) => `${s}桥长${v}。`, question: (s) => `${s}桥有多长？`, values: (r) => `${10 + Math.floor(r() * 900)}米` },
  { statement: (s, v) => `${s}建于${v}。`, question: (s) => `${s}建于哪一年？`, values: (r) => `${1100 + Math.floor(r() * 900)}年` },
];

export interface ReadingTask {
  language: "en" | "zh";
  /** The passages and the question, ending with the answer cue ("Answer:" / "答案："). */
  prompt: string;
  /** The answer with its citation, e.g. "Anna Brell [2]". */
  answer: string;
  /** The whole training text: prompt, then answer. */
  text: string;
  /** The asked value without its citation. */
  value: string;
  /** Other values of the asked relation, for multiple-choice probes (draws from `random`, never the task's own). */
  distractors: (random: Random, count: number) => string[];
}

interface InventedFact {
  passage: number;
  subject: string;
  relation: Relation;
  value: string;
}

/** `passageCount` passages of 2-4 invented facts each, drawn from `relations`. */
function inventPassages(random: Random, language: "en" | "zh", relations: readonly Relation[], passageCount: number): { facts: InventedFact[]; passages: string[] } {
  const subjectName = language === "en" ? englishName : chineseName;
  const facts: InventedFact[] = [];
  const passages = Array.from({ length: passageCount }, (_, passage) => {
    const count = 2 + Math.floor(random() * 3);
    const sentences: string[] = [];
    for (let k = 0; k < count; k++) {
      const relation = pick(random, relations);
      const subject = subjectName(random);
      const value = relation.values(random);
      facts.push({ passage, subject, relation, value });
      sentences.push(relation.statement(subject, value));
    }
    return sentences.join(language === "en" ? " " : "");
  });
  return { facts, passages };
}

/** One task: 2–4 passages of 2–4 facts each; the question asks one fact of one passage. */
export function readingTask(random: Random, language: "en" | "zh"): ReadingTask {
  const { facts, passages } = inventPassages(random, language, language === "en" ? EN_RELATIONS : ZH_RELATIONS, 2 + Math.floor(random() * 3));
  const asked = pick(random, facts);
  const source = (index: number) => `${language === "en" ? "notes" : "笔记"}-${Math.floor(random() * 900) + 100}-${index + 1}`;
  const lines = passages.map((text, index) => `[${index + 1}] (${source(index)}) ${text}`);
  const question = asked.relation.question(asked.subject);
  const prompt =
    language === "en" ? `Reference material:\n${lines.join("\n")}\n\nQuestion: ${question}\nAnswer:` : `参考资料：\n${lines.join("\n")}\n\n问题：${question}\n答案：`;
  const answer = language === "en" ? `${asked.value} [${asked.passage + 1}]` : `${asked.value}[${asked.passage + 1}]`;
  const distractors = (other: Random, count: number) => {
    // Same-relation values that are in the passages first (the model must pick the asked one), then fresh ones.
    const seen = new Set([asked.value]);
    const values = facts.filter((fact) => fact.relation === asked.relation).map((fact) => fact.value);
    for (let tries = 0; tries < 100; tries++) values.push(asked.relation.values(other));
    return values.filter((value) => !seen.has(value) && seen.add(value)).slice(0, count);
  };
  return { language, prompt, answer, text: language === "en" ? `${prompt} ${answer}` : `${prompt}${answer}`, value: asked.value, distractors };
}

/**
 * Relations only stage 3's reading sessions use (stages 1-2 keep the lists above, so their text stays
 * byte-identical): multi-word values and the "X of Y is Z" shapes of regulations and manuals.
 */
const EN_SESSION_RELATIONS: Relation[] = [
  // The stage-1/2 bridge statement says "… metres metres long" (its value carries the unit): kept there, fixed here.
  ...EN_RELATIONS.filter((relation) => !relation.statement("x", "1").includes("metres long")),
  { statement: (s, v) => `The bridge at ${s} is ${v} long.`, question: (s) => `How long is the bridge at ${s}?`, values: (r) => `${10 + Math.floor(r() * 900)} metres` },
  { statement: (s, v) => `The ${s} works are operated by ${v}.`, question: (s) => `Who operates the ${s} works?`, values: (r) => `${englishName(r)} ${pick(r, ["Trading", "Shipping", "Holdings", "Works"])}` },
  { statement: (s, v) => `The depth of the ${s} canal is ${v}.`, question: (s) => `What is the depth of the ${s} canal?`, values: (r) => `${(2 + r() * 18).toFixed(1)} m` },
  { statement: (s, v) => `A permit for the ${s} road costs ${v}.`, question: (s) => `How much does a permit for the ${s} road cost?`, values: (r) => `${10 * (1 + Math.floor(r() * 90))} crowns` },
  { statement: (s, v) => `Requests to the ${s} office must be made ${v} in advance.`, question: (s) => `How far in advance must requests to the ${s} office be made?`, values: (r) => `${1 + Math.floor(r() * 72)} hours` },
];
const ZH_SESSION_RELATIONS: Relation[] = [
  ...ZH_RELATIONS,
  { statement: (s, v) => `${s}工坊由${v}经营。`, question: (s) => `${s}工坊由谁经营？`, values: (r) => `${chineseName(r)}${pick(r, ["贸易公司", "航运公司", "集团"])}` },
  { statement: (s, v) => `${s}运河的水深为${v}。`, question: (s) => `${s}运河的水深是多少？`, values: (r) => `${(2 + r() * 18).toFixed(1)}米` },
  { statement: (s, v) => `${s}路的通行证收费${v}。`, question: (s) => `${s}路的通行证收费多少？`, values: (r) => `${10 * (1 + Math.floor(r() * 90))}元` },
  { statement: (s, v) => `向${s}办公室提出申请须提前${v}。`, question: (s) => `向${s}办公室提出申请须提前多久？`, values: (r) => `${1 + Math.floor(r() * 72)}小时` },
];

/**
 * Stage 3's reading session: the same cited passages as a reading task, then 3-5 of their facts asked one after
 * the other, each answered with its value and citation — several answers to look up per passage block instead of one.
 */
export function readingSession(random: Random, language: "en" | "zh"): string {
  const { facts, passages } = inventPassages(random, language, language === "en" ? EN_SESSION_RELATIONS : ZH_SESSION_RELATIONS, 1 + Math.floor(random() * 4));
  const source = (index: number) => `${language === "en" ? pick(random, ["notes", "memo", "rules", "sheet"]) : pick(random, ["笔记", "备忘", "规定", "表"])}-${Math.floor(random() * 900) + 100}-${index + 1}`;
  const lines = passages.map((text, index) => `[${index + 1}] (${source(index)}) ${text}`);
  const shuffled = [...facts];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const asked = shuffled.slice(0, 3 + Math.floor(random() * 3));
  const qa = asked.map((fact) =>
    language === "en"
      ? `Question: ${fact.relation.question(fact.subject)}\nAnswer: ${fact.value} [${fact.passage + 1}]`
      : `问题：${fact.relation.question(fact.subject)}\n答案：${fact.value}[${fact.passage + 1}]`,
  );
  return `${language === "en" ? "Reference material:" : "参考资料："}\n${lines.join("\n")}\n\n${qa.join("\n\n")}`;
}

/** `count` reading sessions (about a third in Chinese) grouped into documents of `perDocument`. */
export function readingSessionDocuments(seed: number, count: number, perDocument = 8): string[] {
  return seededDocuments(seed, count, perDocument, (random) => readingSession(random, random() < 0.35 ? "zh" : "en"));
}

/** `count` tasks, about a third of them in Chinese, grouped into documents of `perDocument` tasks. */
export function readingDocuments(seed: number, count: number, perDocument = 20): string[] {
  return seededDocuments(seed, count, perDocument, (random) => readingTask(random, random() < 0.35 ? "zh" : "en").text);
}
