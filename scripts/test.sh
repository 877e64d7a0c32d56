#!/usr/bin/env bash
# Sets up sensq (packages, configure, build) and runs every test: the lit
# suite, including the end-to-end runs of the shipped model, and the Google
# Test unit tests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SENSQ_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
cmake --build "$build" --target check-sensq
