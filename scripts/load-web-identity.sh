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
. scripts/lib/serve.sh
serve_for_load "$BIN"

"$BIN/examples/web_identity_load" "$URL" "$DATA/root-credentials.json" "$SECONDS_PER_RUN" "$CONCURRENCY"
