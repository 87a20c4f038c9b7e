/**
 * Multiple-choice items from domain documents, rule-based (no model needed):
 *
 * 1. Statements "X is Y" / "X是Y" / "X为Y" / "X是指Y" / "X refers to Y" are found sentence by sentence.
 * 2. Each becomes a question about X whose answer is Y:
 *    - number: Y holds a number ("350 m", "12小时") -> distractors are other values with the same unit;
 *    - definition: Y is a longer description -> distractors are other definitions;
 *    - fact: Y is a short name ("Baisha Bulk Terminal") -> distractors are other short values.
 *    Distractors come from the same corpus and language, preferring values of the same attribute
 *    ("maximum length overall", "最大允许吃水"), and never a value the corpus also states for X.
 *    A number item may fall back to scaled values (x0.5, x1.5, x2) when the corpus has too few.
 * 3. Items are deduplicated (same X and Y stated in several documents -> one item), balanced across
 *    subjects (--per-subject N, kinds interleaved), and the correct letter is spread evenly over A–D.
 * Each item keeps its source: document id and the character span of the sentence.
 */
import { seededRandom, type RandomSource } from "../../shared/seededRandom.js";
import { splitSentences, type Sentence, type SourceDocument } from "./sentences.js";

export type ItemKind = "definition" | "fact" | "number" | "generated";

export interface BuiltMcqItem {
  id: string;
  subject: string;
  language: "en" | "zh";
  kind: ItemKind;
  question: string;
  /** Four options in display order. */
  options: string[];
  /** Index of the correct option. */
  answer: number;
  source: { doc: string; start: number; end: number; text: string };
  /** "corpus" when every distractor was found in the documents, "scaled" when some were derived numbers, "model" for LLM items. */
  distractorSource: "corpus" | "scaled" | "model";
}

export interface Statement {
  sentence: Sentence;
  /** The thing asked about, as written ("The terminal for Berth Q12"). */
  subject: string;
  value: string;
  kind: Exclude<ItemKind, "generated">;
  /** Attribute the statement is about, for distractors ("terminal", "最大允许吃水"). */
  attribute: string;
  /** For numbers: the unit ("m", "小时"); "" when bare. */
  unit: string;
  copula: string;
}

const englishStatement = /^(.{3,120}?)\s+(is|are|refers to|means)\s+(.{1,200}?)[.!]?$/u;
const chineseStatement = /^(.{2,40}?)(规定为|是指|指的是|是|为)(.{1,80}?)[。！；]?$/u;
const pronounStart = /^(it|this|that|these|those|there|he|she|they|we|you|i|here|what|which|who|how|why|when|where)\b/i;
const chinesePronounStart = /^(这|那|它|他|她|我|你|其|此|该|哪|什么|谁|如何|为什么)/u;
const numberWithUnit = /(-?\d+(?:[.,]\d+)*)\s*([%‰]|[A-Za-z]+|[\u4e00-\u9fff]{1,2})?/u;

export function normalise(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\s"'“”‘’「」『』《》()（）.,，。:：;；!?！？]/gu, "");
}

/** Attribute of a subject: English "the maximum draught for Berth Q1" -> "maximum draught"; Chinese "Q10号泊位的最大允许吃水" -> "最大允许吃水". */
function attributeOf(subject: string, language: "en" | "zh"): string {
  if (language === "zh") return subject.split("的").at(-1)!.trim();
  return subject
    .replace(/^(the|a|an)\s+/i, "")
    .split(/\s+(?:for|of|at|in|on|to|from|under|within)\s+/i)[0]!
    .toLowerCase()
    .trim();
}

