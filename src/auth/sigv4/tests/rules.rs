//! The rules around the HMAC: what is refused before it, with which code
//! and message, and what never leaks.

use time::{Duration, OffsetDateTime};

use super::super::{
    compute_signature, derive_signing_key, parse_claim, string_to_sign, verify, verify_with_key,
    SigV4Error, SignatureClaim, SignatureLocation, SIGNATURE_MISMATCH_MESSAGE,
};
use super::corpus::RawRequest;
use super::oracle::{Spec, AKID, SECRET};

const TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsessiontoken+/=";

fn base_spec() -> Spec {
    Spec {
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
        body: b"Action=GetUser&Version=2010-05-08".to_vec(),
        token: None,
        presigned: false,
        unsigned_payload: false,
        content_sha256_header: false,
        region: "us-east-1",
        service: "iam",
        // 2015-08-30T12:36:00Z, the suites' date.
        signed_at: 1_440_938_160,
        expires: 3600,
    }
}

fn at(spec: &Spec, seconds: i64) -> OffsetDateTime {
    spec.signed_at() + Duration::seconds(seconds)
}

fn set_header(raw: &mut RawRequest, name: &str, value: &str) {
    raw.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    raw.headers.push((name.to_owned(), value.to_owned()));
}

fn claim_of(raw: &RawRequest) -> Result<Option<SignatureClaim<'static>>, SigV4Error> {
    raw.with(|req| parse_claim(req).map(|claim| claim.map(SignatureClaim::into_owned)))
}

fn claim_error(raw: &RawRequest) -> SigV4Error {
    claim_of(raw).unwrap_err()
}

/// Re-signs `raw` with our own signer after an edit the oracle cannot make
/// (a `Date` header, a presigned URL without `X-Amz-Expires`, ...).
fn resign(raw: &mut RawRequest) {
    let claim = claim_of(raw).unwrap().unwrap();
    let key = derive_signing_key(SECRET, &claim.date, &claim.region, &claim.service);
    let signature = raw
        .with(|req| compute_signature(req, &claim, &key))
        .unwrap();
    match claim.location {
        SignatureLocation::Header => {
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential={AKID}/{}, SignedHeaders={}, Signature={signature}",
                claim.scope(),
                claim.signed_headers.join(";")
            );
            set_header(raw, "Authorization", &auth);
        }
        SignatureLocation::Query => {
            let kept: Vec<&str> = raw
                .query
                .split('&')
                .filter(|p| !p.starts_with("X-Amz-Signature="))
                .collect();
            raw.query = format!("{}&X-Amz-Signature={signature}", kept.join("&"));
        }
    }
}

#[test]
fn requests_without_sigv4_give_no_claim() {
    let (signed, _) = base_spec().sign();
    let mut raw = signed.clone();
    raw.headers.retain(|(n, _)| n != "authorization");
    assert_eq!(claim_of(&raw).unwrap(), None);
    for other in [
        "Basic QUtJQUlPU0ZPRE5ON0VYQU1QTEU6c2VjcmV0",
        "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
        "Bearer abc",
    ] {
        set_header(&mut raw, "Authorization", other);
        assert_eq!(claim_of(&raw).unwrap(), None, "{other}");
    }
    raw.query = "Action=GetUser&Version=2010-05-08".to_owned();
    assert_eq!(claim_of(&raw).unwrap(), None);
}

