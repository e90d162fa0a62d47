#!/usr/bin/env bash
# Schemathesis over every operation of openapi/openapi.json, against a
# fresh server on a temporary data directory, as the management account's
# root (Basic, one of the document's security schemes).
#   scripts/schemathesis.sh [MAX_EXAMPLES]        (default 25 per operation)
# Checks: no server error, status codes, content types and response bodies
# as documented. Two passes: every parameter generated (most paths then
# name nothing, so 404s and refusals), then with entities made beforehand
# (a user, group, role, managed and inline policy and instance profile
# named `st`, a service principal `st.platform.internal`, the user's key,
# a role session) whose names and ids fill the path parameters, so the
# operations reach their real work. Environment:
#   LATCHKEY_BIN=path   a binary already built (default: cargo build, dev)
#   SCHEMATHESIS=path   the schemathesis command (default: on PATH, else a
#                       virtualenv under target/ with it installed from PyPI)
#   SEED=N              the generator's seed (default 1, reproducible)
#   ST_ARGS="..."       more `schemathesis run` options
# Reports (JUnit, NDJSON) go to target/schemathesis/; the server's log too.
set -euo pipefail

examples="${1:-25}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/target/schemathesis"
mkdir -p "$out"

st="${SCHEMATHESIS:-}"
if [ -z "$st" ]; then
    if command -v schemathesis >/dev/null; then
        st=schemathesis
    else
        venv="$root/target/schemathesis-venv"
        if [ ! -x "$venv/bin/schemathesis" ]; then
            python3 -m venv "$venv"
            "$venv/bin/pip" install --quiet schemathesis
        fi
        st="$venv/bin/schemathesis"
    fi
fi

bin="${LATCHKEY_BIN:-}"
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --quiet)
    bin="$root/target/debug/latchkey"
fi

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
RUST_LOG=warn LATCHKEY_DATA_DIR="$data" "$bin" serve --bind "127.0.0.1:$port" \
    >"$out/server.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$out/server.log"; exit 1; }
    sleep 0.1
done
creds="$data/root-credentials.json"
ak="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['access_key_id'])" "$creds")"
sk="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['secret_access_key'])" "$creds")"


# Every operation; the workload-token endpoint too (Basic is refused
# there, as documented). Two workers: the build machines have two cores.
run() {
    local pass="$1"
    shift
    echo "== pass: $pass"
    # shellcheck disable=SC2086
    "$st" "$@" run "$root/openapi/openapi.json" \
        --url "$base" \
        --auth "$ak:$sk" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing \
        --max-examples "$examples" \
        --seed "${SEED:-1}" \
        --workers 2 \
        --request-timeout 30 \
        --continue-on-failure \
        --suppress-health-check all \
        --report junit,ndjson --report-dir "$out/$pass" \
        ${ST_ARGS:-}
}
status=0
run generated || status=$?

# The entities of the second pass, and its parameters.
python3 - "$base" "$ak" "$sk" "$out/seeded.toml" <<'PY'
import base64, json, sys, urllib.error, urllib.request
base, ak, sk, config = sys.argv[1:5]
auth = "Basic " + base64.b64encode(f"{ak}:{sk}".encode()).decode()

def call(method, path, body=None, as_auth=auth):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", as_auth)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as r:
            text = r.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        sys.exit(f"seeding: {method} {path}: {e.code} {e.read().decode()}")

account = call("GET", "/v1/sts/caller-identity")["account"]
doc = {"Version": "2012-10-17",
       "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
trust = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        "Action": "sts:AssumeRole"}]}
call("POST", "/v1/users", {"name": "st"})
created = call("POST", "/v1/users/st/access-keys")
key = created["access_key_id"]
user_auth = "Basic " + base64.b64encode(
    f"{key}:{created['secret_access_key']}".encode()).decode()
call("POST", "/v1/groups", {"name": "st"})
call("PUT", "/v1/groups/st/members/st")
call("POST", "/v1/roles", {"name": "st", "trust_policy": trust})
call("POST", "/v1/policies", {"name": "st", "document": doc})
for kind in ("users", "groups", "roles"):
    call("PUT", f"/v1/{kind}/st/policies/st", {"document": doc})
call("POST", "/v1/instance-profiles", {"name": "st"})
call("POST", "/v1/service-principals", {"name": "st.platform.internal"})
# A root may not assume a role (as in AWS): the user does.
call("PUT", "/v1/users/st/policies/assume", {"document": {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}})
session = call("POST", "/v1/sts/assume-role",
               {"role_arn": f"arn:aws:iam::{account}:role/st", "role_session_name": "st"},
               as_auth=user_auth)
session_key = session["credentials"]["access_key_id"]
with open(config, "w") as f:
    f.write(f"""[parameters]
user = "st"
group = "st"
role = "st"
name = "st"
policy = "st"
policy_name = "st"
version = "v1"
key_id = "{key}"
access_key_id = "{session_key}"

[[operations]]
include-path-regex = "^/v1/service-principals/"
parameters = {{ name = "st.platform.internal" }}
""")
PY

run seeded --config-file "$out/seeded.toml" || status=$?
exit "$status"
