#!/usr/bin/env bash
# Regenerates docs/Dialects and docs/Passes from the ODS definitions. Run it
# after changing a .td file and commit the result.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SENSQ_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
cmake --build "$build" --target mlir-doc
for folder in Dialects Passes; do
  rm -rf "$root/docs/$folder"
  cp -r "$build/docs/$folder" "$root/docs/$folder"
done
