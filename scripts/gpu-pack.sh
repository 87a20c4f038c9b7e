#!/usr/bin/env bash
# Regenerates .gpu/ (ignored; add `/.gpu/` to .git/info/exclude): everything a GPU machine without
# node, npm or network needs to run scripts/gpu-check.ts against a ggml it builds itself:
#   node.xz            this machine's node binary (needs glibc >= 2.28 there)
#   node_modules/      koffi's JS and its linux-x64 native module (the bundle's one external)
#   ggml-src.tar.xz    ggml/ of the llama.cpp source node-llama-cpp ships (same commit as its libraries)
#   gpu-check.mjs      scripts/gpu-check.ts bundled with esbuild (all of Vertical's code it uses)
# scripts/gpu-device-run.sh uses it there. Run from anywhere: bash scripts/gpu-pack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

rm -rf "$out"
mkdir -p "$out/node_modules/@koromix/koffi-linux-x64"

echo "node $(node --version) -> $out/node.xz"
nice -n 19 xz -T2 -6 -c "$(command -v node)" >"$out/node.xz"

echo "koffi -> $out/node_modules"
cp -r node_modules/koffi "$out/node_modules/koffi"
koffi_native=node_modules/@koromix/koffi-linux-x64
cp "$koffi_native/package.json" "$koffi_native/index.js" "$out/node_modules/@koromix/koffi-linux-x64/"
cp -r "$koffi_native/linux_x64" "$out/node_modules/@koromix/koffi-linux-x64/"

# ggml's source from the bundle node-llama-cpp ships, so the build matches the headers Vertical reads.
llama=${LLAMA_CPP_DIR:-}
if [ -z "$llama" ]; then
  llama="$staging/llama.cpp"
  git clone -q --no-checkout node_modules/node-llama-cpp/llama/gitRelease.bundle "$llama"
  git -C "$llama" checkout -q HEAD -- ggml
fi
echo "ggml source from $llama ($(git -C "$llama" rev-parse --short HEAD 2>/dev/null || echo unknown)) -> $out/ggml-src.tar.xz"
mkdir -p "$staging/src"
cp -r "$llama/ggml" "$staging/src/ggml"
# ggml/ inside llama.cpp is not a standalone project: its CMakeLists configures ggml.pc.in, which
# lives only in the ggml repository. An empty one is enough (nothing is installed).
[ -f "$staging/src/ggml/ggml.pc.in" ] || : >"$staging/src/ggml/ggml.pc.in"
tar -C "$staging/src" -cf - ggml | nice -n 19 xz -T2 -6 >"$out/ggml-src.tar.xz"

echo "bundle scripts/gpu-check.ts -> $out/gpu-check.mjs"
# ESM output: CommonJS dependencies inside call require(), which an ES module lacks; koffi stays
# external (its native module is found beside it in $out/node_modules).
nice -n 19 npx esbuild scripts/gpu-check.ts --bundle --platform=node --format=esm --target=node20 \
  --external:koffi --external:node-llama-cpp --log-level=warning \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" \
  --outfile="$out/gpu-check.mjs"
if grep -q 'from "node-llama-cpp"\|import("node-llama-cpp")' "$out/gpu-check.mjs"; then
  echo "warning: the bundle imports node-llama-cpp, which the GPU machine does not have" >&2
fi
du -sh "$out" "$out"/*
