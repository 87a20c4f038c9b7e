#!/usr/bin/env bash
# After scripts/gpu-device-run.sh (same machine, same command): re-runs check phases under CUDA's
# debugging aids, so an abort inside ggml names the kernel and the op.
#   CUDA_LAUNCH_BLOCKING=1      every kernel completes before the next, errors surface at their op
#   GGML_CUDA_DISABLE_GRAPHS=1  no CUDA graph capture/replay of repeated ggml graphs
#   compute-sanitizer memcheck  the faulting kernel, thread and address
# Usage: bash scripts/gpu-diagnose.sh [PHASE...]   (default: optimizer training); writes $OUT/diagnose.log
# (2026-11-26 on an H200: fusion off changed nothing, so that variant was dropped.)
set -uo pipefail
cd "$(dirname "$0")/.."
work=${WORK_DIR:-/tmp/vertical-gpu}
out=${OUT:-/tmp}/diagnose.log
export VERTICAL_GGML_DIR="$work/build/bin" VERTICAL_DEVICE=cuda VERTICAL_THREADS=8 VERTICAL_NO_PROGRESS=1
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib"
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(optimizer training)
run_phase() { # label, phase, command prefix...
  local label=$1 phase=$2
  shift 2
  echo "== $phase with $label" | tee -a "$out"
  timeout --kill-after=5 90 "$@" "$work/bin/node" .gpu/gpu-check.mjs --phase "$phase" --result "/tmp/diagnose-$phase.json" 2>&1 |
    grep -v '^/tmp/\|^/work/\|^/root/' | tail -40 >>"$out"
  echo "   exit ${PIPESTATUS[0]}" | tee -a "$out"
}
for phase in "${phases[@]}"; do
  run_phase CUDA_LAUNCH_BLOCKING=1 "$phase" env CUDA_LAUNCH_BLOCKING=1
  run_phase GGML_CUDA_DISABLE_GRAPHS=1 "$phase" env GGML_CUDA_DISABLE_GRAPHS=1
done
if command -v compute-sanitizer >/dev/null; then
  run_phase "compute-sanitizer memcheck" "${phases[0]}" compute-sanitizer --tool memcheck --print-limit 4
fi
tail -c 6000 "$out"
