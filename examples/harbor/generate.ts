/**
 * Generates the shipped example domain: the regulations and operations of the Port of Qinglan (青澜港),
 * an invented port, in English and Chinese.
 *
 * How it is made, so that anyone can check it:
 * 1. A fact table is sampled ONCE from a seeded generator (berth limits, pilotage thresholds, dangerous-goods
 *    classes, fees, channels, customs deadlines, anchorages, VTS rules, the officials who hold each post).
 * 2. Every fact is verbalised — with varied templates — into documents (docs/), multiple-choice questions
 *    (eval/mcq.jsonl), open questions with reference answers (eval/open.jsonl) and chat conversations (sft/).
 *    Every MCQ and open item cites the id of a document that states the fact in the item's language, and
 *    the answer text appears verbatim in that document (pinned by generate.test.ts).
 * 3. Question templates for evaluation and for SFT are disjoint, so SFT conversations never repeat an eval
 *    question word for word. Six facts are held out of the test sets; their MCQ items (eval/mcq-dev.jsonl) are
 *    the few-shot exemplars.
 * 4. A general corpus (real-world common knowledge, arithmetic, calendar facts, opposites, and quiz lines that
 *    pair a question with its answer, as web text does) is generated the same way, with its own MCQ set, to
 *    measure forgetting. Quiz wording differs from the MCQ wording, so no MCQ question appears verbatim.
 *
 * Nothing depends on the clock, the locale or Math.random: `npm run example:generate` rewrites identical bytes.
 *
 * Usage: node --import tsx examples/harbor/generate.ts [outputDir]   (defaults to this folder)
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildHarborDatabase, buildTableQuestions } from "./buildHarborTables.js";

export const DEFAULT_SEED = 20261125;

// ---------------------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32): tiny, fast, and identical on every platform.

export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [low, high]. */
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }
  sample<T>(items: readonly T[], count: number): T[] {
    return this.shuffle(items).slice(0, count);
  }
  /** The stream's state: `Random.resumed(state)` draws exactly what this stream would draw next. */
  get position(): number {
    return this.state;
  }
  static resumed(state: number): Random {
    const random = new Random(0);
    random.state = state >>> 0;
    return random;
  }
}

// ---------------------------------------------------------------------------------------------------------
// The fact table.

export type Language = "en" | "zh";
/** What kind of value a fact holds: decides the Chinese question word and how distractors are drawn. */
export type ValueKind = "number" | "person" | "name" | "code";

interface Bilingual {
  en: string;
  zh: string;
}

export interface Fact {
  id: string;
  topic: string;
  kind: ValueKind;
  subject: Bilingual;
  attribute: Bilingual;
  value: Bilingual;
  /** Three wrong values of the same kind and unit, in the same order in both languages. */
  distractors: { en: string[]; zh: string[] };
}

const PORT = { en: "the Port of Qinglan", zh: "青澜港" };

const PEOPLE: Bilingual[] = [
  { en: "Lu Mingyuan", zh: "陆鸣远" },
  { en: "Shen Ruolan", zh: "沈若兰" },
  { en: "Tang Qihang", zh: "唐启航" },
  { en: "Zheng Weidong", zh: "郑卫东" },
  { en: "Ouyang Jing", zh: "欧阳静" },
  { en: "Feng Xiaolan", zh: "冯晓岚" },
  { en: "Bai Zhenhua", zh: "白振华" },
  { en: "Qiao Anning", zh: "乔安宁" },
  { en: "Gu Haichao", zh: "顾海潮" },
  { en: "Wen Shuyi", zh: "温书仪" },
  { en: "Lei Chengze", zh: "雷承泽" },
  { en: "Xia Mengjie", zh: "夏梦洁" },
];

const POSTS: Bilingual[] = [
  { en: "Harbour Master", zh: "港长" },
  { en: "Deputy Harbour Master", zh: "副港长" },
  { en: "Chief Pilot", zh: "首席引航员" },
  { en: "Dangerous Goods Officer", zh: "危险货物主管" },
  { en: "Director of the Qinglan Customs Office", zh: "青澜海关办事处主任" },
  { en: "Port Environmental Officer", zh: "港口环保主管" },
  { en: "VTS Supervisor", zh: "船舶交通管理中心主管" },
];

const TERMINALS: Bilingual[] = [
  { en: "East Cape Container Terminal", zh: "东岬集装箱码头" },
  { en: "Baisha Bulk Terminal", zh: "白沙散货码头" },
  { en: "Luzhou Oil Terminal", zh: "鹭洲油品码头" },
  { en: "Nanwan Passenger Terminal", zh: "南湾客运码头" },
  { en: "Qingshi Ro-Ro Terminal", zh: "青石滚装码头" },
];

const CHANNELS: Bilingual[] = [
  { en: "Qinglan Main Channel", zh: "青澜主航道" },
  { en: "Heishui Fairway", zh: "黑水水道" },
  { en: "North Gate Passage", zh: "北口水道" },
];

const ANCHORAGES: Bilingual[] = [
  { en: "Anchorage A1 (Lingjiao)", zh: "A1锚地（岭角）" },
  { en: "Anchorage A2 (Shimen)", zh: "A2锚地（石门）" },
  { en: "Anchorage A3 (Yuwan)", zh: "A3锚地（渔湾）" },
  { en: "Anchorage A4 (Outer Qinglan)", zh: "A4锚地（青澜外）" },
];

/** The port's own dangerous-goods classes (QDG-1 … QDG-9), loosely modelled on the UN classes. */
const DG_CLASSES: Bilingual[] = [
  { en: "class QDG-1 (explosives)", zh: "QDG-1类（爆炸品）" },
  { en: "class QDG-2 (compressed gases)", zh: "QDG-2类（压缩气体）" },
  { en: "class QDG-3 (flammable liquids)", zh: "QDG-3类（易燃液体）" },
  { en: "class QDG-4 (flammable solids)", zh: "QDG-4类（易燃固体）" },
  { en: "class QDG-5 (oxidising substances)", zh: "QDG-5类（氧化性物质）" },
  { en: "class QDG-6 (toxic substances)", zh: "QDG-6类（毒性物质）" },
  { en: "class QDG-7 (radioactive material)", zh: "QDG-7类（放射性物质）" },
  { en: "class QDG-8 (corrosive substances)", zh: "QDG-8类（腐蚀性物质）" },
  { en: "class QDG-9 (miscellaneous dangerous goods)", zh: "QDG-9类（杂类危险货物）" },
];

const CUSTOMS_PROCEDURES: Bilingual[] = [
  { en: "the arrival declaration", zh: "船舶进港申报" },
  { en: "the cargo manifest", zh: "货物舱单" },
  { en: "the crew list", zh: "船员名单" },
  { en: "the ship's stores declaration", zh: "船舶物料申报" },
  { en: "the departure clearance", zh: "出港结关" },
  { en: "the transshipment declaration", zh: "转运申报" },
];

const CARGO_TYPES: Bilingual[] = [
  { en: "containers", zh: "集装箱" },
  { en: "dry bulk", zh: "干散货" },
  { en: "liquid bulk", zh: "液体散货" },
  { en: "passengers", zh: "旅客" },
  { en: "rolling cargo", zh: "滚装货物" },
];

const ANCHORAGE_USES: Bilingual[] = [
  { en: "tankers awaiting a berth", zh: "等候泊位的油轮" },
  { en: "vessels awaiting quarantine inspection", zh: "等候检疫的船舶" },
  { en: "small craft and fishing vessels", zh: "小型船艇和渔船" },
  { en: "vessels carrying dangerous goods", zh: "载运危险货物的船舶" },
];

interface Unit {
  en: (value: string) => string;
  zh: (value: string) => string;
}
const METRES: Unit = { en: (v) => `${v} m`, zh: (v) => `${v}米` };
const HOURS: Unit = { en: (v) => `${v} hours`, zh: (v) => `${v}小时` };
const TONNES: Unit = { en: (v) => `${v} tonnes`, zh: (v) => `${v}吨` };
const KNOTS: Unit = { en: (v) => `${v} knots`, zh: (v) => `${v}节` };
const PERCENT: Unit = { en: (v) => `${v}%`, zh: (v) => `${v}%` };
const YUAN: Unit = { en: (v) => `CNY ${v}`, zh: (v) => `${v}元` };
const PLAIN: Unit = { en: (v) => v, zh: (v) => v };

