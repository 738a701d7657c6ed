#!/usr/bin/env bash
# Redis engine benchmarks (issue 7): publishes per second into Redis through Gyre's HTTP API, as a
# ratio of what redis-benchmark -P 16 reaches against the same redis-server in the same run, and
# delivery latency across two Gyre nodes on that Redis.
#
#   bench/redis.sh              # builds (Release, own build dir), then ~4 min (3 repetitions)
#   bench/redis.sh --smoke      # seconds: one short repetition, checks the harness only
#   bench/redis.sh --no-build   # reuse the binaries in $BUILD
#
# Layout on a 2-core machine: redis-server (no persistence) on core 1; the Redis client under
# test on core 0 (redis-benchmark for the baselines, gyre node A with gyre.shards 1 for the
# rest); the HTTP/WebSocket load generators (bench/http_load, bench/ws_fanout) and gyre node B on
# core 1 beside Redis. Loopback only, free ports, every process stopped by pid on exit.
#
# Per repetition:
#   1. redis-benchmark -c 50 -P 16: PUBLISH (what Gyre sends for a channel without history),
#      EVAL of Gyre's own history script (src/node/redis_broker.cpp, extracted at run time, same
#      keys and arguments as Gyre sends), and EVALSHA of that script.
#   2. bench/http_load against node A (closed loop, keep-alive; warm-up, then DURATION s):
#      single publishes on 16 connections and batches of 100 on 4 (sequential, the API's
#      default, and "parallel": true), to a channel without history (PUBLISH) and to one in the
#      "hist" namespace (EVAL); single and sequential batch on a memory-engine node for
#      reference.
#   3. bench/ws_fanout: 100 subscribers on node A, 1,000 publications/s for LAT_DURATION s through
#      node B's API (cross-node), then through A's own API (single node), then on a memory-engine
#      node; latency from the publish time in each payload to its arrival.
# Raw results: $OUT/results.jsonl; the tables: $OUT/summary.md (bench/redis_report.py).
#
# Environment: BUILD (default build-bench-redis), OUT (default /tmp/gyre-bench-redis/<time>),
# REPS (3), DURATION (5), WARMUP (1), LAT_DURATION (10), LAT_CONNS (100), LAT_RATE (1000),
# PAD (64), REDIS_CPU / CLIENT_CPU (1 / 0), PERF=1 (perf record node A for 3 s during the
# single-publish runs, reports in $OUT).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench-redis}
OUT=${OUT:-${TMPDIR:-/tmp}/gyre-bench-redis/$(date +%Y%m%d-%H%M%S)}
REPS=${REPS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
LAT_DURATION=${LAT_DURATION:-10}
LAT_CONNS=${LAT_CONNS:-100}
LAT_RATE=${LAT_RATE:-1000}
PAD=${PAD:-64}
REDIS_CPU=${REDIS_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
N_PUBLISH=2000000 # redis-benchmark requests: a few seconds each on a 2 GHz core
N_EVAL=200000
SMOKE=0
DO_BUILD=1
for arg in "$@"; do
    case "$arg" in
        --smoke) SMOKE=1 REPS=1 DURATION=1 WARMUP=0.3 LAT_DURATION=1 LAT_CONNS=10 LAT_RATE=100 \
            N_PUBLISH=20000 N_EVAL=5000 ;;
        --no-build) DO_BUILD=0 ;;
        *) echo "usage: $0 [--smoke] [--no-build]" >&2; exit 2 ;;
    esac
done
for tool in redis-server redis-cli redis-benchmark python3 curl; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 1; }
done
mkdir -p "$OUT"

if ((DO_BUILD)); then
    if [[ ! -f $BUILD/build.ninja ]]; then
        cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGYRE_BENCH=ON \
            -DGYRE_TESTS=OFF >/dev/null
    fi
    cmake --build "$BUILD" --target gyre http_load ws_fanout >&2
fi
GYRE=$BUILD/gyre
HTTP_LOAD=$BUILD/bench/http_load
WS_FANOUT=$BUILD/bench/ws_fanout

. "$ROOT/bench/lib.sh" # bench_pin, json_field
bench_pin "$CLIENT_CPU" "$REDIS_CPU"
PIN_CLIENT=("${PIN_SERVER[@]}") # the Redis client under test: redis-benchmark or gyre node A
PIN_SIDE=("${PIN_LOAD[@]}")     # redis-server, node B, the load generators

PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port in [20000, 50000) not handed out before in this run.
TAKEN=" "
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 30000))
        [[ $TAKEN == *" $p "* ]] && continue
        ss -Htan "sport = :$p" | grep -q . && continue
        TAKEN+="$p "
        echo "$p"
        return 0
    done
    echo "bench: no free port" >&2
    exit 1
}

