/**
 * `vertical serve` as a library call: pick the systems, load each (printing progress, as loading a
 * large GGUF takes a while), open the feedback store and the API keys, and listen. `/health` answers
 * only once this returns, i.e. once every model is loaded.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { settings } from "../config.js";
import { FeedbackStore } from "../eval/feedback/feedbackStore.js";
import { RatingsStore } from "../eval/ratings/ratingsStore.js";
import { readJudgeVerdicts } from "../eval/ratings/readJudgeVerdicts.js";
import { ConfigError } from "../shared/errors.js";
import { ApiKeys, readApiKeyFile } from "./apiKeys.js";
import { createServer, type ServeOptions } from "./createServer.js";
import { systemFromModel, systemsFromFile, systemsFromLab, type SystemToServe } from "./loadServedSystems.js";
import { serveSystem, type ServedSystem } from "./servedSystem.js";

export interface StartServeOptions {
  model?: string;
  lora?: string[];
  systems?: string;
  lab?: string;
  /** The lab's out folder when not DIR/out (`vertical lab DIR --out`). */
  labOut?: string;
  /** Defaults to 127.0.0.1 (loopback only). */
  host?: string;
  /** Defaults to 8080; 0 picks a free port. */
  port?: number;
  /** SQLite file for responses and feedback. */
  feedback?: string;
  /** SQLite ratings store (`eval ratings import-…`) for the console's rating pages. */
  ratings?: string;
  /** Whether raters see the reference answer. Defaults to "shown". */
  reference?: "shown" | "hidden";
  /**
   * Results folder of an open-ended run whose judge verdicts the console compares with people
   * (RESULTS/open/<set>/judgements.jsonl). Defaults to the lab's eval folder with --lab.
   */
  judgeResults?: string;
  /** The built console. Defaults to the package's web/dist (`npm run build:web`). */
  consoleDirectory?: string;
  /** File of accepted API keys; VERTICAL_SERVE_API_KEYS adds more. */
  apiKeysFile?: string;
  /** Requests that may wait per model. Defaults to 16. */
  queue?: number;
  requestTimeoutMs?: number;
  bodyLimitBytes?: number;
  accessLog?: ServeOptions["accessLog"];
  /** Progress lines (loading models); defaults to stderr. */
  log?: (line: string) => void;
}

export interface RunningServe {
  url: string;
  systems: string[];
  close(): Promise<void>;
}

function chooseSystems(options: StartServeOptions): SystemToServe[] {
  const sources = [options.model, options.systems, options.lab].filter((source) => source !== undefined);
  if (sources.length !== 1)
    throw new ConfigError(`name exactly one of --model, --systems and --lab (got ${sources.length})`, {
      hint: "vertical serve --model tiny.gguf [--lora adapter.gguf] | --systems systems.yaml | --lab examples/harbor",
    });
  if (options.lora?.length && !options.model) throw new ConfigError("--lora goes with --model", { where: "--lora" });
  if (options.model) return [systemFromModel(options.model, options.lora ?? [])];
  if (options.systems) return systemsFromFile(options.systems);
  return systemsFromLab(options.lab!, settings().threads, options.labOut);
}

export async function startServe(options: StartServeOptions): Promise<RunningServe> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const chosen = chooseSystems(options);
  const keys = [...settings().serveApiKeys, ...(options.apiKeysFile ? readApiKeyFile(options.apiKeysFile) : [])];
  const feedback = options.feedback ? FeedbackStore.open(options.feedback) : undefined;
  const ratings = options.ratings ? RatingsStore.open(options.ratings) : undefined;
  const loaded: ServedSystem[] = [];
  try {
    for (const [index, { spec, options: systemOptions }] of chosen.entries()) {
      const started = performance.now();
      log(`loading ${index + 1}/${chosen.length}: ${spec.name} (${spec.model}${spec.adapters.map((adapter) => ` + ${adapter.path}`).join("")})`);
      loaded.push(await serveSystem(spec, { ...systemOptions, queue: { ...(options.queue !== undefined ? { maxWaiting: options.queue } : {}) } }));
      log(`  loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } catch (error) {
    for (const system of loaded) await system.dispose();
    feedback?.dispose();
    ratings?.dispose();
    throw error;
  }
  const labOut = options.lab ? path.resolve(options.labOut ?? path.join(options.lab, "out")) : undefined;
  const judgeResults = options.judgeResults ?? (labOut ? path.join(labOut, "eval") : undefined);
  const judge = judgeResults ? readJudgeVerdicts(judgeResults) : undefined;
  const server = createServer({
    systems: loaded,
    ...(feedback ? { feedback } : {}),
    apiKeys: new ApiKeys(keys),
    ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.bodyLimitBytes ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
    ...(options.accessLog ? { accessLog: options.accessLog } : {}),
    console: {
      consoleDirectory: options.consoleDirectory ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../web/dist"),
      ...(ratings ? { ratings } : {}),
      ratingsApi: { ...(options.reference ? { reference: options.reference } : {}), ...(judge ? { judge } : {}) },
      ...(labOut ? { labOut } : {}),
    },
  });
  const url = await server.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 8080 });
  return {
    url,
    systems: loaded.map((system) => system.name),
    async close() {
      await server.close();
      feedback?.dispose();
      ratings?.dispose();
    },
  };
}