export function findStatements(sentence: Sentence): Statement | undefined {
  const text = sentence.text;
  let match: RegExpExecArray | null;
  let subject: string;
  let value: string;
  let copula: string;
  if (sentence.language === "en") {
    match = englishStatement.exec(text);
    if (!match) return undefined;
    [subject, copula, value] = [match[1]!.trim(), match[2]!, match[3]!.trim()];
    // "Masters should note that the X is Y": ask about X, not about the lead-in.
    const leadIn =
      /^(?:.{0,60}?\b(?:note|noted|notice|remember|recall|confirm|confirms|states?|provides?|says?|specifies|means) that|please note,?|note:?)\s+/i.exec(
        subject,
      );
    if (leadIn) subject = subject.slice(leadIn[0].length);
    if (/\b(this|these|that|those)\b/i.test(subject)) return undefined;
    if (pronounStart.test(subject) || subject.split(/\s+/).length > 16 || /[,;:]/.test(subject)) return undefined;
    if (/^(not|also|usually|often|never|always|being|to be|the same)\b/i.test(value)) return undefined;
  } else {
    match = chineseStatement.exec(text);
    if (!match) return undefined;
    [subject, copula, value] = [match[1]!.trim(), match[2]!, match[3]!.trim()];
    const leadIn = /^(?:请注意|请船长注意|注意|需要注意的是|根据规定|按照规定)[，,：:]?/u.exec(subject);
    if (leadIn) subject = subject.slice(leadIn[0].length);
    if (/(本文件|本通知|本规定|本文|本表|这|那)/u.test(subject)) return undefined;
    if (chinesePronounStart.test(subject) || /[，,；：:]/u.test(subject) || subject.length < 2) return undefined;
    if (/^(否|不|也|还|都|因为|为了)/u.test(value)) return undefined;
  }
  if (value.length === 0 || normalise(value) === "" || normalise(subject) === normalise(value)) return undefined;
  const words = sentence.language === "en" ? value.split(/\s+/).length : value.length;
  const number = numberWithUnit.exec(value);
  // A number item: the value is a quantity, e.g. "350 m", "CNY 1.85", "12小时" — not a code like "form QC-24".
  const isNumber =
    number !== null &&
    /^(?:[A-Z]{3}\s?|[¥$€£])?-?\d/u.test(value) &&
    (sentence.language === "en" ? words <= 4 : value.length <= 12);
  const kind: Statement["kind"] = isNumber
    ? "number"
    : (sentence.language === "en" ? words >= 5 : value.length >= 10)
      ? "definition"
      : "fact";
  if (kind === "definition" && (sentence.language === "en" ? words > 40 : value.length > 60)) return undefined;
  const unit = isNumber ? (number[2] ?? value.replace(number[0], "").trim()).toLowerCase() : "";
  return { sentence, subject, value, kind, attribute: attributeOf(subject, sentence.language), unit, copula };
}

function lowerFirst(text: string): string {
  // Keep acronyms and names ("QDG-5", "Berth Q1") as they are; lower a leading article.
  return /^(The|A|An)\s/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}

export function questionFor(statement: Statement): string {
  const { subject, kind, copula, sentence } = statement;
  if (sentence.language === "zh") {
    if (kind === "definition") return `“${subject}”${copula === "是指" || copula === "指的是" ? "是指" : "是"}什么？`;
    if (copula === "规定为") return kind === "number" ? `${subject}规定为多少？` : `${subject}规定为什么？`;
    if (kind === "number") return `${subject}为多少？`;
    return `${subject}是什么？`;
  }
  if (kind === "definition") return `Which of the following best describes ${lowerFirst(subject)}?`;
  const verb = copula === "are" ? "are" : "is";
  return `What ${verb} ${lowerFirst(subject)}?`;
}

function shuffle<T>(values: T[], random: RandomSource): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return values;
}

/** Scaled variants of a number value, keeping its format ("350 m" -> "175 m", "525 m", "700 m"). */
function scaledNumbers(value: string): string[] {
  const match = numberWithUnit.exec(value);
  if (!match) return [];
  const raw = match[1]!.replace(/,/g, "");
  const number = Number(raw);
  if (!Number.isFinite(number) || number === 0) return [];
  const decimals = raw.includes(".") ? raw.split(".")[1]!.length : 0;
  return [0.5, 1.5, 2].map((factor) => value.replace(match[1]!, (number * factor).toFixed(decimals)));
}

