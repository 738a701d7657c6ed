#!/usr/bin/env bash
# Proxy hooks benchmark (issue 9): what the connect proxy costs in connections per second, and
# what a proxied RPC or publish adds per call, against the same work without a proxy.
#
#   bench/proxy.sh              # builds gyre, proxy_backend and proxy_load, then ~4 min (REPS=3)
#   bench/proxy.sh --smoke      # 200 connections and 1 s call runs: checks the harness (< 30 s)
#   bench/proxy.sh --no-build   # reuse $BUILD's binaries
#
# Each run gets a fresh gyre (memory engine, gyre.shards 1) pinned to core 0 and a fresh
# bench/proxy_backend (HTTP/1.1 keep-alive, fixed JSON answers) and bench/proxy_load
# (WebSocket JSON clients) pinned to core 1. Per repetition:
#
#   connect-jwt     CONNS clients connect with an HS256 JWT (no proxy call): the baseline
#   connect-proxy   CONNS clients connect without a token: client.proxy.connect asks the backend
#   calls at RATE/s (open loop, CALL_CONNS connections, latency from the scheduled send time):
#     rpc-ping      rpc "ping", answered by gyre itself (rpc.ping.enabled)
#     rpc-proxy     rpc "echo", sent to the backend by rpc.proxy
#     pub-plain     publish to "bench" (allow_publish_for_client, no proxy)
#     pub-proxy     publish to "px:bench" (namespace px: publish_proxy_enabled)
#   the same four closed loop (MAX_CONNS connections, one call in flight each): the maximum rate
#
# Environment: BUILD (default build-bench), OUT (default /tmp/gyre-bench-proxy/<time>), REPS (3),
# CONNS (10000), CONCURRENCY (handshakes in flight, 500), RATE (2000), CALL_CONNS (100),
# MAX_CONNS (50), DURATION (5 s, after 1 s warm-up), JOBS (build parallelism).
# Results: $OUT/runs.jsonl (one proxy_load JSON per run, with the backend's request counts) and
# $OUT/summary.md (medians over the repetitions, range in brackets). "server waiting %" is the
# time the server's threads sat on a run queue (schedstat run_delay) per wall second: high means
# other processes on core 0 took the server's CPU, so the figures measure the machine.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
OUT=${OUT:-${TMPDIR:-/tmp}/gyre-bench-proxy/$(date +%Y%m%d-%H%M%S)}
SMOKE=0 NO_BUILD=0
for arg in "$@"; do
    case $arg in
    --smoke) SMOKE=1 ;;
    --no-build) NO_BUILD=1 ;;
    *) echo "usage: bench/proxy.sh [--smoke] [--no-build]" >&2 && exit 2 ;;
    esac
done
REPS=${REPS:-3} CONNS=${CONNS:-10000} CONCURRENCY=${CONCURRENCY:-500} RATE=${RATE:-2000}
CALL_CONNS=${CALL_CONNS:-100} MAX_CONNS=${MAX_CONNS:-50} DURATION=${DURATION:-5} WARMUP=1
if ((SMOKE)); then
    REPS=1 CONNS=200 CONCURRENCY=100 RATE=200 CALL_CONNS=10 MAX_CONNS=10 DURATION=0.5 WARMUP=0.2
fi
mkdir -p "$OUT"

if ((!NO_BUILD)); then
    if [[ -f $BUILD/build.ninja ]]; then
        cmake -DGYRE_BENCH=ON "$BUILD" >/dev/null
    else
        cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGYRE_BENCH=ON \
            -DGYRE_TESTS=OFF >/dev/null
    fi
    cmake --build "$BUILD" ${JOBS:+-j "$JOBS"} --target gyre proxy_backend proxy_load >/dev/null
fi
GYRE=$BUILD/gyre BACKEND=$BUILD/bench/proxy_backend LOAD=$BUILD/bench/proxy_load

