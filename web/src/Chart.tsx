// Horizontal bars with 95% interval whiskers, as inline SVG (no chart library needed for one shape).

export interface Bar {
  label: string;
  value: number;
  low?: number;
  high?: number;
}

export function IntervalChart({ bars, min, max, format }: { bars: Bar[]; min: number; max: number; format: (value: number) => string }) {
  const width = 640;
  const row = 26;
  const left = 130;
  const x = (value: number) => left + ((value - min) / (max - min || 1)) * (width - left - 60);
  // Bars grow from 0 where 0 is on the axis (a change can be negative), else from the axis start.
  const origin = min <= 0 && max >= 0 ? 0 : min;
  return (
    <svg width={width} height={bars.length * row + 10} role="img">
      {bars.map((bar, index) => {
        const y = index * row + 5;
        return (
          <g key={bar.label}>
            <text x={0} y={y + 15} font-size="13">{bar.label}</text>
            <rect x={x(Math.min(origin, bar.value))} y={y + 4} width={Math.max(1, Math.abs(x(bar.value) - x(origin)))} height={14} fill={bar.value < origin ? "#f2a49b" : "#6ea8ff"} />
            {bar.low !== undefined && bar.high !== undefined && (
              <line x1={x(bar.low)} x2={x(bar.high)} y1={y + 11} y2={y + 11} stroke="#1d2330" stroke-width={2} />
            )}
            <text x={x(Math.max(bar.value, bar.high ?? bar.value)) + 6} y={y + 15} font-size="12">{format(bar.value)}</text>
          </g>
        );
      })}
    </svg>
  );
}
