#!/usr/bin/env bash
# Runs every test: installs dependencies, builds the release binary (-Werror) and the
# ASan+UBSan build, and runs the whole suite (unit, layering, end-to-end) on both.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# The end-to-end tests drive gyre with the real centrifuge-js SDK (pinned in package-lock.json).
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
jobs=${JOBS:-$(nproc)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
status=0
for flavour in release asan; do
    ./scripts/build.sh "$flavour"
    dir=build; [ "$flavour" = asan ] && dir=build-asan
    echo "== tests ($flavour)"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 || status=1
done
# Benchmarks are not tests: a seconds-long smoke run only checks that the harness works.
echo "== bench smoke"
BUILD=build ./bench/run.sh --smoke || status=1
BUILD=build ./bench/proxy.sh --smoke || status=1
# libFuzzer targets (clang, ASan + UBSan), briefly: decoders, JWT, config parsing.
echo "== fuzz (${FUZZ_SECONDS:-10}s per target)"
./scripts/fuzz.sh "${FUZZ_SECONDS:-10}" || status=1
exit $status
