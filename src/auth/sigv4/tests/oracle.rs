//! Requests signed by `aws-sigv4` (the signer inside every Rust AWS SDK)
//! must verify; one-byte changes must not.

use std::time::{Duration as StdDuration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation as AwsLocation,
    SigningSettings,
};
use aws_sigv4::sign::v4;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use super::super::{
    compute_signature, derive_signing_key, parse_claim, SigV4Error, SignatureClaim,
    SignatureLocation,
};
use super::corpus::{tampered, RawRequest};

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// What may stay raw in a path on the wire: unreserved and most sub-delims.
const PATH_RAW_OK: &AsciiSet = &UNRESERVED
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// One request to sign, as a client would build it.
#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub method: &'static str,
    pub host: &'static str,
    pub segments: Vec<String>,
    pub trailing_slash: bool,
    pub query: Vec<(String, String)>,
    pub plus_for_space: bool,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub token: Option<String>,
    pub presigned: bool,
    pub unsigned_payload: bool,
    pub content_sha256_header: bool,
    pub region: &'static str,
    pub service: &'static str,
    pub signed_at: i64,
    pub expires: u64,
}

pub(super) const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
pub(super) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn encode_query_part(s: &str, plus_for_space: bool) -> String {
    let enc = utf8_percent_encode(s, UNRESERVED).to_string();
    if plus_for_space {
        enc.replace("%20", "+")
    } else {
        enc
    }
}

impl Spec {
    fn wire_path(&self) -> String {
        let mut path = String::new();
        for seg in &self.segments {
            path.push('/');
            path.extend(utf8_percent_encode(seg, PATH_RAW_OK));
        }
        if path.is_empty() || self.trailing_slash {
            path.push('/');
        }
        path
    }

    fn wire_query(&self) -> String {
        self.query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    encode_query_part(k, self.plus_for_space),
                    encode_query_part(v, self.plus_for_space)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    pub fn signed_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.signed_at).unwrap()
    }

    /// Signs with `aws-sigv4` and returns the request as a server gets it.
    pub fn sign(&self) -> (RawRequest, String) {
        let creds = Credentials::new(AKID, SECRET, self.token.clone(), None, "oracle");
        let identity = creds.into();
        let mut settings = SigningSettings::default();
        if self.presigned {
            settings.signature_location = AwsLocation::QueryParams;
            settings.expires_in = Some(StdDuration::from_secs(self.expires));
        } else if self.unsigned_payload || self.content_sha256_header {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let time = UNIX_EPOCH + StdDuration::from_secs(self.signed_at as u64);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();

        let path = self.wire_path();
        let query = self.wire_query();
        let mut headers: Vec<(String, String)> = vec![("Host".to_owned(), self.host.to_owned())];
        headers.extend(
            self.headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone())),
        );
        if self.presigned && self.unsigned_payload {
            // Presigned URLs carry no x-amz-content-sha256 of their own; a
            // client that wants the body unsigned sends and signs the header.
            headers.push((
                "x-amz-content-sha256".to_owned(),
                "UNSIGNED-PAYLOAD".to_owned(),
            ));
        }
        let uri = if query.is_empty() {
            format!("https://{}{path}", self.host)
        } else {
            format!("https://{}{path}?{query}", self.host)
        };
        let body = if self.unsigned_payload {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(&self.body)
        };
        let signable = SignableRequest::new(
            self.method,
            uri,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            body,
        )
        .unwrap();
        let (instructions, signature) = sign(signable, &params).unwrap().into_parts();

        let mut query = query;
        for (name, value) in instructions.params() {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&encode_query_part(name, false));
            query.push('=');
            query.push_str(&encode_query_part(value, false));
        }
        headers.extend(
            instructions
                .headers()
                .map(|(n, v)| (n.to_owned(), v.to_owned())),
        );
        let raw = RawRequest {
            method: self.method.to_owned(),
            path,
            query,
            headers,
            body: self.body.clone(),
        };
        (raw, signature)
    }
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9._~-]{1,8}",
        2 => "[a-z0-9 %$@=+:,;!*()'\u{e9}\u{1234}-]{1,8}",
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just(String::new()),
    ]
}

fn query_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._~+/=&%?#\u{e9}-]{0,8}"
}

