#!/usr/bin/env bash
# Runs `latchkey policy lint` and parliament (PyPI) over the same sample
# documents and prints both findings side by side, file by file.
#
#   scripts/compare-parliament.sh [SAMPLES_DIR]   (default tests/lint-samples)
#
# parliament is installed into a venv under /tmp (PARLIAMENT_VENV overrides
# it), never into the project. Files named trust-*.json are linted by
# latchkey as trust policies; parliament has no trust-policy mode and reads
# them as identity policies. Exit status: 0 when both tools ran.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
samples="${1:-$root/tests/lint-samples}"
venv="${PARLIAMENT_VENV:-/tmp/parliament-venv}"

if [ ! -x "$venv/bin/parliament" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet parliament
fi
cargo build --quiet --manifest-path "$root/Cargo.toml" --bin latchkey
latchkey="${CARGO_TARGET_DIR:-$root/target}/debug/latchkey"

# One line per finding: SEVERITY CODE where.
format_latchkey='
import json, sys
for result in json.load(sys.stdin)["results"]:
    for f in result["findings"]:
        where = f["location"]["path"] or "(document)"
        print("%-16s %s %s" % (f["severity"], f["code"], where))
'
format_parliament='
import json, sys
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    f = json.loads(line)
    loc = f.get("location") or {}
    actions = loc.get("actions") or []
    where = ",".join(actions[:6]) + (" (+%d more)" % (len(actions) - 6) if len(actions) > 6 else "")
    if not where and "line" in loc:
        where = "line %s col %s" % (loc["line"], loc["column"])
    print("%-16s %s %s" % (f["severity"], f["issue"], where))
'

for file in "$samples"/*.json; do
    name="$(basename "$file")"
    type=identity
    case "$name" in
        trust-*) type=trust ;;
        resource-*) type=resource ;;
    esac
    left="$(mktemp)" right="$(mktemp)"
    { "$latchkey" policy lint --type "$type" --json "$file" || true; } \
        | python3 -c "$format_latchkey" >"$left"
    { "$venv/bin/parliament" --json --minimum_severity INFO --include-community-auditors \
        --string "$(cat "$file")" </dev/null || true; } \
        | python3 -c "$format_parliament" >"$right"
    echo "=== $name (latchkey --type $type)"
    echo "--- latchkey"
    if [ -s "$left" ]; then cat "$left"; else echo "(no findings)"; fi
    echo "--- parliament"
    if [ -s "$right" ]; then cat "$right"; else echo "(no findings)"; fi
    echo
    rm -f "$left" "$right"
done