#[test]
fn malformed_authorization_headers_are_incomplete_signatures() {
    let (signed, _) = base_spec().sign();
    let cred = "Credential=AKIAIOSFODNN7EXAMPLE/20150830/us-east-1/iam/aws4_request";
    let sig = "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let cases: Vec<(String, Option<String>)> = vec![
        (
            "AWS4-HMAC-SHA256".to_owned(),
            Some(
                "Authorization header requires 'Credential' parameter. Authorization header \
                 requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
                 parameter. Authorization=AWS4-HMAC-SHA256"
                    .to_owned(),
            ),
        ),
        (
            format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host;x-amz-date"),
            Some(format!(
                "Authorization header requires 'Signature' parameter. \
                 Authorization=AWS4-HMAC-SHA256 {cred}, SignedHeaders=host;x-amz-date"
            )),
        ),
        (
            format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders, {sig}"),
            Some(format!(
                "'SignedHeaders' not a valid key=value pair (missing equal-sign) in \
                 Authorization header: 'AWS4-HMAC-SHA256 {cred}, SignedHeaders, {sig}'."
            )),
        ),
        (
            format!("AWS4-ECDSA-P256-SHA256 {cred}, SignedHeaders=host, {sig}"),
            Some("Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'.".to_owned()),
        ),
        (
            format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=x-amz-date, {sig}"),
            Some(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
                    .to_owned(),
            ),
        ),
        (
            format!("AWS4-HMAC-SHA256 {cred}, SignedHeaders=host, {sig}, {sig}"),
            None,
        ),
        (
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20150830/us-east-1/iam, \
                 SignedHeaders=host, {sig}"
            ),
            None,
        ),
        (
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20150830//iam/aws4_request, \
                 SignedHeaders=host, {sig}"
            ),
            None,
        ),
    ];
    for (header, message) in cases {
        let mut raw = signed.clone();
        set_header(&mut raw, "Authorization", &header);
        let err = claim_error(&raw);
        assert!(
            matches!(err, SigV4Error::IncompleteSignature(_)),
            "{header}: {err:?}"
        );
        assert_eq!(
            (err.code(), err.http_status()),
            ("IncompleteSignature", 400)
        );
        if let Some(message) = message {
            assert_eq!(err.message(), message, "{header}");
        }
    }
}

#[test]
fn wrong_scope_terminator_is_a_signature_mismatch() {
    let (mut raw, _) = base_spec().sign();
    set_header(
        &mut raw,
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20150830/us-east-1/iam/aws5_request, \
         SignedHeaders=host;x-amz-date, Signature=00",
    );
    let err = claim_error(&raw);
    assert_eq!(
        err,
        SigV4Error::SignatureDoesNotMatch(
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
             'aws5_request'."
                .to_owned()
        )
    );
}

#[test]
fn dates_must_be_present_single_and_well_formed() {
    let (signed, _) = base_spec().sign();
    let auth = signed
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone();

    let mut raw = signed.clone();
    raw.headers.retain(|(n, _)| n != "x-amz-date");
    assert_eq!(
        claim_error(&raw).message(),
        format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header. Authorization={auth}"
        )
    );

    let mut raw = signed.clone();
    set_header(&mut raw, "X-Amz-Date", "2015-08-30T12:36:00Z");
    assert_eq!(claim_error(&raw).code(), "IncompleteSignature");

    let mut raw = signed.clone();
    raw.headers
        .push(("X-Amz-Date".to_owned(), "20150830T123600Z".to_owned()));
    assert_eq!(claim_error(&raw).code(), "IncompleteSignature");

    let mut raw = signed.clone();
    raw.headers.push(("Authorization".to_owned(), auth.clone()));
    assert_eq!(claim_error(&raw).code(), "IncompleteSignature");
}

#[test]
fn scope_date_must_be_the_request_date() {
    let spec = base_spec();
    let (mut raw, _) = spec.sign();
    // A correct HMAC under the key for the next day over a request dated
    // today: only the date rule stands between a leaked day key and every
    // other day.
    let mut claim = claim_of(&raw).unwrap().unwrap();
    claim.date = "20150831".into();
    let next_day_key = derive_signing_key(SECRET, "20150831", &claim.region, &claim.service);
    let signature = raw
        .with(|req| compute_signature(req, &claim, &next_day_key))
        .unwrap();
    claim.signature = signature.clone().into();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/{}, SignedHeaders={}, Signature={signature}",
        claim.scope(),
        claim.signed_headers.join(";")
    );
    set_header(&mut raw, "Authorization", &auth);
    let expected = SigV4Error::SignatureDoesNotMatch(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20150831' != '20150830', from '20150830T123600Z'."
            .to_owned(),
    );
    assert_eq!(claim_error(&raw), expected);
    // Also when the claim is built by hand and handed straight to verify.
    let result = raw.with(|req| verify(req, &claim, SECRET, at(&spec, 0)));
    assert_eq!(result, Err(expected));
}