fn header() -> impl Strategy<Value = (&'static str, String)> {
    (
        prop_oneof![
            Just("Content-Type"),
            Just("X-Custom-A"),
            Just("x-amz-meta-b"),
            Just("X-REPEATED"),
            Just("x-repeated"),
            Just("User-Agent"),
        ],
        "[a-zA-Z0-9;=/,.\"]{0,4}( {1,3}[a-zA-Z0-9;=/,.\"]{1,4}){0,3} {0,2}",
    )
}

prop_compose! {
    pub(super) fn spec()(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("DELETE"), Just("PATCH")],
        host in prop_oneof![Just("iam.amazonaws.com"), Just("localhost:8080"), Just("latchkey.internal")],
        segments in prop::collection::vec(segment(), 0..5),
        trailing_slash in any::<bool>(),
        query in prop::collection::vec((query_text(), query_text()), 0..5),
        plus_for_space in any::<bool>(),
        headers in prop::collection::vec(header(), 0..5),
        body in prop::collection::vec(any::<u8>(), 0..200),
        token in prop::option::of("[A-Za-z0-9+/=]{16,80}"),
        presigned in any::<bool>(),
        unsigned_payload in prop::bool::weighted(0.2),
        content_sha256_header in any::<bool>(),
        region in prop_oneof![Just("us-east-1"), Just("eu-west-3"), Just("local")],
        service in prop_oneof![Just("iam"), Just("sts"), Just("latchkey"), Just("execute-api")],
        // 2001-09-09 .. 2033-05-18
        signed_at in 1_000_000_000i64..2_000_000_000,
        expires in 1u64..=604_800,
    ) -> Spec {
        Spec {
            method, host, segments, trailing_slash, query, plus_for_space, headers, body, token,
            presigned, unsigned_payload, content_sha256_header, region, service, signed_at, expires,
        }
    }
}

/// A tamper must fail with `SignatureDoesNotMatch`, except where a check
/// that runs before the HMAC sees it first.
fn refused_as_expected(what: &str, spec: &Spec, result: &Result<(), SigV4Error>) -> bool {
    use SigV4Error::*;
    match (what, result) {
        (_, Err(SignatureDoesNotMatch(_))) => true,
        // One second later may cross the edge of the clock window.
        ("signed header x-amz-date", Err(ClockSkew(_))) => true,
        // A shorter lifetime may already be over; 604801 s is over the limit.
        ("query (X-Amz-Expires)", Err(RequestExpired(_))) => true,
        ("query (X-Amz-Expires)", Err(IncompleteSignature(_))) => spec.expires == 604_800,
        // "UNSIGNED-PAYLOAE" is neither a hash nor the keyword.
        ("signed header x-amz-content-sha256", Err(IncompleteSignature(_))) => {
            spec.unsigned_payload
        }
        _ => false,
    }
}

