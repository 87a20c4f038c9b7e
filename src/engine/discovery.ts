/**
 * Finds the ggml libraries that node-llama-cpp ships: the CPU package always, the CUDA or Vulkan
 * package when it is installed and asked for. Each package carries its own libggml-base, so one
 * process uses exactly one package directory.
 *
 * Or, when VERTICAL_GGML_DIR names a folder, your own ggml build (e.g. CUDA built for your GPU's
 * architecture): built with GGML_BACKEND_DL=ON it holds libggml-base.so, the registry libggml.so
 * and one loadable library per backend (libggml-cpu*.so, libggml-cuda.so, ...), so one process can
 * hold a CPU and a GPU backend at once.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { settings } from "../config.js";
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

/**
 * The backend registry library among a folder's file names: node-llama-cpp's
 * `libggml.<variant>.v<version>.so` / `libggml.v<version>.so`, or a plain build's `libggml.so`.
 */
export function findRegistryName(names: readonly string[]): string | undefined {
  return names.find((name) => /^libggml(?:\.(?:[a-z]+\.)?v[\d.]+)?\.so$/.test(name));
}

/** The backend library a device needs in a ggml build folder (GGML_BACKEND_DL=ON names them so). */
const backendLibrary: Record<Device, RegExp> = {
  cpu: /^libggml-cpu(?:-[\w]+)?\.so$/,
  cuda: /^libggml-cuda\.so$/,
  vulkan: /^libggml-vulkan\.so$/,
};

/**
 * The libraries of your own ggml build in `directory` (VERTICAL_GGML_DIR). Throws an EngineError
 * naming what is missing.
 */
export function resolveOwnBuild(directory: string, device: Device): GgmlLibraries {
  const hint =
    "point VERTICAL_GGML_DIR at the folder holding libggml-base.so, libggml.so and the backend libraries " +
    "(cmake -DGGML_BACKEND_DL=ON builds them into build/bin; see docs/engine-api.md), or unset it to use node-llama-cpp's";
  let names: string[];
  try {
    names = fs.readdirSync(directory);
  } catch {
    throw new EngineError(`the ggml build folder ${directory} does not exist or cannot be read`, { where: "VERTICAL_GGML_DIR", hint });
  }
  if (!names.includes("libggml-base.so"))
    throw new EngineError(`no libggml-base.so in the ggml build folder ${directory}`, { where: "VERTICAL_GGML_DIR", hint });
  const registry = findRegistryName(names);
  if (!registry)
    throw new EngineError(`no libggml.so (backend registry) in the ggml build folder ${directory}`, { where: "VERTICAL_GGML_DIR", hint });
  // A CPU-only folder asked for CUDA would otherwise fail later with "no cuda device".
  if (device !== "cpu" && !names.some((name) => backendLibrary[device].test(name)))
    throw new EngineError(`the ggml build folder ${directory} has no ${device} backend (libggml-${device}.so)`, {
      where: "VERTICAL_GGML_DIR",
      hint: `build ggml with -DGGML_${device.toUpperCase()}=ON -DGGML_BACKEND_DL=ON, or use device cpu`,
    });
  return { device, directory, base: path.join(directory, "libggml-base.so"), registry: path.join(directory, registry) };
}

export function resolveLibraries(device: Device, ggmlDirectory = settings().ggmlDirectory): GgmlLibraries {
  if (ggmlDirectory !== undefined) return resolveOwnBuild(path.resolve(ggmlDirectory), device);
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
  const registry = findRegistryName(fs.readdirSync(directory));
  if (!registry) throw new EngineError("no libggml.*.so (backend registry) beside libggml-base.so", { where: directory });
  return { device, directory, base: path.join(directory, "libggml-base.so"), registry: path.join(directory, registry) };
}

/** `libggml-cpu-<variant>.so` → variant, for the CPU variant libraries in a ggml folder (sorted). */
export function cpuVariantNames(names: readonly string[]): string[] {
  return names
    .map((name) => /^libggml-cpu-([\w]+)\.so$/.exec(name)?.[1])
    .filter((variant): variant is string => variant !== undefined)
    .sort();
}

/** The path of one CPU variant library, or an EngineError listing the folder's variants. */
export function cpuVariantLibrary(directory: string, variant: string): string {
  const names = fs.readdirSync(directory);
  const variants = cpuVariantNames(names);
  if (!variants.includes(variant))
    throw new EngineError(`there is no ggml CPU variant "${variant}" in ${directory}`, {
      where: "VERTICAL_CPU_VARIANT",
      hint: `use one of ${variants.join(", ") || "(none: this folder has a single libggml-cpu.so)"}, or unset it to let ggml choose`,
    });
  return path.join(directory, `libggml-cpu-${variant}.so`);
}