#[test]
fn host_must_be_signed_even_in_a_hand_built_claim() {
    let spec = base_spec();
    let (raw, _) = spec.sign();
    let mut claim = claim_of(&raw).unwrap().unwrap();
    claim.signed_headers.retain(|h| h != "host");
    let result = raw.with(|req| verify(req, &claim, SECRET, at(&spec, 0)));
    assert_eq!(result.unwrap_err().code(), "IncompleteSignature");
}

#[test]
fn authorization_separator_variants_verify() {
    let spec = base_spec();
    let (signed, _) = spec.sign();
    let claim = claim_of(&signed).unwrap().unwrap();
    let cred = format!("Credential={AKID}/{}", claim.scope());
    let sh = format!("SignedHeaders={}", claim.signed_headers.join(";"));
    let sig = format!("Signature={}", claim.signature);
    for header in [
        format!("AWS4-HMAC-SHA256 {cred}, {sh}, {sig}"),
        format!("AWS4-HMAC-SHA256 {cred},{sh},{sig}"),
        format!("AWS4-HMAC-SHA256  {cred} ,  {sh} ,\t{sig} "),
        format!("AWS4-HMAC-SHA256 {sig}, {cred}, {sh}"),
        format!("AWS4-HMAC-SHA256 {cred} {sh} {sig}"),
        format!("  AWS4-HMAC-SHA256 {cred}, {sh}, {sig},"),
    ] {
        let mut raw = signed.clone();
        set_header(&mut raw, "authorization", &header);
        raw.verify(SECRET, at(&spec, 0))
            .unwrap_or_else(|e| panic!("{header:?}: {e:?}"));
    }
}

#[test]
fn both_header_and_presigned_is_refused() {
    let (header_signed, _) = base_spec().sign();
    let (presigned, _) = Spec {
        presigned: true,
        ..base_spec()
    }
    .sign();
    let mut raw = presigned;
    let auth = header_signed
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap();
    raw.headers.push(auth.clone());
    assert_eq!(claim_error(&raw).code(), "IncompleteSignature");
}

#[test]
fn presigned_parameters_are_checked() {
    let (signed, _) = Spec {
        presigned: true,
        ..base_spec()
    }
    .sign();
    let without = |name: &str| {
        let mut raw = signed.clone();
        raw.query = raw
            .query
            .split('&')
            .filter(|p| !p.starts_with(name))
            .collect::<Vec<_>>()
            .join("&");
        raw
    };
    let required = "AWS query-string parameters must include 'X-Amz-Algorithm', \
                    'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', and \
                    'X-Amz-Date'. Re-examine the query-string parameters.";
    for name in [
        "X-Amz-Date=",
        "X-Amz-SignedHeaders=",
        "X-Amz-Algorithm=",
        "X-Amz-Credential=",
        "X-Amz-Signature=",
    ] {
        assert_eq!(claim_error(&without(name)).message(), required, "{name}");
    }
    let mut raw = signed.clone();
    raw.query = raw
        .query
        .replace("X-Amz-Expires=3600", "X-Amz-Expires=604801");
    assert_eq!(
        claim_error(&raw).message(),
        "X-Amz-Expires must be less than a week (in seconds) that is 604800."
    );
    let mut raw = signed.clone();
    raw.query = raw.query.replace("X-Amz-Expires=3600", "X-Amz-Expires=-5");
    assert_eq!(claim_error(&raw).code(), "IncompleteSignature");
    let mut raw = signed.clone();
    raw.query = raw.query.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512");
    assert_eq!(
        claim_error(&raw).message(),
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'."
    );
    let mut raw = signed.clone();
    raw.query.push_str("&X-Amz-Date=20150830T123600Z");
    assert_eq!(claim_error(&raw).code(), "IncompleteSignature");
}

