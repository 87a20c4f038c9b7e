#!/usr/bin/env bash
# Runs on a GPU machine (no node, no network) from the repository root, with .gpu/ carried
# (made by scripts/gpu-pack.sh): unpacks node, builds ggml with CUDA for this GPU's architecture
# (backends as loadable libraries, no flash-attention kernels), runs the bundled GPU check (CUDA vs
# CPU in one process, then throughput) and copies the report to $OUT:
#   gpu-check.json, gpu-check.md   the report (scripts/gpu-check.ts)
#   gpu-check.log                  the check's console output
#   ggml-build.log                 configure + build output (tail)
#   device-run.log                 this script's phases, nvidia-smi, tool versions, timings
#
# Environment (all optional):
#   GPU_DEVICE=cuda|cpu   cpu: no GPU needed, CPU-only ggml build (to test this script anywhere)
#   GGML_PREBUILT_DIR=DIR use this ggml build folder instead of building
#   BUILD_JOBS=N          parallel build jobs (default: nproc)
#   CUDA_ARCH=90          CMAKE_CUDA_ARCHITECTURES (default: from nvidia-smi's compute capability)
#   GPU_CHECK_ARGS=...    extra flags for gpu-check (e.g. --quick, --skip-throughput)
#   TOTAL_LIMIT_S=N       the whole script's budget (default 450, for run(timeout_s=480)): the check
#                         is stopped when it would pass it; the report so far is kept (written
#                         after every phase)
#   WORK_DIR=DIR          scratch (default /tmp/vertical-gpu)
set -euo pipefail
started=$(date +%s)
: "${OUT:?set OUT to the folder the results go to}"
mkdir -p "$OUT"
device=${GPU_DEVICE:-cuda}
work=${WORK_DIR:-/tmp/vertical-gpu}
jobs=${BUILD_JOBS:-$(nproc)}
log="$OUT/device-run.log"
: >"$log"
say() { echo "[$(($(date +%s) - started))s] $*" | tee -a "$log"; }
fail() {
  say "FAILED: $*"
  exit 1
}

say "phase: machine ($device, $(nproc) cores, $(uname -m))"
if [ "$device" = cuda ]; then
  nvidia-smi 2>&1 | tee -a "$log" || fail "nvidia-smi failed: no NVIDIA GPU or driver visible"
fi
for file in node.xz ggml-src.tar.xz gpu-check.mjs node_modules/koffi/package.json; do
  [ -e ".gpu/$file" ] || fail ".gpu/$file is missing: run scripts/gpu-pack.sh here first and carry .gpu"
done
mkdir -p "$work/bin"

# xz-utils is in most images; python3's lzma module stands in where it is not.
unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}

say "phase: unpack node"
unxz_to .gpu/node.xz "$work/bin/node"
chmod +x "$work/bin/node"
say "node $("$work/bin/node" --version)"

# A second run on the same (still warm) machine reuses the build made from the same source.
stamp="$device $(cksum <.gpu/ggml-src.tar.xz) ${CUDA_ARCH:-auto}"
if [ -n "${GGML_PREBUILT_DIR:-}" ]; then
  ggml_dir=$(cd "$GGML_PREBUILT_DIR" && pwd)
  say "phase: ggml build skipped, using $ggml_dir"
elif [ -f "$work/build/bin/libggml-base.so" ] && [ "$(cat "$work/build/vertical-stamp" 2>/dev/null)" = "$stamp" ]; then
  ggml_dir="$work/build/bin"
  say "phase: ggml build skipped, reusing $ggml_dir from an earlier run of this script"
elif [ "$(cat "$work/build/vertical-configured" 2>/dev/null)" = "$stamp" ]; then
  # An earlier run configured the same source and stopped mid-build (time budget): build on.
  resume=1
fi
if [ -z "${ggml_dir:-}" ]; then
  command -v cmake >/dev/null || fail "cmake not found"
  generator=Ninja
  command -v ninja >/dev/null || generator="Unix Makefiles"
  if [ "$device" = cuda ] && ! command -v nvcc >/dev/null; then export PATH="/usr/local/cuda/bin:$PATH"; fi
fi
if [ -n "${resume:-}" ]; then
  say "phase: ggml configure skipped, resuming the build an earlier run of this script started"
