#!/usr/bin/env bash
# End-to-end benchmarks: Gyre side by side with the ceiling server and the Go peer, on this
# machine, with the shared load tools (../shared/bench: wsload, ceiling, centrifuge-go,
# compare.sh). Server pinned to core 0, load to core 1, loopback only, bounded in time.
#
#   bench/run.sh            # everything (~32 min): compare.sh scenarios + sweeps, idle-15k,
#                           # JWT connect storm, Protobuf/JSON fan-out (ws_fanout), the HTTP
#                           # streaming transports, server API publish, micro-benchmarks
#   bench/run.sh --uni      # only the HTTP streaming transports against WebSocket (~7 min)
#   bench/run.sh --smoke    # seconds: checks the harness works (CI)
#   --no-build (after any of the above) reuses the binaries in $BUILD as they are
#
# Environment: SHARED_BENCH (default ../shared/bench next to the repo), BUILD (default
# build-bench), OUT (results; default /tmp/gyre-bench-results/<time>), TARGETS (default
# "gyre ceiling go"; "go" is skipped when its toolchain cannot be installed), PB_PAYLOADS
# (publication sizes in bytes for the ws_fanout runs; default "100 1024"), UNI_REPS
# (repetitions of each HTTP streaming transport scenario; default 3), JOBS (build parallelism;
# default ninja's).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED_BENCH:-$ROOT/../shared/bench}
BUILD=${BUILD:-$ROOT/build-bench}
OUT=${OUT:-${TMPDIR:-/tmp}/gyre-bench-results/$(date +%Y%m%d-%H%M%S)}
TOOLS=${BENCH_BUILD:-${TMPDIR:-/tmp}/gyre-bench-tools}
SMOKE=0 UNI_ONLY=0 NO_BUILD=0
for arg in "$@"; do
    case $arg in
    --smoke) SMOKE=1 ;;
    --uni) UNI_ONLY=1 ;;
    --no-build) NO_BUILD=1 ;;
    *) echo "usage: bench/run.sh [--smoke | --uni] [--no-build]" >&2 && exit 2 ;;
    esac
done
mkdir -p "$OUT" "$TOOLS"

if ((NO_BUILD)); then
    :
elif [[ -f $BUILD/build.ninja ]]; then
    cmake -DGYRE_BENCH=ON "$BUILD" >/dev/null # an existing build (CI's release build) keeps its options
else
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGYRE_BENCH=ON \
        -DGYRE_TESTS=OFF >/dev/null
fi
((NO_BUILD)) ||
    cmake --build "$BUILD" ${JOBS:+-j "$JOBS"} --target gyre http_load ws_fanout gyre_benchmarks >/dev/null

HAVE_SHARED=1
if [[ ! -x $SHARED/compare.sh ]]; then
    echo "bench: the shared load tools are not at $SHARED (set SHARED_BENCH)" >&2
    ((SMOKE || UNI_ONLY)) || exit 1
    HAVE_SHARED=0
else
    cc -O2 -Wall -Wno-unused-parameter -o "$TOOLS/wsload" "$SHARED/wsload/wsload.c" -lm
fi
WSLOAD=$TOOLS/wsload

# Gyre as the comparison runs it: one shard (the server has one core), anonymous clients for
# the compare.sh scenarios, an HMAC key for the JWT storm and the unidirectional HTTP streams
# (their clients cannot subscribe themselves: a token with "channels" subscribes them).
CFG=$OUT/gyre-bench.json
cat >"$CFG" <<'EOF'
{"client": {"insecure": true, "token": {"hmac_secret_key": "bench-secret"}},
 "http_api": {"key": "bench"}, "log": {"level": "error"}, "health": {"enabled": true},
 "uni_http_stream": {"enabled": true}, "uni_sse": {"enabled": true},
 "gyre": {"shards": 1}}
EOF
PORT=8200
export GYRE_CMD="$BUILD/gyre --config $CFG --http_server.port $PORT" GYRE_PORT=$PORT
export GYRE_API_KEY=bench BENCH_BUILD=$TOOLS

