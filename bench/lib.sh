# Shared by the bench scripts (source it): core pinning, a free port, starting gyre and stopping
# it by pid, reading a field from http_load's one-line JSON. Expects TMP (a scratch dir) to exist.

# PIN_SERVER / PIN_LOAD: command prefixes pinning to one core (taskset execs its command, so $!
# is the server's own pid).
bench_pin() { # server-core load-core
    PIN_SERVER=() PIN_LOAD=()
    if command -v taskset >/dev/null; then
        PIN_SERVER=(taskset -c "$1") PIN_LOAD=(taskset -c "$2")
    else
        echo "taskset not found: running unpinned" >&2
    fi
}

# PORT: kept if set, else a free one in [20000, 20000 + span).
bench_pick_port() { # [span]
    [[ -n ${PORT:-} ]] && return 0
    for _ in $(seq 50); do
        PORT=$((20000 + RANDOM % ${1:-30000}))
        ss -Htan "sport = :$PORT" | grep -q . || break
    done
}

# Waits up to 10 s for gyre (pid $1, log $3) to answer 200 on http://127.0.0.1:$2/health;
# exits the script with the log if it dies or never answers.
bench_wait_health() { # pid port log
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$2/health" >/dev/null && return 0
        kill -0 "$1" 2>/dev/null || { echo "gyre exited:" >&2; cat "$3" >&2; exit 1; }
        sleep 0.1
    done
    echo "gyre did not answer http://127.0.0.1:$2/health" >&2
    exit 1
}

# Starts gyre with config $1 on $PORT, pinned, logging to $TMP/gyre.log; waits for /health
# (the config must enable it). Sets SERVER_PID and BASE.
bench_start_gyre() { # gyre-binary config
    "${PIN_SERVER[@]}" "$1" --config "$2" --http_server.port "$PORT" >"$TMP/gyre.log" 2>&1 &
    SERVER_PID=$!
    BASE=http://127.0.0.1:$PORT
    bench_wait_health "$SERVER_PID" "$PORT" "$TMP/gyre.log"
}

bench_stop_server() { # the server started last, by its pid (gyre or the ceiling)
    if [[ -n ${SERVER_PID:-} ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true # a killed server's status is not a failure
        SERVER_PID=
    fi
}

# The value of "name" in a one-line JSON object (http_load's output).
json_field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"; }

# An HS256 connection JWT (client.token.hmac_secret_key) for user $2 with server-side
# subscriptions to the channels that follow ("channels" claim), valid for a day; python3 only.
bench_jwt() { # secret user [channel...]
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, json, sys, time
secret, user, channels = sys.argv[1], sys.argv[2], sys.argv[3:]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
claims = {"sub": user, "exp": int(time.time()) + 86400}
if channels:
    claims["channels"] = channels
msg = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode()) + b"." + \
    b64(json.dumps(claims, separators=(",", ":")).encode())
print((msg + b"." + b64(hmac.new(secret.encode(), msg, hashlib.sha256).digest())).decode())
PY
}
