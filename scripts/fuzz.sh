#!/usr/bin/env bash
# Runs the policy-validation fuzz target for a number of seconds.
#   scripts/fuzz.sh [SECONDS] [TARGET]     (defaults: 60, parse_validate)
# Installs cargo-fuzz from crates.io when it is missing. On stable Rust,
# RUSTC_BOOTSTRAP=1 unlocks the nightly-only sanitizer flags cargo-fuzz uses.
# A single fuzzing process (libFuzzer's default): the build machines have two cores.
# Seeds: the shared moto corpus documents, when that folder exists (the
# fuzz corpus folder is git-ignored, so nothing is copied into the repo).
set -euo pipefail

seconds="${1:-60}"
target="${2:-parse_validate}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd "$root/fuzz"
mkdir -p "corpus/$target"
moto="$root/../shared/corpora/moto-iam-policy-validation/policy_documents.json"
if [ -f "$moto" ] && command -v python3 >/dev/null; then
    python3 - "$moto" "corpus/$target" <<'PY'
import json, sys, hashlib, pathlib
cases = json.load(open(sys.argv[1]))["cases"]
for case in cases:
    text = case["document_string"].encode()
    (pathlib.Path(sys.argv[2]) / ("moto-" + hashlib.sha1(text).hexdigest())).write_bytes(text)
PY
fi
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=8192 -print_final_stats=1
