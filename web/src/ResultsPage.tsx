// What people's ratings say: Bradley–Terry ratings with bootstrap intervals (computed by the server
// from the ratings store, src/eval/stats), rubric means per criterion, agreement between raters
// (Cohen's kappa; weighted kappa on scores) and, where an LLM judge was run on the same items, the
// judge's agreement with the people.
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
  rubric: { system: string; criterion: string; mean: number; n: number }[];
  agreement: { raterA: string; raterB: string; kind: string; criterion?: string; n: number; kappa: number; weightedKappa?: number }[];
  judge: { preference?: { n: number; kappa: number; accuracy: number }; score?: { n: number; spearman: number } } | null;
}

// Kappa is undefined (NaN, sent as null) when every rating was the same label.
const fixed = (value: number | null | undefined) => (value === null || value === undefined || Number.isNaN(value) ? "n/a" : value.toFixed(2));

function RubricMeans({ rows }: { rows: Summary["rubric"] }) {
  const criteria = [...new Set(rows.map((row) => row.criterion))];
  const systems = [...new Set(rows.map((row) => row.system))].sort();
  const cell = (system: string, criterion: string) => rows.find((row) => row.system === system && row.criterion === criterion);
  return (
    <table data-testid="rubric">
      <thead><tr><th>system</th>{criteria.map((criterion) => <th key={criterion}>{criterion} (mean 1–5)</th>)}</tr></thead>
      <tbody>
        {systems.map((system) => (
          <tr key={system}><td>{system}</td>{criteria.map((criterion) => {
            const found = cell(system, criterion);
            return <td key={criterion}>{found ? `${found.mean.toFixed(2)} (n=${found.n})` : "-"}</td>;
          })}</tr>
        ))}
      </tbody>
    </table>
  );
}

function JudgeAgreement({ judge }: { judge: Summary["judge"] }) {
  if (judge === null) return <p>No LLM judge was run on these items (serve with <code>--judge-results</code>, or a lab whose eval ran one).</p>;
  if (!judge.preference && !judge.score) return <p>A judge was run, but on none of the items people rated so far.</p>;
  return (
    <table data-testid="judge">
      <thead><tr><th>compared</th><th>items</th><th>agreement</th></tr></thead>
      <tbody>
        {judge.preference && <tr><td>judge's pairwise verdict vs people's majority</td><td>{judge.preference.n}</td><td>kappa {fixed(judge.preference.kappa)}, same verdict {(100 * judge.preference.accuracy).toFixed(0)}%</td></tr>}
        {judge.score && <tr><td>judge's 1–10 rating vs people's mean score</td><td>{judge.score.n}</td><td>Spearman {fixed(judge.score.spearman)}</td></tr>}
      </tbody>
    </table>
  );
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
      <p>
        {summary.ratings} ratings by {summary.raters.length} rater(s); {ranking.comparisons} pairwise comparisons. Export ratings:{" "}
        <a href="/api/ratings/export?format=csv">CSV</a> · <a href="/api/ratings/export?format=jsonl">JSONL</a>
      </p>
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
      <h2>Rubric scores</h2>
      {summary.rubric.length === 0 ? <p>No rubric ratings yet.</p> : <RubricMeans rows={summary.rubric} />}
      <h2>Inter-rater agreement</h2>
      {summary.agreement.length === 0 ? (
        <p>Needs two raters who rated the same tasks.</p>
      ) : (
        <table data-testid="agreement">
          <thead><tr><th>raters</th><th>kind</th><th>shared tasks</th><th>Cohen's kappa</th><th>weighted kappa</th></tr></thead>
          <tbody>
            {summary.agreement.map((row) => (
              <tr key={`${row.raterA}-${row.raterB}-${row.kind}-${row.criterion ?? ""}`}>
                <td>{row.raterA} / {row.raterB}</td><td>{row.criterion ?? row.kind}</td><td>{row.n}</td><td>{fixed(row.kappa)}</td><td>{row.kind === "score" ? fixed(row.weightedKappa) : "-"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>LLM judge vs people</h2>
      <JudgeAgreement judge={summary.judge} />
    </>
  );
}
