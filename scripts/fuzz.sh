#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each one for N seconds
# (default 20), starting from the seed corpus in fuzz/corpus/<target>/. Inputs that add
# coverage go to <build>/fuzz-corpus/<target>/ (the seeds stay untouched); a crashing input is
# saved as fuzz/crashes/<target>-crash-<sha1> and the script exits non-zero.
# Usage: scripts/fuzz.sh [seconds] [target...]
# Environment: BUILD_DIR (default build-fuzz), JOBS (default 2), FUZZ_FLAGS (extra libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
build=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(protocol_json_fuzz protocol_protobuf_fuzz jwt_fuzz config_fuzz)
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DGYRE_FUZZ=ON -DGYRE_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs" $(printf -- '--target %s ' "${targets[@]}")

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p fuzz/crashes
status=0
summary=()
for t in "${targets[@]}"; do
    work="$build/fuzz-corpus/$t"
    log="$build/fuzz-logs/$t.log"
    mkdir -p "$work" "$(dirname "$log")"
    echo "=== $t: ${seconds}s (log: $log)"
    rc=0
    # Seeds are read from fuzz/corpus/<target>; new inputs are written to the first directory.
    # shellcheck disable=SC2086
    "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="fuzz/crashes/$t-" ${FUZZ_FLAGS:-} \
        "$work" "fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 || true)
    corpus=$(find "$work" -type f | wc -l)
    line="$t: exit $rc, ${runs:-?} runs, ${speed:-?} exec/s, $cov, $corpus new corpus files"
    summary+=("$line")
    echo "$line"
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "--- $t FAILED; end of log:"
        tail -n 60 "$log"
    fi
done
echo "=== summary"
printf '%s\n' "${summary[@]}"
exit "$status"