# utime + stime of a process in seconds (all threads).
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' \
        "/proc/$1/stat"
}

stop_pid() { # and forget it
    local keep=() pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do
        [[ $pid == "$1" ]] || keep+=("$pid")
    done
    PIDS=("${keep[@]}")
}

# ------------------------------------------------------------------------------------ redis
REDIS_PORT=$(free_port)
"${PIN_SIDE[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --protected-mode no --daemonize no --logfile "$OUT/redis.log" >/dev/null 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
for _ in $(seq 50); do
    [[ $(rcli PING 2>/dev/null) == PONG ]] && break
    kill -0 "$REDIS_PID" 2>/dev/null || { echo "redis-server exited:" >&2; cat "$OUT/redis.log" >&2; exit 1; }
    sleep 0.1
done
[[ $(rcli PING 2>/dev/null) == PONG ]] || { echo "redis-server did not answer" >&2; exit 1; }

# Publications Redis has handled so far, from INFO commandstats: PUBLISH calls, which include
# the one inside each run of the history script (Redis counts calls made from Lua too).
redis_calls() {
    rcli INFO commandstats | tr -d '\r' |
        awk -F'[=,:]' '/^cmdstat_publish:/ { n += $3 } END { print n + 0 }'
}

# Gyre's history-publish script, verbatim from the source, so the baseline runs what Gyre runs.
SCRIPT=$(sed -n '/publish_with_history = R"lua(/,/^)lua";/p' "$ROOT/src/node/redis_broker.cpp" | sed '1d;$d')
[[ $SCRIPT == *xadd* ]] || { echo "bench: cannot extract the history script from redis_broker.cpp" >&2; exit 1; }
SHA=$(rcli SCRIPT LOAD "$SCRIPT")
# A payload the size of Gyre's: a Protobuf Publication around {"s":N,"pad":"<PAD B>"}.
PAYLOAD=$(printf 'x%.0s' $(seq $((PAD + 24))))

# One redis-benchmark run: prints a JSON line with requests/s and Redis CPU per request.
baseline() { # rep name requests redis-benchmark-command...
    local rep=$1 name=$2 n=$3
    shift 3
    local c0 k0 csv rps c1 k1
    c0=$(cpu_s "$REDIS_PID") k0=$(redis_calls)
    csv=$(timeout 120 "${PIN_CLIENT[@]}" redis-benchmark -p "$REDIS_PORT" -c 50 -P 16 -n "$n" --csv "$@")
    c1=$(cpu_s "$REDIS_PID") k1=$(redis_calls)
    rps=$(python3 -c 'import csv,sys; print(list(csv.reader(sys.stdin))[-1][1])' <<<"$csv")
    python3 -c 'import json,sys; r,name,rps,c0,c1,k0,k1=sys.argv[1:]; calls=int(k1)-int(k0)
print(json.dumps({"rep":int(r),"kind":"baseline","name":name,"ops_per_s":float(rps),"calls":calls,
  "redis_cpu_us_per_op":(float(c1)-float(c0))*1e6/max(1,calls)}))' \
        "$rep" "$name" "$rps" "$c0" "$c1" "$k0" "$k1"
}

# ------------------------------------------------------------------------------------- gyre
# Node config: redis engine (or memory), one shard, a "hist" namespace with history.
node_config() { # file engine prefix
    local engine='"engine": {"type": "memory"},'
    [[ $2 == redis ]] && engine="\"engine\": {\"type\": \"redis\", \"redis\": {\"address\": [\"redis://127.0.0.1:$REDIS_PORT\"], \"prefix\": \"$3\"}},"
    cat >"$1" <<EOF
{$engine
 "channel": {"namespaces": [{"name": "hist", "history_size": 1000, "history_ttl": "600s"}]},
 "client": {"insecure": true}, "http_api": {"key": "bench"}, "log": {"level": "error"},
 "health": {"enabled": true}, "gyre": {"shards": 1}}
EOF
}

# Starts a gyre node; sets NODE_PID. Waits for /health.
start_node() { # name config port pin...
    local name=$1 cfg=$2 port=$3
    shift 3
    "$@" "$GYRE" --config "$cfg" --http_server.port "$port" >"$OUT/gyre-$name.log" 2>&1 &
    NODE_PID=$!
    PIDS+=("$NODE_PID")
    bench_wait_health "$NODE_PID" "$port" "$OUT/gyre-$name.log"
}