/** A number fact: its true value and three distinct plausible wrong values on the same grid. */
function numberFact(
  random: Random,
  base: Omit<Fact, "kind" | "value" | "distractors">,
  unit: Unit,
  grid: { low: number; high: number; step: number; decimals?: number },
  pool?: number[],
): Fact {
  const decimals = grid.decimals ?? 0;
  const steps = Math.round((grid.high - grid.low) / grid.step);
  const onGrid = (index: number) => Number((grid.low + index * grid.step).toFixed(decimals));
  const value = onGrid(random.int(0, steps));
  return numberFactWithValue(random, base, unit, value, grid, pool);
}

function numberFactWithValue(
  random: Random,
  base: Omit<Fact, "kind" | "value" | "distractors">,
  unit: Unit,
  value: number,
  grid: { low: number; high: number; step: number; decimals?: number },
  pool?: number[],
): Fact {
  const decimals = grid.decimals ?? 0;
  const format = (n: number) => n.toFixed(decimals);
  const wrong = new Set<string>();
  // Prefer values that really occur elsewhere in the table (other berths' drafts, …): the most plausible.
  for (const candidate of random.shuffle(pool ?? [])) {
    if (wrong.size >= 3) break;
    if (format(candidate) !== format(value)) wrong.add(format(candidate));
  }
  let guard = 0;
  while (wrong.size < 3) {
    const offset = random.int(1, 4) * (random.next() < 0.5 ? -1 : 1);
    let candidate = value + offset * grid.step;
    if (candidate < grid.low || candidate > grid.high) candidate = value - offset * grid.step;
    if (candidate > 0 && format(candidate) !== format(value)) wrong.add(format(candidate));
    if (++guard > 1000) throw new Error(`cannot draw distractors for ${base.id}`);
  }
  const distractors = [...wrong];
  return {
    ...base,
    kind: "number",
    value: { en: unit.en(format(value)), zh: unit.zh(format(value)) },
    distractors: { en: distractors.map(unit.en), zh: distractors.map(unit.zh) },
  };
}

function choiceFact(
  random: Random,
  base: Omit<Fact, "kind" | "value" | "distractors">,
  kind: ValueKind,
  value: Bilingual,
  pool: readonly Bilingual[],
): Fact {
  const others = random.sample(
    pool.filter((item) => item.en !== value.en),
    3,
  );
  if (others.length < 3) throw new Error(`not enough distractors for ${base.id}`);
  return { ...base, kind, value, distractors: { en: others.map((o) => o.en), zh: others.map((o) => o.zh) } };
}

export interface FactTable {
  facts: Fact[];
  berths: { code: string; terminal: Bilingual; cargo: Bilingual }[];
  officials: { post: Bilingual; person: Bilingual }[];
}

