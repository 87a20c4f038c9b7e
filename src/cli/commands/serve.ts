import type { Command } from "commander";
import { ConfigError } from "../../shared/errors.js";

const integer = (flag: string) => (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new ConfigError(`expected a whole number, got "${value}"`, { where: flag });
  return number;
};

/** `vertical serve`: every system behind an OpenAI-compatible API on loopback (docs/serve.md). */
export function register(program: Command): void {
  program
    .command("serve")
    .description("Serve systems behind an OpenAI-compatible API (chat, completions, embeddings, feedback, metrics)")
    .option("--model <file>", "a GGUF to serve")
    .option("--lora <file>", "a LoRA adapter GGUF for --model (repeatable)", (value: string, all: string[] = []) => [...all, value])
    .option("--systems <file>", "systems.yaml, as `eval run` reads it")
    .option("--lab <dir>", "serve every route a lab has evaluated")
    .option("--out <dir>", "with --lab: the lab's out folder (default: DIR/out)")
    .option("--host <host>", "address to bind (loopback unless told otherwise)", "127.0.0.1")
    .option("--port <port>", "port (0: any free one)", integer("--port"), 8080)
    .option("--feedback <file>", "SQLite file keeping answers and feedback (default: none; with --lab: DIR/out/feedback.db)")
    .option("--ratings <file>", "ratings SQLite (`eval ratings import-…`) for the console's blind rating pages")
    .option("--reference <shown|hidden>", "whether raters see the reference answer", "shown")
    .option("--judge-results <dir>", "an open-ended run's results folder: the console compares its LLM judge with the raters (default with --lab: DIR/out/eval)")
    .option("--api-keys <file>", "file of accepted API keys, one per line (VERTICAL_SERVE_API_KEYS adds more)")
    .option("--queue <n>", "requests that may wait per model before 429", integer("--queue"), 16)
    .option("--timeout <seconds>", "time limit of one generation", integer("--timeout"), 120)
    .action(async (flags: { model?: string; lora?: string[]; systems?: string; lab?: string; out?: string; host: string; port: number; feedback?: string; ratings?: string; reference: string; judgeResults?: string; apiKeys?: string; queue: number; timeout: number }) => {
      const path = await import("node:path");
      const { startServe } = await import("../../serve/startServe.js");
      if (flags.reference !== "shown" && flags.reference !== "hidden") throw new ConfigError(`expected "shown" or "hidden", got "${flags.reference}"`, { where: "--reference" });
      const feedback = flags.feedback ?? (flags.lab ? path.join(flags.out ?? path.join(flags.lab, "out"), "feedback.db") : undefined);
      const running = await startServe({
        ...(flags.model ? { model: flags.model } : {}),
        ...(flags.lora ? { lora: flags.lora } : {}),
        ...(flags.systems ? { systems: flags.systems } : {}),
        ...(flags.lab ? { lab: flags.lab } : {}),
        ...(flags.out ? { labOut: flags.out } : {}),
        ...(feedback ? { feedback } : {}),
        ...(flags.ratings ? { ratings: flags.ratings } : {}),
        reference: flags.reference,
        ...(flags.judgeResults ? { judgeResults: flags.judgeResults } : {}),
        ...(flags.apiKeys ? { apiKeysFile: flags.apiKeys } : {}),
        host: flags.host,
        port: flags.port,
        queue: flags.queue,
        requestTimeoutMs: flags.timeout * 1000,
      });
      process.stderr.write(`serving ${running.systems.join(", ")} at ${running.url}/v1 (console: ${running.url}/, health: ${running.url}/health, metrics: ${running.url}/metrics)\n`);
      // SIGTERM/SIGINT: answers in flight finish, new requests get 503, then exit; a second signal exits at once.
      await new Promise<void>((resolve, reject) => {
        let stopping = false;
        const stop = () => {
          if (stopping) process.exit(130);
          stopping = true;
          process.stderr.write("shutting down: finishing the requests in flight\n");
          running.close().then(resolve, reject);
        };
        process.on("SIGTERM", stop);
        process.on("SIGINT", stop);
      });
    });
}