# A parallel batch body (the same bytes every request): {"commands":[100 publishes],"parallel":true}.
parallel_body() { # file channel
    python3 -c 'import json,sys; f,ch,pad=sys.argv[1:]
cmds=[{"publish":{"channel":ch,"data":{"s":i,"pad":"x"*int(pad)}}} for i in range(100)]
open(f,"w").write(json.dumps({"commands":cmds,"parallel":True},separators=(",",":")))' "$1" "$2" "$PAD"
}
parallel_body "$OUT/batch-parallel.json" bench0
parallel_body "$OUT/batch-parallel-hist.json" hist:bench0

# One http_load run against a node: prints http_load's JSON plus rep, name, Redis CPU and calls.
# batch: 0 single publishes; K a sequential batch of K (Centrifugo's default); a file name: that
# parallel batch body, 100 publishes.
api_load() { # rep name port pid channel conns batch
    local rep=$1 name=$2 port=$3 pid=$4 channel=$5 conns=$6 batch=$7
    local c0 k0 out c1 k1 cmd
    cmd=("${PIN_SIDE[@]}" "$HTTP_LOAD" --api-key bench --conns "$conns" --duration "$DURATION"
         --warmup "$WARMUP" --server-pid "$pid")
    if [[ -f $batch ]]; then
        cmd+=(--url "http://127.0.0.1:$port/api/batch" --body-file "$batch" --batch 100)
        batch=100
    else
        cmd+=(--url "http://127.0.0.1:$port/api/publish" --publish "$channel" --pad "$PAD")
        ((batch > 0)) && cmd+=(--batch "$batch")
    fi
    c0=$(cpu_s "$REDIS_PID") k0=$(redis_calls)
    local perf_pid=
    if [[ ${PERF:-0} == 1 && $batch == 0 ]]; then
        (sleep "$WARMUP" && perf record -g -o "$OUT/perf-$(tr -cs 'a-zA-Z0-9' '-' <<<"$name")rep$rep.data" -p "$pid" \
            -- sleep 3 >/dev/null 2>&1) &
        perf_pid=$!
    fi
    out=$(timeout 60 "${cmd[@]}")
    [[ -z $perf_pid ]] || wait "$perf_pid" || true
    c1=$(cpu_s "$REDIS_PID") k1=$(redis_calls)
    python3 -c 'import json,sys; r,name,out,c0,c1,k0,k1,w,d=sys.argv[1:]; j=json.loads(out)
calls=int(k1)-int(k0); secs=float(w)+float(d)
j.update({"rep":int(r),"kind":"api","name":name,"redis_calls":calls,
  "redis_cpu_util":(float(c1)-float(c0))/secs,
  "redis_cpu_us_per_call":(float(c1)-float(c0))*1e6/calls if calls else None})
print(json.dumps(j))' "$rep" "$name" "$out" "$c0" "$c1" "$k0" "$k1" "$WARMUP" "$DURATION"
    echo "${cmd[*]}" >>"$OUT/commands.txt"
}

# One ws_fanout run: subscribers on ws_port, publishes to pub_port; prints its JSON plus rep/name.
latency() { # rep name ws_port pub_port server_pid
    local rep=$1 name=$2 cmd out
    cmd=("${PIN_SIDE[@]}" "$WS_FANOUT" --url "ws://127.0.0.1:$3/connection/websocket"
         --publish-port "$4" --server-pid "$5" --api-key bench --proto protobuf --channel lat
         --conns "$LAT_CONNS" --rate "$LAT_RATE" --duration "$LAT_DURATION" --payload 100
         --settle 0.5 --drain 3)
    out=$(timeout $((${LAT_DURATION%.*} + 60)) "${cmd[@]}") || echo "bench: ws_fanout $name reported errors" >&2
    python3 -c 'import json,sys; j=json.loads(sys.argv[3]); j.update({"rep":int(sys.argv[1]),"kind":"latency","name":sys.argv[2]}); print(json.dumps(j))' \
        "$rep" "$name" "$out"
    echo "${cmd[*]}" >>"$OUT/commands.txt"
}

RESULTS=$OUT/results.jsonl
: >"$RESULTS"
: >"$OUT/commands.txt"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with local changes)')"
    echo "cpu: $(nproc) x $(lscpu | sed -n 's/^Model name: *//p')"
    echo "kernel: $(uname -r)"
    echo "redis: $(redis-server --version | sed 's/ sha=.*//')"
    echo "gyre: $("$GYRE" --version 2>/dev/null | head -1)"
    echo "layout: redis-server on core $REDIS_CPU; redis-benchmark / gyre node A on core $CLIENT_CPU; load generators and node B on core $REDIS_CPU"
} >"$OUT/machine.txt"

