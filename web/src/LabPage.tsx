// Every route of the served lab: the comparison table with accuracy intervals as charts, the lab's
// steps, and — while `vertical lab` runs — its live progress (the page polls every 2 s until it ends).
import { useEffect, useState } from "preact/hooks";
import { get } from "./api";
import { IntervalChart } from "./Chart";

interface Estimate {
  value: number;
  ci95: [number, number];
}
interface Row {
  route: string;
  description: string;
  domain: Estimate | null;
  general: Estimate | null;
  generalDelta: Estimate | null;
  openCharF1: number | null;
  trainingTokens: number | null;
  trainingSeconds: number | null;
  verdict: string;
}
interface Progress {
  step: number;
  steps: number;
  name: string;
  fraction: number;
  detail?: string;
  etaSeconds: number;
  running: boolean;
  finished: boolean;
  updatedAt: string;
}
interface Lab {
  out: string;
  progress: Progress | null;
  comparison: Row[] | null;
  steps: { name: string; seconds: number; finishedAt: string }[];
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

const minutes = (seconds: number) => (seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`);

function LabProgress({ progress }: { progress: Progress }) {
  if (progress.finished) return null;
  const overall = (progress.step - 1 + progress.fraction) / progress.steps;
  return (
    <div class="card" data-testid="lab-progress">
      {progress.running ? (
        <p>
          <strong>Running</strong> step {progress.step}/{progress.steps}: {progress.name}
          {progress.detail ? ` — ${progress.detail}` : ""}; about {minutes(progress.etaSeconds)} left.
        </p>
      ) : (
        <p>
          <strong>Stopped</strong> during step {progress.step}/{progress.steps} ({progress.name}) at {progress.updatedAt}; rerun <code>vertical lab</code> to continue.
        </p>
      )}
      <div class="progress"><div style={{ width: `${(100 * overall).toFixed(1)}%` }} /></div>
    </div>
  );
}

export function LabPage() {
  const [lab, setLab] = useState<Lab | null | undefined>(undefined);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const body = await get<{ lab: Lab | null }>("/api/console/lab");
      setLab(body.lab);
      if (body.lab?.progress?.running) timer = setTimeout(() => void poll(), 2000);
    };
    void poll();
    return () => clearTimeout(timer);
  }, []);
  if (lab === undefined) return <p>Loading…</p>;
  if (lab === null) return <p>This server was not started with --lab, so there is no lab run to show.</p>;
  const rows = lab.comparison ?? [];
  return (
    <>
      <p>
        Lab output: <code>{lab.out}</code> — {lab.steps.length} steps finished.
      </p>
      {lab.progress && <LabProgress progress={lab.progress} />}
      {rows.length === 0 ? (
        <p>The lab has not written its comparison yet (it is still running, or was interrupted).</p>
      ) : (
        <>
          <h2>Domain accuracy (95% interval)</h2>
          <IntervalChart bars={rows.filter((row) => row.domain).map((row) => ({ label: row.route, value: row.domain!.value, low: row.domain!.ci95[0], high: row.domain!.ci95[1] }))} min={0} max={1} format={percent} />
          <h2>Forgetting: general accuracy change vs base</h2>
          <IntervalChart bars={rows.filter((row) => row.generalDelta).map((row) => ({ label: row.route, value: row.generalDelta!.value, low: row.generalDelta!.ci95[0], high: row.generalDelta!.ci95[1] }))} min={-0.5} max={0.5} format={percent} />
          <h2>Table</h2>
          <table>
            <thead>
              <tr><th>route</th><th>domain</th><th>general</th><th>open char-F1</th><th>training tokens</th><th>training s</th><th>verdict</th></tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.route} title={row.description}>
                  <td>{row.route}</td>
                  <td>{row.domain ? `${percent(row.domain.value)} [${percent(row.domain.ci95[0])}, ${percent(row.domain.ci95[1])}]` : "-"}</td>
                  <td>{row.general ? percent(row.general.value) : "-"}</td>
                  <td>{row.openCharF1 === null ? "-" : row.openCharF1.toFixed(3)}</td>
                  <td>{row.trainingTokens ?? "-"}</td>
                  <td>{row.trainingSeconds === null ? "-" : row.trainingSeconds.toFixed(0)}</td>
                  <td>{row.verdict}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Steps</h2>
      <table>
        <tbody>
          {lab.steps.map((step) => (
            <tr key={step.name}><td>{step.name}</td><td>{step.seconds.toFixed(1)} s</td><td>{step.finishedAt}</td></tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
