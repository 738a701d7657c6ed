#!/usr/bin/env bash
# Configures and builds one flavour: release (build/) or asan (build-asan/, ASan + UBSan).
# Usage: scripts/build.sh [release|asan] [target...]   (no target: everything, tests included)
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
shift || true
jobs=${JOBS:-$(nproc)}
case "$flavour" in
    release) dir=build; args=(-DCMAKE_BUILD_TYPE=Release -DGYRE_WERROR=ON -DGYRE_BENCH=ON) ;;
    asan)    dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DGYRE_SANITIZE=ON) ;;
    *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j "$jobs" "${targets[@]}"
