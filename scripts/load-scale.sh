#!/usr/bin/env bash
# Flat at scale (issue 20): on an empty database and on one seeded through
# the store by examples/seed_scale.rs, in one run, two tables:
#  - median latencies (curl time_total over RUNS requests, loopback, one at
#    a time) of a /metrics scrape, rare audit filters, and page 1 against a
#    deep page of users and of a role's sessions;
#  - startup (process start to a healthy answer), idle RSS, POST
#    /v1/authorize about a key-signed and a session-signed request (wrk,
#    LOAD_SECONDS each, req/s and server CPU per request), assume-role per
#    second with 32 clients, and the p99 of GET /v1/users/{user} while 8
#    scrapers fetch /metrics back to back.
# Each measurement runs on a copy of the seeded data directory.
#
#   scripts/load-scale.sh [USERS] [SESSIONS] [AUDIT_EVENTS]
#
# Defaults: 100000 users (each with a key), 1000000 sessions, 1000000
# audit events. PROFILE=release (default; LTO off to keep the build short)
# or PROFILE=debug. BEFORE_BIN=path also measures another build (main's)
# on a copy of the seeded database with migration 0007 undone. KEEP=dir
# keeps the data directories there (and reuses a seeded one).
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-100000}
SESSIONS=${2:-1000000}
AUDIT=${3:-1000000}
PROFILE=${PROFILE:-release}
RUNS=${RUNS:-15}
if [ -n "${SCALE_BIN:-}" ]; then
  :
elif [ "$PROFILE" = release ]; then
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo build --release --bin latchkey --example seed_scale --example assume_role_load
else
  cargo build --bin latchkey --example seed_scale --example assume_role_load
fi
LOAD_SECONDS=${LOAD_SECONDS:-5}
. scripts/lib/authorize-fixture.sh
BIN=target/$PROFILE/latchkey
SEED=target/$PROFILE/examples/seed_scale
ASSUME=target/$PROFILE/examples/assume_role_load
# SCALE_BIN=dir measures the latchkey, seed_scale and assume_role_load
# binaries already built there instead.
if [ -n "${SCALE_BIN:-}" ]; then
  BIN=$SCALE_BIN/latchkey SEED=$SCALE_BIN/seed_scale ASSUME=$SCALE_BIN/assume_role_load
fi
WORK=${KEEP:-$(mktemp -d)}
mkdir -p "$WORK"
PORT=${PORT:-18390}
SERVER=

stop() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; SERVER=; fi; }
trap 'stop; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

start() { # BIN DATA_DIR
  RUST_LOG=warn "$1" serve --bind 127.0.0.1:$PORT --data-dir "$2" >"$2.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start: $(tail -5 "$2.log")" >&2
  exit 1
}

b64() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }

seed() { # DATA_DIR USERS SESSIONS AUDIT
  [ -f "$1/seeded" ] && return 0
  mkdir -p "$1"
  start "$BIN" "$1"; stop
  "$SEED" "$1" "$2" "$3" "$4"
  touch "$1/seeded"
}

# Median of RUNS requests, in ms.
median_ms() { # URL
  for _ in $(seq "$RUNS"); do
    curl -s -o /dev/null -u "$AUTH" -w '%{time_total}\n' "$1"
  done | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}'
}

server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }

# wrk for LOAD_SECONDS: "req/s, server CPU us/req, p99".
wrk_rate() { # wrk args...
  local before out ticks total
  before=$(server_ticks)
  out=$(wrk -t2 -c16 -d"${LOAD_SECONDS}s" --latency "$@")
  ticks=$(( $(server_ticks) - before ))
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  awk -v t="$ticks" -v n="$total" -v hz="$(getconf CLK_TCK)" \
    -v rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    -v p99="$(echo "$out" | awk '$1=="99%" {print $2}')" \
    'BEGIN {printf "%.0f req/s, %.1f us/req, p99 %s", rps, t / hz * 1e6 / n, p99}'
}

