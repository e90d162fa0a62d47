#!/usr/bin/env bash
# Issue 16's figures for both backends in one run, on one build:
#   - POST /v1/authorize and GET /v1/users/{user} req/s on a warm node
#     (scripts/load.sh, wrk, 16 connections);
#   - assume-role per second with 32 clients (scripts/load-assume-role.sh);
#   - the time from a revocation on node A to its refusal on node B, p50 and
#     p99 over 100 trials (examples/coherence_delay.rs, default poll period).
# First on SQLite (a temporary data directory), then on PostgreSQL: a
# throwaway cluster (scripts/with-postgres.sh, which this script runs itself
# under; it runs with fsync off) with a fresh database for every step.
#
#   scripts/load-backends.sh [SECONDS]        (default 10 s per measurement)
#
# PROFILE=dist for the shipped build (default: release, quicker to build).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
export PROFILE="${PROFILE:-release}"

if [ -z "${LATCHKEY_TEST_DATABASE_URL:-}" ]; then
  exec scripts/with-postgres.sh "$0" "$@"
fi

cargo build --quiet --profile "$PROFILE" --bin latchkey \
  --example assume_role_load --example coherence_delay --example sqlite_insert_rate
BIN="target/$PROFILE"
[ "$PROFILE" = dev ] && BIN=target/debug
PSQL="$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)"

# A new empty database on the throwaway cluster; prints its URL.
fresh_database() {
  local name="lk_load_$RANDOM$RANDOM"
  "$PSQL" -q "$LATCHKEY_TEST_DATABASE_URL" -c "CREATE DATABASE $name" >&2
  local base="${LATCHKEY_TEST_DATABASE_URL%%\?*}"
  echo "${base%/*}/$name"
}

# Runs a command with LATCHKEY_DATABASE_URL set to a fresh database on
# PostgreSQL, unset on SQLite.
on_backend() {
  if [ "$BACKEND" = postgres ]; then
    LATCHKEY_DATABASE_URL="$(fresh_database)" "$@"
  else
    env -u LATCHKEY_DATABASE_URL "$@"
  fi
}

for BACKEND in sqlite postgres; do
  echo "== $BACKEND ($PROFILE build; $(uptime | sed 's/.*load average/load average/'))"
  on_backend env LATCHKEY_BIN="$BIN/latchkey" ONLY='users/alice|authorize$' \
    scripts/load.sh "$SECONDS_PER_RUN" 16 | grep -E 'req/s'
  on_backend scripts/load-assume-role.sh "$SECONDS_PER_RUN" 32 | grep -E 'assume-role'
  on_backend "$BIN/examples/coherence_delay" 100 | tail -n 1
done