export function sampleFacts(random: Random): FactTable {
  const facts: Fact[] = [];
  const add = (fact: Fact) => facts.push(fact);

  // Officials: each post is held by a different person from the pool.
  const people = random.sample(PEOPLE, POSTS.length);
  const officials = POSTS.map((post, index) => ({ post, person: people[index]! }));
  for (const [index, { post, person }] of officials.entries()) {
    add(
      choiceFact(
        random,
        {
          id: `official.${index + 1}`,
          topic: "officials",
          subject: { en: `${PORT.en}`, zh: PORT.zh },
          attribute: { en: post.en, zh: post.zh },
        },
        "person",
        person,
        PEOPLE,
      ),
    );
  }

  // Berths: 32 berths spread over the five terminals; limits depend on the terminal's trade. (16 until 2026-12-07:
  // 246 test items resolved only 11 points in the lab's paired test; 32 berths give 342 items.)
  const berths: FactTable["berths"] = [];
  const limits: Record<string, { loa: [number, number]; draft: [number, number] }> = {
    "East Cape Container Terminal": { loa: [260, 400], draft: [12, 16.5] },
    "Baisha Bulk Terminal": { loa: [180, 300], draft: [11, 17] },
    "Luzhou Oil Terminal": { loa: [150, 280], draft: [9.5, 15] },
    "Nanwan Passenger Terminal": { loa: [120, 340], draft: [7, 10] },
    "Qingshi Ro-Ro Terminal": { loa: [140, 240], draft: [7.5, 11] },
  };
  const berthValues: { loa: number; draft: number; terminal: Bilingual }[] = [];
  for (let number = 1; number <= 32; number++) {
    const terminal = TERMINALS[(number - 1) % TERMINALS.length]!;
    const range = limits[terminal.en]!;
    const loa = random.int(range.loa[0] / 5, range.loa[1] / 5) * 5;
    const draft = Number((random.int(range.draft[0] * 10, range.draft[1] * 10) / 10).toFixed(1));
    berthValues.push({ loa, draft, terminal });
    berths.push({ code: `Q${String(number).padStart(2, "0")}`, terminal, cargo: CARGO_TYPES[TERMINALS.indexOf(terminal)]! });
  }
  for (const [index, berth] of berths.entries()) {
    const subject = { en: `Berth ${berth.code}`, zh: `${berth.code}号泊位` };
    const values = berthValues[index]!;
    add(
      numberFactWithValue(
        random,
        { id: `berth.${berth.code}.loa`, topic: "berths", subject, attribute: { en: "maximum length overall", zh: "最大允许船长" } },
        METRES,
        values.loa,
        { low: 100, high: 420, step: 5 },
        berthValues.map((b) => b.loa),
      ),
    );
    add(
      numberFactWithValue(
        random,
        { id: `berth.${berth.code}.draft`, topic: "berths", subject, attribute: { en: "maximum permitted draft", zh: "最大允许吃水" } },
        METRES,
        values.draft,
        { low: 6, high: 18, step: 0.1, decimals: 1 },
        berthValues.map((b) => b.draft),
      ),
    );
    add(
      choiceFact(
        random,
        { id: `berth.${berth.code}.terminal`, topic: "berths", subject, attribute: { en: "terminal", zh: "所属码头" } },
        "name",
        berth.terminal,
        TERMINALS,
      ),
    );
  }

  // Pilotage.
  const pilotage = { en: "the pilotage service", zh: "引航服务" };
  const compulsory = random.int(10, 18) * 5;
  const twoPilots = random.int(54, 66) * 5;
  add(
    numberFactWithValue(
      random,
      { id: "pilotage.compulsory", topic: "pilotage", subject: pilotage, attribute: { en: "compulsory-pilotage length threshold", zh: "强制引航船长起点" } },
      METRES,
      compulsory,
      { low: 40, high: 120, step: 5 },
    ),
  );
  add(
    numberFactWithValue(
      random,
      { id: "pilotage.two-pilots", topic: "pilotage", subject: pilotage, attribute: { en: "two-pilot length threshold", zh: "双引航员船长起点" } },
      METRES,
      twoPilots,
      { low: 200, high: 380, step: 5 },
    ),
  );
  add(
    numberFact(
      random,
      { id: "pilotage.notice", topic: "pilotage", subject: pilotage, attribute: { en: "minimum notice for a pilot request", zh: "申请引航的最短提前时间" } },
      HOURS,
      { low: 4, high: 36, step: 2 },
    ),
  );
  add(
    choiceFact(
      random,
      { id: "pilotage.station", topic: "pilotage", subject: pilotage, attribute: { en: "pilot boarding station", zh: "引航员登轮站" } },
      "name",
      random.pick([
        { en: "Lingjiao Pilot Station", zh: "岭角引航站" },
        { en: "Shimen Pilot Station", zh: "石门引航站" },
        { en: "Yuwan Pilot Station", zh: "渔湾引航站" },
      ]),
      [
        { en: "Lingjiao Pilot Station", zh: "岭角引航站" },
        { en: "Shimen Pilot Station", zh: "石门引航站" },
        { en: "Yuwan Pilot Station", zh: "渔湾引航站" },
        { en: "Heishui Pilot Station", zh: "黑水引航站" },
        { en: "Cape Dong Pilot Station", zh: "东岬引航站" },
      ],
    ),
  );
  add(
    numberFact(
      random,
      { id: "pilotage.night-loa", topic: "pilotage", subject: pilotage, attribute: { en: "night berthing length limit", zh: "夜间靠泊船长上限" } },
      METRES,
      { low: 180, high: 300, step: 10 },
    ),
  );
  add(
    numberFact(
      random,
      { id: "pilotage.ladder", topic: "pilotage", subject: pilotage, attribute: { en: "minimum height of the pilot ladder's lowest step above the water", zh: "引航梯最低踏板离水面的最小高度" } },
      METRES,
      { low: 0.5, high: 2.5, step: 0.1, decimals: 1 },
    ),
  );

  // Dangerous goods: one designated berth per class, a maximum per call and a notice period.
  const oilBerths = berths.filter((b) => b.terminal.en !== "Nanwan Passenger Terminal");
  const allowedBerthNames = oilBerths.map((b) => ({ en: `Berth ${b.code}`, zh: `${b.code}号泊位` }));
  for (const dgClass of DG_CLASSES) {
    const code = dgClass.en.slice(6, 11);
    const subject = { en: `cargo of ${dgClass.en}`, zh: `${dgClass.zh}货物` };
    add(
      choiceFact(
        random,
        { id: `dg.${code}.berth`, topic: "dangerous-goods", subject, attribute: { en: "designated berth", zh: "指定泊位" } },
        "code",
        random.pick(allowedBerthNames),
        allowedBerthNames,
      ),
    );
    add(
      numberFact(
        random,
        { id: `dg.${code}.max`, topic: "dangerous-goods", subject, attribute: { en: "maximum quantity handled per ship call", zh: "每艘次最大装卸量" } },
        TONNES,
        { low: 20, high: 800, step: 20 },
      ),
    );
    add(
      numberFact(
        random,
        { id: `dg.${code}.notice`, topic: "dangerous-goods", subject, attribute: { en: "advance notice to the Dangerous Goods Officer", zh: "向危险货物主管提前报告的时间" } },
        HOURS,
        { low: 12, high: 96, step: 12 },
      ),
    );
  }

  // Fees.
  const fees: [string, Bilingual, Bilingual, Unit, { low: number; high: number; step: number; decimals?: number }][] = [
    ["fee.harbour-dues", { en: "harbour dues", zh: "港务费" }, { en: "rate per gross tonne", zh: "每总吨费率" }, YUAN, { low: 0.5, high: 3, step: 0.05, decimals: 2 }],
    ["fee.berth-hire", { en: "berth hire", zh: "泊位使用费" }, { en: "rate per metre of length per day", zh: "每米船长每日费率" }, YUAN, { low: 2, high: 12, step: 0.5, decimals: 1 }],
    ["fee.pilotage-base", { en: "the pilotage fee", zh: "引航费" }, { en: "base charge per movement", zh: "每次引航的基本费用" }, YUAN, { low: 1200, high: 6000, step: 100 }],
    ["fee.night", { en: "operations between 22:00 and 06:00", zh: "22时至次日6时的作业" }, { en: "night surcharge", zh: "夜间附加费" }, PERCENT, { low: 10, high: 60, step: 5 }],
    ["fee.dg", { en: "ships carrying dangerous goods", zh: "载运危险货物的船舶" }, { en: "dangerous-goods surcharge on harbour dues", zh: "港务费危险货物附加费" }, PERCENT, { low: 10, high: 80, step: 5 }],
    ["fee.waste", { en: "ship-generated waste reception", zh: "船舶垃圾接收" }, { en: "fee per cubic metre", zh: "每立方米收费" }, YUAN, { low: 80, high: 400, step: 10 }],
    ["fee.cancel", { en: "a pilot order cancelled late", zh: "迟于规定时间取消的引航申请" }, { en: "cancellation charge", zh: "取消费" }, YUAN, { low: 300, high: 2000, step: 50 }],
    ["fee.tug", { en: "tug assistance", zh: "拖轮协助" }, { en: "charge per tug per hour", zh: "每艘拖轮每小时收费" }, YUAN, { low: 1500, high: 6000, step: 100 }],
  ];
  for (const [id, subject, attribute, unit, grid] of fees) {
    add(numberFact(random, { id, topic: "fees", subject, attribute }, unit, grid));
  }

  // Channels.
  for (const [index, channel] of CHANNELS.entries()) {
    const key = `channel.${index + 1}`;
    add(
      numberFact(random, { id: `${key}.draft`, topic: "channels", subject: channel, attribute: { en: "maximum draft for transit without a tide window", zh: "不乘潮通航的最大吃水" } }, METRES, {
        low: 7,
        high: 14,
        step: 0.1,
        decimals: 1,
      }),
    );
    add(
      numberFact(random, { id: `${key}.speed`, topic: "channels", subject: channel, attribute: { en: "speed limit", zh: "航速限制" } }, KNOTS, {
        low: 6,
        high: 14,
        step: 1,
      }),
    );
    add(
      numberFact(random, { id: `${key}.ukc`, topic: "channels", subject: channel, attribute: { en: "minimum under-keel clearance", zh: "最小富余水深" } }, PERCENT, {
        low: 8,
        high: 20,
        step: 1,
      }),
    );
  }

  // Customs: every procedure has a form code and a deadline.
  const formCodes = random.sample(
    Array.from({ length: 40 }, (_, i) => `QC-${String(i + 10).padStart(2, "0")}`),
    CUSTOMS_PROCEDURES.length + 6,
  );
  const formPool = formCodes.map((code) => ({ en: `form ${code}`, zh: `${code}表` }));
  for (const [index, procedure] of CUSTOMS_PROCEDURES.entries()) {
    const key = `customs.${index + 1}`;
    const form = formPool[index]!;
    add(choiceFact(random, { id: `${key}.form`, topic: "customs", subject: procedure, attribute: { en: "customs form", zh: "海关表格" } }, "code", form, formPool));
    add(
      numberFact(random, { id: `${key}.deadline`, topic: "customs", subject: procedure, attribute: { en: "filing deadline before the ship's movement", zh: "在船舶动态前的提交时限" } }, HOURS, {
        low: 2,
        high: 72,
        step: 2,
      }),
    );
  }

  // Anchorages.
  const uses = random.shuffle(ANCHORAGE_USES);
  for (const [index, anchorage] of ANCHORAGES.entries()) {
    const key = `anchorage.${index + 1}`;
    add(choiceFact(random, { id: `${key}.use`, topic: "anchorages", subject: anchorage, attribute: { en: "reserved use", zh: "专用用途" } }, "name", uses[index]!, ANCHORAGE_USES));
    add(numberFact(random, { id: `${key}.loa`, topic: "anchorages", subject: anchorage, attribute: { en: "maximum length overall", zh: "最大允许船长" } }, METRES, { low: 60, high: 350, step: 10 }));
  }

  // Vessel traffic service.
  const vts = { en: "Qinglan VTS", zh: "青澜船舶交通管理中心" };
  add(numberFact(random, { id: "vts.channel", topic: "vts", subject: vts, attribute: { en: "VHF working channel", zh: "甚高频工作频道" } }, { en: (v) => `VHF channel ${v}`, zh: (v) => `VHF ${v}频道` }, { low: 6, high: 74, step: 1 }));
  add(numberFact(random, { id: "vts.report", topic: "vts", subject: vts, attribute: { en: "first report distance from the port limit", zh: "首次报告距港界的距离" } }, { en: (v) => `${v} nautical miles`, zh: (v) => `${v}海里` }, { low: 5, high: 30, step: 1 }));
  add(numberFact(random, { id: "vts.eta", topic: "vts", subject: vts, attribute: { en: "deadline for the pre-arrival ETA report", zh: "预抵报告的提前时限" } }, HOURS, { low: 6, high: 72, step: 6 }));
  add(numberFact(random, { id: "vts.visibility", topic: "vts", subject: vts, attribute: { en: "visibility below which the main channel closes to inbound ships", zh: "主航道禁止进港船舶通航的能见度下限" } }, { en: (v) => `${v} m`, zh: (v) => `${v}米` }, { low: 300, high: 2000, step: 100 }));
  void PLAIN;

  return { facts, berths, officials };
}

// ---------------------------------------------------------------------------------------------------------
// Verbalisation.

const STATEMENT_TEMPLATES: Record<Language, ((f: Fact, l: Language) => string)[]> = {
  en: [
    (f) => `The ${f.attribute.en} for ${f.subject.en} is ${f.value.en}.`,
    (f) => `For ${f.subject.en}, the ${f.attribute.en} is set at ${f.value.en}.`,
    (f) => `Under the port rules, the ${f.attribute.en} applying to ${f.subject.en} is ${f.value.en}.`,
    (f) => `${capitalise(f.subject.en)}: ${f.attribute.en}, ${f.value.en}.`,
    (f) => `Masters should note that the ${f.attribute.en} for ${f.subject.en} is ${f.value.en}.`,
  ],
  zh: [
    (f) => `${f.subject.zh}的${f.attribute.zh}为${f.value.zh}。`,
    (f) => `根据港口规定，${f.subject.zh}的${f.attribute.zh}是${f.value.zh}。`,
    (f) => `${f.subject.zh}：${f.attribute.zh}，${f.value.zh}。`,
    (f) => `请船长注意，${f.subject.zh}的${f.attribute.zh}规定为${f.value.zh}。`,
    (f) => `按照现行规则，${f.subject.zh}${f.attribute.zh}定为${f.value.zh}。`,
  ],
};

