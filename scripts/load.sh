#!/usr/bin/env bash
# Load test of a dist build (Cargo.toml [profile.dist]) on loopback:
# GET /healthz, GET /v1/users/{user}, POST /v1/users and
# POST /v1/authorize, each for DURATION seconds with CONNECTIONS
# connections (wrk, 2 threads). Bounded in time; only 127.0.0.1.
# POST /v1/authorize is measured twice: about a request signed with a user's
# long-term key ("POST /v1/authorize"), and about one signed with a role
# session's credentials, token included ("POST /v1/authorize-session", the
# same endpoint).
#   scripts/load.sh [DURATION] [CONNECTIONS]
# ONLY is a regex on those names: ONLY=healthz (or users/alice, ...) runs one
# endpoint, e.g. for a profile; ONLY='healthz|authorize' runs those;
# ONLY=authorize both authorize modes, ONLY='authorize$' the key-signed one.
# ROUNDS=N runs the endpoints N times each, alternating, DURATION seconds a
# round, then totals them: this host's speed drifts over minutes, and
# alternating gives every endpoint the same share of each phase. With
# healthz and authorize both run, the last line is authorize's req/s as a
# percentage of healthz's.
# AUDIT_AUTHORIZE=all audits every /v1/authorize decision (default: denies,
# the server's default, which for this allowed decision writes nothing).
# AUDIT_INDEXES=off drops the audit filters' indexes (migration 0007) from
# the SQLite database once the server runs: with AUDIT_AUTHORIZE=all, the
# difference is what those indexes cost the audit writer.
# LATCHKEY_DATABASE_URL=postgres://... runs the server on that (empty)
# database instead of the SQLite file of a temporary data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
CONNECTIONS=${2:-16}
PORT=${LOAD_PORT:-18399}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# Other worktrees may share CARGO_TARGET_DIR and rebuild the binary while
# this runs: measure a private copy. LATCHKEY_BIN=path measures that
# binary instead of building (to compare two builds).
WORK=$(mktemp -d)
BIN="$WORK/latchkey"
if [ -z "${LATCHKEY_BIN:-}" ]; then
  cargo build --profile dist --quiet
  LATCHKEY_BIN="${CARGO_TARGET_DIR:-target}/dist/latchkey"
fi
cp "$LATCHKEY_BIN" "$BIN"
DATA=$(mktemp -d)
DATABASE_ARGS=()
[ -n "${LATCHKEY_DATABASE_URL:-}" ] && DATABASE_ARGS=(--database-url "$LATCHKEY_DATABASE_URL")
AK=AKIALOADTESTROOT0001
SK=loadtest/secret/0000000000000000000000000
LATCHKEY_AUDIT_AUTHORIZE=${AUDIT_AUTHORIZE:-denies} \
LATCHKEY_ROOT_ACCESS_KEY_ID=$AK LATCHKEY_ROOT_SECRET_ACCESS_KEY=$SK RUST_LOG=warn \
  "$BIN" serve --bind 127.0.0.1:$PORT --data-dir "$DATA" "${DATABASE_ARGS[@]}" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA" "$WORK"' EXIT
U=http://127.0.0.1:$PORT
# Up to 30 s: a loaded machine, or a server under valgrind, starts slowly.
for _ in $(seq 300); do curl -sf $U/readyz >/dev/null && break; sleep 0.1; done
if [ "${AUDIT_INDEXES:-on}" = off ]; then
  sqlite3 "$DATA/latchkey.db" "DROP INDEX audit_events_by_principal; DROP INDEX audit_events_by_action;
    DROP INDEX audit_events_by_account_action; DROP INDEX audit_events_by_decision;
    DROP INDEX audit_events_by_account_decision; DROP INDEX audit_events_by_account_time;
    DROP INDEX audit_events_by_resource;"
fi
BASIC="Basic $(printf '%s:%s' $AK $SK | base64 -w0)"
curl -sf -u "$AK:$SK" -H 'content-type: application/json' -d '{"name":"alice"}' $U/v1/users >/dev/null
. scripts/lib/authorize-fixture.sh
authorize_fixture "$U" "$AK" "$SK" "$WORK"

