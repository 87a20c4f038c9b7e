/**
 * VERTICAL_CPU_VARIANT: forcing one of ggml's CPU variant libraries. ggml loads once per process,
 * so each case runs in a child process with the variable set.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cpuVariantScores, loadGgml } from "./index.js";

function inChild(variant: string): { variant?: string; error?: string; name?: string } {
  const script = `
    const engine = await import("./src/engine/index.ts");
    try {
      const backend = engine.Backend.cpu(1);
      console.log(JSON.stringify({ variant: engine.activeCpuVariant() }));
      backend.dispose();
    } catch (error) {
      console.log(JSON.stringify({ error: error.message, name: error.name }));
    }`;
  const output = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    env: { ...process.env, VERTICAL_CPU_VARIANT: variant },
    encoding: "utf8",
  });
  return JSON.parse(output.trim().split("\n").at(-1)!) as { variant?: string; error?: string; name?: string };
}

const scores = cpuVariantScores(loadGgml("cpu").libraries.directory);
const runnable = [...scores].filter(([, score]) => score > 0).map(([variant]) => variant);
const unrunnable = [...scores].filter(([, score]) => score === 0).map(([variant]) => variant);

describe("a forced CPU variant", () => {
  it("is the one the engine computes with", () => {
    // the least capable one this processor runs: never ggml's own pick unless it is the only one
    const weakest = [...scores].filter(([, score]) => score > 0).sort((a, b) => a[1] - b[1])[0]![0];
    expect(inChild(weakest)).toEqual({ variant: weakest });
  });

  it("that does not exist is an EngineError listing the real ones", () => {
    const result = inChild("pentium2");
    expect(result.name).toBe("EngineError");
    expect(result.error).toMatch(/no ggml CPU variant "pentium2"/);
    expect(result.error).toContain(runnable[0]);
  });

  it.skipIf(unrunnable.length === 0)("that this processor cannot run is refused before any compute, with the ones it can", () => {
    const result = inChild(unrunnable[0]!);
    expect(result.name).toBe("EngineError");
    expect(result.error).toMatch(/cannot run ggml's CPU variant/);
    expect(result.error).toContain(runnable[0]);
  });
});
