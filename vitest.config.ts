import { defineConfig } from "vitest/config";

// Native tests load ggml and node-llama-cpp: run each file in its own process (forks) so a
// native library's global state never leaks between files, and give model tests time.
export default defineConfig({
  test: {
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts", "scripts/**/*.test.ts"],
    exclude: ["test/gpu/**", "node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
