#!/usr/bin/env bash
# Measures GET /v1/workload-credentials (the refresh an SDK makes) against
# a dist build (Cargo.toml [profile.dist]) with wrk: one workload, its
# token in the Authorization header, a still-fresh session handed out
# again on every call (token check, profile, role, trust decision,
# session liveness: four reads).
#
#   [LATCHKEY_BIN=path] scripts/load-workload-credentials.sh [SECONDS] [CONNECTIONS]
set -euo pipefail

SECONDS_PER_RUN="${1:-10}"
CONNECTIONS="${2:-32}"
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
# LATCHKEY_BIN: a dist binary already built (skips the build).
BIN="${LATCHKEY_BIN:-${CARGO_TARGET_DIR:-target}/dist/latchkey}"
[ -n "${LATCHKEY_BIN:-}" ] || cargo build --profile dist --bin latchkey

DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:${PORT}"
RUST_LOG=warn "$BIN" serve --bind "127.0.0.1:${PORT}" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

AK=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['access_key_id'])" "$DATA/root-credentials.json")
SK=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['secret_access_key'])" "$DATA/root-credentials.json")
post() { curl -fsS -u "$AK:$SK" -H 'content-type: application/json' -d "$2" "$URL$1"; }
post /v1/service-principals '{"name": "compute.platform.internal"}' >/dev/null
post /v1/roles '{"name": "reader", "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "compute.platform.internal"}, "Action": "sts:AssumeRole"}]}}' >/dev/null
post /v1/instance-profiles '{"name": "reader"}' >/dev/null
curl -fsS -u "$AK:$SK" -X PUT "$URL/v1/instance-profiles/reader/roles/reader"
TOKEN=$(post /v1/workloads '{"name": "bench", "instance_profile": "reader", "service": "compute.platform.internal"}' \
  | python3 -c "import json,sys;print(json.load(sys.stdin)['token'])")
# The first call mints the session; the measured ones reuse it.
curl -fsS -H "Authorization: $TOKEN" "$URL/v1/workload-credentials" >/dev/null
wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" --latency \
  -H "Authorization: $TOKEN" "$URL/v1/workload-credentials"