LATENCY_ROWS=()
LOAD_ROWS=()
measure() { # LABEL BIN DATA_DIR USERS
  local label=$1 users=$4 data="$WORK/run"
  rm -rf "$data"; cp -a "$3" "$data"
  local t0; t0=$(date +%s%N)
  start "$2" "$data"
  local startup_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  sleep 1
  local rss_mb; rss_mb=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")
  local ak sk account
  ak=$(jq -r .access_key_id "$data/root-credentials.json")
  sk=$(jq -r .secret_access_key "$data/root-credentials.json")
  account=$(jq -r .account_id "$data/root-credentials.json")
  AUTH="$ak:$sk"
  local u="http://127.0.0.1:$PORT" deep_user
  deep_user=$(printf 'user%07d' $(( users * 9 / 10 )))
  LATENCY_ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$label" \
    "$(median_ms "$u/metrics")" \
    "$(median_ms "$u/v1/audit/events?action=iam:DeleteRole&max_items=10")" \
    "$(median_ms "$u/v1/audit/events?principal=arn:aws:iam::$account:user/rare&max_items=10")" \
    "$(median_ms "$u/v1/users?max_items=100")" \
    "$(median_ms "$u/v1/users?max_items=100&marker=$(b64 "$deep_user")")" \
    "$(median_ms "$u/v1/roles/scale-role/sessions?max_items=100")" \
    "$(median_ms "$u/v1/roles/scale-role/sessions?max_items=100&marker=$(b64 ASIAZ)")")")

  authorize_fixture "$u" "$ak" "$sk" "$WORK"
  local by_key by_session assume alone scraped
  by_key=$(wrk_rate -s "$WORK/authorize.lua" "$u/v1/authorize")
  by_session=$(wrk_rate -s "$WORK/authorize-session.lua" "$u/v1/authorize")
  assume=$("$ASSUME" "$u" "$data/root-credentials.json" "$LOAD_SECONDS" 32 | sed -E 's/.* = ([0-9]+) assume-role\/s.*/\1/')
  local user_header="Authorization: Basic $(printf '%s' "$AUTH" | base64 -w0)"
  alone=$(wrk_rate -H "$user_header" "$u/v1/users/reader" | sed -E 's/, [0-9.]+ us\/req//')
  # The same while 8 scrapers fetch /metrics back to back.
  local scrapers=()
  for _ in $(seq 8); do
    ( while :; do curl -s -o /dev/null -u "$AUTH" "$u/metrics"; done ) &
    scrapers+=($!)
  done
  # (Its server CPU per request would count the scrapes': left out.)
  scraped=$(wrk_rate -H "$user_header" "$u/v1/users/reader")
  kill "${scrapers[@]}" 2>/dev/null; wait "${scrapers[@]}" 2>/dev/null || true
  scraped=$(sed -E 's/, [0-9.]+ us\/req//' <<<"$scraped")
  LOAD_ROWS+=("$(printf '| %s | %s ms | %s MB | %s | %s | %s | %s | %s |' "$label" "$startup_ms" "$rss_mb" \
    "$by_key" "$by_session" "$assume" "$alone" "$scraped")")
  stop
  rm -rf "$data"
}

seed "$WORK/empty" 0 0 0
seed "$WORK/seeded" "$USERS" "$SESSIONS" "$AUDIT"
measure "empty" "$BIN" "$WORK/empty" 1
measure "seeded" "$BIN" "$WORK/seeded" "$USERS"
if [ -n "${BEFORE_BIN:-}" ]; then
  # The same data under the previous build: its schema has no 0007.
  rm -rf "$WORK/before"; cp -a "$WORK/seeded" "$WORK/before"; rm -f "$WORK/before/seeded"
  sqlite3 "$WORK/before/latchkey.db" <<'SQL'
DROP TRIGGER session_expiry_insert; DROP TRIGGER session_expiry_delete; DROP TRIGGER session_expiry_update;
DROP TABLE session_expiry_minutes;
DROP INDEX audit_events_by_principal; DROP INDEX audit_events_by_action; DROP INDEX audit_events_by_account_action;
DROP INDEX audit_events_by_decision; DROP INDEX audit_events_by_account_decision; DROP INDEX audit_events_by_account_time;
DROP INDEX audit_events_by_resource; DROP INDEX managed_policies_by_account_arn; DROP INDEX role_sessions_live_by_role;
DROP INDEX instance_profiles_by_role_name; DROP INDEX role_sessions_live_by_expiry;
DELETE FROM _sqlx_migrations WHERE version = 7;
SQL
  measure "seeded, before" "$BEFORE_BIN" "$WORK/before" "$USERS"
  rm -rf "$WORK/before"
fi
echo
echo "median ms over $RUNS requests ($PROFILE build; $USERS users, $SESSIONS sessions, $AUDIT audit events)"
echo "| database | scrape | audit by action | audit by principal | users p1 | users deep | sessions p1 | sessions deep |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${LATENCY_ROWS[@]}"
echo
echo "throughput, ${LOAD_SECONDS}s each, 16 connections (assume-role: 32 clients)"
echo "| database | startup | idle RSS | authorize, key-signed | authorize, session-signed | assume-role/s | GET user | GET user under 8 scrapers |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${LOAD_ROWS[@]}"