#[test]
fn presigned_lifetime_runs_from_x_amz_date_to_expires() {
    let spec = Spec {
        presigned: true,
        method: "GET",
        body: vec![],
        ..base_spec()
    };
    let (raw, _) = spec.sign();
    raw.verify(SECRET, at(&spec, 3600)).unwrap();
    raw.verify(SECRET, at(&spec, -900)).unwrap();
    let late = raw.verify(SECRET, at(&spec, 3601)).unwrap_err();
    assert_eq!(
        late,
        SigV4Error::RequestExpired(
            "Request has expired: X-Amz-Date 20150830T123600Z plus X-Amz-Expires 3600 seconds \
             ended at 20150830T133600Z; the server time is 20150830T133601Z."
                .to_owned()
        )
    );
    assert_eq!((late.code(), late.http_status()), ("RequestExpired", 400));
    let early = raw.verify(SECRET, at(&spec, -901)).unwrap_err();
    assert!(matches!(early, SigV4Error::ClockSkew(_)), "{early:?}");

    // Without X-Amz-Expires a presigned request gets the header window.
    let mut no_expiry = raw.clone();
    no_expiry.query = no_expiry
        .query
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Expires="))
        .collect::<Vec<_>>()
        .join("&");
    resign(&mut no_expiry);
    assert_eq!(
        claim_of(&no_expiry).unwrap().unwrap().presigned_expires,
        None
    );
    no_expiry.verify(SECRET, at(&spec, 900)).unwrap();
    let err = no_expiry.verify(SECRET, at(&spec, 901)).unwrap_err();
    assert_eq!(
        err.message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
         (20150830T125101Z - 15 min.)"
    );
}

#[test]
fn date_header_can_stand_in_for_x_amz_date() {
    let spec = base_spec();
    let (mut raw, _) = spec.sign();
    raw.headers.retain(|(n, _)| n != "x-amz-date");
    set_header(&mut raw, "Date", "Sun, 30 Aug 2015 12:36:00 GMT");
    // The oracle always writes X-Amz-Date, so sign this shape ourselves,
    // listing `date` among the signed headers.
    let auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20150830/us-east-1/iam/\
                aws4_request, SignedHeaders=content-type;date;host, Signature=00";
    set_header(&mut raw, "Authorization", auth);
    resign(&mut raw);
    let claim = claim_of(&raw).unwrap().unwrap();
    assert_eq!(claim.timestamp, at(&spec, 0));
    let sts = raw.with(|req| string_to_sign(req, &claim)).unwrap();
    assert!(sts
        .starts_with("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"));
    raw.verify(SECRET, at(&spec, 0)).unwrap();
    set_header(&mut raw, "Date", "Sun, 30 Aug 2015 12:36:01 GMT");
    assert_eq!(
        raw.verify(SECRET, at(&spec, 0)).unwrap_err().message(),
        SIGNATURE_MISMATCH_MESSAGE
    );
}

#[test]
fn content_sha256_must_describe_the_body() {
    let spec = Spec {
        content_sha256_header: true,
        ..base_spec()
    };
    let (signed, _) = spec.sign();
    signed.verify(SECRET, at(&spec, 0)).unwrap();

    let mut raw = signed.clone();
    raw.body = b"Action=DeleteUser&Version=2010-05-08".to_vec();
    assert_eq!(
        raw.verify(SECRET, at(&spec, 0)).unwrap_err(),
        SigV4Error::SignatureDoesNotMatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
                .to_owned()
        )
    );

    let mut raw = signed.clone();
    set_header(
        &mut raw,
        "x-amz-content-sha256",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    );
    assert_eq!(
        raw.verify(SECRET, at(&spec, 0)).unwrap_err().code(),
        "IncompleteSignature"
    );

    let mut raw = signed.clone();
    let value = raw
        .headers
        .iter()
        .find(|(n, _)| n == "x-amz-content-sha256")
        .unwrap()
        .clone();
    raw.headers.push(value);
    assert_eq!(
        raw.verify(SECRET, at(&spec, 0)).unwrap_err().code(),
        "IncompleteSignature"
    );
}