TMP=$OUT
. "$ROOT/bench/lib.sh"
bench_pin 0 1
trap bench_stop_server EXIT

# ws_fanout (bench/ws_fanout.cpp): fan-out in either encoding, Protobuf or JSON, against Gyre,
# over WebSocket or (--transport) a unidirectional HTTP stream, each run on a fresh server. The
# transport picks the path (/connection/websocket, /connection/uni_http_stream, …).
WS_FANOUT=$BUILD/bench/ws_fanout
ws_fanout_run() { # out-file ws_fanout-flags...
    local out=$1
    shift
    bench_start_gyre "$BUILD/gyre" "$CFG"
    "${PIN_LOAD[@]}" "$WS_FANOUT" --port "$PORT" --api-key bench --server-pid "$SERVER_PID" \
        "$@" >"$out"
    bench_stop_server
}
# One token for every uni connection: user "bench", subscribed server-side to channel "bench".
# WebSocket clients subscribe themselves, so theirs (same user) has no "channels".
UNI_TOKEN=$(bench_jwt bench-secret bench bench)
WS_TOKEN=$(bench_jwt bench-secret bench)
token_for() { # transport
    if [[ $1 == websocket ]]; then echo "$WS_TOKEN"; else echo "$UNI_TOKEN"; fi
}
assert_all_delivered() { # ws_fanout-result.json
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['delivery_ratio']==1, d" "$1"
}

# The HTTP streaming transports (uni_http_stream, uni_sse; JSON) side by side with WebSocket
# JSON at the same moment: fanout-1k (1,000 subscribers, 100 publications/s of 100 B for 10 s)
# and idle-10k (10,000 connections held 30 s, one 25 s ping round: server RSS per connection
# and CPU per connection-second), UNI_REPS times, the transports interleaved within each
# repetition. Results: $OUT/uni/gyre-<scenario>-r<rep>.json.
uni_runs() {
    mkdir -p "$OUT/uni"
    local rep t
    for rep in $(seq "${UNI_REPS:-3}"); do
        for t in websocket uni_http_stream uni_sse; do
            ws_fanout_run "$OUT/uni/gyre-fanout-1k-${t//_/-}-r$rep.json" --transport "$t" \
                --proto json --token "$(token_for "$t")" --conns 1000 --rate 100 --duration 10 \
                --payload 100 || true
        done
        for t in websocket uni_sse; do
            ws_fanout_run "$OUT/uni/gyre-idle-10k-${t//_/-}-r$rep.json" --transport "$t" \
                --proto json --token "$(token_for "$t")" --conns 10000 --rate 0 --duration 30 \
                || true
        done
    done
}

if ((SMOKE)); then
    ws_fanout_run "$OUT/smoke-pb.json" --proto protobuf --conns 20 --rate 20 --duration 1 \
        --settle 0.2 --drain 2
    assert_all_delivered "$OUT/smoke-pb.json"
    for t in uni_http_stream uni_sse; do # fanout-1k-uni-* in brief
        ws_fanout_run "$OUT/smoke-$t.json" --transport "$t" --token "$UNI_TOKEN" --conns 20 \
            --rate 20 --duration 1 --settle 0.2 --drain 2
        assert_all_delivered "$OUT/smoke-$t.json"
    done
    if ((HAVE_SHARED)); then
        bench_start_gyre "$BUILD/gyre" "$CFG"
        "${PIN_LOAD[@]}" "$WSLOAD" fanout --url "ws://127.0.0.1:$PORT/connection/websocket" \
            --conns 20 --rate 20 --duration 1 --api-key bench --server-pid "$SERVER_PID" >"$OUT/smoke.json"
        bench_stop_server
        assert_all_delivered "$OUT/smoke.json"
    fi
    BUILD=$BUILD "$ROOT/bench/api_publish.sh" --smoke --no-build >"$OUT/api-smoke.md"
    "$BUILD/bench/gyre_benchmarks" --benchmark_min_time=0.01 >/dev/null
    echo "bench: smoke ok ($OUT)"
    exit 0
