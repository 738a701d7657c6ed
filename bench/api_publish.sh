#!/usr/bin/env bash
# Server HTTP API publish throughput: builds gyre and http_load (Release), starts gyre with the
# memory engine pinned to one core, drives POST /api/publish and POST /api/batch from the other
# core with bench/http_load (closed loop, keep-alive), and prints a Markdown table.
#
#   bench/api_publish.sh            # ~5 s per scenario
#   bench/api_publish.sh --smoke    # 1 s per scenario, to check the harness (CI)
#   bench/api_publish.sh --no-build # use the binaries already in $BUILD
#
# Environment: BUILD (build dir, default build), PORT (default: a random free one), PAD (bytes of
# padding per publication, default 64), SERVER_CPU / LOAD_CPU (cores, default 0 and 1), JOBS
# (build parallelism).
# Exits non-zero if publishing fails or any request of a scenario fails.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PAD=${PAD:-64}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
DURATION=5
WARMUP=1
DO_BUILD=1
for arg in "$@"; do
    case "$arg" in
        --smoke) DURATION=1 WARMUP=0.5 ;;
        --no-build) DO_BUILD=0 ;;
        *) echo "usage: $0 [--smoke] [--no-build]" >&2; exit 2 ;;
    esac
done

if ((DO_BUILD)); then
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGYRE_BENCH=ON >/dev/null
    cmake --build "$BUILD" --target gyre http_load ${JOBS:+-j "$JOBS"} >&2
fi
GYRE=$BUILD/gyre
LOAD=$BUILD/bench/http_load

. bench/lib.sh
bench_pick_port
TMP=$(mktemp -d)
cleanup() {
    bench_stop_server
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_pin "$SERVER_CPU" "$LOAD_CPU"

CFG=$TMP/config.json
cat >"$CFG" <<'EOF'
{"http_api": {"key": "bench"}, "log": {"level": "error"}, "client": {"insecure": true}, "health": {"enabled": true},
 "gyre": {"shards": 1}}
EOF

bench_start_gyre "$GYRE" "$CFG"
reply=$(curl -s -XPOST -H 'X-API-Key: bench' -d '{"channel":"bench0","data":{}}' "$BASE/api/publish")
if [[ $reply != *'"result"'* ]]; then
    echo "POST /api/publish does not work yet: $reply" >&2
    exit 1
fi

# scenario name | connections | batch size (0: single publish)
SCENARIOS=(
    "single publish|1|0"
    "single publish|16|0"
    "batch K=100|4|100"
)

LOADAVG=$(cut -d" " -f1-3 /proc/loadavg)
ROWS=()
COMMANDS=()
failed=0
for s in "${SCENARIOS[@]}"; do
    IFS='|' read -r name conns batch <<<"$s"
    cmd=("$LOAD" --url "$BASE/api/publish" --api-key bench --publish bench --pad "$PAD"
         --conns "$conns" --duration "$DURATION" --warmup "$WARMUP" --server-pid "$SERVER_PID")
    ((batch > 0)) && cmd+=(--batch "$batch")
    cmd=("${PIN_LOAD[@]}" "${cmd[@]}")
    COMMANDS+=("${cmd[*]}")
    out=$("${cmd[@]}")
    echo "$out" >&2
    ok=$(json_field "$out" requests_ok)
    errors=$(json_field "$out" errors)
    if ((ok == 0 || errors > 0)); then
        echo "scenario '$name' (conns $conns): $ok ok, $errors errors" >&2
        failed=1
    fi
    ROWS+=("$(printf '| %s | %d | %.0f | %.0f | %s / %s | %s |' "$name" "$conns" \
        "$(json_field "$out" publishes_per_s)" "$(json_field "$out" requests_per_s)" \
        "$(json_field "$out" p50)" "$(json_field "$out" p99)" "$(json_field "$out" cpu_us_per_publish)")")
done

echo
echo "$("$GYRE" --version 2>/dev/null | head -1), memory engine; server on core $SERVER_CPU, http_load on core $LOAD_CPU; $DURATION s per scenario after $WARMUP s warm-up; pad $PAD B; load average before: $LOADAVG"
echo
echo "| scenario | conns | publishes/s | requests/s | p50 / p99 ms | server CPU µs/publish |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Server: ${PIN_SERVER[*]} $GYRE --config CFG --http_server.port $PORT   # CFG: $(cat "$CFG")"
printf '%s\n' "${COMMANDS[@]}"
if ((failed)); then
    echo "some scenarios had errors (see above)" >&2
    exit 1
fi