const OFFICIAL_TEMPLATES: Record<Language, ((f: Fact) => string)[]> = {
  en: [
    (f) => `The ${f.attribute.en} of ${PORT.en} is ${f.value.en}.`,
    (f) => `${f.value.en} serves as ${f.attribute.en} of ${PORT.en}.`,
    (f) => `${f.value.en}, ${f.attribute.en}, is responsible for this matter.`,
  ],
  zh: [
    (f) => `${PORT.zh}${f.attribute.zh}为${f.value.zh}。`,
    (f) => `${f.value.zh}担任${PORT.zh}${f.attribute.zh}。`,
    (f) => `本事项由${f.attribute.zh}${f.value.zh}负责。`,
  ],
};

function zhQuestionWord(kind: ValueKind): string {
  if (kind === "number") return "是多少";
  if (kind === "person") return "是谁";
  if (kind === "code") return "是哪一个";
  return "是什么";
}

/** Question templates used ONLY for evaluation. */
const EVAL_QUESTIONS: Record<Language, ((f: Fact) => string)[]> = {
  en: [
    (f) => (f.kind === "person" ? `Who is the ${f.attribute.en} of ${PORT.en}?` : `What is the ${f.attribute.en} for ${f.subject.en} at ${PORT.en}?`),
    (f) => (f.kind === "person" ? `Which person holds the post of ${f.attribute.en} at ${PORT.en}?` : `At ${PORT.en}, which ${f.attribute.en} applies to ${f.subject.en}?`),
  ],
  zh: [
    (f) => (f.kind === "person" ? `${PORT.zh}的${f.attribute.zh}${zhQuestionWord(f.kind)}？` : `在${PORT.zh}，${f.subject.zh}的${f.attribute.zh}${zhQuestionWord(f.kind)}？`),
    (f) => (f.kind === "person" ? `谁担任${PORT.zh}的${f.attribute.zh}？` : `按${PORT.zh}规定，${f.subject.zh}的${f.attribute.zh}${zhQuestionWord(f.kind)}？`),
  ],
};

/** Question templates used ONLY for SFT conversations (disjoint from EVAL_QUESTIONS). */
const SFT_QUESTIONS: Record<Language, ((f: Fact) => string)[]> = {
  en: [
    (f) => (f.kind === "person" ? `Could you tell me who the current ${f.attribute.en} is in Qinglan?` : `I'm preparing a port call in Qinglan. Can you tell me the ${f.attribute.en} for ${f.subject.en}?`),
    (f) => (f.kind === "person" ? `Who should I address as ${f.attribute.en} in Qinglan?` : `Quick check: ${f.subject.en}, ${f.attribute.en}?`),
    (f) => (f.kind === "person" ? `Name the ${f.attribute.en} in Qinglan, please.` : `Please remind me of the Qinglan rule on the ${f.attribute.en} for ${f.subject.en}.`),
  ],
  zh: [
    (f) => (f.kind === "person" ? `请问青澜现在的${f.attribute.zh}是哪位？` : `我们的船要挂靠青澜，请告诉我${f.subject.zh}的${f.attribute.zh}。`),
    (f) => (f.kind === "person" ? `青澜的${f.attribute.zh}叫什么名字？` : `确认一下：${f.subject.zh}，${f.attribute.zh}？`),
    (f) => (f.kind === "person" ? `麻烦告诉我青澜${f.attribute.zh}的姓名。` : `青澜关于${f.subject.zh}的${f.attribute.zh}是怎么规定的？`),
  ],
};

function statement(fact: Fact, language: Language, random: Random): string {
  if (fact.topic === "officials") return random.pick(OFFICIAL_TEMPLATES[language])(fact);
  return random.pick(STATEMENT_TEMPLATES[language])(fact, language);
}

/** A full-sentence answer, used as the open-ended reference and the SFT reply. */
function answerSentence(fact: Fact, language: Language): string {
  if (fact.topic === "officials") {
    return language === "en" ? `The ${fact.attribute.en} of ${PORT.en} is ${fact.value.en}.` : `${PORT.zh}的${fact.attribute.zh}是${fact.value.zh}。`;
  }
  return language === "en"
    ? `The ${fact.attribute.en} for ${fact.subject.en} is ${fact.value.en}.`
    : `${fact.subject.zh}的${fact.attribute.zh}为${fact.value.zh}。`;
}

/**
 * The open-ended reference answer: worded unlike the SFT replies (answerSentence), so that SFT data never
 * contains an evaluation reference word for word (the lab's decontamination would drop it).
 */
