/**
 * Runs the native test suite once per ggml CPU variant library that this processor can load
 * (VERTICAL_CPU_VARIANT forces it; node-llama-cpp in the same process then runs on it too), so a
 * kernel difference between processors is found here rather than on whatever machine CI gets.
 * Prints, per variant, the suite's result and the forward comparison's measured differences.
 *
 *   npm run test:cpu-variants                       # every variant this processor can run: test/native,
 *                                                   # src/engine, src/model, src/train (the native tiers)
 *   npm run test:cpu-variants -- --variants haswell,zen4 --files test/native/forward.test.ts
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";
import { cpuVariantScores, loadGgml } from "../src/engine/index.js";

interface VariantResult {
  variant: string;
  score: number;
  passed: number;
  failed: number;
  failures: string[];
  ok: boolean;
  seconds: number;
  measurements: Record<string, unknown>[];
}

function runSuite(variant: string, score: number, files: string[]): VariantResult {
  const started = Date.now();
  const vitest = path.resolve("node_modules/vitest/vitest.mjs");
  const child = spawnSync(process.execPath, [vitest, "run", ...files], {
    env: { ...process.env, VERTICAL_CPU_VARIANT: variant, VERTICAL_NO_PROGRESS: "1" },
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const output = `${child.stdout}\n${child.stderr}`;
  const count = (word: string) => Number(new RegExp(`Tests\\s+(?:\\d+ \\w+ \\| )*(\\d+) ${word}`).exec(output)?.[1] ?? 0);
  const measurements = [...output.matchAll(/^forward-measurement (\{.*\})$/gm)].map((match) => JSON.parse(match[1]!) as Record<string, unknown>);
  const mismatched = measurements.filter((measurement) => measurement.variant !== variant);
  if (mismatched.length > 0) console.error(`  ${variant}: the suite ran on ${String(mismatched[0]!.variant)}, not on the forced variant`);
  // vitest's summary names each failed test once as ` FAIL  file > suite > test`.
  const failures = [...new Set([...output.matchAll(/^ FAIL {2}(.+)$/gm)].map((match) => match[1]!.trim()))];
  const result = { variant, score, passed: count("passed"), failed: count("failed"), failures, seconds: (Date.now() - started) / 1000, measurements };
  return { ...result, ok: child.status === 0 && result.failed === 0 && result.passed > 0 && mismatched.length === 0 };
}

function formatMeasurements(measurements: Record<string, unknown>[]): string {
  const worst = new Map<string, number>();
  for (const { name, variant: _variant, ...values } of measurements) {
    const type = String(name).split(" ")[1]!;
    // the reference's agreement with us: f32 directly, other types through whichever kernel it ran
    const value = type === "f32" ? Number(values.difference) : Math.min(Number(values.sameKernel), Number(values.f32Activations));
    worst.set(type, Math.max(worst.get(type) ?? 0, value));
  }
  return [...worst].map(([type, value]) => `${type} ${value.toExponential(1)}`).join(", ");
}

function main(): void {
  const { values } = parseArgs({ options: { variants: { type: "string" }, files: { type: "string", default: "test/native,src/engine,src/model,src/train" } } });
  const { libraries } = loadGgml("cpu");
  const scores = cpuVariantScores(libraries.directory);
  const runnable = [...scores].filter(([, score]) => score > 0).sort((a, b) => b[1] - a[1]);
  const unavailable = [...scores].filter(([, score]) => score === 0).map(([variant]) => variant);
  const asked = values.variants?.split(",").map((name) => name.trim());
  const chosen = asked ? runnable.filter(([variant]) => asked.includes(variant)) : runnable;
  for (const name of asked ?? []) if (!chosen.some(([variant]) => variant === name)) throw new Error(`variant ${name} is not one this processor can run: ${runnable.map(([v]) => v).join(", ")}`);
  console.log(`this processor can run ${runnable.length} CPU variants (ggml's best: ${runnable[0]?.[0]}); cannot: ${unavailable.join(", ") || "none"}`);
  const files = values.files.split(",");
  const results: VariantResult[] = [];
  for (const [index, [variant, score]] of chosen.entries()) {
    const elapsed = results.reduce((sum, result) => sum + result.seconds, 0);
    const eta = index === 0 ? "" : ` (ETA ${Math.round(((elapsed / index) * (chosen.length - index)) / 60)} min)`;
    console.log(`[${index + 1}/${chosen.length}] ${variant}${eta}`);
    const result = runSuite(variant, score, files);
    results.push(result);
    console.log(`  ${result.ok ? "pass" : "FAIL"} ${result.passed} passed, ${result.failed} failed in ${result.seconds.toFixed(0)} s; max |Δ log-prob| vs llama.cpp: ${formatMeasurements(result.measurements) || "(no forward test ran)"}`);
    for (const failure of result.failures) console.log(`    failed: ${failure}`);
  }
  const failed = results.filter((result) => !result.ok);
  console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main();