cat > "$WORK/post.lua" <<LUA
-- Each wrk thread has its own Lua state: number the threads so that
-- their user names never collide.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local run = tostring(os.time())
wrk.method = "POST"
wrk.headers["Authorization"] = "$BASIC"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/users", nil, '{"name":"load-' .. run .. '-' .. tid .. '-' .. n .. '"}')
end
LUA
# The server's CPU time (user + system, in clock ticks) so far.
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
# wrk's latency ("812.00us", "2.61ms", "1.02s") in microseconds.
micros() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /ms$/) n *= 1000; else if (v ~ /[0-9]s$/) n *= 1e6; print n }'; }
ROUNDS=${ROUNDS:-1}
declare -A REQUESTS ELAPSED TICKS P99_MAX ERRORS
run() { # name, extra wrk args...
  local name=$1; shift
  if [ -n "${ONLY:-}" ] && ! [[ "$name" =~ $ONLY ]]; then return; fi
  local before; before=$(server_ticks)
  local out; out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@")
  local ticks=$(( $(server_ticks) - before ))
  local rps p50 p99 errors total seconds cpu
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  seconds=$(echo "$out" | awk '/requests in/ {sub(/s,$/, "", $4); print $4}')
  # Server CPU per request: steadier than req/s on a shared machine, and
  # what an optimization of the server itself changes.
  cpu=$(awk -v t="$ticks" -v n="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  printf '%-26s %10s req/s   p50 %-9s p99 %-9s server CPU %6s us/req   non-2xx %s\n' \
    "$name" "$rps" "$p50" "$p99" "$cpu" "${errors:-0}"
  REQUESTS[$name]=$(( ${REQUESTS[$name]:-0} + total ))
  ELAPSED[$name]=$(awk -v a="${ELAPSED[$name]:-0}" -v b="$seconds" 'BEGIN {print a + b}')
  TICKS[$name]=$(( ${TICKS[$name]:-0} + ticks ))
  ERRORS[$name]=$(( ${ERRORS[$name]:-0} + ${errors:-0} ))
  local us; us=$(micros "$p99")
  if awk -v a="$us" -v b="${P99_MAX[$name]:-0}" 'BEGIN {exit !(a > b)}'; then P99_MAX[$name]=$us; fi
}
rate() { awk -v n="${REQUESTS[$1]}" -v s="${ELAPSED[$1]}" 'BEGIN {printf "%.2f", n / s}'; }
echo "latchkey load test: ${DURATION}s per endpoint and round, $ROUNDS round(s), $CONNECTIONS connections, $(basename "$(dirname "$LATCHKEY_BIN")") build, ${LATCHKEY_DATABASE_URL:+PostgreSQL, }$(nproc) cores, audit of authorize: ${AUDIT_AUTHORIZE:-denies}, audit indexes: ${AUDIT_INDEXES:-on}"
ORDER=("GET /healthz" "GET /v1/users/alice" "POST /v1/users" "POST /v1/authorize" "POST /v1/authorize-session")
for _ in $(seq "$ROUNDS"); do
  run "GET /healthz" $U/healthz
  run "GET /v1/users/alice" -H "Authorization: $BASIC" $U/v1/users/alice
  run "POST /v1/users" -s "$WORK/post.lua" $U/v1/users
  run "POST /v1/authorize" -s "$WORK/authorize.lua" $U/v1/authorize
  run "POST /v1/authorize-session" -s "$WORK/authorize-session.lua" $U/v1/authorize
done
if [ "$ROUNDS" -gt 1 ]; then
  echo "totals over $ROUNDS rounds (p99: the highest round's):"
  for name in "${ORDER[@]}"; do
    [ -n "${REQUESTS[$name]:-}" ] || continue
    cpu=$(awk -v t="${TICKS[$name]}" -v n="${REQUESTS[$name]}" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    printf '%-26s %10s req/s   p99 %-9s server CPU %6s us/req   non-2xx %s\n' \
      "$name" "$(rate "$name")" "$(awk -v u="${P99_MAX[$name]}" 'BEGIN {if (u >= 1000) printf "%.2fms", u / 1000; else printf "%.0fus", u}')" "$cpu" "${ERRORS[$name]}"
  done
fi
if [ -n "${REQUESTS["GET /healthz"]:-}" ] && [ -n "${REQUESTS["POST /v1/authorize"]:-}" ]; then
  awk -v a="$(rate "POST /v1/authorize")" -v h="$(rate "GET /healthz")" \
    'BEGIN {printf "authorize / healthz: %.1f%% of the requests per second\n", 100 * a / h}'
fi
if [ -n "${REQUESTS["POST /v1/authorize"]:-}" ] && [ -n "${REQUESTS["POST /v1/authorize-session"]:-}" ]; then
  awk -v k="${TICKS["POST /v1/authorize"]}" -v kn="${REQUESTS["POST /v1/authorize"]}" \
    -v s="${TICKS["POST /v1/authorize-session"]}" -v sn="${REQUESTS["POST /v1/authorize-session"]}" \
    'BEGIN {printf "authorize-session / authorize: %.2fx the server CPU per request\n", (s / sn) / (k / kn)}'
fi
# What the audit queue did under that load (dropped means overflow).
curl -sf "$U/metrics" | grep -E '^latchkey_audit_events_(written|dropped)_total' | tr '\n' ' '; echo