fn check_signed(spec: &Spec, now_offset: i64) -> Result<(), TestCaseError> {
    let (raw, oracle_signature) = spec.sign();
    let location = if spec.presigned {
        SignatureLocation::Query
    } else {
        SignatureLocation::Header
    };
    let now = spec.signed_at() + Duration::seconds(now_offset);

    let claim = raw
        .with(|req| parse_claim(req).map(|claim| claim.map(SignatureClaim::into_owned)))
        .unwrap()
        .unwrap();
    prop_assert_eq!(claim.location, location);
    prop_assert_eq!(&claim.access_key_id, AKID);
    prop_assert_eq!(&claim.region, spec.region);
    prop_assert_eq!(&claim.service, spec.service);
    prop_assert_eq!(claim.security_token.as_deref(), spec.token.as_deref());
    prop_assert_eq!(claim.timestamp, spec.signed_at());
    prop_assert_eq!(
        claim.presigned_expires,
        spec.presigned.then_some(spec.expires)
    );
    prop_assert_eq!(claim.unsigned_payload, spec.unsigned_payload);

    let key = derive_signing_key(SECRET, &claim.date, &claim.region, &claim.service);
    let ours = raw
        .with(|req| compute_signature(req, &claim, &key))
        .unwrap();
    prop_assert_eq!(
        ours,
        oracle_signature,
        "canonicalisation differs from aws-sigv4"
    );

    if let Err(e) = raw.verify(SECRET, now) {
        return Err(TestCaseError::fail(format!(
            "did not verify: {e:?}\n{raw:#?}"
        )));
    }
    prop_assert!(matches!(
        raw.verify("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ", now),
        Err(SigV4Error::SignatureDoesNotMatch(_))
    ));

    for (what, bad) in tampered(&raw, location) {
        let result = bad.verify(SECRET, now);
        if what == "body" && spec.unsigned_payload {
            // UNSIGNED-PAYLOAD means exactly this; `claim.unsigned_payload`
            // lets the caller refuse such requests.
            prop_assert!(result.is_ok(), "unsigned body change refused: {:?}", result);
        } else {
            prop_assert!(
                refused_as_expected(&what, spec, &result),
                "tampered {} gave {:?}",
                what,
                result
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn aws_sigv4_signed_requests_verify_and_tampering_fails(
        spec in spec(),
        skew in -900i64..=900,
        presign_age in 0u64..=604_800,
    ) {
        let offset = if spec.presigned {
            // Anywhere inside the presigned lifetime, or up to 15 minutes early.
            if skew < 0 { skew } else { presign_age.min(spec.expires) as i64 }
        } else {
            skew
        };
        check_signed(&spec, offset)?;
    }

    #[test]
    fn aws_sigv4_signed_requests_expire(spec in spec(), late in 1i64..100_000) {
        let (raw, _) = spec.sign();
        let signed_at = spec.signed_at();
        let result = if spec.presigned {
            raw.verify(SECRET, signed_at + Duration::seconds(spec.expires as i64 + late))
        } else {
            raw.verify(SECRET, signed_at + Duration::seconds(900 + late))
        };
        if spec.presigned {
            prop_assert!(matches!(result, Err(SigV4Error::RequestExpired(_))), "{:?}", result);
        } else {
            prop_assert!(matches!(result, Err(SigV4Error::ClockSkew(_))), "{:?}", result);
        }
        let early = raw.verify(SECRET, signed_at - Duration::seconds(900 + late));
        prop_assert!(matches!(early, Err(SigV4Error::ClockSkew(_))), "{:?}", early);
    }
}

/// A fixed example of each shape, so a failure here names the shape
/// without proptest's shrinking.
#[test]
fn one_of_each_shape_verifies() {
    let base = Spec {
        method: "POST",
        host: "iam.amazonaws.com",
        segments: vec![],
        trailing_slash: false,
        query: vec![],
        plus_for_space: false,
        headers: vec![(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        )],
        body: b"Action=ListUsers&Version=2010-05-08".to_vec(),
        token: None,
        presigned: false,
        unsigned_payload: false,
        content_sha256_header: false,
        region: "us-east-1",
        service: "iam",
        signed_at: 1_700_000_000,
        expires: 900,
    };
    let token = Some("FwoGZXIvYXdzEXAMPLEsessiontoken+/=".to_owned());
    let shapes = [
        ("header", base.clone()),
        (
            "header + token",
            Spec {
                token: token.clone(),
                ..base.clone()
            },
        ),
        (
            "header + x-amz-content-sha256",
            Spec {
                content_sha256_header: true,
                ..base.clone()
            },
        ),
        (
            "header + UNSIGNED-PAYLOAD",
            Spec {
                unsigned_payload: true,
                ..base.clone()
            },
        ),
        (
            "presigned GET",
            Spec {
                method: "GET",
                body: vec![],
                presigned: true,
                query: vec![
                    ("Action".to_owned(), "GetCallerIdentity".to_owned()),
                    ("Version".to_owned(), "2011-06-15".to_owned()),
                ],
                ..base.clone()
            },
        ),
        (
            "presigned + token",
            Spec {
                presigned: true,
                token: token.clone(),
                ..base.clone()
            },
        ),
        (
            "presigned + UNSIGNED-PAYLOAD",
            Spec {
                presigned: true,
                unsigned_payload: true,
                ..base.clone()
            },
        ),
        (
            "REST path with spaces and dots",
            Spec {
                method: "GET",
                body: vec![],
                segments: vec![
                    "v1".to_owned(),
                    "users".to_owned(),
                    ".".to_owned(),
                    "bob smith".to_owned(),
                ],
                query: vec![("max items".to_owned(), "a+b/c".to_owned())],
                plus_for_space: true,
                ..base.clone()
            },
        ),
    ];
    for (name, spec) in shapes {
        if let Err(e) = check_signed(&spec, 60) {
            panic!("{name}: {e}");
        }
    }
}