fi

if ((UNI_ONLY)); then
    uni_runs
    python3 "$ROOT/bench/report.py" "$OUT" | tee "$OUT/summary.md"
    echo "results in $OUT" >&2
    exit 0
fi

TARGETS=${TARGETS:-gyre ceiling go}
if [[ " $TARGETS " == *" go "* ]] && ! BENCH_BUILD=$TOOLS "$SHARED/centrifuge-go/build.sh" >/dev/null; then
    echo "bench: the Go peer could not be built; running without it" >&2
    TARGETS=${TARGETS/go/}
fi

# 1. compare.sh: fan-out 1k/10k at 100k deliveries/s, idle-10k, channels-10k, sweeps.
"$SHARED/compare.sh" --targets "$TARGETS" --scenarios "fanout-1k fanout-10k idle-10k channels-10k" \
    --sweep --out "$OUT/compare" >"$OUT/compare.log" 2>&1 || true

# 2. idle-15k (Gyre and the ceiling) and the JWT connect storm (Gyre): 15,000 clients.
bench_start_gyre "$BUILD/gyre" "$CFG"
"${PIN_LOAD[@]}" "$WSLOAD" idle --url "ws://127.0.0.1:$PORT/connection/websocket" --conns 15000 \
    --duration 30 --server-pid "$SERVER_PID" >"$OUT/gyre-idle-15k.json" || true
bench_stop_server
TOKEN=$("$BUILD/gyre" gentoken -c "$CFG" -u bench -q)
bench_start_gyre "$BUILD/gyre" "$CFG"
"${PIN_LOAD[@]}" "$WSLOAD" idle --url "ws://127.0.0.1:$PORT/connection/websocket" --conns 15000 \
    --duration 1 --settle 0 --token "$TOKEN" --server-pid "$SERVER_PID" >"$OUT/gyre-storm-15k.json" || true
bench_stop_server
"${PIN_SERVER[@]}" "$TOOLS/ceiling" --port 8100 >"$OUT/ceiling-idle15k.server.log" 2>&1 &
SERVER_PID=$!
sleep 0.5
"${PIN_LOAD[@]}" "$WSLOAD" idle --url "ws://127.0.0.1:8100/connection/websocket" --conns 15000 \
    --duration 30 --server-pid "$SERVER_PID" >"$OUT/ceiling-idle-15k.json" || true
bench_stop_server

# 3. Fan-out over Protobuf (issue 5) and, with the same tool, over JSON for a like-for-like
# comparison: fanout-1k (1,000 subscribers, 100 publications/s) and fanout-10k (10,000, 10/s),
# 10 s each, for each publication size in PB_PAYLOADS (bytes of data; compare.sh's wsload runs
# send about 100).
mkdir -p "$OUT/ws_fanout"
for payload in ${PB_PAYLOADS:-100 1024}; do
    for enc in pb json; do
        proto=protobuf
        [[ $enc == json ]] && proto=json
        ws_fanout_run "$OUT/ws_fanout/gyre-fanout-1k-$enc-${payload}b.json" --proto "$proto" \
            --conns 1000 --rate 100 --duration 10 --payload "$payload" || true
        ws_fanout_run "$OUT/ws_fanout/gyre-fanout-10k-$enc-${payload}b.json" --proto "$proto" \
            --conns 10000 --rate 10 --duration 10 --payload "$payload" || true
    done
done

# 4. The HTTP streaming transports against WebSocket (see uni_runs above).
uni_runs

# 5. Server API publish throughput and the micro-benchmarks.
BUILD=$BUILD "$ROOT/bench/api_publish.sh" --no-build >"$OUT/api.md" || true
"$BUILD/bench/gyre_benchmarks" --benchmark_format=json >"$OUT/micro.json" 2>/dev/null || true

python3 "$ROOT/bench/report.py" "$OUT" | tee "$OUT/summary.md"
echo "results in $OUT" >&2