export interface BuildOptions {
  /** Items per subject (after deduplication). Defaults to all. */
  perSubject?: number;
  /** Defaults to 0. */
  seed?: number;
  /** Id prefix. Defaults to "mcq". */
  idPrefix?: string;
  /** Items written by a model (generateWithModel.ts), merged with the rule-based ones before balancing. */
  generated?: ReadonlyArray<Omit<BuiltMcqItem, "id">>;
}

export interface BuildReport {
  items: BuiltMcqItem[];
  statements: number;
  duplicates: number;
  /** Statements dropped because fewer than three distractors could be found. */
  withoutDistractors: number;
  perSubject: Record<string, number>;
}

/** Candidate items from statements (before balancing). */
export function itemsFromStatements(
  statements: readonly Statement[],
  random: RandomSource,
): { items: Omit<BuiltMcqItem, "id">[]; duplicates: number; withoutDistractors: number } {
  // Every value the corpus states for a subject: never a distractor for that subject.
  const valuesOfSubject = new Map<string, Set<string>>();
  for (const s of statements) {
    const key = normalise(s.subject);
    if (!valuesOfSubject.has(key)) valuesOfSubject.set(key, new Set());
    valuesOfSubject.get(key)!.add(normalise(s.value));
  }
  // Deduplicate: one item per (subject asked about, value). When the same fact is stated in several
  // documents, the item is linked to the occurrence whose document subject has the fewest items so
  // far — facts repeated in FAQs and notices then spread over subjects instead of piling on the first.
  const groups = new Map<string, Statement[]>();
  for (const statement of statements) {
    const key = `${normalise(statement.subject)}\u0000${normalise(statement.value)}`;
    groups.set(key, [...(groups.get(key) ?? []), statement]);
  }
  const duplicates = statements.length - groups.size;
  const subjectsOf = (group: Statement[]) => new Set(group.map((s) => s.sentence.subject)).size;
  const load = new Map<string, number>();
  const chosenStatements: Statement[] = [];
  for (const group of [...groups.values()].sort((x, y) => subjectsOf(x) - subjectsOf(y))) {
    let best = group[0]!;
    for (const candidate of group)
      if ((load.get(candidate.sentence.subject) ?? 0) < (load.get(best.sentence.subject) ?? 0)) best = candidate;
    load.set(best.sentence.subject, (load.get(best.sentence.subject) ?? 0) + 1);
    chosenStatements.push(best);
  }
  // Back to document order, so ids and outputs follow the corpus.
  const order = new Map(statements.map((s, i) => [s, i]));
  chosenStatements.sort((x, y) => order.get(x)! - order.get(y)!);
  let withoutDistractors = 0;
  const items: Omit<BuiltMcqItem, "id">[] = [];
  for (const statement of chosenStatements) {
    const forbidden = valuesOfSubject.get(normalise(statement.subject))!;
    const compatible = (other: Statement) =>
      other.sentence.language === statement.sentence.language &&
      other.kind === statement.kind &&
      (statement.kind !== "number" || other.unit === statement.unit);
    // Same attribute first, then values of a similar length (so the answer does not stand out), then any.
    const size = (v: string) => (statement.sentence.language === "en" ? v.split(/\s+/).length : v.length);
    const similar = (o: Statement) =>
      size(o.value) * 2 >= size(statement.value) && size(o.value) <= size(statement.value) * 2;
    const tiers = [
      statements.filter((o) => compatible(o) && o.attribute === statement.attribute),
      statements.filter((o) => compatible(o) && o.attribute !== statement.attribute && similar(o)),
      statements.filter((o) => compatible(o) && o.attribute !== statement.attribute && !similar(o)),
    ];
    const chosen: string[] = [];
    const chosenKeys = new Set<string>([...forbidden]);
    for (const tier of tiers)
      for (const other of shuffle([...tier], random)) {
        if (chosen.length === 3) break;
        const otherKey = normalise(other.value);
        if (chosenKeys.has(otherKey)) continue;
        chosenKeys.add(otherKey);
        chosen.push(other.value);
      }
    let distractorSource: BuiltMcqItem["distractorSource"] = "corpus";
    if (chosen.length < 3 && statement.kind === "number")
      for (const scaled of scaledNumbers(statement.value)) {
        if (chosen.length === 3) break;
        if (chosenKeys.has(normalise(scaled))) continue;
        chosenKeys.add(normalise(scaled));
        chosen.push(scaled);
        distractorSource = "scaled";
      }
    if (chosen.length < 3) {
      withoutDistractors++;
      continue;
    }
    const { sentence } = statement;
    items.push({
      subject: sentence.subject,
      language: sentence.language,
      kind: statement.kind,
      question: questionFor(statement),
      options: [statement.value, ...chosen],
      answer: 0,
      source: { doc: sentence.doc, start: sentence.start, end: sentence.end, text: sentence.text },
      distractorSource,
    });
  }
  return { items, duplicates, withoutDistractors };
}

