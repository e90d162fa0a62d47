#!/usr/bin/env bash
# Measures AssumeRoleWithWebIdentity throughput (POST
# /v1/sts/assume-role-with-web-identity, RS256 GitHub-shaped tokens, a
# static-JWKS provider so the key cache is warm and nothing is fetched)
# beside plain AssumeRole, on one server in one run. Prints both rates and
# the ratio.
#
#   scripts/load-web-identity.sh [SECONDS] [CONCURRENCY]
#
# PROFILE=dist for the published-figure build (slower to build); default
# release. With LATCHKEY_DATABASE_URL set the server runs on that database.
set -euo pipefail

SECONDS_PER_RUN="${1:-10}"
CONCURRENCY="${2:-32}"
cd "$(dirname "$0")/.."

PROFILE="${PROFILE:-release}"
cargo build --profile "$PROFILE" --bin latchkey --example web_identity_load
BIN="target/$PROFILE"
[ "$PROFILE" = dev ] && BIN=target/debug
DATABASE_ARGS=()
[ -n "${LATCHKEY_DATABASE_URL:-}" ] && DATABASE_ARGS=(--database-url "$LATCHKEY_DATABASE_URL")

DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:${PORT}"
# Log only warnings: one info line per call would measure the logger.
RUST_LOG=warn "$BIN/latchkey" serve --bind "127.0.0.1:${PORT}" --data-dir "$DATA" "${DATABASE_ARGS[@]}" \
  >"$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

"$BIN/examples/web_identity_load" "$URL" "$DATA/root-credentials.json" "$SECONDS_PER_RUN" "$CONCURRENCY"
