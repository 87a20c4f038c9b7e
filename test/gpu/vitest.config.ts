import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The GPU tier, excluded from the default run (vitest.config.ts):
//   VERTICAL_GPU_TESTS=1 VERTICAL_DEVICE=cuda VERTICAL_GGML_DIR=... npx vitest run --config test/gpu/vitest.config.ts
export default defineConfig({
  root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.."),
  test: {
    pool: "forks",
    include: ["test/gpu/**/*.test.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