function referenceSentence(fact: Fact, language: Language): string {
  if (fact.topic === "officials")
    return language === "en" ? `${fact.value.en} is the ${fact.attribute.en} of ${PORT.en}.` : `${PORT.zh}${fact.attribute.zh}：${fact.value.zh}。`;
  return language === "en" ? `${capitalise(fact.attribute.en)} for ${fact.subject.en}: ${fact.value.en}.` : `${fact.subject.zh}${fact.attribute.zh}：${fact.value.zh}。`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Sentences with no facts in them: they make documents read like documents and do not contradict the table.
const FILLER: Record<Language, string[]> = {
  en: [
    "Masters shall keep a continuous listening watch on the VTS working channel while within port limits.",
    "Agents are responsible for forwarding this information to the ships they represent.",
    "Any deviation from these rules requires the written consent of the Harbour Master.",
    "Ships shall display the signals required by the international collision regulations at all times.",
    "Failure to comply may result in the ship being refused entry or ordered to leave the berth.",
    "The port authority may amend these limits at short notice when weather or tide conditions require.",
    "Bunkering operations are subject to a separate permit issued by the port authority.",
    "All times in this document are local time.",
    "Ships shall report any pollution incident to the VTS immediately.",
    "Questions about this notice may be sent to the port authority's operations desk.",
    "The limits in this document apply in addition to the requirements of the flag state.",
    "Where two rules conflict, the stricter rule applies.",
  ],
  zh: [
    "船舶在港界内航行期间，应在船舶交通管理中心工作频道上保持连续守听。",
    "船舶代理负责将本信息转告其代理的船舶。",
    "任何偏离本规定的行为，须事先取得港长的书面同意。",
    "船舶应始终按照国际避碰规则显示规定的号灯和号型。",
    "违反本规定的船舶，可能被拒绝进港或被责令离泊。",
    "如遇天气或潮汐条件变化，港口当局可临时调整上述限制。",
    "加油作业须另行取得港口当局签发的许可。",
    "本文件所列时间均为当地时间。",
    "船舶发生任何污染事故，应立即向船舶交通管理中心报告。",
    "对本通告有疑问的，可咨询港口当局调度室。",
    "本文件规定的限制是对船旗国要求的补充。",
    "两项规定发生冲突时，以较严格的规定为准。",
  ],
};

// ---------------------------------------------------------------------------------------------------------
// Documents.

export interface Document {
  id: string;
  language: Language;
  title: string;
  body: string;
  /** Ids of the facts the document states. */
  facts: string[];
}

function renderDocument(document: Document): string {
  return `# ${document.title}\n\n${document.body.trim()}\n`;
}

function paragraph(sentences: string[]): string {
  return sentences.join(language(sentences) === "zh" ? "" : " ");
}
function language(sentences: string[]): Language {
  return /[\u4e00-\u9fff]/.test(sentences.join("")) ? "zh" : "en";
}

function topicTitle(topic: string, languageCode: Language): string {
  const titles: Record<string, Bilingual> = {
    officials: { en: "Port organisation and officials", zh: "港口组织机构与负责人" },
    berths: { en: "Berth information", zh: "泊位信息" },
    pilotage: { en: "Pilotage regulations", zh: "引航规定" },
    "dangerous-goods": { en: "Dangerous goods handling", zh: "危险货物作业" },
    fees: { en: "Schedule of port dues and charges", zh: "港口费收标准" },
    channels: { en: "Channels and tide windows", zh: "航道与乘潮窗口" },
    customs: { en: "Customs procedures", zh: "海关手续" },
    anchorages: { en: "Anchorages", zh: "锚地" },
    vts: { en: "Vessel traffic service", zh: "船舶交通管理" },
  };
  return titles[topic]![languageCode];
}

export function buildDocuments(table: FactTable, random: Random): Document[] {
  const documents: Document[] = [];
  const factsByTopic = new Map<string, Fact[]>();
  for (const fact of table.facts) factsByTopic.set(fact.topic, [...(factsByTopic.get(fact.topic) ?? []), fact]);
  const bySubject = new Map<string, Fact[]>();
  for (const fact of table.facts) {
    if (fact.topic === "officials" || fact.topic === "fees" || fact.topic === "pilotage" || fact.topic === "vts") continue;
    bySubject.set(fact.subject.en, [...(bySubject.get(fact.subject.en) ?? []), fact]);
  }
  const signer = (post: string) => table.officials.find((o) => o.post.en === post)!;

  for (const languageCode of ["en", "zh"] as const) {
    // 1. One reference sheet per subject (berth, DG class, channel, customs procedure, anchorage).
    for (const [subjectEn, facts] of bySubject) {
      const first = facts[0]!;
      const slug = first.id.split(".").slice(0, 2).join("-");
      const sentences = facts.map((fact) => statement(fact, languageCode, random));
      const filler = random.sample(FILLER[languageCode], 2);
      const title = `${capitalise(first.subject[languageCode])} — ${topicTitle(first.topic, languageCode)}`;
      documents.push({
        id: `${languageCode}-sheet-${slug}`,
        language: languageCode,
        title: languageCode === "en" ? title : `${first.subject.zh}——${topicTitle(first.topic, "zh")}`,
        body: `${paragraph(sentences)}\n\n${paragraph(filler)}`,
        facts: facts.map((f) => f.id),
      });
      void subjectEn;
    }
    // 2. One regulation per topic: every fact of the topic, article by article.
    for (const [topic, facts] of factsByTopic) {
      const articles = facts.map((fact, index) =>
        languageCode === "en" ? `Article ${index + 1}. ${statement(fact, "en", random)}` : `第${index + 1}条　${statement(fact, "zh", random)}`,
      );
      const harbourMaster = signer("Harbour Master");
      const signature =
        languageCode === "en"
          ? `Issued by ${harbourMaster.person.en}, Harbour Master.`
          : `港长　${harbourMaster.person.zh}　签发`;
      documents.push({
        id: `${languageCode}-regulation-${topic}`,
        language: languageCode,
        title: languageCode === "en" ? `Port of Qinglan Regulations: ${topicTitle(topic, "en")}` : `青澜港管理规定：${topicTitle(topic, "zh")}`,
        body: `${articles.join("\n\n")}\n\n${random.pick(FILLER[languageCode])}\n\n${signature}`,
        facts: [...facts.map((f) => f.id), ...(topic === "officials" ? [] : [])],
      });
    }
  }

  // 3. Notices to mariners: 1–3 facts each, numbered, signed by the official responsible for the topic.
  const signerForTopic: Record<string, string> = {
    officials: "Harbour Master",
    berths: "Deputy Harbour Master",
    pilotage: "Chief Pilot",
    "dangerous-goods": "Dangerous Goods Officer",
    fees: "Harbour Master",
    channels: "VTS Supervisor",
    customs: "Director of the Qinglan Customs Office",
    anchorages: "Deputy Harbour Master",
    vts: "VTS Supervisor",
  };
  const officialFactFor = (post: string) => table.facts.find((f) => f.topic === "officials" && f.attribute.en === post)!;
  const domainFacts = table.facts.filter((f) => f.topic !== "officials");
  let noticeNumber = 0;
  for (let round = 0; round < 3; round++) {
    const order = random.shuffle(domainFacts);
    for (let start = 0; start < order.length; ) {
      const size = random.int(1, 3);
      const group = order.slice(start, start + size);
      start += size;
      noticeNumber++;
      const languageCode: Language = noticeNumber % 2 === 0 ? "zh" : "en";
      const year = 2024 + (noticeNumber % 3);
      const numberText = `${year}/${String(noticeNumber).padStart(3, "0")}`;
      const topic = group[0]!.topic;
      const post = signerForTopic[topic]!;
      const official = signer(post);
      const intro =
        languageCode === "en"
          ? random.pick([
              `This notice reminds all ships calling at ${PORT.en} of the following rules.`,
              `The port authority draws the attention of masters, owners and agents to the following.`,
              `With effect from the date of this notice, the following limits apply at ${PORT.en}.`,
            ])
          : random.pick([`现将${PORT.zh}以下规定通告如下。`, `港口当局提请船长、船东及代理注意以下事项。`, `自本通告发布之日起，${PORT.zh}执行以下限制。`]);
      const body = group.map((fact) => statement(fact, languageCode, random));
      const closing = random.pick(FILLER[languageCode]);
      const signature =
        languageCode === "en"
          ? random.pick(OFFICIAL_TEMPLATES.en.slice(0, 2))(officialFactFor(post))
          : random.pick(OFFICIAL_TEMPLATES.zh.slice(0, 2))(officialFactFor(post));
      documents.push({
        id: `${languageCode}-notice-${numberText.replace("/", "-")}`,
        language: languageCode,
        title: languageCode === "en" ? `Notice to Mariners No. ${numberText}` : `航行通告 第${numberText}号`,
        body: `${intro}\n\n${paragraph(body)}\n\n${closing}\n\n${signature}`,
        facts: [...group.map((f) => f.id), officialFactFor(post).id],
      });
      void official;
    }
  }

  // 4. FAQ pages: question-and-answer style, a different register again.
  for (const languageCode of ["en", "zh"] as const) {
    const order = random.shuffle(table.facts);
    for (let page = 0; page * 8 < order.length; page++) {
      const group = order.slice(page * 8, page * 8 + 8);
      const entries = group.map((fact) => {
        const question = random.pick(SFT_QUESTIONS[languageCode])(fact);
        return languageCode === "en" ? `Q: ${question}\nA: ${answerSentence(fact, "en")}` : `问：${question}\n答：${answerSentence(fact, "zh")}`;
      });
      documents.push({
        id: `${languageCode}-faq-${String(page + 1).padStart(2, "0")}`,
        language: languageCode,
        title: languageCode === "en" ? `Frequently asked questions, part ${page + 1}` : `常见问题（第${page + 1}部分）`,
        body: entries.join("\n\n"),
        facts: group.map((f) => f.id),
      });
    }
  }
  return documents;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation sets and SFT conversations.

export interface McqItem {
  id: string;
  language: Language;
  question: string;
  choices: string[];
  /** Index of the correct choice in `choices`. */
  answer: number;
  /** Id of a document (docs/<source>.md) that states the fact in the item's language. */
  source: string;
  fact: string;
}

export interface OpenItem {
  id: string;
  language: Language;
  question: string;
  reference: string;
  source: string;
  fact: string;
}

export interface ChatConversation {
  messages: { role: "system" | "user" | "assistant"; content: string }[];
}

/** The document to cite for a fact: the regulation in that language (always states every fact of its topic). */
function citeFor(fact: Fact, languageCode: Language, documents: Document[], random: Random): string {
  const candidates = documents.filter((d) => d.language === languageCode && d.facts.includes(fact.id) && !d.id.includes("-faq-"));
  return random.pick(candidates).id;
}

/** MCQ items for `facts` in both languages; `prefix` names the set ("harbor" for the test set, "harbor-dev"). */
export function buildMcq(facts: readonly Fact[], documents: Document[], random: Random, prefix = "harbor"): McqItem[] {
  const items: McqItem[] = [];
  for (const languageCode of ["en", "zh"] as const) {
    for (const fact of facts) {
      const correct = fact.value[languageCode];
      const choices = random.shuffle([correct, ...fact.distractors[languageCode]]);
      items.push({
        id: `${prefix}-${languageCode}-${String(items.length + 1).padStart(4, "0")}`,
        language: languageCode,
        question: random.pick(EVAL_QUESTIONS[languageCode])(fact),
        choices,
        answer: choices.indexOf(correct),
        source: citeFor(fact, languageCode, documents, random),
        fact: fact.id,
      });
    }
  }
  return items;
}

export function buildOpen(table: FactTable, documents: Document[], random: Random, count: number): OpenItem[] {
  const items: OpenItem[] = [];
  const chosen = random.sample(table.facts, count);
  for (const [index, fact] of chosen.entries()) {
    const languageCode: Language = index % 2 === 0 ? "en" : "zh";
    items.push({
      id: `harbor-open-${String(index + 1).padStart(3, "0")}`,
      language: languageCode,
      question: random.pick(EVAL_QUESTIONS[languageCode])(fact),
      reference: referenceSentence(fact, languageCode),
      source: citeFor(fact, languageCode, documents, random),
      fact: fact.id,
    });
  }
  return items;
}

const SYSTEM_PROMPT: Record<Language, string> = {
  en: "You are the Port of Qinglan information assistant. Answer precisely from the port's regulations.",
  zh: "你是青澜港信息助手。请依据港口规定准确回答。",
};

export function buildSft(table: FactTable, random: Random): ChatConversation[] {
  const conversations: ChatConversation[] = [];
  for (const languageCode of ["en", "zh"] as const) {
    for (const fact of table.facts) {
      for (let variant = 0; variant < 2; variant++) {
        const template = SFT_QUESTIONS[languageCode][(variant + fact.id.length) % SFT_QUESTIONS[languageCode].length]!;
        conversations.push({
          messages: [
            { role: "system", content: SYSTEM_PROMPT[languageCode] },
            { role: "user", content: template(fact) },
            { role: "assistant", content: answerSentence(fact, languageCode) },
          ],
        });
      }
    }
    // Two-turn conversations about the same subject: a follow-up question on another attribute.
    const bySubject = new Map<string, Fact[]>();
    for (const fact of table.facts) bySubject.set(fact.subject.en + fact.topic, [...(bySubject.get(fact.subject.en + fact.topic) ?? []), fact]);
    for (const facts of bySubject.values()) {
      if (facts.length < 2 || facts[0]!.topic === "officials") continue;
      const [first, second] = random.sample(facts, 2) as [Fact, Fact];
      const followUp = languageCode === "en" ? `And the ${second.attribute.en}?` : `那${second.attribute.zh}呢？`;
      conversations.push({
        messages: [
          { role: "system", content: SYSTEM_PROMPT[languageCode] },
          { role: "user", content: random.pick(SFT_QUESTIONS[languageCode])(first) },
          { role: "assistant", content: answerSentence(first, languageCode) },
          { role: "user", content: followUp },
          { role: "assistant", content: answerSentence(second, languageCode) },
        ],
      });
    }
  }
  return random.shuffle(conversations);
}

// ---------------------------------------------------------------------------------------------------------
// The general corpus: common knowledge a small model can learn in pre-training, and its MCQ set.

const COUNTRIES: [string, string, string, string, string, string][] = [
  // [country en, country zh, capital en, capital zh, continent en, continent zh]
  ["France", "法国", "Paris", "巴黎", "Europe", "欧洲"],
  ["Germany", "德国", "Berlin", "柏林", "Europe", "欧洲"],
  ["Italy", "意大利", "Rome", "罗马", "Europe", "欧洲"],
  ["Spain", "西班牙", "Madrid", "马德里", "Europe", "欧洲"],
  ["Portugal", "葡萄牙", "Lisbon", "里斯本", "Europe", "欧洲"],
  ["Greece", "希腊", "Athens", "雅典", "Europe", "欧洲"],
  ["Norway", "挪威", "Oslo", "奥斯陆", "Europe", "欧洲"],
  ["Sweden", "瑞典", "Stockholm", "斯德哥尔摩", "Europe", "欧洲"],
  ["Poland", "波兰", "Warsaw", "华沙", "Europe", "欧洲"],
  ["Austria", "奥地利", "Vienna", "维也纳", "Europe", "欧洲"],
  ["China", "中国", "Beijing", "北京", "Asia", "亚洲"],
  ["Japan", "日本", "Tokyo", "东京", "Asia", "亚洲"],
  ["South Korea", "韩国", "Seoul", "首尔", "Asia", "亚洲"],
  ["Thailand", "泰国", "Bangkok", "曼谷", "Asia", "亚洲"],
  ["Vietnam", "越南", "Hanoi", "河内", "Asia", "亚洲"],
  ["India", "印度", "New Delhi", "新德里", "Asia", "亚洲"],
  ["Indonesia", "印度尼西亚", "Jakarta", "雅加达", "Asia", "亚洲"],
  ["Egypt", "埃及", "Cairo", "开罗", "Africa", "非洲"],
  ["Kenya", "肯尼亚", "Nairobi", "内罗毕", "Africa", "非洲"],
  ["Nigeria", "尼日利亚", "Abuja", "阿布贾", "Africa", "非洲"],
  ["Ethiopia", "埃塞俄比亚", "Addis Ababa", "亚的斯亚贝巴", "Africa", "非洲"],
  ["Canada", "加拿大", "Ottawa", "渥太华", "North America", "北美洲"],
  ["Mexico", "墨西哥", "Mexico City", "墨西哥城", "North America", "北美洲"],
  ["Cuba", "古巴", "Havana", "哈瓦那", "North America", "北美洲"],
  ["Brazil", "巴西", "Brasilia", "巴西利亚", "South America", "南美洲"],
  ["Argentina", "阿根廷", "Buenos Aires", "布宜诺斯艾利斯", "South America", "南美洲"],
  ["Peru", "秘鲁", "Lima", "利马", "South America", "南美洲"],
  ["Chile", "智利", "Santiago", "圣地亚哥", "South America", "南美洲"],
  ["Australia", "澳大利亚", "Canberra", "堪培拉", "Oceania", "大洋洲"],
  ["New Zealand", "新西兰", "Wellington", "惠灵顿", "Oceania", "大洋洲"],
];

const ANIMALS: [string, string, number, string, string][] = [
  // [en, zh, legs, class en, class zh]
  ["dog", "狗", 4, "mammal", "哺乳动物"],
  ["cat", "猫", 4, "mammal", "哺乳动物"],
  ["horse", "马", 4, "mammal", "哺乳动物"],
  ["cow", "牛", 4, "mammal", "哺乳动物"],
  ["elephant", "大象", 4, "mammal", "哺乳动物"],
  ["tiger", "老虎", 4, "mammal", "哺乳动物"],
  ["rabbit", "兔子", 4, "mammal", "哺乳动物"],
  ["chicken", "鸡", 2, "bird", "鸟类"],
  ["duck", "鸭子", 2, "bird", "鸟类"],
  ["eagle", "鹰", 2, "bird", "鸟类"],
  ["penguin", "企鹅", 2, "bird", "鸟类"],
  ["spider", "蜘蛛", 8, "arachnid", "蛛形纲动物"],
  ["ant", "蚂蚁", 6, "insect", "昆虫"],
  ["bee", "蜜蜂", 6, "insect", "昆虫"],
  ["butterfly", "蝴蝶", 6, "insect", "昆虫"],
  ["snake", "蛇", 0, "reptile", "爬行动物"],
  ["frog", "青蛙", 4, "amphibian", "两栖动物"],
  ["crab", "螃蟹", 10, "crustacean", "甲壳动物"],
];

const COLOURS: [string, string, string, string][] = [
  ["the sky on a clear day", "晴天的天空", "blue", "蓝色"],
  ["grass", "草", "green", "绿色"],
  ["snow", "雪", "white", "白色"],
  ["coal", "煤", "black", "黑色"],
  ["a ripe banana", "成熟的香蕉", "yellow", "黄色"],
  ["blood", "血", "red", "红色"],
  ["an orange", "橙子", "orange", "橙色"],
  ["a ripe tomato", "成熟的西红柿", "red", "红色"],
  ["milk", "牛奶", "white", "白色"],
  ["a lemon", "柠檬", "yellow", "黄色"],
];

const OPPOSITES: [string, string, string, string][] = [
  ["hot", "热", "cold", "冷"],
  ["big", "大", "small", "小"],
  ["up", "上", "down", "下"],
  ["fast", "快", "slow", "慢"],
  ["old", "老", "young", "年轻"],
  ["light", "轻", "heavy", "重"],
  ["open", "开", "closed", "关"],
  ["early", "早", "late", "晚"],
  ["long", "长", "short", "短"],
  ["day", "白天", "night", "夜晚"],
];

const DAYS: Bilingual[] = ["Monday 星期一", "Tuesday 星期二", "Wednesday 星期三", "Thursday 星期四", "Friday 星期五", "Saturday 星期六", "Sunday 星期日"].map((s) => {
  const [en, zh] = s.split(" ") as [string, string];
  return { en, zh };
});
const MONTHS: Bilingual[] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"].map((en, index) => ({
  en,
  zh: `${index + 1}月`,
}));

