#!/usr/bin/env bash
# Noisy neighbour: one tenant's GetCallerIdentity latency alone, then while
# NOISY (default 2) clients of another tenant post the most expensive
# /v1/evaluate body the limits let through (NOISE=globs|backtracking|
# documents, default globs; NOISE=authorize posts the most expensive
# /v1/authorize body instead). Prints both p99s and their ratio (target <= 2x).
#
#   scripts/load-noisy-neighbour.sh [SECONDS] [NOISY]
#
# LATCHKEY_RELEASE_FAST=1 builds without fat LTO (CARGO_PROFILE_RELEASE_LTO=
# false, 16 codegen units): minutes less to build, a slightly slower server.
set -euo pipefail

SECONDS_PER_PHASE="${1:-10}"
NOISY="${2:-2}"
cd "$(dirname "$0")/.."

if [ -n "${LATCHKEY_RELEASE_FAST:-}" ]; then
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
fi
cargo build --release --quiet --bin latchkey --example noisy_neighbour
TARGET="${CARGO_TARGET_DIR:-target}/release"

DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:${PORT}"
# Log only warnings: the measurement is of the requests, not the logger.
RUST_LOG=warn "$TARGET/latchkey" serve --bind "127.0.0.1:${PORT}" --data-dir "$DATA" \
  >"$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

for _ in $(seq 1 300); do
  curl -fsS "$URL/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

"$TARGET/examples/noisy_neighbour" "$URL" "$DATA/root-credentials.json" "$SECONDS_PER_PHASE" "$NOISY"
