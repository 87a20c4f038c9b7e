import { vi } from "vitest";
import { main } from "../main.js";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the `vertical` CLI in-process (as a user would type it) and captures what it writes. */
export async function runCli(...args: string[]): Promise<CliRun> {
  let out = "";
  let err = "";
  const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    return { code: await main(["node", "vertical", ...args]), out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
