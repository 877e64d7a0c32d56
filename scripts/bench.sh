#!/usr/bin/env bash
# Builds sensq, prepares float32 and quantized modules of the shipped model,
# and runs the benchmarks in bench/. Forward-pass times of all modules come
# from one process, so compare them as ratios to the float32 row.
#
# Environment:
#   SENSQ_BUILD_DIR  build folder (default: build under the repository root)
#   SENSQ_OUT_DIR    folder for the modules (default: out/bench)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SENSQ_BUILD_DIR:-$root/build}"
out="${SENSQ_OUT_DIR:-$root/out/bench}"
model="$root/data/stories260K-f32.gguf"
text="$root/data/tinystories-valid-sample.txt"

"$root/scripts/setup.sh"
bin="$build/bin"
mkdir -p "$out"

"$bin/sensq-translate" --import-gguf "$model" -o "$out/float32.mlir"
"$bin/sensq-run" calibrate "$out/float32.mlir" --gguf "$model" --text "$text" \
  --max-docs 6 -o "$out/stats.safetensors"

quantize() {
  "$bin/sensq-opt" "$out/float32.mlir" -o "$out/$1.mlir" \
    --sensitivity-quantize="stats=$out/stats.safetensors $2"
}
quantize rtn-w8 "method=rtn bits=8 group-size=0"
quantize rtn-w4-g32 "method=rtn bits=4 group-size=32"
quantize awq-w4-g32 "method=awq bits=4 group-size=32"

echo "== numeric core"
"$build/bench/sensq-bench-numeric"

echo "== forward pass, T = 512 tokens"
"$build/bench/sensq-bench-forward" --scalar-baseline "$out/float32.mlir" "$out/rtn-w8.mlir" \
  "$out/rtn-w4-g32.mlir" "$out/awq-w4-g32.mlir" \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
