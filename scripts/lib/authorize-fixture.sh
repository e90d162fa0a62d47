# Sourced by the load scripts (not run): the entities and signed requests
# behind their POST /v1/authorize measurements, on a running server.
#
#   authorize_fixture URL ROOT_KEY_ID ROOT_SECRET WORK_DIR
#
# creates a platform service `storage` allowed latchkey:Authorize, a user
# `reader` with a key and a policy reading arn:aws:s3:::reports/* from one
# network, a role `report-reader` that reader may assume, and a session of
# it; then writes into WORK_DIR:
#   authorize.json / authorize-session.json: the authorize question about a
#     request signed by reader's key / by the session (key, secret, token);
#   authorize.lua / authorize-session.lua: wrk scripts posting them;
# and sets SVC_BASIC (the service's Authorization header). Each request
# is checked once to be allowed.

fixture_json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

authorize_fixture() {
  local u=$1 ak=$2 sk=$3 work=$4
  local here; here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  curl -sf -u "$ak:$sk" -H 'content-type: application/json' -d '{"name":"storage"}' "$u/v1/users" >/dev/null
  curl -sf -o /dev/null -u "$ak:$sk" -X PUT -H 'content-type: application/json' "$u/v1/users/storage/policies/authz" \
    -d '{"document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"latchkey:Authorize","Resource":"*"}]}}'
  local svc; svc=$(curl -sf -u "$ak:$sk" -X POST "$u/v1/users/storage/access-keys")
  SVC_BASIC="Basic $(printf '%s:%s' "$(echo "$svc" | fixture_json "['access_key_id']")" \
    "$(echo "$svc" | fixture_json "['secret_access_key']")" | base64 -w0)"
  curl -sf -u "$ak:$sk" -H 'content-type: application/json' -d '{"name":"reader"}' "$u/v1/users" >/dev/null
  local read_policy='{"document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}}'
  curl -sf -o /dev/null -u "$ak:$sk" -X PUT -H 'content-type: application/json' "$u/v1/users/reader/policies/read" \
    -d "$read_policy"
  local sub; sub=$(curl -sf -u "$ak:$sk" -X POST "$u/v1/users/reader/access-keys")
  local sub_id sub_secret; sub_id=$(echo "$sub" | fixture_json "['access_key_id']")
  sub_secret=$(echo "$sub" | fixture_json "['secret_access_key']")
  python3 "$here/sign_forwarded.py" --access-key "$sub_id" --secret "$sub_secret" > "$work/authorize.json"
  # The same question about a role session's request.
  local account; account=$(curl -sf -u "$ak:$sk" "$u/v1/sts/caller-identity" | fixture_json "['account']")
  curl -sf -o /dev/null -u "$ak:$sk" -H 'content-type: application/json' "$u/v1/roles" \
    -d '{"name":"report-reader","trust_policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::'"$account"':user/reader"},"Action":"sts:AssumeRole"}]}}'
  curl -sf -o /dev/null -u "$ak:$sk" -X PUT -H 'content-type: application/json' "$u/v1/roles/report-reader/policies/read" \
    -d "$read_policy"
  local session; session=$(curl -sf -u "$sub_id:$sub_secret" -H 'content-type: application/json' "$u/v1/sts/assume-role" \
    -d '{"role_arn":"arn:aws:iam::'"$account"':role/report-reader","role_session_name":"load"}')
  python3 "$here/sign_forwarded.py" --access-key "$(echo "$session" | fixture_json "['credentials']['access_key_id']")" \
    --secret "$(echo "$session" | fixture_json "['credentials']['secret_access_key']")" \
    --session-token "$(echo "$session" | fixture_json "['credentials']['session_token']")" > "$work/authorize-session.json"
  local body
  for body in authorize authorize-session; do
    curl -sf -H "authorization: $SVC_BASIC" -H 'content-type: application/json' -d @"$work/$body.json" "$u/v1/authorize" \
      | grep -q '"allowed":true' || { echo "$body smoke check failed" >&2; return 1; }
    cat > "$work/$body.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "$SVC_BASIC"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/$body.json"); wrk.body = f:read("*a"); f:close()
LUA
  done
}
