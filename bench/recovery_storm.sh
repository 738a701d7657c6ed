#!/usr/bin/env bash
# History and recovery: publish throughput into a channel with history, and a reconnect storm in
# which every client recovers the publications it missed. Starts gyre (memory engine, one shard)
# pinned to one core with history enabled for all channels, and drives it from the other core:
#
#   1. publish with history: bench/http_load (if built) for single publishes (16 keep-alive
#      connections) and batches of 100 (4 connections), then a Node http.Agent keep-alive loop
#      (bench/recovery_storm.mjs --phases publish), 5 s each;
#   2. recovery storm (a fresh server): CLIENTS raw WebSocket clients subscribe to "storm" with
#      recoverable:true, POST /api/disconnect drops them all (code 3000), MISSED publications are
#      published, then all reconnect at once with recover:true (bench/recovery_storm.mjs).
#
#   bench/recovery_storm.sh            # 10,000 clients, 100 missed publications, ~1 min
#   bench/recovery_storm.sh --smoke    # 200 clients, 1 s publish runs: checks the harness
#   bench/recovery_storm.sh --no-build # use the binaries already in $BUILD
#
# Environment: BUILD (default build), PORT (default: a random free one), CLIENTS (default 10000),
# MISSED (default 100; at most client.recovery_max_publication_limit, 300, or no client can
# recover), SERVER_CPU / LOAD_CPU (default 0 and 1), JOBS (build parallelism, default 1).
# Prints JSON lines, then a Markdown table; exits non-zero if a publish fails or a client does not
# recover exactly the missed publications.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
CLIENTS=${CLIENTS:-10000}
MISSED=${MISSED:-100}
DURATION=5
WARMUP=1
DO_BUILD=1
for arg in "$@"; do
    case "$arg" in
        --smoke) DURATION=1 WARMUP=0.5 CLIENTS=200 ;;
        --no-build) DO_BUILD=0 ;;
        *) echo "usage: $0 [--smoke] [--no-build]" >&2; exit 2 ;;
    esac
done

if ((DO_BUILD)); then
    cmake -S . -B "$BUILD" -DGYRE_BENCH=ON >/dev/null
    cmake --build "$BUILD" --target gyre -j "${JOBS:-1}" >&2
    cmake --build "$BUILD" --target http_load -j "${JOBS:-1}" >&2 || echo "http_load did not build: skipping it" >&2
fi
GYRE=$BUILD/gyre
LOAD=$BUILD/bench/http_load
[[ -x $GYRE ]] || { echo "no $GYRE (build it or drop --no-build)" >&2; exit 1; }
NODE_SCRIPT=bench/recovery_storm.mjs
# The ws package: bench/node_modules if present, else the e2e tests' copy.
export NODE_PATH=${NODE_PATH:-$PWD/bench/node_modules:$PWD/tests/e2e/node_modules}

