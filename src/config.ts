/**
 * The only module that reads environment variables. Precedence everywhere: explicit parameter >
 * environment variable > default.
 */
import os from "node:os";
import path from "node:path";

export interface Settings {
  /** Threads for ggml compute. Defaults to the number of CPU cores (VERTICAL_THREADS). */
  threads: number;
  /** ggml device: "cpu", "cuda" or "vulkan" (VERTICAL_DEVICE). Defaults to "cpu". */
  device: "cpu" | "cuda" | "vulkan";
  /**
   * A folder holding your own ggml build (libggml-base.so, the libggml*.so registry and the backend
   * libraries, built with GGML_BACKEND_DL=ON) to use instead of node-llama-cpp's packages
   * (VERTICAL_GGML_DIR). Undefined: node-llama-cpp's.
   */
  ggmlDirectory: string | undefined;
  /**
   * Force one of ggml's CPU variant libraries (VERTICAL_CPU_VARIANT: e.g. "haswell", "skylakex",
   * "icelake", "sapphirerapids", "zen4", "sse42"; see `libggml-cpu-<variant>.so` beside the registry)
   * instead of the one ggml's registry scores best for this processor. Undefined: ggml's choice.
   * node-llama-cpp loaded later in the same process runs on the same variant (the first CPU device).
   */
  cpuVariant: string | undefined;
  /**
   * ggml's BLAS backend for CPU runs (VERTICAL_BLAS): "auto" uses the library `npm run build:blas`
   * made (.cache/ggml-blas/libggml-blas.so in the package) when it exists, "off" never, any other
   * value is the path of a libggml-blas.so built against node-llama-cpp's ggml. Defaults to "auto".
   */
  blas: string;
  /** Where caches (built example models, cloned fixtures) live (VERTICAL_CACHE_DIR). Defaults to ./.cache. */
  cacheDir: string;
  /** API key for OpenAI-compatible endpoints (OPENAI_API_KEY or VERTICAL_API_KEY). */
  apiKey: string | undefined;
  /** Base URL of an OpenAI-compatible endpoint (OPENAI_BASE_URL). */
  baseUrl: string | undefined;
  /** True when running under CI (CI=true): fewer threads, no progress bars. */
  ci: boolean;
  /** Run the GPU test tier (VERTICAL_GPU_TESTS=1). */
  gpuTests: boolean;
  /** API keys `vertical serve` accepts, comma-separated (VERTICAL_SERVE_API_KEYS). Empty: no key needed unless --api-keys names a file. */
  serveApiKeys: string[];
  /** Show live progress bars (off when not a TTY or VERTICAL_NO_PROGRESS=1). */
  progress: boolean;
}

function parseThreads(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function loadSettings(overrides: Partial<Settings> = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  const device = env.VERTICAL_DEVICE;
  return {
    threads: overrides.threads ?? parseThreads(env.VERTICAL_THREADS) ?? Math.max(1, os.availableParallelism()),
    device: overrides.device ?? (device === "cuda" || device === "vulkan" ? device : "cpu"),
    ggmlDirectory: "ggmlDirectory" in overrides ? overrides.ggmlDirectory : env.VERTICAL_GGML_DIR ? path.resolve(env.VERTICAL_GGML_DIR) : undefined,
    cpuVariant: "cpuVariant" in overrides ? overrides.cpuVariant : env.VERTICAL_CPU_VARIANT || undefined,
    blas: overrides.blas ?? (env.VERTICAL_BLAS ? (["auto", "off"].includes(env.VERTICAL_BLAS) ? env.VERTICAL_BLAS : path.resolve(env.VERTICAL_BLAS)) : "auto"),
    cacheDir: overrides.cacheDir ?? env.VERTICAL_CACHE_DIR ?? path.resolve(".cache"),
    apiKey: overrides.apiKey ?? env.VERTICAL_API_KEY ?? env.OPENAI_API_KEY,
    baseUrl: overrides.baseUrl ?? env.OPENAI_BASE_URL,
    ci: overrides.ci ?? env.CI === "true",
    gpuTests: overrides.gpuTests ?? env.VERTICAL_GPU_TESTS === "1",
    serveApiKeys: overrides.serveApiKeys ?? (env.VERTICAL_SERVE_API_KEYS ?? "").split(",").map((key) => key.trim()).filter(Boolean),
    progress: overrides.progress ?? (Boolean(process.stderr.isTTY) && env.VERTICAL_NO_PROGRESS !== "1" && env.CI !== "true"),
  };
}

let cached: Settings | undefined;
/** Settings from the environment, read once. */
export function settings(): Settings {
  cached ??= loadSettings();
  return cached;
}

/**
 * Gives a native library that is about to load a default for one of its environment variables,
 * unless the user set it (native code reads them with getenv at load; this module owns process.env).
 */
export function defaultNativeVariable(name: string, value: string): void {
  process.env[name] ??= value;
}
