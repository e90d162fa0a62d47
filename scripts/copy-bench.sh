#!/usr/bin/env bash
# The speed of `latchkey store copy`: seeds a SQLite data directory with
# examples/seed_scale.rs, copies it into a fresh PostgreSQL database and
# prints the copy's report (per-table counts, rows/s). Needs a cluster:
#
#   scripts/with-postgres.sh scripts/copy-bench.sh [USERS] [SESSIONS] [AUDIT_EVENTS]
#
# Defaults: 10000 users (each with a key), 100000 sessions, 100000 audit
# events. PROFILE=release (default; LTO off to keep the build short) or
# PROFILE=debug.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-10000}
SESSIONS=${2:-100000}
AUDIT=${3:-100000}
PROFILE=${PROFILE:-release}
: "${LATCHKEY_TEST_DATABASE_URL:?run under scripts/with-postgres.sh}"
if [ "$PROFILE" = release ]; then
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo build --release --bin latchkey --example seed_scale
else
  cargo build --bin latchkey --example seed_scale
fi
BIN=target/$PROFILE/latchkey
WORK=$(mktemp -d)
PORT=${PORT:-18391}
SERVER=
stop() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; SERVER=; fi; }
trap 'stop; rm -rf "$WORK"' EXIT

# First start (management account, master key), then the seed.
RUST_LOG=warn "$BIN" serve --bind 127.0.0.1:$PORT --data-dir "$WORK/data" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
stop
"target/$PROFILE/examples/seed_scale" "$WORK/data" "$USERS" "$SESSIONS" "$AUDIT"

DB=lk_copy_bench_$$
psql -q "$LATCHKEY_TEST_DATABASE_URL" -c "CREATE DATABASE $DB"
TARGET="${LATCHKEY_TEST_DATABASE_URL%/*}/$DB"
"$BIN" store copy --from "sqlite://$WORK/data/latchkey.db" --to "$TARGET" --data-dir "$WORK/data"
psql -q "$LATCHKEY_TEST_DATABASE_URL" -c "DROP DATABASE $DB WITH (FORCE)"
