//! Cost of authenticating one typical IAM query-protocol POST.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use latchkey::auth::sigv4::{
    compute_signature, derive_signing_key, parse_claim, verify, verify_with_key, SignedRequest,
};
use time::macros::datetime;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BODY: &[u8] = b"Action=CreateUser&UserName=bob&Path=%2Fengineering%2F&\
Tags.member.1.Key=team&Tags.member.1.Value=platform&Version=2010-05-08";

fn bench(c: &mut Criterion) {
    let now = datetime!(2024-05-01 10:00:30 UTC);
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), "iam.amazonaws.com".into()),
        (
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        ),
        ("Content-Length".into(), BODY.len().to_string()),
        ("User-Agent".into(), "aws-cli/2.15.0 Python/3.11.6".into()),
        ("X-Amz-Date".into(), "20240501T100000Z".into()),
        (
            "Authorization".into(),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/iam/\
             aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=00"
                .into(),
        ),
    ];
    // Sign once, the way the server verifies, then put the real signature in.
    let signature = {
        let borrowed: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let req = request(&borrowed);
        let claim = parse_claim(&req).unwrap().unwrap();
        let key = derive_signing_key(SECRET, &claim.date, &claim.region, &claim.service);
        compute_signature(&req, &claim, &key).unwrap()
    };
    let auth = &mut headers[5].1;
    *auth = auth.replace("Signature=00", &format!("Signature={signature}"));

    let borrowed: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let req = request(&borrowed);
    let claim = parse_claim(&req).unwrap().unwrap();
    verify(&req, &claim, SECRET, now).unwrap();
    let key = derive_signing_key(SECRET, &claim.date, &claim.region, &claim.service);

    c.bench_function("sigv4 parse_claim + verify (IAM POST)", |b| {
        b.iter(|| {
            let claim = parse_claim(black_box(&req)).unwrap().unwrap();
            verify(black_box(&req), &claim, black_box(SECRET), now).unwrap();
        })
    });
    c.bench_function("sigv4 parse_claim + verify_with_key (cached key)", |b| {
        b.iter(|| {
            let claim = parse_claim(black_box(&req)).unwrap().unwrap();
            verify_with_key(black_box(&req), &claim, black_box(&key), now).unwrap();
        })
    });
    c.bench_function("sigv4 derive_signing_key", |b| {
        b.iter(|| derive_signing_key(black_box(SECRET), "20240501", "us-east-1", "iam"))
    });
}

fn request<'a>(headers: &'a [(&'a str, &'a str)]) -> SignedRequest<'a> {
    SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: BODY,
        body_sha256: None,
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