/**
 * Picks up to `perSubject` items per subject, interleaving kinds so no subject is all numbers,
 * then places the correct answer so each letter is correct equally often (a shuffled balanced list).
 */
export function balanceItems(
  candidates: readonly Omit<BuiltMcqItem, "id">[],
  options: BuildOptions,
  random: RandomSource,
): BuiltMcqItem[] {
  const bySubject = new Map<string, Omit<BuiltMcqItem, "id">[]>();
  for (const item of candidates) bySubject.set(item.subject, [...(bySubject.get(item.subject) ?? []), item]);
  const picked: Omit<BuiltMcqItem, "id">[] = [];
  for (const subject of [...bySubject.keys()].sort()) {
    const byKind = new Map<string, Omit<BuiltMcqItem, "id">[]>();
    for (const item of shuffle([...bySubject.get(subject)!], random))
      byKind.set(item.kind, [...(byKind.get(item.kind) ?? []), item]);
    const queues = [...byKind.keys()].sort().map((kind) => byKind.get(kind)!);
    const limit = options.perSubject ?? Number.POSITIVE_INFINITY;
    let taken = 0;
    while (taken < limit && queues.some((q) => q.length > 0))
      for (const queue of queues) {
        if (taken >= limit) break;
        const next = queue.shift();
        if (next) {
          picked.push(next);
          taken++;
        }
      }
  }
  const positions = shuffle(
    picked.map((_, i) => i % 4),
    random,
  );
  const prefix = options.idPrefix ?? "mcq";
  const perSubjectCount = new Map<string, number>();
  return picked.map((item, i) => {
    const correct = item.options[item.answer]!;
    const distractors = shuffle(
      item.options.filter((_, k) => k !== item.answer),
      random,
    );
    const position = positions[i]!;
    distractors.splice(position, 0, correct);
    const count = (perSubjectCount.get(item.subject) ?? 0) + 1;
    perSubjectCount.set(item.subject, count);
    return {
      id: `${prefix}-${item.subject}-${String(count).padStart(4, "0")}`,
      ...item,
      options: distractors,
      answer: position,
    };
  });
}

export function buildMcqFromDocuments(documents: readonly SourceDocument[], options: BuildOptions = {}): BuildReport {
  const random = seededRandom(options.seed ?? 0);
  const statements: Statement[] = [];
  for (const document of documents)
    for (const sentence of splitSentences(document)) {
      const statement = findStatements(sentence);
      if (statement) statements.push(statement);
    }
  const ruleBased = itemsFromStatements(statements, random);
  // Generated items join the pool; one asking the same question (normalised) as another is a duplicate.
  const candidates = [...ruleBased.items];
  let duplicates = ruleBased.duplicates;
  const questions = new Set(candidates.map((item) => normalise(item.question)));
  for (const item of options.generated ?? []) {
    const key = normalise(item.question);
    if (questions.has(key)) {
      duplicates++;
      continue;
    }
    questions.add(key);
    candidates.push(item);
  }
  const withoutDistractors = ruleBased.withoutDistractors;
  const items = balanceItems(candidates, options, random);
  const perSubject: Record<string, number> = {};
  for (const item of items) perSubject[item.subject] = (perSubject[item.subject] ?? 0) + 1;
  return { items, statements: statements.length, duplicates, withoutDistractors, perSubject };
}
