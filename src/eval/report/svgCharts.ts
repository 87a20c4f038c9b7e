/**
 * Inline SVG charts for the report: no script, no external font, readable without colour (every
 * bar is labelled and has a <title> tooltip). Colours are the Okabe–Ito palette, safe for the
 * common colour-vision deficiencies.
 */

// The lab compares nine or more systems: after Okabe–Ito's eight come three from Paul Tol's muted
// scheme (also colour-blind safe), so no two of a lab's routes share a colour.
export const palette = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#56B4E9",
  "#D55E00",
  "#F0E442",
  "#000000",
  "#882255",
  "#44AA99",
  "#999999",
];

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const font = `font-family="system-ui, -apple-system, 'Segoe UI', sans-serif"`;

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface GroupedBar {
  group: string;
  series: string;
  value: number;
  low?: number;
  high?: number;
  /** Text on and in the tooltip of the bar. */
  label: string;
}

/**
 * Vertical bars grouped by `group` (a set), one colour per `series` (a system), 0..1 scale shown
 * as percent, with whiskers for the interval.
 */
export function groupedBarChart(
  bars: readonly GroupedBar[],
  options: { title: string; series: readonly string[]; groups: readonly string[] },
): string {
  const { series, groups } = options;
  const barWidth = Math.max(14, Math.min(40, 260 / Math.max(1, series.length)));
  const groupGap = 28;
  const groupWidth = series.length * barWidth + groupGap;
  const left = 48;
  const top = 28;
  const plotHeight = 220;
  const width = Math.max(360, left + groups.length * groupWidth + 16);
  const legendRows = Math.ceil(series.length / 4);
  const height = top + plotHeight + 44 + legendRows * 20;
  const y = (v: number) => top + plotHeight * (1 - Math.max(0, Math.min(1, v)));
  const parts: string[] = [];
  for (let tick = 0; tick <= 100; tick += 20) {
    const ty = y(tick / 100);
    parts.push(`<line x1="${left}" x2="${width - 8}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${ty + 4}" text-anchor="end" font-size="11" fill="#555">${tick}%</text>`);
  }
  groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + groupGap / 2;
    series.forEach((name, s) => {
      const bar = bars.find((b) => b.group === group && b.series === name);
      if (!bar) return;
      const x = x0 + s * barWidth;
      const color = palette[s % palette.length]!;
      parts.push(
        `<rect x="${x + 1}" y="${y(bar.value)}" width="${barWidth - 2}" height="${top + plotHeight - y(bar.value)}" fill="${color}" data-series="${escapeXml(name)}" data-group="${escapeXml(group)}"><title>${escapeXml(`${name} on ${group}: ${bar.label}`)}</title></rect>`,
      );
      if (bar.low !== undefined && bar.high !== undefined && !Number.isNaN(bar.low)) {
        const cx = x + barWidth / 2;
        parts.push(
          `<path d="M${cx} ${y(bar.low)}V${y(bar.high)}M${cx - 4} ${y(bar.low)}h8M${cx - 4} ${y(bar.high)}h8" stroke="#222" stroke-width="1.3" fill="none"/>`,
        );
      }
      parts.push(
        `<text x="${x + barWidth / 2}" y="${y(bar.high ?? bar.value) - 5}" text-anchor="middle" font-size="10" fill="#222">${escapeXml(bar.label)}</text>`,
      );
    });
    parts.push(
      `<text x="${x0 + (series.length * barWidth) / 2}" y="${top + plotHeight + 16}" text-anchor="middle" font-size="12" fill="#222">${escapeXml(shorten(group, 24))}</text>`,
    );
  });
  parts.push(`<line x1="${left}" x2="${width - 8}" y1="${y(0)}" y2="${y(0)}" stroke="#444"/>`);
  series.forEach((name, s) => {
    const lx = left + (s % 4) * 150;
    const ly = top + plotHeight + 34 + Math.floor(s / 4) * 20;
    parts.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${palette[s % palette.length]}"/><text x="${lx + 17}" y="${ly}" font-size="12" fill="#222">${escapeXml(shorten(name, 20))}</text>`,
    );
  });
  return svg(width, height, options.title, parts);
}

export interface IntervalRow {
  label: string;
  value: number;
  low?: number;
  high?: number;
  /** Text shown at the right. */
  text: string;
  color?: string;
}

/**
 * Horizontal bars from a reference line (0 for deltas, or a rating baseline) with interval whiskers;
 * used for deltas vs the base, forgetting, win rates and Bradley–Terry ratings.
 */
export function horizontalIntervalChart(
  rows: readonly IntervalRow[],
  options: { title: string; reference: number; min?: number; max?: number; tick?: (v: number) => string },
): string {
  const values = rows.flatMap((r) => [r.value, r.low ?? r.value, r.high ?? r.value]).filter((v) => !Number.isNaN(v));
  let min = options.min ?? Math.min(options.reference, ...values);
  let max = options.max ?? Math.max(options.reference, ...values);
  if (max - min < 1e-9) {
    min -= 1;
    max += 1;
  }
  const pad = (max - min) * 0.05;
  if (options.min === undefined) min -= pad;
  if (options.max === undefined) max += pad;
  const ticks = niceTicks(min, max);
  min = Math.min(min, ticks[0]!);
  max = Math.max(max, ticks.at(-1)!);
  const left = 250;
  const plotWidth = 360;
  const rowHeight = 26;
  const top = 26;
  const width = left + plotWidth + 130;
  const height = top + rows.length * rowHeight + 28;
  const x = (v: number) => left + ((v - min) / (max - min)) * plotWidth;
  const parts: string[] = [];
  const tick = options.tick ?? ((v: number) => v.toFixed(2));
  for (const v of ticks) {
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${top - 6}" y2="${top + rows.length * rowHeight}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x(v)}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(tick(v))}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const cy = top + i * rowHeight + rowHeight / 2;
    const color = row.color ?? palette[0]!;
    const from = x(Math.min(options.reference, row.value));
    const to = x(Math.max(options.reference, row.value));
    parts.push(
      `<text x="${left - 8}" y="${cy + 4}" text-anchor="end" font-size="12" fill="#222">${escapeXml(shorten(row.label, 36))}<title>${escapeXml(row.label)}</title></text>`,
    );
    parts.push(
      `<rect x="${from}" y="${cy - 8}" width="${Math.max(1, to - from)}" height="16" fill="${color}" opacity="0.85"><title>${escapeXml(`${row.label}: ${row.text}`)}</title></rect>`,
    );
    if (row.low !== undefined && row.high !== undefined && !Number.isNaN(row.low))
      parts.push(
        `<path d="M${x(row.low)} ${cy}H${x(row.high)}M${x(row.low)} ${cy - 5}v10M${x(row.high)} ${cy - 5}v10" stroke="#222" stroke-width="1.3" fill="none"/>`,
      );
    parts.push(
      `<text x="${left + plotWidth + 8}" y="${cy + 4}" font-size="12" fill="#222">${escapeXml(row.text)}</text>`,
    );
  });
  parts.push(
    `<line x1="${x(options.reference)}" x2="${x(options.reference)}" y1="${top - 8}" y2="${top + rows.length * rowHeight}" stroke="#444"/>`,
  );
  return svg(width, height, options.title, parts);
}

/** Round tick values (1, 2 or 5 x 10^k apart) covering min..max, about five of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  // Rounded to the step's precision so 0.30000000000000004 prints as 0.3.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(digits)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toFixed(digits)));
  return ticks;
}

function svg(width: number, height: number, title: string, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}" ${font}>` +
    `<title>${escapeXml(title)}</title>${parts.join("")}</svg>`
  );
}
