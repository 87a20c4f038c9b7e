/**
 * The GPU tier (VERTICAL_GPU_TESTS=1 with VERTICAL_DEVICE=cuda or vulkan, and VERTICAL_GGML_DIR for
 * your own ggml build): the checks of scripts/gpu-check.ts, device vs CPU, without the throughput
 * part (with VERTICAL_DEVICE=cpu it compares the CPU with itself: a smoke test). Skipped otherwise.
 *   VERTICAL_GPU_TESTS=1 VERTICAL_DEVICE=cuda npx vitest run --config test/gpu/vitest.config.ts
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { settings } from "../../src/config.js";
import { checkForward, checkGradients, checkOptimizer, checkTraining, openDevice, type CheckResult } from "../../scripts/gpuChecks.js";

const { gpuTests, device, threads } = settings();
const directory = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-gpu-tier-"));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

function expectAllPass(results: CheckResult[]): void {
  expect(results.length).toBeGreaterThan(0);
  for (const result of results)
    expect(result.value, `${result.name}: ${result.compares}`).toBeLessThanOrEqual(result.threshold);
}

describe.skipIf(!gpuTests)(`${device} backend against the CPU backend`, () => {
  const options = { device, threads, directory };
  it("opens the device", () => {
    expect(openDevice(device, threads)).not.toBe("");
  });
  it("forward log-probabilities agree", async () => expectAllPass(await checkForward(options)), 120_000);
  it("LoRA, full and soft-prompt gradients agree", async () => expectAllPass(await checkGradients(options)), 120_000);
  it("the in-graph optimiser's steps agree", async () => expectAllPass(await checkOptimizer(options)), 120_000);
  it("training curves agree and the adapter exports", async () => expectAllPass(await checkTraining(options)), 300_000);
});
