/**
 * The harbor example's structured data: berths (length and draft limits, terminal), the fee schedule
 * and the anchorages as tables of one SQLite database (tables/harbor.sqlite), for the `sql_query` tool.
 * Everything is derived from the fact table alone — no random draws — so adding this file changed no
 * other generated file (the generator's one random stream is untouched). The rows restate facts the
 * documents already give; a tools route looks them up instead of reading prose.
 *
 * Also a few open questions that need the table and arithmetic (eval/open-tables.jsonl), kept out of
 * eval/open.jsonl so existing evaluation sets do not change.
 */
import Database from "better-sqlite3";
import type { Fact } from "./generate.js";

/** 375 from "375 m", 1.85 from "CNY 1.85", 25 from "25%". */
function numberIn(text: string): number {
  const match = /-?\d+(?:\.\d+)?/.exec(text.replace(/,/g, ""));
  if (!match) throw new Error(`no number in fact value "${text}"`);
  return Number(match[0]);
}

function unitOf(text: string): string {
  if (text.endsWith("%")) return "percent";
  if (text.startsWith("CNY")) return "CNY";
  return text.replace(/^[-\d.,\s]+/, "").trim();
}

function factsBy(facts: readonly Fact[], topic: string): Map<string, Map<string, Fact>> {
  const bySubject = new Map<string, Map<string, Fact>>();
  for (const fact of facts.filter((f) => f.topic === topic)) {
    const attributes = bySubject.get(fact.subject.en) ?? new Map<string, Fact>();
    attributes.set(fact.attribute.en, fact);
    bySubject.set(fact.subject.en, attributes);
  }
  return bySubject;
}

/** The SQLite database's bytes (built in memory, then serialised, so the bytes depend only on the facts). */
export function buildHarborDatabase(facts: readonly Fact[]): Buffer {
  const db = new Database(":memory:");
  try {
    db.exec(`
      CREATE TABLE berths (berth TEXT PRIMARY KEY, terminal_en TEXT NOT NULL, terminal_zh TEXT NOT NULL,
                           max_loa_m REAL NOT NULL, max_draft_m REAL NOT NULL);
      CREATE TABLE fees (fee_id TEXT PRIMARY KEY, item_en TEXT NOT NULL, item_zh TEXT NOT NULL,
                         basis_en TEXT NOT NULL, basis_zh TEXT NOT NULL, amount REAL NOT NULL, unit TEXT NOT NULL);
      CREATE TABLE anchorages (anchorage_en TEXT PRIMARY KEY, anchorage_zh TEXT NOT NULL,
                               max_loa_m REAL NOT NULL, reserved_for_en TEXT NOT NULL, reserved_for_zh TEXT NOT NULL);`);
    const berth = db.prepare("INSERT INTO berths VALUES (?, ?, ?, ?, ?)");
    for (const [subject, attributes] of factsBy(facts, "berths")) {
      const terminal = attributes.get("terminal")!.value;
      berth.run(
        subject.replace(/^Berth /, ""),
        terminal.en,
        terminal.zh,
        numberIn(attributes.get("maximum length overall")!.value.en),
        numberIn(attributes.get("maximum permitted draft")!.value.en),
      );
    }
    const fee = db.prepare("INSERT INTO fees VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const fact of facts.filter((f) => f.topic === "fees"))
      fee.run(
        fact.id,
        fact.subject.en,
        fact.subject.zh,
        fact.attribute.en,
        fact.attribute.zh,
        numberIn(fact.value.en),
        unitOf(fact.value.en),
      );
    const anchorage = db.prepare("INSERT INTO anchorages VALUES (?, ?, ?, ?, ?)");
    for (const attributes of factsBy(facts, "anchorages").values()) {
      const use = attributes.get("reserved use")!;
      anchorage.run(
        use.subject.en,
        use.subject.zh,
        numberIn(attributes.get("maximum length overall")!.value.en),
        use.value.en,
        use.value.zh,
      );
    }
    return db.serialize();
  } finally {
    db.close();
  }
}

export interface TableQuestion {
  id: string;
  language: "en" | "zh";
  question: string;
  reference: string;
  /** The tables a correct answer reads. */
  tables: string[];
}

/** Questions that need a lookup plus arithmetic; answers computed from the facts, two per language. */
export function buildTableQuestions(facts: readonly Fact[]): TableQuestion[] {
  const byId = new Map(facts.map((fact) => [fact.id, fact]));
  const hire = numberIn(byId.get("fee.berth-hire")!.value.en);
  const dues = numberIn(byId.get("fee.harbour-dues")!.value.en);
  const berths = [...factsBy(facts, "berths").entries()].map(([subject, attributes]) => ({
    code: subject.replace(/^Berth /, ""),
    loa: numberIn(attributes.get("maximum length overall")!.value.en),
  }));
  const longestLoa = Math.max(...berths.map((berth) => berth.loa));
  // Several berths can share the longest limit: the answer names them all.
  const longest = berths.filter((berth) => berth.loa === longestLoa).map((berth) => berth.code);
  const days = 3;
  const hireCost = Number((hire * longestLoa * days).toFixed(2));
  const tonnage = 20000;
  const duesCost = Number((dues * tonnage).toFixed(2));
  return [
    {
      id: "harbor-table-001",
      language: "en",
      question: `Which berths at the Port of Qinglan accept the longest ships, and what is their maximum length overall?`,
      reference: `${longest.length > 1 ? "Berths" : "Berth"} ${longest.join(" and ")}: ${longestLoa} m.`,
      tables: ["berths"],
    },
    {
      id: "harbor-table-002",
      language: "zh",
      question: `在青澜港，哪些泊位允许的船长最大？最大允许船长是多少？`,
      reference: `${longest.map((code) => `${code}号泊位`).join("和")}：${longestLoa}米。`,
      tables: ["berths"],
    },
    {
      id: "harbor-table-003",
      language: "en",
      question: `What is the berth hire for a ship as long as Berth ${longest[0]}'s maximum length overall, staying ${days} days?`,
      reference: `CNY ${hireCost} (CNY ${hire} per metre per day x ${longestLoa} m x ${days} days).`,
      tables: ["berths", "fees"],
    },
    {
      id: "harbor-table-004",
      language: "zh",
      question: `一艘${tonnage}总吨的船舶在青澜港应缴纳多少港务费（不含附加费）？`,
      reference: `${duesCost}元（每总吨${dues}元 × ${tonnage}总吨）。`,
      tables: ["fees"],
    },
  ];
}
