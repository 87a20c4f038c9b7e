import { SeededRandom } from "../shared/seededRandom.js";

/**
 * Generated prose for tests and benchmarks: English from a word list, Chinese from a character
 * list, both random enough that two independent documents share almost no 5-grams.
 */
const englishWords = (
  "harbor vessel pilot tide berth cargo crane channel anchor dock ship tug mooring line customs manifest container " +
  "freight terminal quay buoy lighthouse dredge draft hull bow stern deck crew captain engine rudder propeller " +
  "navigation chart beacon signal radio weather storm wave current wind fog season schedule arrival departure " +
  "inspection permit fee toll tariff warehouse storage yard gate truck rail barge ferry passenger fishing port " +
  "authority master officer inspector surveyor agent broker insurer owner charter contract bill lading invoice " +
  "the a of and to in is was for on with as by at from that this which it be are were has have had not but or"
).split(" ");
const chineseCharacters = "港口船舶引航潮汐泊位货物起重机航道锚地码头拖船系泊缆绳海关舱单集装箱运费码头浮标灯塔疏浚吃水船体船首船尾甲板船员船长引擎舵螺旋桨导航海图信标信号无线电天气风暴波浪洋流风雾季节时间表到达离开检查许可费用关税仓库堆场闸门卡车铁路驳船渡轮乘客渔业当局主管官员检验代理经纪保险船东租约提单发票的了是在和有为与对从上下中大小新旧多少年月日".split("");

export function englishText(random: SeededRandom, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    let word = random.pick(englishWords);
    if (i % 14 === 0) word = word[0]!.toUpperCase() + word.slice(1);
    out.push(i % 14 === 13 ? `${word}.` : word);
  }
  return `${out.join(" ")}.`;
}

export function chineseText(random: SeededRandom, characters: number): string {
  let out = "";
  for (let i = 0; i < characters; i++) out += i % 24 === 23 ? "。" : random.pick(chineseCharacters);
  return `${out}。`;
}

/** A copy of `text` with `edits` random single-unit edits (replace, insert or delete a word / character). */
export function editedCopy(random: SeededRandom, text: string, edits: number, chinese: boolean): string {
  const units = chinese ? [...text] : text.split(" ");
  for (let e = 0; e < edits; e++) {
    const at = random.int(units.length);
    const filler = chinese ? random.pick(chineseCharacters) : random.pick(englishWords);
    const op = random.int(3);
    if (op === 0) units[at] = filler;
    else if (op === 1) units.splice(at, 0, filler);
    else if (units.length > 1) units.splice(at, 1);
  }
  return chinese ? units.join("") : units.join(" ");
}
