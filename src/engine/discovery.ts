/**
 * Finds the ggml libraries that node-llama-cpp ships: the CPU package always, the CUDA or Vulkan
 * package when it is installed and asked for. Each package carries its own libggml-base, so one
 * process uses exactly one package directory.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { EngineError } from "../shared/errors.js";

export type Device = "cpu" | "cuda" | "vulkan";

export interface GgmlLibraries {
  device: Device;
  /** The bins directory; ggml_backend_load_all_from_path scans it for backends (CPU variants, CUDA, Vulkan). */
  directory: string;
  base: string;
  registry: string;
}

const packageSuffix: Record<Device, string> = { cpu: "", cuda: "-cuda", vulkan: "-vulkan" };

function nodeModulesRoots(): string[] {
  const roots = new Set<string>();
  try {
    // node-llama-cpp's own location: its platform packages are installed beside it.
    // (node-llama-cpp's "exports" hides package.json, so resolve its entry and walk up to node_modules.)
    const require = createRequire(import.meta.url);
    let directory = path.dirname(require.resolve("node-llama-cpp"));
    while (path.basename(directory) !== "node_modules" && path.dirname(directory) !== directory)
      directory = path.dirname(directory);
    if (path.basename(directory) === "node_modules") roots.add(directory);
  } catch {
    // fall through to the working directory
  }
  roots.add(path.resolve("node_modules"));
  return [...roots];
}

/** The bins directory of `@node-llama-cpp/<platform><suffix>`, or undefined when not installed. */
export function findBinsDirectory(device: Device, roots = nodeModulesRoots()): string | undefined {
  const platform = `${process.platform}-${process.arch}${packageSuffix[device]}`;
  for (const root of roots) {
    const directory = path.join(root, "@node-llama-cpp", platform, "bins", platform);
    if (fs.existsSync(path.join(directory, "libggml-base.so"))) return directory;
  }
  return undefined;
}

export function resolveLibraries(device: Device): GgmlLibraries {
  const directory = findBinsDirectory(device);
  if (!directory) {
    throw new EngineError(`the ggml libraries for device "${device}" are not installed`, {
      where: `@node-llama-cpp/${process.platform}-${process.arch}${packageSuffix[device]}`,
      hint:
        device === "cpu"
          ? "run `npm ci` so node-llama-cpp's platform package is present"
          : `install the node-llama-cpp ${device} package or use device "cpu" (VERTICAL_DEVICE=cpu)`,
    });
  }
  const registry = fs.readdirSync(directory).find((name) => /^libggml\.(?:[a-z]+\.)?v[\d.]+\.so$/.test(name));
  if (!registry) throw new EngineError("no libggml.*.so (backend registry) beside libggml-base.so", { where: directory });
  return { device, directory, base: path.join(directory, "libggml-base.so"), registry: path.join(directory, registry) };
}