for rep in $(seq "$REPS"); do
    echo "bench: repetition $rep/$REPS, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    echo "{\"rep\":$rep,\"kind\":\"load\",\"loadavg_before\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$RESULTS"
    rcli FLUSHALL >/dev/null
    SHA=$(rcli SCRIPT LOAD "$SCRIPT")

    # 1. Baselines. The EVAL arguments are those Gyre sends for a publication into "hist:bench0":
    # stream, meta and (no) idempotency key; payload, size, ttl, PUB/SUB channel, meta ttl,
    # epoch, result ttl, version, version epoch.
    args=(3 gyre.stream.hist:bench0 gyre.stream.meta.hist:bench0 "" "$PAYLOAD" 1000 600
          gyre.client.hist:bench0 0 abcd 300 0 "")
    baseline "$rep" "redis-benchmark PUBLISH" "$N_PUBLISH" PUBLISH gyre.client.bench0 "$PAYLOAD" >>"$RESULTS"
    baseline "$rep" "redis-benchmark EVAL" "$N_EVAL" EVAL "$SCRIPT" "${args[@]}" >>"$RESULTS"
    baseline "$rep" "redis-benchmark EVALSHA" "$N_EVAL" EVALSHA "$SHA" "${args[@]}" >>"$RESULTS"
    rcli FLUSHALL >/dev/null

    # 2. API publishes through node A (redis engine), then a memory-engine node for reference.
    PORT_A=$(free_port) PORT_B=$(free_port)
    node_config "$OUT/node.json" redis "gyrebench$rep"
    start_node A "$OUT/node.json" "$PORT_A" "${PIN_CLIENT[@]}"
    PID_A=$NODE_PID
    api_load "$rep" "single, no history (PUBLISH)" "$PORT_A" "$PID_A" bench 16 0 >>"$RESULTS"
    api_load "$rep" "single, history (EVAL)" "$PORT_A" "$PID_A" hist:bench 16 0 >>"$RESULTS"
    api_load "$rep" "batch 100 sequential, no history (PUBLISH)" "$PORT_A" "$PID_A" bench 4 100 >>"$RESULTS"
    api_load "$rep" "batch 100 sequential, history (EVAL)" "$PORT_A" "$PID_A" hist:bench 4 100 >>"$RESULTS"
    api_load "$rep" "batch 100 parallel, no history (PUBLISH)" "$PORT_A" "$PID_A" "" 4 \
        "$OUT/batch-parallel.json" >>"$RESULTS"
    api_load "$rep" "batch 100 parallel, history (EVAL)" "$PORT_A" "$PID_A" "" 4 \
        "$OUT/batch-parallel-hist.json" >>"$RESULTS"

    # 3. Delivery latency: subscribers on A; publishes through B (cross-node), then through A.
    start_node B "$OUT/node.json" "$PORT_B" "${PIN_SIDE[@]}"
    PID_B=$NODE_PID
    latency "$rep" "redis, cross-node (publish via B)" "$PORT_A" "$PORT_B" "$PID_A" >>"$RESULTS"
    latency "$rep" "redis, single node (publish via A)" "$PORT_A" "$PORT_A" "$PID_A" >>"$RESULTS"
    stop_pid "$PID_B"
    stop_pid "$PID_A"

    PORT_M=$(free_port)
    node_config "$OUT/node-memory.json" memory ""
    start_node M "$OUT/node-memory.json" "$PORT_M" "${PIN_CLIENT[@]}"
    PID_M=$NODE_PID
    api_load "$rep" "memory engine: single" "$PORT_M" "$PID_M" bench 16 0 >>"$RESULTS"
    api_load "$rep" "memory engine: batch 100" "$PORT_M" "$PID_M" bench 4 100 >>"$RESULTS"
    latency "$rep" "memory engine, single node" "$PORT_M" "$PORT_M" "$PID_M" >>"$RESULTS"
    stop_pid "$PID_M"
done
echo "{\"kind\":\"load\",\"loadavg_after\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$RESULTS"

python3 "$ROOT/bench/redis_report.py" "$OUT" | tee "$OUT/summary.md"
if ((SMOKE)); then
    python3 - "$RESULTS" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
bad = [r["name"] for r in rows if r.get("kind") == "api" and (r["requests_ok"] == 0 or r["errors"] > 0)]
bad += [r["name"] for r in rows if r.get("kind") == "latency" and r["delivery_ratio"] != 1]
bad += [r["name"] for r in rows if r.get("kind") == "baseline" and r["ops_per_s"] <= 0]
if bad:
    sys.exit("bench: smoke failed: " + ", ".join(bad))
print("bench: redis smoke ok")
EOF
fi
echo "results in $OUT" >&2
