/**
 * Real tokenizers for native tests without a download: llama.cpp's vocab-only GGUFs, taken from the
 * llama.cpp source bundle that node-llama-cpp ships (cloned once into the cache directory).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { settings } from "../../src/config.js";

const bundle = path.resolve("node_modules/node-llama-cpp/llama/gitRelease.bundle");

/** Path of llama.cpp's `models/<name>` (e.g. "ggml-vocab-qwen2.gguf"), extracted on first use. */
export function llamaCppVocab(name: string): string {
  const directory = path.join(settings().cacheDir, "llama.cpp-vocab");
  const target = path.join(directory, name);
  if (fs.existsSync(target)) return target;
  fs.mkdirSync(directory, { recursive: true });
  const clone = path.join(directory, ".clone");
  if (!fs.existsSync(path.join(clone, ".git"))) {
    fs.rmSync(clone, { recursive: true, force: true });
    execFileSync("git", ["clone", "-q", "--no-checkout", bundle, clone]);
  }
  const bytes = execFileSync("git", ["-C", clone, "show", `HEAD:models/${name}`], { maxBuffer: 1 << 30 });
  const temporary = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, bytes);
  fs.renameSync(temporary, target);
  return target;
}
