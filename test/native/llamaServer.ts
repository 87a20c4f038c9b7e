/**
 * Real llama.cpp `llama-server` processes on loopback, for the endpoint-pool test and bench. The
 * binary is built by `npm run build:llama-server` (scripts/build-llama-server.sh); callers skip
 * when it is absent. Every server is started the same way so that any two give the same answer to
 * the same request: one slot (`-np 1`, no batching with other requests) and no prompt cache (each
 * prompt evaluated whole, never continued from an earlier one's cached prefix).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { settings } from "../../src/config.js";

export function llamaServerBinary(): string {
  return path.join(settings().cacheDir, "llama-server", "llama-server");
}

export function llamaServerAvailable(): boolean {
  return fs.existsSync(llamaServerBinary());
}

export interface LlamaServer {
  baseUrl: string;
  process: ChildProcess;
  /** Stops it (SIGTERM) and waits for it to exit; a server already gone is fine. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts one server on `modelPath` (served under the name `alias`) and waits until /health says it is ready. */
export async function startLlamaServer(options: {
  modelPath: string;
  alias: string;
  /** Defaults to 1: one core per server. */
  threads?: number;
  /** Defaults to 512. */
  contextSize?: number;
  /** Defaults to 60 000 ms. */
  readyTimeoutMs?: number;
}): Promise<LlamaServer> {
  const port = await freePort();
  const threads = String(options.threads ?? 1);
  const child = spawn(
    llamaServerBinary(),
    [
      ...["-m", options.modelPath, "--alias", options.alias, "--host", "127.0.0.1", "--port", String(port)],
      ...["-t", threads, "-tb", threads, "-np", "1", "-c", String(options.contextSize ?? 512)],
      ...["--no-cache-prompt", "--no-webui", "--no-warmup"],
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited(child);
  };
  const deadline = performance.now() + (options.readyTimeoutMs ?? 60_000);
  while (performance.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`llama-server exited with ${child.exitCode} before it was ready:\n${log}`);
    const healthy = await fetch(`http://127.0.0.1:${port}/health`)
      .then((response) => response.ok)
      .catch(() => false);
    if (healthy) return { baseUrl, process: child, stop };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`llama-server on port ${port} was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${log}`);
}
