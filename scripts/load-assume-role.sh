#!/usr/bin/env bash
# Measures POST /v1/sts/assume-role throughput against a dist build and,
# in the same run and on the same machine, the rate of single-row insert
# transactions into role_sessions with the same SQLite settings (the
# ceiling: every assume-role is one such insert). Prints both and the ratio;
# the target is at least 50%.
#
#   scripts/load-assume-role.sh [SECONDS] [CONCURRENCY]
#
# PROFILE=release for a quicker build than dist. With LATCHKEY_DATABASE_URL
# set (e.g. under scripts/with-postgres.sh, from $LATCHKEY_TEST_DATABASE_URL)
# the server runs on that database and the SQLite ceiling is skipped.
set -euo pipefail

SECONDS_PER_RUN="${1:-10}"
CONCURRENCY="${2:-32}"
cd "$(dirname "$0")/.."

PROFILE="${PROFILE:-dist}"
cargo build --quiet --profile "$PROFILE" --bin latchkey --example assume_role_load --example sqlite_insert_rate
BIN="target/$PROFILE"
[ "$PROFILE" = dev ] && BIN=target/debug
. scripts/lib/serve.sh
serve_for_load "$BIN"

LOAD="$("$BIN/examples/assume_role_load" "$URL" "$DATA/root-credentials.json" "$SECONDS_PER_RUN" "$CONCURRENCY")"
echo "$LOAD"
# Stop the server before measuring the ceiling, so the two runs do not share the CPU.
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
[ -n "${LATCHKEY_DATABASE_URL:-}" ] && exit 0
INSERTS="$("$BIN/examples/sqlite_insert_rate" "$SECONDS_PER_RUN" "$CONCURRENCY")"
echo "$INSERTS"

ASSUME_RATE="$(sed -E 's/.* = ([0-9]+) assume-role\/s.*/\1/' <<<"$LOAD")"
INSERT_RATE="$(sed -E 's/.* = ([0-9]+) tx\/s.*/\1/' <<<"$INSERTS")"
python3 - "$ASSUME_RATE" "$INSERT_RATE" <<'PY'
import sys
a, i = int(sys.argv[1]), int(sys.argv[2])
ratio = 100.0 * a / i
print(f"assume-role {a}/s vs insert ceiling {i} tx/s: {ratio:.0f}% (target >= 50%)")
PY
