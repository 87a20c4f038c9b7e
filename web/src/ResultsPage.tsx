// What people's ratings say: Bradley–Terry ratings with bootstrap intervals (computed by the server
// from the ratings store, src/eval/stats), win rates, and agreement between raters (Cohen's kappa).
import { useEffect, useState } from "preact/hooks";
import { get } from "./api";
import { IntervalChart } from "./Chart";

interface Ranking {
  comparisons: number;
  bradleyTerry: { system: string; rating: number; low: number; high: number }[];
}
interface Summary {
  raters: string[];
  ratings: number;
  agreement: { raterA: string; raterB: string; kind: string; n: number; kappa: number }[];
}

export function ResultsPage() {
  const [ranking, setRanking] = useState<Ranking>();
  const [summary, setSummary] = useState<Summary>();
  useEffect(() => {
    void get<Ranking>("/api/console/ranking").then(setRanking);
    void get<Summary>("/api/ratings/summary").then(setSummary);
  }, []);
  if (!ranking || !summary) return <p>Loading…</p>;
  const sorted = [...ranking.bradleyTerry].sort((a, b) => b.rating - a.rating);
  const low = Math.min(...sorted.map((row) => row.low), 900);
  const high = Math.max(...sorted.map((row) => row.high), 1100);
  return (
    <>
      <p>{summary.ratings} ratings by {summary.raters.length} rater(s); {ranking.comparisons} pairwise comparisons. <a href="/api/ratings/export">Export ratings (CSV)</a></p>
      <h2>Bradley–Terry rating (Elo scale, 95% bootstrap interval)</h2>
      <IntervalChart bars={sorted.map((row) => ({ label: row.system, value: row.rating, low: row.low, high: row.high }))} min={low} max={high} format={(value) => value.toFixed(0)} />
      <table data-testid="bradley-terry">
        <thead><tr><th>system</th><th>rating</th><th>95% interval</th></tr></thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={row.system}><td>{row.system}</td><td>{row.rating.toFixed(1)}</td><td>[{row.low.toFixed(1)}, {row.high.toFixed(1)}]</td></tr>
          ))}
        </tbody>
      </table>
      <h2>Inter-rater agreement</h2>
      {summary.agreement.length === 0 ? (
        <p>Needs two raters who rated the same tasks.</p>
      ) : (
        <table>
          <thead><tr><th>raters</th><th>kind</th><th>shared tasks</th><th>Cohen's kappa</th></tr></thead>
          <tbody>
            {summary.agreement.map((row) => (
              <tr key={`${row.raterA}-${row.raterB}-${row.kind}`}><td>{row.raterA} / {row.raterB}</td><td>{row.kind}</td><td>{row.n}</td><td>{row.kappa.toFixed(2)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
