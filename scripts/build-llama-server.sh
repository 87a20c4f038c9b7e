#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` (CPU-only, statically linked) from the llama.cpp release that
# node-llama-cpp ships, so the endpoint-pool test and `npm run bench:pool` can start real
# OpenAI-compatible servers on loopback. No network: the source is node-llama-cpp's git bundle.
#
#   npm run build:llama-server      # -> .cache/llama-server/llama-server
#   bash scripts/build-llama-server.sh --if-possible   # skips (exit 0) when cmake or g++ is missing
#
# Slow on a small machine (60 min on 2 cores shared at load average 15-20): it runs under `nice -n 15` with -j 2.
# GGML_NATIVE=OFF keeps the binary portable across x86-64 CPUs; the network features (curl,
# OpenSSL model downloads) are off because the servers only ever read local GGUF files. The build
# tree and the binary are written under temporary names and renamed, so an interrupted build
# leaves nothing half-written where the tests look.
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir=".cache/llama-server"
build_dir=".cache/llama-server-build.tmp"
bundle="node_modules/node-llama-cpp/llama/gitRelease.bundle"
source_dir=".cache/llama.cpp-src"
jobs="${LLAMA_SERVER_BUILD_JOBS:-2}"

if_possible=false
[ "${1:-}" = "--if-possible" ] && if_possible=true
fail() {
  if $if_possible; then
    echo "build-llama-server: skipped, $1; the endpoint-pool tests that need llama-server will skip" >&2
    exit 0
  fi
  echo "build-llama-server: $1" >&2
  exit 1
}
command -v cmake >/dev/null || fail "cmake is not installed (Debian: apt-get install cmake)"
command -v g++ >/dev/null || fail "g++ is not installed (Debian: apt-get install g++)"
[ -f "$bundle" ] || fail "$bundle is missing: run npm ci first"

target="$out_dir/llama-server"
if $if_possible && [ -x "$target" ]; then exit 0; fi

# The llama.cpp source of this exact release (the bundle's single commit); shared with build-ggml-blas.sh.
if [ ! -f "$source_dir/tools/server/server.cpp" ]; then
  rm -rf "$source_dir.tmp"
  git -c advice.detachedHead=false clone --quiet "$bundle" "$source_dir.tmp"
  rm -rf "$source_dir"
  mv "$source_dir.tmp" "$source_dir"
fi

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$source_dir" -B "$build_dir" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
  -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON
nice -n 15 cmake --build "$build_dir" --target llama-server -j "$jobs"

mkdir -p "$out_dir"
cp "$build_dir/bin/llama-server" "$target.tmp"
mv "$target.tmp" "$target"
git -C "$source_dir" rev-parse HEAD >"$out_dir/source-commit.txt"
echo "built $target (llama.cpp $(cut -c1-12 "$out_dir/source-commit.txt"))"
