#!/usr/bin/env bash
# A burst of concurrent password logins with made-up user names (each one
# checked against the dummy hash), against a fresh server on loopback:
# prints the replies by status and the server's resident memory before and
# at its peak (VmHWM). Shows the password-hashing bound at work.
#   scripts/login-burst.sh [LOGINS]          (default 200, all at once)
# LATCHKEY_BIN=path measures that binary (default: target/debug/latchkey,
# built if missing; argon2 is optimized in the dev profile too).
# Any other server flags go in the environment, e.g.
# LATCHKEY_PASSWORD_HASH_CONCURRENCY=1.
set -euo pipefail
cd "$(dirname "$0")/.."
LOGINS=${1:-200}
PORT=${BURST_PORT:-18398}
BIN=${LATCHKEY_BIN:-target/debug/latchkey}
[ -x "$BIN" ] || cargo build --quiet
DATA=$(mktemp -d)
RUST_LOG=warn "$BIN" serve --bind 127.0.0.1:$PORT --data-dir "$DATA" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
U=http://127.0.0.1:$PORT
for _ in $(seq 1 300); do
  curl -sf "$U/healthz" >/dev/null && break
  sleep 0.1
done
ACCOUNT=$(sed -n 's/.*"account_id": *"\([0-9]*\)".*/\1/p' "$DATA/root-credentials.json")
rss() { awk -v k="$1:" '$1 == k {print $2 / 1024 " MB"}' "/proc/$SERVER/status"; }
echo "RSS before: $(rss VmRSS)"
seq 1 "$LOGINS" | xargs -P "$LOGINS" -I{} curl -s -o /dev/null -w '%{http_code}\n' \
  -H 'Content-Type: application/json' \
  -d "{\"account_id\":\"$ACCOUNT\",\"user_name\":\"burst{}\",\"password\":\"guess\"}" \
  "$U/v1/sts/login" | sort | uniq -c | sed 's/^/replies: /'
echo "RSS peak: $(rss VmHWM)"
echo "healthz after: $(curl -s -o /dev/null -w '%{http_code}' "$U/healthz")"