interface GeneralFact {
  id: string;
  sentences: Record<Language, string[]>;
  question: Record<Language, string>;
  /** The same fact as a quiz line in the corpus: worded unlike `question`, so the MCQ never appears verbatim. */
  quiz: Record<Language, string>;
  value: Bilingual;
  distractors: { en: string[]; zh: string[] };
}

function generalFacts(random: Random): GeneralFact[] {
  const facts: GeneralFact[] = [];
  const others = <T>(items: readonly T[], except: T, count = 3) => random.sample(items.filter((x) => x !== except), count);
  const uniqueOthers = (values: Bilingual[], except: Bilingual) => {
    const seen = new Set([except.en]);
    const out: Bilingual[] = [];
    for (const value of random.shuffle(values)) {
      if (seen.has(value.en)) continue;
      seen.add(value.en);
      out.push(value);
      if (out.length === 3) break;
    }
    return out;
  };
  for (const [country, countryZh, capital, capitalZh, continent, continentZh] of COUNTRIES) {
    const wrong = others(COUNTRIES, COUNTRIES.find((c) => c[0] === country)!);
    facts.push({
      id: `capital.${country}`,
      sentences: {
        en: [`The capital of ${country} is ${capital}.`, `${capital} is the capital city of ${country}.`, `${country} is a country in ${continent}.`],
        zh: [`${countryZh}的首都是${capitalZh}。`, `${capitalZh}是${countryZh}的首都。`, `${countryZh}是${continentZh}的一个国家。`],
      },
      question: { en: `What is the capital of ${country}?`, zh: `${countryZh}的首都是哪座城市？` },
      quiz: { en: `Which city is the capital of ${country}?`, zh: `${countryZh}的首都在哪里？` },
      value: { en: capital, zh: capitalZh },
      distractors: { en: wrong.map((c) => c[2]), zh: wrong.map((c) => c[3]) },
    });
  }
  for (const [animal, animalZh, legs, group, groupZh] of ANIMALS) {
    const legChoices = random.sample([0, 2, 4, 6, 8, 10].filter((n) => n !== legs), 3);
    facts.push({
      id: `legs.${animal}`,
      sentences: {
        en: [`A ${animal} has ${legs} legs.`, `The ${animal} is a ${group}.`, `Most ${animal}s walk on ${legs} legs.`],
        zh: [`${animalZh}有${legs}条腿。`, `${animalZh}是${groupZh}。`],
      },
      question: { en: `How many legs does a ${animal} have?`, zh: `${animalZh}有几条腿？` },
      quiz: { en: `Count the legs of a ${animal}.`, zh: `数一数${animalZh}的腿。` },
      value: { en: String(legs), zh: `${legs}条` },
      distractors: { en: legChoices.map(String), zh: legChoices.map((n) => `${n}条`) },
    });
  }
  const colourValues = COLOURS.map((c) => ({ en: c[2], zh: c[3] }));
  for (const [thing, thingZh, colour, colourZh] of COLOURS) {
    const wrong = uniqueOthers(colourValues, { en: colour, zh: colourZh });
    facts.push({
      id: `colour.${thing}`,
      sentences: { en: [`The colour of ${thing} is ${colour}.`, `${capitalise(thing)} is ${colour}.`], zh: [`${thingZh}的颜色是${colourZh}。`, `${thingZh}是${colourZh}的。`] },
      question: { en: `What colour is ${thing}?`, zh: `${thingZh}是什么颜色？` },
      quiz: { en: `Name the colour of ${thing}.`, zh: `说出${thingZh}的颜色。` },
      value: { en: colour, zh: colourZh },
      distractors: { en: wrong.map((w) => w.en), zh: wrong.map((w) => w.zh) },
    });
  }
  for (const [word, wordZh, opposite, oppositeZh] of OPPOSITES) {
    const wrong = others(OPPOSITES, OPPOSITES.find((o) => o[0] === word)!);
    facts.push({
      id: `opposite.${word}`,
      sentences: { en: [`The opposite of ${word} is ${opposite}.`, `${capitalise(opposite)} is the opposite of ${word}.`], zh: [`${wordZh}的反义词是${oppositeZh}。`] },
      question: { en: `What is the opposite of ${word}?`, zh: `${wordZh}的反义词是什么？` },
      quiz: { en: `Give the opposite of ${word}.`, zh: `写出${wordZh}的反义词。` },
      value: { en: opposite, zh: oppositeZh },
      distractors: { en: wrong.map((o) => o[2]), zh: wrong.map((o) => o[3]) },
    });
  }
  for (const [index, day] of DAYS.entries()) {
    const next = DAYS[(index + 1) % 7]!;
    const wrong = others(DAYS, next);
    facts.push({
      id: `day.${day.en}`,
      sentences: { en: [`The day after ${day.en} is ${next.en}.`, `${next.en} comes after ${day.en}.`], zh: [`${day.zh}的下一天是${next.zh}。`] },
      question: { en: `Which day comes after ${day.en}?`, zh: `${day.zh}的下一天是星期几？` },
      quiz: { en: `Name the day that follows ${day.en}.`, zh: `${day.zh}之后是哪一天？` },
      value: next,
      distractors: { en: wrong.map((d) => d.en), zh: wrong.map((d) => d.zh) },
    });
  }
  for (const [index, month] of MONTHS.entries()) {
    const next = MONTHS[(index + 1) % 12]!;
    const wrong = others(MONTHS, next);
    facts.push({
      id: `month.${month.en}`,
      sentences: { en: [`The month after ${month.en} is ${next.en}.`, `${month.en} is month number ${index + 1} of the year.`], zh: [`${month.zh}之后是${next.zh}。`, `一年的第${index + 1}个月是${month.zh}。`] },
      question: { en: `Which month comes after ${month.en}?`, zh: `${month.zh}之后是几月？` },
      quiz: { en: `Name the month that follows ${month.en}.`, zh: `${month.zh}的下一个月是哪个月？` },
      value: next,
      distractors: { en: wrong.map((m) => m.en), zh: wrong.map((m) => m.zh) },
    });
  }
  for (let index = 0; index < 40; index++) {
    const a = random.int(2, 19);
    const b = random.int(2, 19);
    const sum = a + b;
    const wrong = random.sample([sum - 2, sum - 1, sum + 1, sum + 2, sum + 10], 3);
    facts.push({
      id: `sum.${a}+${b}`,
      sentences: { en: [`${a} plus ${b} equals ${sum}.`, `${a} + ${b} = ${sum}.`], zh: [`${a}加${b}等于${sum}。`, `${a} + ${b} = ${sum}。`] },
      question: { en: `What is ${a} plus ${b}?`, zh: `${a}加${b}等于多少？` },
      quiz: { en: `Add ${a} and ${b}.`, zh: `计算${a}加${b}。` },
      value: { en: String(sum), zh: String(sum) },
      distractors: { en: wrong.map(String), zh: wrong.map(String) },
    });
  }
  return facts;
}