. bench/lib.sh
# A free port below the ephemeral range (32768+: 20,000 client sockets take many of those).
bench_pick_port 12000
TMP=$(mktemp -d)
cleanup() {
    bench_stop_server
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_pin "$SERVER_CPU" "$LOAD_CPU"

# Sockets: CLIENTS on each side, plus a few.
need=$((CLIENTS + 200))
if (($(ulimit -n) < need)); then ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; fi

CFG=$TMP/config.json
cat >"$CFG" <<'EOF'
{"client": {"insecure": true}, "http_api": {"key": "bench"}, "log": {"level": "error"}, "health": {"enabled": true},
 "channel": {"without_namespace": {"history_size": 1000, "history_ttl": "600s", "force_recovery": true}},
 "gyre": {"shards": 1}}
EOF

LOADAVG=$(cut -d" " -f1-3 /proc/loadavg)
failed=0
ROWS=()
COMMANDS=()

# ---- 1. publish with history
bench_start_gyre "$GYRE" "$CFG"
if [[ -x $LOAD ]]; then
    for s in "single publish|16|0" "batch K=100|4|100"; do
        IFS='|' read -r name conns batch <<<"$s"
        cmd=("${PIN_LOAD[@]}" "$LOAD" --url "$BASE/api/publish" --api-key bench --publish bench --pad 64
             --conns "$conns" --duration "$DURATION" --warmup "$WARMUP" --server-pid "$SERVER_PID")
        ((batch > 0)) && cmd+=(--batch "$batch")
        COMMANDS+=("${cmd[*]}")
        out=$("${cmd[@]}")
        echo "{\"phase\":\"publish\",\"client\":\"http_load\",\"scenario\":\"$name\",${out#\{}"
        ok=$(json_field "$out" requests_ok)
        errors=$(json_field "$out" errors)
        if ((ok == 0 || errors > 0)); then
            echo "scenario '$name': $ok ok, $errors errors" >&2
            failed=1
        fi
        ROWS+=("$(printf '| %s, http_load | %d | %.0f | %s / %s | %s |' "$name" "$conns" \
            "$(json_field "$out" publishes_per_s)" "$(json_field "$out" p50)" "$(json_field "$out" p99)" \
            "$(json_field "$out" cpu_us_per_publish)")")
    done
    # The history channel really kept the publications.
    hist=$(curl -s -XPOST -H 'X-API-Key: bench' -d '{"channel":"bench0","limit":0}' "$BASE/api/history")
    echo "history bench0 after http_load: $hist" >&2
else
    echo "no $LOAD: skipping the http_load runs (configure with -DGYRE_BENCH=ON)" >&2
fi
cmd=("${PIN_LOAD[@]}" node "$NODE_SCRIPT" --url "$BASE" --key bench --server-pid "$SERVER_PID"
     --clk-tck "$(getconf CLK_TCK)" --phases publish --publish-conc 16 --publish-seconds "$DURATION"
     --publish-warmup "$WARMUP")
COMMANDS+=("${cmd[*]}")
out=$("${cmd[@]}") || failed=1
echo "$out"
ROWS+=("$(printf '| single publish, Node http.Agent | 16 | %.0f | %s / %s | %s |' \
    "$(json_field "$out" publishes_per_s)" "$(json_field "$out" p50_ms)" "$(json_field "$out" p99_ms)" \
    "$(json_field "$out" server_cpu_us_per_publish)")")
bench_stop_server

# ---- 2. recovery storm, on a fresh server
bench_start_gyre "$GYRE" "$CFG"
cmd=("${PIN_LOAD[@]}" node "$NODE_SCRIPT" --url "$BASE" --key bench --server-pid "$SERVER_PID"
     --clk-tck "$(getconf CLK_TCK)" --phases storm --clients "$CLIENTS" --missed "$MISSED")
COMMANDS+=("${cmd[*]}")
storm=$("${cmd[@]}") || failed=1
echo "$storm"
bench_stop_server

echo
echo "$("$GYRE" --version 2>/dev/null | head -1), memory engine, history_size 1000, force_recovery; server on core $SERVER_CPU, load on core $LOAD_CPU; load average before: $LOADAVG"
echo
echo "| publish into a history channel | conns | publishes/s | p50 / p99 ms | server CPU µs/publish |"
echo "|---|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
if [[ -n $storm ]]; then
    rss() { sed -n "s/.*\"server_rss_kb\":{[^}]*\"$1\":\([0-9]*\).*/\1/p" <<<"$storm"; }
    echo "| recovery storm | value |"
    echo "|---|---:|"
    echo "| clients subscribed (recoverable) | $(json_field "$storm" subscribed) |"
    echo "| initial connect+subscribe, s | $(json_field "$storm" initial_subscribe_s) |"
    echo "| API disconnect until all closed, s | $(json_field "$storm" disconnect_s) |"
    echo "| missed publications per client | $(json_field "$storm" missed) |"
    echo "| recovered exactly (all missed, in order) | $(json_field "$storm" recovered) |"
    echo "| failed | $(json_field "$storm" failed) |"
    echo "| storm: first reconnect to last recovered, s | $(json_field "$storm" storm_s) |"
    echo "| per-client p50 / p90 / p99 ms | $(json_field "$storm" p50_ms) / $(json_field "$storm" p90_ms) / $(json_field "$storm" p99_ms) |"
    echo "| all sockets open / all connect replies, s | $(json_field "$storm" all_open_s) / $(json_field "$storm" all_connected_s) |"
    echo "| server CPU during the storm, s | $(json_field "$storm" server_cpu_s) |"
    echo "| server CPU µs per recovering client | $(json_field "$storm" server_cpu_us_per_client) |"
    echo "| load generator CPU during the storm, s | $(json_field "$storm" client_cpu_s) |"
    echo "| server RSS before / with clients / after storm / peak, MB | $(awk -v a="$(rss before)" -v b="$(rss with_clients)" -v c="$(rss after_storm)" -v d="$(rss peak)" 'BEGIN{printf "%.1f / %.1f / %.1f / %.1f", a/1024, b/1024, c/1024, d/1024}') |"
fi
echo
echo "Server: ${PIN_SERVER[*]} $GYRE --config CFG --http_server.port $PORT   # CFG: $(tr -d '\n' <"$CFG")"
printf '%s\n' "${COMMANDS[@]}"
if ((failed)); then
    echo "some runs had errors or unrecovered clients (see above)" >&2
    exit 1
fi
