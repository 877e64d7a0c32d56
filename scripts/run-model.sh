#!/usr/bin/env bash
# The main job on the shipped model: sets up sensq, imports the GGUF model,
# generates text with float32 weights, calibrates on one part of the text,
# quantizes with RTN and AWQ, and evaluates every variant on the other part.
# Prints a Markdown table of perplexities, the table of docs/results.md.
#
# Environment:
#   SENSQ_BUILD_DIR  build folder (default: build under the repository root)
#   SENSQ_OUT_DIR    folder for the produced modules and statistics
#                    (default: out under the repository root)
#   SENSQ_CALIB_DOCS number of leading documents of the text used for
#                    calibration; the rest are evaluated (default: 6)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SENSQ_BUILD_DIR:-$root/build}"
out="${SENSQ_OUT_DIR:-$root/out}"
calib_docs="${SENSQ_CALIB_DOCS:-6}"
model="$root/data/stories260K-f32.gguf"
text="$root/data/tinystories-valid-sample.txt"

"$root/scripts/setup.sh"
bin="$build/bin"
mkdir -p "$out"

echo "== import $model"
"$bin/sensq-translate" --import-gguf "$model" -o "$out/model.mlir"

echo "== greedy generation, float32"
"$bin/sensq-run" generate "$out/model.mlir" --gguf "$model" --steps 64

echo "== calibrate on documents 0..$((calib_docs - 1))"
"$bin/sensq-run" calibrate "$out/model.mlir" --gguf "$model" --text "$text" \
  --max-docs "$calib_docs" -o "$out/stats.safetensors"

# Prints the perplexity of a module on the evaluation documents.
evaluate() {
  "$bin/sensq-run" perplexity "$1" --gguf "$model" --text "$text" \
    --skip-docs "$calib_docs" | sed -n 's/^perplexity: //p'
}

# Quantizes the model with the given sensitivity-quantize options and
# prints the perplexity of the result.
quantize_and_evaluate() {
  local name="$1" options="$2"
  "$bin/sensq-opt" "$out/model.mlir" \
    --sensitivity-quantize="stats=$out/stats.safetensors $options" \
    -o "$out/$name.mlir"
  evaluate "$out/$name.mlir"
}

float_ppl="$(evaluate "$out/model.mlir")"

rows=()
add_row() {
  local label="$1" name="$2" options="$3"
  echo "== $label: $options" >&2
  local ppl
  ppl="$(quantize_and_evaluate "$name" "$options")"
  rows+=("| $label | \`$options\` | $ppl |")
}

add_row "RTN W8, per channel" rtn-w8 "method=rtn bits=8 group-size=0"
add_row "RTN W4, per channel" rtn-w4-pc "method=rtn bits=4 group-size=0"
add_row "RTN W4, group 32" rtn-w4-g32 "method=rtn bits=4 group-size=32"
add_row "AWQ W4, per channel, act-magnitude" awq-w4-pc-mag "method=awq metric=act-magnitude bits=4 group-size=0"
add_row "AWQ W4, per channel, act-second-moment" awq-w4-pc-sq "method=awq metric=act-second-moment bits=4 group-size=0"
add_row "AWQ W4, group 32, act-magnitude" awq-w4-g32-mag "method=awq metric=act-magnitude bits=4 group-size=32"
add_row "AWQ W4, group 32, act-second-moment" awq-w4-g32-sq "method=awq metric=act-second-moment bits=4 group-size=32"
add_row "RTN W4, group 32, output projection in float" rtn-w4-g32-skip "method=rtn bits=4 group-size=32 skip=output.weight"
add_row "AWQ W4, group 32, act-magnitude, output projection in float" awq-w4-g32-mag-skip "method=awq metric=act-magnitude bits=4 group-size=32 skip=output.weight"

echo
echo "| weights | sensitivity-quantize options | perplexity |"
echo "|---|---|---|"
echo "| float32 | | $float_ppl |"
for row in "${rows[@]}"; do
  echo "$row"
done