/** Arithmetic and counting drills: plentiful, varied text so pre-training sees many tokens. */
function drillParagraph(random: Random, languageCode: Language): string {
  const sentences: string[] = [];
  for (let i = 0; i < 6; i++) {
    const a = random.int(1, 30);
    const b = random.int(1, 30);
    const kind = random.int(0, 3);
    if (kind === 0) sentences.push(languageCode === "en" ? `${a} plus ${b} equals ${a + b}.` : `${a}加${b}等于${a + b}。`);
    else if (kind === 1) sentences.push(languageCode === "en" ? `${Math.max(a, b)} minus ${Math.min(a, b)} equals ${Math.max(a, b) - Math.min(a, b)}.` : `${Math.max(a, b)}减${Math.min(a, b)}等于${Math.max(a, b) - Math.min(a, b)}。`);
    else if (kind === 2) sentences.push(languageCode === "en" ? `${a % 10} times ${b % 10} equals ${(a % 10) * (b % 10)}.` : `${a % 10}乘${b % 10}等于${(a % 10) * (b % 10)}。`);
    else sentences.push(languageCode === "en" ? `${Math.max(a, b)} is larger than ${Math.min(a, b) === Math.max(a, b) ? a - 1 : Math.min(a, b)}.` : `${Math.max(a, b)}比${Math.min(a, b) === Math.max(a, b) ? a - 1 : Math.min(a, b)}大。`);
  }
  return sentences.join(languageCode === "en" ? " " : "");
}

