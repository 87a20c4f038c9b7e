/** Number formats shared by the HTML and Markdown reports (and by the tests that read them back). */

/** 0.6125 -> "61.3%". */
export function formatPercent(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? "–" : `${(value * 100).toFixed(1)}%`;
}

/** [0.52, 0.7] -> "52.0–70.0". */
export function formatInterval(ci: readonly [number, number] | null | undefined): string {
  return ci && !Number.isNaN(ci[0]) ? `${(ci[0] * 100).toFixed(1)}–${(ci[1] * 100).toFixed(1)}` : "";
}

/** Accuracy difference in percentage points: 0.031 -> "+3.1 pp". */
export function formatPoints(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const points = value * 100;
  const text = Math.abs(points).toFixed(1);
  return `${points > 0 && text !== "0.0" ? "+" : points < 0 && text !== "0.0" ? "−" : "±"}${text} pp`;
}

/** Interval in points: [-0.09, 0.01] -> "−9.0…+1.0". */
export function formatPointInterval(ci: readonly [number, number] | null | undefined): string {
  if (!ci || Number.isNaN(ci[0])) return "";
  const one = (v: number) => `${v > 0 ? "+" : v < 0 ? "−" : ""}${Math.abs(v * 100).toFixed(1)}`;
  return `${one(ci[0])}…${one(ci[1])}`;
}

/** 1234567 -> "1,234,567". */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? "–" : Math.round(value).toLocaleString("en-US");
}

/** Seconds as "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatSeconds(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (value < 60) return `${value.toFixed(1)} s`;
  if (value < 3600) return `${Math.floor(value / 60)} min ${String(Math.round(value % 60)).padStart(2, "0")} s`;
  return `${Math.floor(value / 3600)} h ${String(Math.round((value % 3600) / 60)).padStart(2, "0")} min`;
}

/** Two decimals for 0..1 metrics (ROUGE-L, F1), one for ratings. */
export function formatScore(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || Number.isNaN(value) ? "–" : value.toFixed(digits);
}

export function formatExtra(
  value: string | number | null | undefined,
  unit: "number" | "tokens" | "seconds" | "text" = "number",
): string {
  if (value === null || value === undefined) return "–";
  if (typeof value === "string") return value;
  if (unit === "seconds") return formatSeconds(value);
  if (unit === "tokens") return formatCount(value);
  return Number.isInteger(value) ? formatCount(value) : String(Number(value.toPrecision(4)));
}