TMP=$OUT
. "$ROOT/bench/lib.sh"
bench_pin 0 1
bench_pick_port
BACKEND_PID=
stop_all() {
    bench_stop_server
    if [[ -n $BACKEND_PID ]]; then
        kill "$BACKEND_PID" 2>/dev/null || true
        wait "$BACKEND_PID" 2>/dev/null || true
        BACKEND_PID=
    fi
}
trap stop_all EXIT

SECRET=bench-secret
TOKEN=$(bench_jwt "$SECRET" bench)

# A fresh backend on core 1, then a fresh gyre on core 0 whose proxies point at it.
start_pair() {
    "${PIN_LOAD[@]}" "$BACKEND" --port 0 >"$OUT/backend.out" 2>"$OUT/backend.err" &
    BACKEND_PID=$!
    local bport=
    for _ in $(seq 50); do
        bport=$(sed -n 's/^port=//p' "$OUT/backend.out")
        [[ -n $bport ]] && break
        sleep 0.1
    done
    [[ -n $bport ]] || { echo "proxy_backend did not start" >&2; cat "$OUT/backend.err" >&2; exit 1; }
    local b=http://127.0.0.1:$bport
    cat >"$OUT/gyre-proxy.json" <<EOF
{"client": {"token": {"hmac_secret_key": "$SECRET"},
            "proxy": {"connect": {"enabled": true, "endpoint": "$b/connect", "timeout": "5s"}}},
 "rpc": {"ping": {"enabled": true, "method": "ping"},
         "proxy": {"endpoint": "$b/rpc", "timeout": "5s"},
         "without_namespace": {"proxy_enabled": true}},
 "channel": {"proxy": {"publish": {"endpoint": "$b/publish", "timeout": "5s"}},
             "without_namespace": {"allow_publish_for_client": true},
             "namespaces": [{"name": "px", "publish_proxy_enabled": true}]},
 "http_api": {"key": "bench"}, "log": {"level": "error"}, "health": {"enabled": true},
 "gyre": {"shards": 1}}
EOF
    bench_start_gyre "$GYRE" "$OUT/gyre-proxy.json"
}

# Stops both and records the backend's request counts (its last line) under $1.
stop_pair() { # label rep
    stop_all
    echo "{\"label\":\"$1\",\"rep\":$2,\"result\":$(tail -n 1 "$OUT/backend.err")}" >>"$OUT/runs.jsonl"
}

FAILED=0
run() { # label rep proxy_load-args...
    local label=$1 rep=$2
    shift 2
    local res status=0
    res=$("${PIN_LOAD[@]}" "$LOAD" "$@" --port "$PORT" --server-pid "$SERVER_PID" \
        --backend-pid "$BACKEND_PID") || status=$?
    if ((status != 0)); then
        echo "bench: $label failed (status $status): $res" >&2
        FAILED=1
    fi
    echo "{\"label\":\"$label\",\"rep\":$rep,\"status\":$status,\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"result\":${res:-null}}" \
        >>"$OUT/runs.jsonl"
}

calls() { # rep kind-args... : the four call scenarios at one setting
    local rep=$1 prefix=$2
    shift 2
    run "$prefix-rpc-ping" "$rep" calls --kind rpc --method ping "$@"
    run "$prefix-rpc-proxy" "$rep" calls --kind rpc --method echo "$@"
    run "$prefix-pub-plain" "$rep" calls --kind publish --channel bench "$@"
    run "$prefix-pub-proxy" "$rep" calls --kind publish --channel px:bench "$@"
}