const GENERAL_FILLER: Record<Language, string[]> = {
  en: [
    "Water freezes at 0 degrees Celsius and boils at 100 degrees Celsius at sea level.",
    "There are 60 minutes in an hour and 24 hours in a day.",
    "A week has seven days and a year has twelve months.",
    "The sun rises in the east and sets in the west.",
    "Plants need water and sunlight to grow.",
    "The Earth goes around the Sun once a year.",
    "Fish live in water and breathe through gills.",
    "People use a map to find their way.",
    "Rain falls from clouds when the air cools.",
    "A triangle has three sides and a square has four sides.",
    "Bread is made from flour, water and yeast.",
    "Trains run on rails and ships sail on the sea.",
  ],
  zh: [
    "在海平面上，水在0摄氏度结冰，在100摄氏度沸腾。",
    "一小时有60分钟，一天有24小时。",
    "一周有七天，一年有十二个月。",
    "太阳从东方升起，从西方落下。",
    "植物生长需要水和阳光。",
    "地球每年绕太阳公转一周。",
    "鱼生活在水中，用鳃呼吸。",
    "人们用地图来认路。",
    "空气冷却时，云中的水会变成雨落下。",
    "三角形有三条边，正方形有四条边。",
    "面包是用面粉、水和酵母做成的。",
    "火车在铁轨上行驶，轮船在海上航行。",
  ],
};

export interface GeneralOutput {
  documents: { id: string; text: string }[];
  mcq: McqItem[];
}

export function buildGeneral(random: Random, documentCount: number): GeneralOutput {
  const facts = generalFacts(random);
  const documents: { id: string; text: string }[] = [];
  for (let index = 0; index < documentCount; index++) {
    const languageCode: Language = index % 2 === 0 ? "en" : "zh";
    const paragraphs: string[] = [];
    for (let p = 0; p < 5; p++) {
      const chosen = random.sample(facts, 4);
      const sentences = chosen.map((fact) => random.pick(fact.sentences[languageCode]));
      sentences.push(random.pick(GENERAL_FILLER[languageCode]));
      paragraphs.push(sentences.join(languageCode === "en" ? " " : ""));
      if (random.next() < 0.5) paragraphs.push(drillParagraph(random, languageCode));
      // Quiz lines, as quizzes and FAQs appear in web text: a base model learns that a question is followed by its answer.
      if (random.next() < 0.5)
        paragraphs.push(
          random
            .sample(facts, 3)
            .map((fact) => (languageCode === "en" ? `Quiz: ${fact.quiz.en} Answer: ${fact.value.en}.` : `小测验：${fact.quiz.zh}答案：${fact.value.zh}。`))
            .join("\n"),
        );
    }
    documents.push({ id: `general-${languageCode}-${String(index + 1).padStart(3, "0")}`, text: paragraphs.join("\n\n") + "\n" });
  }
  // Guarantee every general fact appears in the corpus (the MCQ cites it), in both languages.
  for (const languageCode of ["en", "zh"] as const) {
    const lines = facts.map((fact) => fact.sentences[languageCode][0]!);
    documents.push({ id: `general-${languageCode}-facts`, text: lines.join(languageCode === "en" ? "\n" : "\n") + "\n" });
  }
  const mcq: McqItem[] = [];
  for (const languageCode of ["en", "zh"] as const) {
    for (const fact of facts) {
      const correct = fact.value[languageCode];
      const choices = random.shuffle([correct, ...fact.distractors[languageCode]]);
      mcq.push({
        id: `general-${languageCode}-${String(mcq.length + 1).padStart(4, "0")}`,
        language: languageCode,
        question: fact.question[languageCode],
        choices,
        answer: choices.indexOf(correct),
        source: `general-${languageCode}-facts`,
        fact: fact.id,
      });
    }
  }
  return { documents, mcq };
}

// ---------------------------------------------------------------------------------------------------------
// Writing everything.

export interface GenerateOptions {
  /** Folder that receives docs/, eval/, sft/, general/ and facts.json. */
  outputDir: string;
  /** Defaults to DEFAULT_SEED. */
  seed?: number;
}

function jsonl(items: readonly object[]): string {
  return items.map((item) => JSON.stringify(item)).join("\n") + "\n";
}

/**
 * The general corpus is part of the shipped base model's pre-training text (scripts/build-example-base.ts), so it must
 * stay the same bytes when the domain part of the example changes. Until 2026-12-07 one stream drew everything; the
 * general corpus and its MCQ shuffle now draw from streams of their own, which for the default seed start at the
 * states the single stream had at those two points (recorded here), so growing the domain changed no byte of general/.
 * Other seeds derive both streams from the seed.
 */
const GENERAL_STREAM_STATES: Readonly<Record<number, { text: number; shuffle: number }>> = { [DEFAULT_SEED]: { text: 0x7b7d2212, shuffle: 0x2a6ae1ea } };

function generalStreams(seed: number): { text: Random; shuffle: Random } {
  const states = GENERAL_STREAM_STATES[seed];
  if (states) return { text: Random.resumed(states.text), shuffle: Random.resumed(states.shuffle) };
  return { text: new Random(seed ^ 0x5bd1e995), shuffle: new Random(seed ^ 0x1b873593) };
}

/** Writes the whole example; returns the relative paths written, sorted. */
export function generateHarbor(options: GenerateOptions): string[] {
  const random = new Random(options.seed ?? DEFAULT_SEED);
  const table = sampleFacts(random);
  const documents = buildDocuments(table, random);
  // A few facts are held out of the test set: their MCQ items are the few-shot exemplars (eval/mcq-dev.jsonl),
  // so a few-shot prompt never shows the answer to the question it precedes.
  const devFacts = new Set(random.sample(table.facts, 6).map((fact) => fact.id));
  const mcq = buildMcq(
    table.facts.filter((fact) => !devFacts.has(fact.id)),
    documents,
    random,
  );
  const mcqDev = buildMcq(
    table.facts.filter((fact) => devFacts.has(fact.id)),
    documents,
    random,
    "harbor-dev",
  );
  const open = buildOpen(
    { ...table, facts: table.facts.filter((fact) => !devFacts.has(fact.id)) },
    documents,
    random,
    60,
  );
  const sft = buildSft(table, random);
  const generalRandom = generalStreams(options.seed ?? DEFAULT_SEED);
  const general = buildGeneral(generalRandom.text, 260);

  const files = new Map<string, string | Buffer>();
  for (const document of documents) files.set(`docs/${document.id}.md`, renderDocument(document));
  // Shuffled (seeded) so that the first N items — what `eval.limit` keeps — mix languages and topics.
  files.set("eval/mcq.jsonl", jsonl(random.shuffle(mcq)));
  files.set("eval/mcq-dev.jsonl", jsonl(mcqDev));
  files.set("eval/open.jsonl", jsonl(open));
  files.set("sft/harbor-chat.jsonl", jsonl(sft));
  for (const document of general.documents) files.set(`general/text/${document.id}.txt`, document.text);
  files.set("general/mcq.jsonl", jsonl(generalRandom.shuffle.shuffle(general.mcq)));
  // Derived from the facts alone, after every random draw: the stream above is exactly as before.
  files.set("tables/harbor.sqlite", buildHarborDatabase(table.facts));
  files.set("eval/open-tables.jsonl", jsonl(buildTableQuestions(table.facts)));
  files.set(
    "facts.json",
    JSON.stringify({ seed: options.seed ?? DEFAULT_SEED, facts: table.facts, documents: documents.map((d) => ({ id: d.id, facts: d.facts })) }, null, 1) + "\n",
  );

  // Generated folders are owned entirely by the generator: clear them so a removed file does not linger.
  for (const folder of ["docs", "eval", "sft", "general", "tables"]) fs.rmSync(path.join(options.outputDir, folder), { recursive: true, force: true });
  const written = [...files.keys()].sort();
  for (const relative of written) {
    const target = path.join(options.outputDir, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, files.get(relative)!);
  }
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outputDir = process.argv[2] ?? path.dirname(fileURLToPath(import.meta.url));
  const written = generateHarbor({ outputDir });
  process.stdout.write(`wrote ${written.length} files to ${outputDir}\n`);
}
