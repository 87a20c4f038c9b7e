// The console's build (docs/decisions/0004): Preact through esbuild's automatic JSX runtime, written to
// web/dist, which `vertical serve` serves at `/`. `npm run build:web` runs it.
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true },
  logLevel: "warn",
});