: >"$OUT/runs.jsonl"
for rep in $(seq "$REPS"); do
    echo "bench: repetition $rep/$REPS, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    for mode in jwt proxy; do
        start_pair
        if [[ $mode == jwt ]]; then
            run connect-jwt "$rep" connect --conns "$CONNS" --concurrency "$CONCURRENCY" --token "$TOKEN"
        else
            run connect-proxy "$rep" connect --conns "$CONNS" --concurrency "$CONCURRENCY"
        fi
        stop_pair "backend-connect-$mode" "$rep"
    done
    start_pair
    common=(--conns "$CALL_CONNS" --token "$TOKEN" --duration "$DURATION" --warmup "$WARMUP")
    calls "$rep" fixed "${common[@]}" --rate "$RATE"
    common=(--conns "$MAX_CONNS" --token "$TOKEN" --duration "$DURATION" --warmup "$WARMUP")
    calls "$rep" max "${common[@]}" --rate 0 --inflight 1
    stop_pair backend-calls "$rep"
done

python3 - "$OUT/runs.jsonl" "$SMOKE" >"$OUT/summary.md" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
smoke = sys.argv[2] == "1"
by = {}
for r in runs:
    by.setdefault(r["label"], []).append(r)

def med(label, key, fmt="{:,.0f}"):
    vals = [r["result"][key] for r in by.get(label, []) if r.get("result")]
    if not vals:
        return "n/a"
    m = statistics.median(vals)
    if len(vals) == 1:
        return fmt.format(m)
    return f"{fmt.format(m)} ({fmt.format(min(vals))}–{fmt.format(max(vals))})"

print("| connect | connected | conns/s | p50 / p99 ms per connection | server µs/conn | backend µs/conn | server core % | server waiting % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label in ("connect-jwt", "connect-proxy"):
    print(f"| {label} | {med(label, 'connected')} | {med(label, 'conns_per_s')} | "
          f"{med(label, 'p50_ms', '{:.1f}')} / {med(label, 'p99_ms', '{:.1f}')} | "
          f"{med(label, 'server_cpu_us_per_conn', '{:.1f}')} | {med(label, 'backend_cpu_us_per_conn', '{:.1f}')} | "
          f"{med(label, 'server_core_pct')} | {med(label, 'server_wait_pct')} |")
print()
print("| calls | calls/s | p50 ms | p99 ms | max ms | server µs/call | backend µs/call | server core % | server waiting % | load+backend core % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for prefix in ("fixed", "max"):
    for kind in ("rpc-ping", "rpc-proxy", "pub-plain", "pub-proxy"):
        label = f"{prefix}-{kind}"
        rs = [r["result"] for r in by.get(label, []) if r.get("result")]
        core1 = statistics.median([r["load_core_pct"] + r["backend_core_pct"] for r in rs]) if rs else 0
        print(f"| {label} | {med(label, 'calls_per_s')} | {med(label, 'p50_ms', '{:.3f}')} | "
              f"{med(label, 'p99_ms', '{:.3f}')} | {med(label, 'max_ms', '{:.2f}')} | "
              f"{med(label, 'server_cpu_us_per_call', '{:.1f}')} | {med(label, 'backend_cpu_us_per_call', '{:.1f}')} | "
              f"{med(label, 'server_core_pct')} | {med(label, 'server_wait_pct')} | {core1:.0f} |")
print()
for r in runs:
    if r["label"].startswith("backend"):
        print(f"- {r['label']} rep {r['rep']}: {json.dumps(r['result'])}")
errors = [r for r in runs if r.get("status", 0) != 0]
for r in errors:
    print(f"- FAILED {r['label']} rep {r['rep']}: {json.dumps(r['result'])}")
# The harness's own checks: the JWT baseline never calls the connect proxy, the tokenless run
# calls it once per client, and proxied calls reach the backend.
for r in runs:
    if r["label"] == "backend-connect-jwt":
        assert r["result"]["connect"] == 0, r
    if r["label"] == "backend-connect-proxy":
        assert r["result"]["connect"] >= by["connect-proxy"][0]["result"]["connected"], r
    if r["label"] == "backend-calls":
        assert r["result"]["rpc"] > 0 and r["result"]["publish"] > 0, r
PY
cat "$OUT/summary.md"
((FAILED == 0)) || { echo "bench: some runs failed (see $OUT/runs.jsonl)" >&2; exit 1; }
echo "bench: results in $OUT" >&2