#[test]
fn unsigned_payload_is_reported_to_the_caller() {
    let spec = Spec {
        unsigned_payload: true,
        ..base_spec()
    };
    let (raw, _) = spec.sign();
    let claim = claim_of(&raw).unwrap().unwrap();
    assert!(claim.unsigned_payload);
    raw.verify(SECRET, at(&spec, 0)).unwrap();
    let (signed_body, _) = base_spec().sign();
    assert!(!claim_of(&signed_body).unwrap().unwrap().unsigned_payload);
}

#[test]
fn cached_signing_keys_verify_like_secrets() {
    let spec = base_spec();
    let (raw, _) = spec.sign();
    let claim = claim_of(&raw).unwrap().unwrap();
    let key = derive_signing_key(SECRET, &claim.date, &claim.region, &claim.service);
    raw.with(|req| verify_with_key(req, &claim, &key, at(&spec, 0)))
        .unwrap();
    let other_region = derive_signing_key(SECRET, &claim.date, "eu-west-1", &claim.service);
    let result = raw.with(|req| verify_with_key(req, &claim, &other_region, at(&spec, 0)));
    assert_eq!(result, Err(SigV4Error::signature_mismatch()));
}

#[test]
fn no_error_or_debug_output_reveals_a_secret() {
    let spec = Spec {
        token: Some(TOKEN.to_owned()),
        ..base_spec()
    };
    let (raw, _) = spec.sign();
    let claim = claim_of(&raw).unwrap().unwrap();
    assert_eq!(claim.security_token.as_deref(), Some(TOKEN));
    let key = derive_signing_key(SECRET, &claim.date, &claim.region, &claim.service);
    let key_hex = hex::encode(key.as_bytes());
    let debug = format!("{claim:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("<redacted>"));
    let debug = raw.with(|req| format!("{req:?}"));
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("x-amz-security-token"), "{debug}");
    let (presigned, _) = Spec {
        presigned: true,
        ..spec.clone()
    }
    .sign();
    assert!(presigned.query.contains("X-Amz-Security-Token="));
    let debug = presigned.with(|req| format!("{req:?}"));
    assert!(!debug.contains("X-Amz-Security-Token"), "{debug}");

    let mut errors = vec![
        raw.verify("wrong", at(&spec, 0)).unwrap_err(),
        raw.verify(SECRET, at(&spec, 5000)).unwrap_err(),
        raw.verify(SECRET, at(&spec, -5000)).unwrap_err(),
    ];
    let mut tampered = raw.clone();
    tampered.body.push(b'!');
    errors.push(tampered.verify(SECRET, at(&spec, 0)).unwrap_err());
    for err in errors {
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(SECRET), "{shown}");
            assert!(!shown.contains(TOKEN), "{shown}");
            assert!(!shown.contains(&key_hex), "{shown}");
            assert!(!shown.contains(&*claim.signature), "{shown}");
        }
    }
}

#[test]
fn error_codes_and_statuses_follow_aws() {
    let table = [
        (SigV4Error::incomplete("x"), "IncompleteSignature", 400),
        (
            SigV4Error::signature_mismatch(),
            "SignatureDoesNotMatch",
            403,
        ),
        (
            SigV4Error::ClockSkew("x".to_owned()),
            "SignatureDoesNotMatch",
            403,
        ),
        (
            SigV4Error::RequestExpired("x".to_owned()),
            "RequestExpired",
            400,
        ),
        (
            SigV4Error::invalid_client_token_id(),
            "InvalidClientTokenId",
            403,
        ),
        (
            SigV4Error::missing_authentication_token(),
            "MissingAuthenticationToken",
            403,
        ),
        (SigV4Error::expired_token(), "ExpiredToken", 400),
    ];
    for (err, code, status) in table {
        assert_eq!((err.code(), err.http_status()), (code, status), "{err:?}");
        assert_eq!(err.to_string(), err.message());
    }
    assert_eq!(
        SigV4Error::invalid_client_token_id().message(),
        "The security token included in the request is invalid."
    );
    assert_eq!(
        SigV4Error::missing_authentication_token().message(),
        "Request is missing Authentication Token"
    );
}
