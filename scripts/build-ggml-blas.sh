#!/usr/bin/env bash
# Builds ggml's BLAS backend (ggml/src/ggml-blas, OpenBLAS) from the llama.cpp release that
# node-llama-cpp ships, linked against node-llama-cpp's own libggml-base.so, so it loads into the
# same process as the CPU backend (decision 0003). One C++ file; a few seconds.
#
#   npm run build:blas              # -> .cache/ggml-blas/libggml-blas.so
#   bash scripts/build-ggml-blas.sh --if-possible   # as npm run demo calls it: skips when g++ or
#                                                   # OpenBLAS headers are missing, rebuilds nothing
#
# Needs g++ and OpenBLAS's headers (Debian: apt-get install g++ libopenblas-dev). The output is
# written to a temporary name and renamed, so an interrupted build leaves nothing half-written.
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir=".cache/ggml-blas"
bundle="node_modules/node-llama-cpp/llama/gitRelease.bundle"
bins="node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
source_dir=".cache/llama.cpp-src"

# --if-possible: a missing prerequisite is a notice and exit 0 (the demo then runs on ggml's CPU
# kernels alone, slower); otherwise it is an error.
if_possible=false
[ "${1:-}" = "--if-possible" ] && if_possible=true
fail() {
  if $if_possible; then
    echo "build-ggml-blas: skipped, $1; training runs on ggml's CPU kernels alone (slower)" >&2
    exit 0
  fi
  echo "build-ggml-blas: $1" >&2
  exit 1
}
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || fail "only linux-x64 is supported (node-llama-cpp's linux-x64 package provides libggml-base.so)"
[ -f "$bundle" ] || fail "$bundle is missing: run npm ci first"
[ -f "$bins/libggml-base.so" ] || fail "$bins/libggml-base.so is missing: run npm ci first"
command -v g++ >/dev/null || fail "g++ is not installed (Debian: apt-get install g++)"
blas_include=""
for candidate in /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/openblas /usr/include/x86_64-linux-gnu /usr/include; do
  if [ -f "$candidate/cblas.h" ]; then
    blas_include="$candidate"
    break
  fi
done
[ -n "$blas_include" ] || fail "cblas.h not found (Debian: apt-get install libopenblas-dev)"

# The llama.cpp source of this exact release (the bundle's single commit).
if [ ! -f "$source_dir/ggml/src/ggml-blas/ggml-blas.cpp" ]; then
  rm -rf "$source_dir.tmp"
  git -c advice.detachedHead=false clone --quiet "$bundle" "$source_dir.tmp"
  rm -rf "$source_dir"
  mv "$source_dir.tmp" "$source_dir"
fi

mkdir -p "$out_dir"
target="$out_dir/libggml-blas.so"
if $if_possible && [ -f "$target" ]; then exit 0; fi
g++ -O3 -std=c++17 -shared -fPIC -DNDEBUG \
  -DGGML_BACKEND_DL -DGGML_BACKEND_BUILD -DGGML_BACKEND_SHARED -DGGML_SHARED -DGGML_BUILD -DGGML_USE_OPENBLAS \
  -I "$source_dir/ggml/include" -I "$source_dir/ggml/src" -I "$blas_include" \
  "$source_dir/ggml/src/ggml-blas/ggml-blas.cpp" \
  -L "$bins" -l:libggml-base.so -lopenblas -pthread \
  -o "$target.tmp"
mv "$target.tmp" "$target"
git -C "$source_dir" rev-parse HEAD >"$out_dir/source-commit.txt"
echo "built $target (llama.cpp $(cut -c1-12 "$out_dir/source-commit.txt"), OpenBLAS headers from $blas_include)"
