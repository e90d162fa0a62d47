#!/usr/bin/env python3
"""Prints a POST /v1/authorize body whose signed_request is a GET that
`--access-key`/`--secret` (and `--session-token`, for session credentials)
signed with SigV4 now (valid for 15 minutes).
Standard library only, so the load script needs no SDK."""
import argparse, datetime, hashlib, hmac, json

def h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--session-token")
    p.add_argument("--host", default="storage.internal")
    p.add_argument("--path", default="/reports/q1.csv")
    p.add_argument("--action", default="s3:GetObject")
    p.add_argument("--resource", default="arn:aws:s3:::reports/q1.csv")
    a = p.parse_args()
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(b"").hexdigest()
    headers = {"host": a.host, "x-amz-date": amz_date}
    if a.session_token:
        headers["x-amz-security-token"] = a.session_token
    names = sorted(headers)
    signed_headers = ";".join(names)
    canonical = "\n".join(["GET", a.path, ""] + [f"{n}:{headers[n]}" for n in names]
                          + ["", signed_headers, payload])
    scope = f"{day}/us-east-1/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = h(h(h(h(("AWS4" + a.secret).encode(), day), "us-east-1"), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    auth = (f"AWS4-HMAC-SHA256 Credential={a.access_key}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}")
    print(json.dumps({
        "signed_request": {"method": "GET", "url": f"https://{a.host}{a.path}",
                           "headers": {**headers, "authorization": auth}, "body": ""},
        "action": a.action, "resource": a.resource, "source_ip": "203.0.113.9",
    }))

if __name__ == "__main__":
    main()
