/**
 * GPU check: the device chosen by VERTICAL_DEVICE (cuda or vulkan) against the CPU backend in the
 * same process, on tiny models this script writes itself, plus training throughput on the device.
 * Each phase (forward, gradients, training, throughput) runs in its own child process, so a ggml
 * abort in one (GGML_ASSERT ends the process) is reported with its message and the others still
 * run. Prints a report, writes it as JSON and markdown after every phase, and exits 1 when a check
 * fails or a phase broke (2 when the script itself failed).
 *
 *   VERTICAL_DEVICE=cuda VERTICAL_GGML_DIR=ggml-build/bin npm run check:gpu -- --report out/gpu-check
 *   VERTICAL_DEVICE=cpu VERTICAL_THREADS=1 npm run check:gpu -- --quick    # smoke test: cpu vs cpu
 *
 * Flags: --report PREFIX (writes PREFIX.json and PREFIX.md; default gpu-check), --quick (5 training
 * steps and a small throughput model), --throughput-steps N (default 4, first excluded),
 * --skip-throughput.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { settings } from "../src/config.js";
import {
  benchShape,
  checkForward,
  checkGradients,
  checkOptimizer,
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

const PHASES = ["forward", "gradients", "optimizer", "training", "throughput"] as const;
type PhaseName = (typeof PHASES)[number];

interface PhaseResult {
  backend: string;
  checks: CheckResult[];
  throughput: Report["throughput"];
  errors: string[];
}

function describeError(name: string, error: unknown): string {
  return error instanceof Error ? `${name}: ${error.stack ?? error.message}` : `${name}: ${String(error)}`;
}

/** One phase in this process: opens the device first (the GPU's libraries must load first), then runs it. */
async function runPhase(name: PhaseName): Promise<PhaseResult> {
  const { device, threads, ggmlDirectory } = settings();
  const result: PhaseResult = { backend: "", checks: [], throughput: null, errors: [] };
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-gpu-check-"));
  const options = { device, threads, directory };
  const record = (results: CheckResult[]) => {
    for (const check of results) {
      result.checks.push(check);
      console.log(
        `   ${check.pass ? "pass" : "FAIL"}  ${check.name.padEnd(34)} ${formatNumber(check.value)} <= ${formatNumber(check.threshold)}   ${check.compares}`,
      );
    }
  };
  try {
    result.backend = openDevice(device, threads);
    console.log(
      `   ${device}: ${result.backend}; ggml from ${ggmlDirectory ?? "node-llama-cpp's packages"}; ${threads} threads`,
    );
    if (name === "forward") record(await checkForward(options));
    else if (name === "gradients") record(await checkGradients(options));
    else if (name === "optimizer") record(await checkOptimizer(options));
    else if (name === "training") record(await checkTraining(options, quick ? 5 : 20));
    else {
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
      result.throughput = { shape, ...measured, ratios };
      for (const m of [...measured.ours, ...measured.pytorch])
        console.log(`   ${m.name.padEnd(20)} ${m.tokensPerSecond.toFixed(0).padStart(8)} tok/s  (${m.precision})`);
      console.log(`   pytorch: ${measured.pytorchNote}`);
      for (const [ratioName, ratio] of Object.entries(ratios)) console.log(`   ${ratioName}: ${ratio.toFixed(2)}x`);
    }
  } catch (error) {
    result.errors.push(describeError(name, error));
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
  }
  return result;
}

/**
 * Runs a phase in a child process, so a ggml abort (GGML_ASSERT kills the process) costs only that
 * phase: the child's last output, where ggml prints the failed assertion, goes into the report.
 */
function runPhaseInChild(name: PhaseName): Promise<PhaseResult> {
  const resultFile = path.join(os.tmpdir(), `vertical-gpu-check-${process.pid}-${name}.json`);
  fs.rmSync(resultFile, { force: true });
  const args = [
    ...process.execArgv,
    process.argv[1]!,
    ...process.argv.slice(2),
    "--phase",
    name,
    "--result",
    resultFile,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const forward = (chunk: Buffer, stream: NodeJS.WriteStream) => {
      stream.write(chunk);
      tail = (tail + chunk.toString()).slice(-3000);
    };
    child.stdout.on("data", (chunk: Buffer) => forward(chunk, process.stdout));
    child.stderr.on("data", (chunk: Buffer) => forward(chunk, process.stderr));
    child.on("close", (code, signal) => {
      try {
        const result = JSON.parse(fs.readFileSync(resultFile, "utf8")) as PhaseResult;
        fs.rmSync(resultFile, { force: true });
        resolve(result);
      } catch {
        const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
        resolve({
          backend: "",
          checks: [],
          throughput: null,
          errors: [`${name}: the phase process ${how} before reporting; its last output:\n${tail}`],
        });
      }
    });
  });
}

async function main(): Promise<number> {
  const phaseFlag = flag("--phase");
  if (phaseFlag !== undefined) {
    // Child: one phase, result to --result.
    if (!(PHASES as readonly string[]).includes(phaseFlag))
      throw new Error(`unknown --phase ${phaseFlag}; expected ${PHASES.join(", ")}`);
    const result = await runPhase(phaseFlag as PhaseName);
    const resultFile = flag("--result")!;
    fs.writeFileSync(`${resultFile}.tmp`, JSON.stringify(result));
    fs.renameSync(`${resultFile}.tmp`, resultFile);
    return 0;
  }
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
  for (const name of PHASES) {
    if (name === "throughput" && skipThroughput) continue;
    const started = performance.now();
    console.log(`== ${name}`);
    const result = await runPhaseInChild(name);
    report.backend ||= result.backend;
    report.checks.push(...result.checks);
    report.throughput ??= result.throughput;
    report.errors.push(...result.errors);
    for (const error of result.errors) console.log(`   ERROR ${error}`);
    report.phaseSeconds[name] = (performance.now() - started) / 1000;
    console.log(`   (${report.phaseSeconds[name]!.toFixed(1)} s)`);
    writeReport(report);
  }
  report.pass = report.errors.length === 0 && report.checks.length > 0 && report.checks.every((c) => c.pass);
  writeReport(report);
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