elif [ -z "${ggml_dir:-}" ]; then
  say "phase: ggml configure"
  rm -rf "$work/ggml" "$work/build"
  unxz_to .gpu/ggml-src.tar.xz "$work/ggml-src.tar"
  tar -C "$work" -xf "$work/ggml-src.tar"
  say "cmake $(cmake --version | head -1 | awk '{print $3}'), generator $generator"
  cmake_args=(-G "$generator" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_BACKEND_DL=ON
    -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF
    # Every library in bin/, where ggml_backend_load_all_from_path looks for the backends.
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$work/build/bin"
    # GGML_NATIVE is refused with GGML_BACKEND_DL; the default x86-64-v3 flags (AVX2, FMA, F16C)
    # serve the CPU reference.
    -DGGML_NATIVE=OFF)
  if [ "$device" = cuda ]; then
    command -v nvcc >/dev/null || fail "nvcc not found (looked in PATH and /usr/local/cuda/bin)"
    arch=${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '. ')}
    [ -n "$arch" ] || arch=90
    say "nvcc: $(nvcc --version | tail -1); CUDA arch $arch"
    # GGML_CUDA_FA=OFF: flash-attention kernels compile to stubs (Vertical's graphs do not use them).
    cmake_args+=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" -DGGML_CUDA_FA=OFF -DGGML_CUDA_NCCL=OFF)
  fi
  cmake -S "$work/ggml" -B "$work/build" "${cmake_args[@]}" >"$work/build.log" 2>&1 ||
    {
      tail -40 "$work/build.log" >"$OUT/ggml-build.log"
      fail "ggml configure failed (see ggml-build.log)"
    }
  echo "$stamp" >"$work/build/vertical-configured"
fi
if [ -z "${ggml_dir:-}" ]; then
  # Leave at least 2 minutes of the budget for the check; a build that would eat it stops here.
  build_timeout=$((${TOTAL_LIMIT_S:-450} - 120 - ($(date +%s) - started)))
  say "phase: ggml build ($generator, $jobs jobs, stops after ${build_timeout}s)"
  timeout "$build_timeout" cmake --build "$work/build" -j "$jobs" >>"$work/build.log" 2>&1 ||
    {
      status=$?
      { grep -n -B2 -A12 ' error' "$work/build.log" | head -80 || true; } >"$OUT/ggml-build.log"
      tail -40 "$work/build.log" >>"$OUT/ggml-build.log"
      [ "$status" -ne 124 ] || fail "ggml build did not finish in ${build_timeout}s ($(grep -c '^\[' "$work/build.log") steps done; see ggml-build.log)"
      fail "ggml build failed (exit $status; see ggml-build.log)"
    }
  tail -60 "$work/build.log" >"$OUT/ggml-build.log"
  echo "$stamp" >"$work/build/vertical-stamp"
  ggml_dir="$work/build/bin"
  say "ggml built: $(ls "$ggml_dir" | tr '\n' ' ')"
fi

if [ "$device" = cuda ]; then
  # The CUDA runtime and cuBLAS the backend links, in case the build's RPATH does not name them.
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib"
  if command -v ldd >/dev/null && [ -e "$ggml_dir/libggml-cuda.so" ]; then
    ldd "$ggml_dir/libggml-cuda.so" | grep -E 'not found|cudart|cublas' | tee -a "$log" || true
  fi
fi

check_timeout=$((${TOTAL_LIMIT_S:-450} - ($(date +%s) - started)))
[ "$check_timeout" -ge 60 ] || check_timeout=60
say "phase: gpu check (VERTICAL_DEVICE=$device, stops after ${check_timeout}s)"
set +e
# shellcheck disable=SC2086 # GPU_CHECK_ARGS is a list of flags
VERTICAL_GGML_DIR="$ggml_dir" VERTICAL_DEVICE="$device" VERTICAL_THREADS="${VERTICAL_THREADS:-8}" VERTICAL_NO_PROGRESS=1 \
  timeout --kill-after=10 "$check_timeout" "$work/bin/node" .gpu/gpu-check.mjs --report "$OUT/gpu-check" ${GPU_CHECK_ARGS:-} 2>&1 |
  tee "$OUT/gpu-check.log"
status=${PIPESTATUS[0]}
set -e
case $status in
  0) say "gpu check: PASS" ;;
  1) say "gpu check: FAIL (a check failed; see gpu-check.md)" ;;
  124 | 137) say "gpu check: TIMED OUT after ${check_timeout}s (the report holds the phases that finished)" ;;
  *) say "gpu check: ERROR exit $status (see gpu-check.log)" ;;
esac
say "done"
exit "$status"
