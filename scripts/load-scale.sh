#!/usr/bin/env bash
# Flat at scale (issue 20): the cost of a /metrics scrape, a rare audit
# filter, and page 1 against a deep page of users and of a role's sessions,
# on an empty database and on one seeded through the store by
# examples/seed_scale.rs, and prints a table of median latencies (curl
# time_total over RUNS requests, loopback, one at a time).
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
if [ "$PROFILE" = release ]; then
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo build --release --bin latchkey --example seed_scale
else
  cargo build --bin latchkey --example seed_scale
fi
BIN=target/$PROFILE/latchkey
SEED=target/$PROFILE/examples/seed_scale
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

measure() { # LABEL BIN DATA_DIR USERS
  local label=$1 users=$4
  start "$2" "$3"
  AUTH="$(jq -r .access_key_id "$3/root-credentials.json"):$(jq -r .secret_access_key "$3/root-credentials.json")"
  local u="http://127.0.0.1:$PORT" deep_user
  deep_user=$(printf 'user%07d' $(( users * 9 / 10 )))
  local account; account=$(jq -r .account_id "$3/root-credentials.json")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
    "$(median_ms "$u/metrics")" \
    "$(median_ms "$u/v1/audit/events?action=iam:DeleteRole&max_items=10")" \
    "$(median_ms "$u/v1/audit/events?principal=arn:aws:iam::$account:user/rare&max_items=10")" \
    "$(median_ms "$u/v1/users?max_items=100")" \
    "$(median_ms "$u/v1/users?max_items=100&marker=$(b64 "$deep_user")")" \
    "$(median_ms "$u/v1/roles/scale-role/sessions?max_items=100")" \
    "$(median_ms "$u/v1/roles/scale-role/sessions?max_items=100&marker=$(b64 ASIAZ)")"
  stop
}

seed "$WORK/empty" 0 0 0
seed "$WORK/seeded" "$USERS" "$SESSIONS" "$AUDIT"
echo
echo "median ms over $RUNS requests ($PROFILE build; $USERS users, $SESSIONS sessions, $AUDIT audit events)"
echo "| database | scrape | audit by action | audit by principal | users p1 | users deep | sessions p1 | sessions deep |"
echo "|---|---|---|---|---|---|---|---|"
measure "empty" "$BIN" "$WORK/empty" 1
measure "seeded" "$BIN" "$WORK/seeded" "$USERS"
if [ -n "${BEFORE_BIN:-}" ]; then
  # The same data under the previous build: its schema has no 0007.
  rm -rf "$WORK/before"; cp -a "$WORK/seeded" "$WORK/before"
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
