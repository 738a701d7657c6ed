#!/usr/bin/env bash
# Installs every build and test dependency of Gyre from Debian 12 packages.
# Idempotent: packages already present are skipped by apt-get. Run as root (or with sudo available).
set -euo pipefail

packages=(
    build-essential g++ cmake ninja-build pkg-config clang-format
    libboost1.81-all-dev libssl-dev libsimdjson-dev libspdlog-dev libfmt-dev
    libcli11-dev libyaml-cpp-dev libtomlplusplus-dev libhiredis-dev
    libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
    libgtest-dev libgmock-dev libbenchmark-dev
    libnats-dev
    redis-server nats-server
    python3 curl ca-certificates openssl procps
    # headless browser of tests/e2e/browser.test.mjs (playwright-core drives it, downloads none)
    chromium fonts-liberation
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node.js drives the end-to-end tests; Debian's nodejs only when no node is on the machine.
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq || true
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
