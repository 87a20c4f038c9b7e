/**
 * Copy and recall drills for stage 3 of the example's pre-training (scripts/build-example-base.ts).
 *
 * Why: after stages 1-2 the base could not use text in its context (bench:example-models: at chance with the
 * gold passage, and at chance on unseen reading tasks in its own format). Reading needs two attention circuits
 * that small transformers learn from text where copying pays: an induction head (a token seen before is
 * followed by what followed it then) and key-value lookup (find the key asked about, copy the value stored
 * after it). In a reading task only the few answer tokens reward either. These drills make most of a
 * document's tokens copyable:
 *  - repeat drills: a list of random names, numbers or characters, then the same list again;
 *  - recall drills: a table of invented keys and values, then several keys asked, each answered by its value.
 * All content is random syllables, digits and Chinese characters — nothing to memorise, nothing of the port.
 */
import { pick, seededDocuments, type Random } from "./readingTasks.js";

const between = (random: Random, low: number, high: number) => low + Math.floor(random() * (high - low + 1));

const SYLLABLES = ["ka", "lo", "ven", "mir", "tas", "ro", "bel", "dun", "sha", "kor", "eli", "pan", "tor", "vi", "mes", "al", "gri", "nu", "dar", "sen", "ul", "fi"];
const ZH_CHARS = "安柏岑达恩枫广海嘉景坤岚梅宁沛清融松泰文曦雅远正舟云山石川林春秋明华金玉兰竹".split("");

function word(random: Random): string {
  const text = Array.from({ length: between(random, 1, 3) }, () => pick(random, SYLLABLES)).join("");
  return random() < 0.5 ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** One item of a drill: an invented word, a number (with a unit sometimes) or two Chinese characters. */
function item(random: Random, language: "en" | "zh"): string {
  const roll = random();
  if (roll < 0.25) return String(between(random, 1, 9999)) + (random() < 0.3 ? pick(random, language === "en" ? [" m", " t", " kn", " min"] : ["米", "吨", "节", "分钟"]) : "");
  if (language === "zh" && roll < 0.8) return pick(random, ZH_CHARS) + pick(random, ZH_CHARS);
  return random() < 0.4 ? `${word(random)} ${word(random)}` : word(random);
}

/**
 * "List: a b c …\nAgain: a b c …" — every token of the second half can be copied from the first. No separator
 * between the items: after a comma that follows every item, the token to copy next is not determined by the token
 * before it, and a one-token induction head (the first copying circuit a transformer learns) could not copy it.
 */
export function repeatDrill(random: Random, language: "en" | "zh"): string {
  const items = Array.from({ length: between(random, 5, 16) }, () => item(random, language));
  const list = items.join(language === "en" ? " " : "");
  return language === "en" ? `List: ${list}\nAgain: ${list}` : `清单：${list}\n重复：${list}`;
}

/** A key-value table, then 3-6 of its keys asked in random order, each answered with its value. */
export function recallDrill(random: Random, language: "en" | "zh"): string {
  const size = between(random, 4, 10);
  const keys = new Set<string>();
  while (keys.size < size) keys.add(language === "en" ? word(random) : pick(random, ZH_CHARS) + pick(random, ZH_CHARS) + pick(random, ZH_CHARS));
  const table = [...keys].map((key) => ({ key, value: item(random, language) }));
  const lines = table.map(({ key, value }) => (language === "en" ? `${key}: ${value}` : `${key}：${value}`));
  const asked = Array.from({ length: between(random, 3, 6) }, () => pick(random, table));
  const questions = asked.map(({ key, value }) => (language === "en" ? `Q: ${key}?\nA: ${value}` : `问：${key}？\n答：${value}`));
  return `${lines.join("\n")}\n\n${questions.join("\n")}`;
}

/** `count` drills (60% repeat, 40% recall; about a third in Chinese) grouped into documents of `perDocument`. */
export function drillDocuments(seed: number, count: number, perDocument = 12): string[] {
  return seededDocuments(seed, count, perDocument, (random) => {
    const language = random() < 0.35 ? "zh" : "en";
    return random() < 0.6 ? repeatDrill(random, language) : recallDrill(random, language);
  });
}
