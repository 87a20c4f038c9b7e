/**
 * The self-contained HTML report: one file, inline CSS and SVG, no script, no external font or
 * image; a Content-Security-Policy forbids any fetch, so opening it never touches the network.
 * Every number cell carries data-system / data-set / data-metric / data-value (the exact value
 * from the results), so tests and tools can read the report back.
 */
import { describeEmptyAnswers } from "../open/runOpenEval.js";
import type { ReportModel, ReportSection } from "./reportModel.js";
import { cellOf } from "./reportModel.js";
import {
  escapeXml as escape,
  groupedBarChart,
  horizontalIntervalChart,
  palette,
  type IntervalRow,
} from "./svgCharts.js";
import {
  formatCount,
  formatExtra,
  formatInterval,
  formatPercent,
  formatPointInterval,
  formatPoints,
  formatScore,
  formatSeconds,
} from "./format.js";

function data(attributes: Record<string, string | number | null | undefined>): string {
  return Object.entries(attributes)
    .filter(([, v]) => v !== null && v !== undefined && !(typeof v === "number" && Number.isNaN(v)))
    .map(([k, v]) => ` data-${k}="${escape(String(v))}"`)
    .join("");
}

const style = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;max-width:1100px;margin:24px auto;padding:0 20px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:16px;margin:20px 0 6px}
.meta{color:#555;font-size:13px}.note{color:#555;font-size:13px;max-width:80ch}
table{border-collapse:collapse;margin:8px 0 12px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #ddd;padding:5px 9px;text-align:right;vertical-align:top}th{background:#f5f5f7;font-weight:600}
td:first-child,th:first-child,td.text,th.text{text-align:left}.ci{color:#666;font-size:12px;display:block}
.up{color:#0a7d32}.down{color:#b3261e}.base{font-weight:600}.general{font-size:11px;color:#8a5a00;background:#fff3d6;border-radius:3px;padding:0 4px;margin-left:4px}
.warn{background:#fff3d6;border:1px solid #e6c770;padding:8px 12px;border-radius:4px}
figure{margin:10px 0 18px;overflow-x:auto}figcaption{font-size:13px;color:#555}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;vertical-align:baseline}
code{font-size:13px;background:#f5f5f7;padding:1px 4px;border-radius:3px}
`;

function deltaClass(value: number | undefined): string {
  if (value === undefined || Math.abs(value) < 0.0005) return "";
  return value > 0 ? "up" : "down";
}

function systemLabel(model: ReportModel, name: string): string {
  const index = model.systems.findIndex((s) => s.name === name);
  const swatch = `<span class="swatch" style="background:${palette[index % palette.length]}"></span>`;
  return `${swatch}<span${name === model.base ? ' class="base"' : ""}>${escape(name)}</span>${name === model.base ? " (base)" : ""}`;
}

function accuracySection(model: ReportModel): string {
  if (model.mcqSets.length === 0) return "";
  const header = model.mcqSets
    .map((s) => `<th>${escape(s.name)}${s.general ? '<span class="general">general</span>' : ""}</th>`)
    .join("");
  const rows = model.systems
    .map((system) => {
      const cells = model.mcqSets
        .map((set) => {
          const cell = cellOf(model, system.name, set.name);
          if (!cell || !cell.accuracy) return `<td>–</td>`;
          const acc = cell.accuracy;
          const delta = cell.delta
            ? `<span class="ci ${deltaClass(cell.delta.value)}"${data({ system: system.name, set: set.name, metric: "delta", value: cell.delta.value, low: cell.delta.ci95?.[0], high: cell.delta.ci95?.[1] })}>${formatPoints(cell.delta.value)}${cell.delta.ci95 ? ` [${formatPointInterval(cell.delta.ci95)}]` : ""}</span>`
            : "";
          return (
            `<td><span${data({ system: system.name, set: set.name, metric: "accuracy", value: acc.value, low: acc.ci95[0], high: acc.ci95[1], n: cell.n })}>${formatPercent(acc.value)}</span>` +
            `<span class="ci">${formatInterval(acc.ci95)}${cell.status !== "complete" ? ` · ${escape(cell.status)} ${cell.n}/${cell.total}` : ""}</span>${delta}</td>`
          );
        })
        .join("");
      return `<tr><td>${systemLabel(model, system.name)}</td>${cells}</tr>`;
    })
    .join("");
  const bars = model.cells
    .filter((c) => c.accuracy)
    .map((c) => ({
      group: c.set,
      series: c.system,
      value: c.accuracy!.value,
      low: c.accuracy!.ci95[0],
      high: c.accuracy!.ci95[1],
      label: formatPercent(c.accuracy!.value),
    }));
  const chart = groupedBarChart(bars, {
    title: "Accuracy per system and set, with 95% intervals",
    series: model.systems.map((s) => s.name),
    groups: model.mcqSets.map((s) => s.name),
  });
  const norm = model.cells.some((c) => c.accuracyNorm);
  const normTable = norm
    ? `<h3>acc_norm (length-normalised option log-likelihood)</h3><table><thead><tr><th>System</th>${header}</tr></thead><tbody>${model.systems
        .map(
          (system) =>
            `<tr><td>${systemLabel(model, system.name)}</td>${model.mcqSets
              .map((set) => {
                const cell = cellOf(model, system.name, set.name);
                return cell?.accuracyNorm
                  ? `<td><span${data({ system: system.name, set: set.name, metric: "accuracyNorm", value: cell.accuracyNorm.value })}>${formatPercent(cell.accuracyNorm.value)}</span><span class="ci">${formatInterval(cell.accuracyNorm.ci95)}</span></td>`
                  : "<td>–</td>";
              })
              .join("")}</tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  return (
    `<section id="accuracy"><h2>Multiple-choice accuracy</h2>` +
    `<p class="note">Accuracy with its bootstrap 95% interval; below it the change against the base system in percentage points, with a paired bootstrap interval over the items both systems answered.</p>` +
    `<figure>${chart}<figcaption>Bars: accuracy; whiskers: 95% interval.</figcaption></figure>` +
    `<table id="accuracy-table"><thead><tr><th>System</th>${header}</tr></thead><tbody>${rows}</tbody></table>${normTable}</section>`
  );
}

function deltaSection(model: ReportModel): string {
  const deltas = model.cells
    .filter((c) => c.delta)
    .sort((x, y) => x.set.localeCompare(y.set) || x.system.localeCompare(y.system));
  if (deltas.length === 0) return "";
  const general = new Set(model.mcqSets.filter((s) => s.general).map((s) => s.name));
  const rows: IntervalRow[] = deltas.map((c) => ({
    label: `${c.system} · ${c.set}${general.has(c.set) ? " (general)" : ""}`,
    value: c.delta!.value,
    ...(c.delta!.ci95 ? { low: c.delta!.ci95[0], high: c.delta!.ci95[1] } : {}),
    text: formatPoints(c.delta!.value),
    color: c.delta!.value >= 0 ? "#009E73" : "#D55E00",
  }));
  const chart = horizontalIntervalChart(rows, {
    title: `Change in accuracy against ${model.base}`,
    reference: 0,
    tick: (v) => `${v > 0 ? "+" : ""}${Number((v * 100).toFixed(1))} pp`,
  });
  const forgetting = model.forgetting.length
    ? `<h3>Forgetting (general sets)</h3><p class="note">A negative change on a general set is general ability the specialisation cost.</p><table id="forgetting-table"><thead><tr><th>System</th><th>Set</th><th>Base</th><th>System</th><th>Change</th><th>95% interval</th><th>Items</th></tr></thead><tbody>${model.forgetting
        .map(
          (f) =>
            `<tr><td>${systemLabel(model, f.system)}</td><td>${escape(f.set)}</td><td>${formatPercent(f.baseScore)}</td><td>${formatPercent(f.score)}</td>` +
            `<td class="${deltaClass(f.delta)}"${data({ system: f.system, set: f.set, metric: "forgetting", value: f.delta })}>${formatPoints(f.delta)}</td><td>${f.ci95 ? formatPointInterval(f.ci95) : "–"}</td><td>${f.n}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  return `<section id="deltas"><h2>Change against the base (${escape(model.base)})</h2><figure>${chart}<figcaption>Bars: accuracy change in percentage points; whiskers: paired 95% interval.</figcaption></figure>${forgetting}</section>`;
}

function openSection(model: ReportModel): string {
  if (model.open.length === 0) return "";
  const parts = model.open.map((result) => {
    const winRates = new Map(result.winRates.map((w) => [w.system, w]));
    const bt = new Map(result.bradleyTerry.map((b) => [b.system, b]));
    const rows = result.systems
      .map((s) => {
        const win = winRates.get(s.system);
        const rating = bt.get(s.system);
        const cell = (metric: string, value: number | undefined, text: string) =>
          `<td${data({ system: s.system, set: result.set, metric, value })}>${text}</td>`;
        return (
          `<tr><td>${systemLabel(model, s.system)}</td>` +
          cell("rougeL", s.rougeL, formatScore(s.rougeL)) +
          cell("charF1", s.charF1, formatScore(s.charF1)) +
          cell(
            "judgeRating",
            s.judgeRating,
            s.judgeRating === undefined
              ? "–"
              : `${formatScore(s.judgeRating, 2)}<span class="ci">${s.ratedCount} rated</span>`,
          ) +
          cell(
            "winRate",
            win?.winRate,
            win
              ? `${formatPercent(win.winRate)}<span class="ci">${win.wins} W · ${win.ties} T · ${win.losses} L</span>`
              : "–",
          ) +
          cell(
            "bradleyTerry",
            rating?.rating,
            rating
              ? `${rating.rating.toFixed(0)}<span class="ci">${rating.low.toFixed(0)}–${rating.high.toFixed(0)}</span>`
              : "–",
          ) +
          `</tr>`
        );
      })
      .join("");
    const ranking = result.bradleyTerry.length
      ? `<figure>${horizontalIntervalChart(
          [...result.bradleyTerry]
            .sort((x, y) => y.rating - x.rating)
            .map((r) => ({
              label: r.system,
              value: r.rating,
              low: r.low,
              high: r.high,
              text: r.rating.toFixed(0),
              color:
                palette[
                  Math.max(
                    0,
                    model.systems.findIndex((s) => s.name === r.system),
                  ) % palette.length
                ]!,
            })),
          { title: `Bradley–Terry ratings on ${result.set}`, reference: 1000, tick: (v) => v.toFixed(0) },
        )}<figcaption>Bradley–Terry rating (Elo scale, 1000 = average) from the judge's pairwise verdicts; whiskers: bootstrap 95% interval.</figcaption></figure>`
      : "";
    const consistency =
      result.judgeConsistency === undefined
        ? ""
        : ` The judge agreed with itself across both answer orders in ${formatPercent(result.judgeConsistency)} of comparisons (inconsistent ones count as ties).`;
    return (
      `<h3>${escape(result.set)}</h3><p class="note">${result.questions} questions, ${result.withReferences} with reference answers${result.judge ? `; judge <code>${escape(result.judge)}</code>` : ""}.${consistency}</p>${describeEmptyAnswers(result) ? `<p class="warn">${escape(describeEmptyAnswers(result))}</p>` : ""}` +
      `<table class="open-table"><thead><tr><th>System</th><th>ROUGE-L</th><th>Char F1</th><th>Judge 1–10</th><th>Win rate</th><th>Bradley–Terry</th></tr></thead><tbody>${rows}</tbody></table>${ranking}`
    );
  });
  return `<section id="open"><h2>Open-ended answers</h2><p class="note">ROUGE-L and F1 against the reference answers (Chinese by character, English by word). Win rate counts a tie as half a win.</p>${parts.join("")}</section>`;
}

function humanSection(model: ReportModel): string {
  const human = model.human;
  if (!human) return "";
  const bt = new Map(human.bradleyTerry.map((b) => [b.system, b]));
  const rows = human.winRates
    .map((w) => {
      const rating = bt.get(w.system);
      return (
        `<tr><td>${systemLabel(model, w.system)}</td>` +
        `<td${data({ system: w.system, metric: "human:winRate", value: w.winRate })}>${formatPercent(w.winRate)}<span class="ci">${w.wins} W · ${w.ties} T · ${w.losses} L</span></td>` +
        `<td${data({ system: w.system, metric: "human:bradleyTerry", value: rating?.rating })}>${rating ? `${rating.rating.toFixed(0)}<span class="ci">${rating.low.toFixed(0)}–${rating.high.toFixed(0)}</span>` : "–"}</td></tr>`
      );
    })
    .join("");
  const agreement = human.agreement.length
    ? `<h3>Agreement between raters</h3><table><thead><tr><th>Raters</th><th>Kind</th><th>Shared</th><th>Cohen's κ</th><th>Weighted κ</th><th>Spearman</th></tr></thead><tbody>${human.agreement
        .map(
          (a) =>
            `<tr><td>${escape(a.raterA)} · ${escape(a.raterB)}</td><td>${a.kind}</td><td>${a.n}</td><td>${formatScore(a.kappa, 2)}</td><td>${formatScore(a.weightedKappa, 2)}</td><td>${formatScore(a.spearman, 2)}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  return `<section id="human"><h2>Human ratings</h2><p class="note">${human.comparisons} blind pairwise judgements by people; a tie counts as half a win.</p><table><thead><tr><th>System</th><th>Win rate</th><th>Bradley–Terry</th></tr></thead><tbody>${rows}</tbody></table>${agreement}</section>`;
}

function costSection(model: ReportModel): string {
  const extraHeaders = model.extraColumns.map((c) => `<th>${escape(c.header)}</th>`).join("");
  const rows = model.costs
    .map(
      (c) =>
        `<tr><td>${systemLabel(model, c.system)}</td>` +
        `<td${data({ system: c.system, metric: "promptTokens", value: c.promptTokens })}>${formatCount(c.promptTokens)}</td>` +
        `<td${data({ system: c.system, metric: "completionTokens", value: c.completionTokens })}>${formatCount(c.completionTokens)}</td>` +
        `<td${data({ system: c.system, metric: "wallSeconds", value: c.wallSeconds })}>${formatSeconds(c.wallSeconds)}</td>` +
        `<td${data({ system: c.system, metric: "trainingTokens", value: c.trainingTokens })}>${formatCount(c.trainingTokens)}</td>` +
        `<td${data({ system: c.system, metric: "trainingSeconds", value: c.trainingSeconds })}>${formatSeconds(c.trainingSeconds)}</td>` +
        c.extra
          .map(
            (v, i) =>
              `<td${data({ system: c.system, metric: `extra:${model.extraColumns[i]!.header}`, value: v })}>${escape(formatExtra(v, model.extraColumns[i]!.unit))}</td>`,
          )
          .join("") +
        `</tr>`,
    )
    .join("");
  return (
    `<section id="cost"><h2>Cost</h2><p class="note">Evaluation tokens and wall time summed over all sets; training figures where the run recorded them.</p>` +
    `<table id="cost-table"><thead><tr><th>System</th><th>Eval prompt tokens</th><th>Eval completion tokens</th><th>Eval wall time</th><th>Training tokens</th><th>Training time</th>${extraHeaders}</tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

function systemsSection(model: ReportModel): string {
  const rows = model.systems
    .map((s) => {
      const cells = model.cells.filter((c) => c.system === s.name);
      const shots = [...new Set(cells.map((c) => c.shots))].join(", ") || "–";
      return (
        `<tr><td>${systemLabel(model, s.name)}</td><td class="text">${escape(s.backend ?? "–")}</td><td class="text">${escape(s.model ?? "–")}</td>` +
        `<td class="text">${s.adapters?.length ? s.adapters.map((a) => `${escape(a.path)} ×${a.scale}`).join("<br>") : "–"}</td>` +
        `<td>${escape(s.scoring ?? "–")}</td><td>${s.templateApplied ? "applied" : "none"}</td><td>${shots}</td></tr>`
      );
    })
    .join("");
  return `<section id="systems"><h2>Systems</h2><table><thead><tr><th>System</th><th class="text">Backend</th><th class="text">Model</th><th class="text">Adapters</th><th>Scoring</th><th>Chat template</th><th>Shots</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function customSection(section: ReportSection): string {
  const blocks = section.blocks.map((block) => {
    if (block.kind === "paragraph") return `<p>${escape(block.text)}</p>`;
    if (block.kind === "list") return `<ul>${block.items.map((item) => `<li>${escape(item)}</li>`).join("")}</ul>`;
    const head = block.header.map((cell, index) => `<th${index === 0 ? "" : ' class="text"'}>${escape(cell)}</th>`).join("");
    const rows = block.rows.map((row) => `<tr>${row.map((cell, index) => (index === 0 ? `<th>${escape(cell)}</th>` : `<td class="text">${escape(cell)}</td>`)).join("")}</tr>`).join("");
    return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
  });
  return `<section id="${escape(section.id)}"><h2>${escape(section.title)}</h2>${blocks.join("")}</section>`;
}

export function renderHtml(model: ReportModel): string {
  const warning = model.incomplete.length
    ? `<p class="warn">Not finished: ${model.incomplete.map((r) => `${escape(r.system)} on ${escape(r.set)} (${escape(r.status)}${r.error ? `: ${escape(r.error)}` : ""})`).join("; ")}. Their numbers cover only the items scored so far.</p>`
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(model.title)}</title><style>${style}</style></head>
<body>
<header><h1>${escape(model.title)}</h1><p class="meta">Generated ${escape(model.generatedAt)} · base system <b>${escape(model.base)}</b> · from ${model.sources.map((s) => `<code>${escape(s)}</code>`).join(", ")}</p></header>
${warning}${accuracySection(model)}${deltaSection(model)}${openSection(model)}${humanSection(model)}${costSection(model)}${systemsSection(model)}${model.sections.map(customSection).join("")}
<footer><p class="note">Intervals: percentile bootstrap (2000 resamples, seeded). Deltas against the base: paired bootstrap over shared items. Pairwise judging runs both answer orders; a win counts only when both agree. Bradley–Terry fitted with the MM algorithm (ties as half wins, a 0.5-tie prior per pair).</p></footer>
</body></html>
`;
}
