#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running development server: installs the
# dependencies, builds the release binary, generates dev/config.json (once), prints a
# development token, the API key and the admin password, and runs gyre on the embedded memory
# engine with the admin web UI, /metrics and /health.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh release gyre
mkdir -p dev
if [ ! -f dev/config.json ]; then
    build/gyre genconfig -c dev/config.json
fi
api_key=$(python3 -c 'import json;print(json.load(open("dev/config.json"))["http_api"]["key"])')
admin_password=$(python3 -c 'import json;print(json.load(open("dev/config.json"))["admin"]["password"])')
token=$(build/gyre gentoken -c dev/config.json -u dev-user -q)
cat <<MSG
----------------------------------------------------------------------
 Gyre development server: http://localhost:8000
 Config:             dev/config.json
 HTTP API key:       $api_key
 Token (dev-user):   $token
 Admin web UI:       http://localhost:8000/  (password: $admin_password)
 Metrics:            curl http://localhost:8000/metrics
 Health:             curl http://localhost:8000/health
----------------------------------------------------------------------
MSG
exec build/gyre -c dev/config.json --health.enabled --admin.enabled --prometheus.enabled "$@"
