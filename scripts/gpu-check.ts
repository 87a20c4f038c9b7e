/**
 * GPU check: the device chosen by VERTICAL_DEVICE (cuda or vulkan) against the CPU backend in the
 * same process, on tiny models this script writes itself, plus training throughput on the device.
 * Prints a report, writes it as JSON and markdown, and exits 1 when a check fails (2 when the
 * script itself failed).
 *
 *   VERTICAL_DEVICE=cuda VERTICAL_GGML_DIR=ggml-build/bin npm run check:gpu -- --report out/gpu-check
 *   VERTICAL_DEVICE=cpu VERTICAL_THREADS=1 npm run check:gpu -- --quick    # smoke test: cpu vs cpu
 *
 * Flags: --report PREFIX (writes PREFIX.json and PREFIX.md; default gpu-check), --quick (5 training
 * steps and a small throughput model), --throughput-steps N (default 4, first excluded),
 * --skip-throughput.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { settings } from "../src/config.js";
import {
  benchShape,
  checkForward,
  checkGradients,
  checkTraining,
  findTorchPython,
  measureThroughput,
  openDevice,
  type CheckResult,
  type Throughput,
} from "./gpuChecks.js";

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const quick = process.argv.includes("--quick");
const skipThroughput = process.argv.includes("--skip-throughput");
const reportPrefix = path.resolve(flag("--report") ?? "gpu-check");
const throughputSteps = Number(flag("--throughput-steps") ?? 4);

interface Report {
  device: string;
  backend: string;
  ggmlDirectory: string | null;
  threads: number;
  quick: boolean;
  startedAt: string;
  phaseSeconds: Record<string, number>;
  checks: CheckResult[];
  throughput: {
    shape: typeof benchShape;
    ours: Throughput[];
    pytorch: Throughput[];
    pytorchNote: string;
    ratios: Record<string, number>;
  } | null;
  errors: string[];
  pass: boolean;
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? value.toExponential(2) : String(value);
}

function markdown(report: Report): string {
  const lines = [
    `# GPU check: ${report.device} (${report.backend}) vs cpu`,
    "",
    `ggml: ${report.ggmlDirectory ?? "node-llama-cpp's packages"}; ${report.threads} CPU threads; started ${report.startedAt}; ${report.pass ? "**PASS**" : "**FAIL**"}`,
    "",
    "| check | compares | value | threshold | result |",
    "|---|---|---|---|---|",
    ...report.checks.map(
      (c) =>
        `| ${c.name} | ${c.compares.replaceAll("|", "\\|")} | ${formatNumber(c.value)} | ${formatNumber(c.threshold)} | ${c.pass ? "pass" : "FAIL"} |`,
    ),
  ];
  if (report.throughput) {
    const t = report.throughput;
    lines.push(
      "",
      `## Throughput (V ${t.shape.vocab}, E ${t.shape.hidden}, ${t.shape.layers} blocks, ${t.shape.heads} heads, FFN ${t.shape.ffn}, ctx ${t.shape.ctx}, ${t.shape.batch} seqs; first step excluded)`,
      "",
      "| run | precision | tokens/s | step seconds |",
      "|---|---|---|---|",
      ...[...t.ours, ...t.pytorch].map(
        (m) =>
          `| ${m.name} | ${m.precision} | ${m.tokensPerSecond.toFixed(0)} | ${m.stepSeconds.map((s) => s.toFixed(3)).join(" ")} |`,
      ),
      "",
      `PyTorch: ${t.pytorchNote}`,
      ...Object.entries(t.ratios).map(([name, ratio]) => `- ${name}: ${ratio.toFixed(2)}x`),
    );
  }
  lines.push(
    "",
    `Phase seconds: ${Object.entries(report.phaseSeconds)
      .map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`)
      .join(", ")}`,
  );
  if (report.errors.length > 0)
    lines.push("", "## Errors", "", ...report.errors.map((error) => "```\n" + error + "\n```"));
  return lines.join("\n") + "\n";
}

function writeReport(report: Report): void {
  fs.mkdirSync(path.dirname(reportPrefix), { recursive: true });
  for (const [extension, text] of [
    ["json", JSON.stringify(report, null, 2) + "\n"],
    ["md", markdown(report)],
  ] as const) {
    const target = `${reportPrefix}.${extension}`;
    fs.writeFileSync(`${target}.tmp`, text);
    fs.renameSync(`${target}.tmp`, target);
  }
}

async function main(): Promise<number> {
  const { device, threads, ggmlDirectory } = settings();
  const report: Report = {
    device,
    backend: "",
    ggmlDirectory: ggmlDirectory ?? null,
    threads,
    quick,
    startedAt: new Date().toISOString(),
    phaseSeconds: {},
    checks: [],
    throughput: null,
    errors: [],
    pass: false,
  };
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-gpu-check-"));
  const options = { device, threads, directory };
  const phase = async (name: string, body: () => Promise<void>) => {
    const started = performance.now();
    console.log(`== ${name}`);
    try {
      await body();
    } catch (error) {
      // One broken phase must not hide the others' results.
      const text = error instanceof Error ? `${name}: ${error.stack ?? error.message}` : `${name}: ${String(error)}`;
      report.errors.push(text);
      console.log(`   ERROR ${text}`);
    }
    report.phaseSeconds[name] = (performance.now() - started) / 1000;
    console.log(`   (${report.phaseSeconds[name]!.toFixed(1)} s)`);
    writeReport(report);
  };
  const record = (results: CheckResult[]) => {
    for (const result of results) {
      report.checks.push(result);
      console.log(
        `   ${result.pass ? "pass" : "FAIL"}  ${result.name.padEnd(34)} ${formatNumber(result.value)} <= ${formatNumber(result.threshold)}   ${result.compares}`,
      );
    }
  };
  try {
    await phase("open device", async () => {
      report.backend = openDevice(device, threads);
      console.log(
        `   ${device}: ${report.backend}; ggml from ${ggmlDirectory ?? "node-llama-cpp's packages"}; ${threads} threads`,
      );
    });
    if (!report.backend) throw new Error(`could not open device ${device}: ${report.errors.join("\n")}`);
    await phase("forward", async () => record(await checkForward(options)));
    await phase("gradients", async () => record(await checkGradients(options)));
    await phase("training", async () => record(await checkTraining(options, quick ? 5 : 20)));
    if (!skipThroughput) {
      await phase("throughput", async () => {
        const shape = quick ? { vocab: 256, hidden: 64, layers: 2, heads: 4, ffn: 128, ctx: 32, batch: 2 } : benchShape;
        const python = findTorchPython(device);
        const measured = await measureThroughput({ ...options, steps: throughputSteps, shape, python });
        const ratios: Record<string, number> = {};
        const find = (list: Throughput[], name: string) => list.find((m) => m.name === name)?.tokensPerSecond;
        for (const [ours, theirs] of [
          ["vertical lora-f32", "pytorch lora-f32"],
          ["vertical lora-q8", "pytorch lora-f32"],
          ["vertical full-f32", "pytorch full-f32"],
        ] as const) {
          const a = find(measured.ours, ours);
          const b = find(measured.pytorch, theirs);
          if (a !== undefined && b !== undefined) ratios[`${ours} / ${theirs}`] = a / b;
        }
        report.throughput = { shape, ...measured, ratios };
        for (const m of [...measured.ours, ...measured.pytorch])
          console.log(`   ${m.name.padEnd(20)} ${m.tokensPerSecond.toFixed(0).padStart(8)} tok/s  (${m.precision})`);
        console.log(`   pytorch: ${measured.pytorchNote}`);
        for (const [name, ratio] of Object.entries(ratios)) console.log(`   ${name}: ${ratio.toFixed(2)}x`);
      });
    }
  } finally {
    report.pass = report.errors.length === 0 && report.checks.length > 0 && report.checks.every((c) => c.pass);
    writeReport(report);
    fs.rmSync(directory, { recursive: true, force: true });
  }
  console.log(
    `${report.pass ? "PASS" : "FAIL"}: ${report.checks.filter((c) => c.pass).length}/${report.checks.length} checks passed, ${report.errors.length} errors; report ${reportPrefix}.json / .md`,
  );
  return report.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(2);
  },
);
