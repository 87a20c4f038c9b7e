/** A training progress line every 15 s with an ETA, for the example's long model builds (hours on a CPU). */
export function progressLines(label: string, print: (line: string) => void = console.log): (progress: { step: number; steps: number; loss: number }) => void {
  const started = performance.now();
  let lastLine = 0;
  return (progress) => {
    if (Date.now() - lastLine < 15_000) return;
    lastLine = Date.now();
    const elapsed = (performance.now() - started) / 1000;
    const eta = progress.step > 0 ? ` ETA ${Math.round(((elapsed / progress.step) * (progress.steps - progress.step)) / 60)} min` : "";
    print(`${label}: step ${progress.step}/${progress.steps}, loss ${progress.loss.toFixed(3)}${eta}`);
  };
}
