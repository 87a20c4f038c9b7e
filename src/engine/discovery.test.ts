/**
 * Which files discovery takes from a ggml folder: node-llama-cpp's versioned registry names and a
 * plain build's libggml.so, and the errors for a folder that cannot serve the asked device. Empty
 * files are enough: only names are checked here, nothing is loaded.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EngineError } from "../shared/errors.js";
import { findRegistryName, resolveLibraries, resolveOwnBuild } from "./discovery.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vertical-discovery-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: string[]): string {
  const directory = path.join(root, name);
  fs.mkdirSync(directory);
  for (const file of files) fs.writeFileSync(path.join(directory, file), "");
  return directory;
}

describe("the backend registry's file name", () => {
  it("accepts node-llama-cpp's versioned names and a plain build's libggml.so", () => {
    expect(findRegistryName(["libggml-base.so", "libggml-cpu-zen4.so", "libggml.v0.4.0.so"])).toBe("libggml.v0.4.0.so");
    expect(findRegistryName(["libggml-base.so", "libggml.cuda.v0.4.0.so"])).toBe("libggml.cuda.v0.4.0.so");
    expect(
      findRegistryName(["libggml-base.so", "libggml-base.so.0", "libggml.so.0", "libggml.so", "libggml-cpu.so"]),
    ).toBe("libggml.so");
  });

  it("does not take the base, a backend or a versioned symlink for the registry", () => {
    expect(
      findRegistryName(["libggml-base.so", "libggml-cpu.so", "libggml-cuda.so", "libggml.so.0", "libggml.so.0.9.4"]),
    ).toBeUndefined();
  });
});

describe("your own ggml build (VERTICAL_GGML_DIR)", () => {
  const gpuBuild = folder("cuda-build", [
    "libggml-base.so",
    "libggml-base.so.0",
    "libggml.so",
    "libggml.so.0",
    "libggml-cpu.so",
    "libggml-cuda.so",
  ]);
  const cpuBuild = folder("cpu-build", ["libggml-base.so", "libggml.so", "libggml-cpu.so"]);

  it("resolves base and registry from the folder, for CPU and CUDA", () => {
    for (const device of ["cpu", "cuda"] as const) {
      const libraries = resolveOwnBuild(gpuBuild, device);
      expect(libraries).toEqual({
        device,
        directory: gpuBuild,
        base: path.join(gpuBuild, "libggml-base.so"),
        registry: path.join(gpuBuild, "libggml.so"),
      });
    }
  });

  it("takes the folder instead of node-llama-cpp's packages when one is given", () => {
    expect(resolveLibraries("cpu", cpuBuild).directory).toBe(cpuBuild);
  });

  it("names what is missing", () => {
    expect(() => resolveOwnBuild(cpuBuild, "cuda")).toThrow(/has no cuda backend \(libggml-cuda\.so\)/);
    expect(() => resolveOwnBuild(folder("no-base", ["libggml.so", "libggml-cpu.so"]), "cpu")).toThrow(
      /no libggml-base\.so/,
    );
    expect(() => resolveOwnBuild(folder("no-registry", ["libggml-base.so", "libggml-cpu.so"]), "cpu")).toThrow(
      /no libggml\.so \(backend registry\)/,
    );
    expect(() => resolveOwnBuild(path.join(root, "absent"), "cpu")).toThrow(EngineError);
    expect(() => resolveOwnBuild(path.join(root, "absent"), "cpu")).toThrow(/does not exist/);
  });
});
