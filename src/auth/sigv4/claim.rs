//! Reading what a request claims (key, scope, signed headers, date,
//! signature) from its Authorization header or presigned query, before any
//! secret is looked up.

use std::borrow::Cow;

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use super::ascii;
use super::canonical::{decode_component, raw_query_pairs};
use super::{
    SigV4Error, SignatureClaim, SignatureLocation, SignedRequest, ALGORITHM, MAX_PRESIGN_EXPIRES,
    PARAM_SIGNATURE, UNSIGNED_PAYLOAD,
};

const PARAM_ALGORITHM: &str = "X-Amz-Algorithm";
const PARAM_CREDENTIAL: &str = "X-Amz-Credential";
const PARAM_DATE: &str = "X-Amz-Date";
const PARAM_EXPIRES: &str = "X-Amz-Expires";
const PARAM_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
const PARAM_SECURITY_TOKEN: &str = "X-Amz-Security-Token";

/// Echoed client input is cut to this many characters, so that an error
/// message stays a message whatever the client sent.
const ECHO_LIMIT: usize = 512;

/// Reads the SigV4 claim of `req`: `Ok(None)` when it carries no SigV4 at
/// all (no `AWS4-...` Authorization header and no `X-Amz-Algorithm`,
/// `X-Amz-Credential` or `X-Amz-Signature` query parameter), so the caller
/// can try Basic auth or answer `MissingAuthenticationToken`.
pub fn parse_claim<'a>(req: &SignedRequest<'a>) -> Result<Option<SignatureClaim<'a>>, SigV4Error> {
    let authorization = single_header(req.headers, "authorization")?
        .filter(|value| value.trim_start().starts_with("AWS4"));
    let presigned = raw_query_pairs(req.query).any(|(key, _)| {
        let key = decode_component(key);
        [PARAM_ALGORITHM, PARAM_CREDENTIAL, PARAM_SIGNATURE]
            .iter()
            .any(|p| key.as_ref() == p.as_bytes())
    });
    let claim = match (authorization, presigned) {
        (None, false) => return Ok(None),
        (Some(_), true) => {
            return Err(SigV4Error::incomplete(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or \
                 the Authorization header should be specified.",
            ))
        }
        (Some(header), false) => from_header(req, header.trim())?,
        (None, true) => from_query(req)?,
    };
    claim.check_consistency()?;
    Ok(Some(claim))
}

fn from_header<'a>(
    req: &SignedRequest<'a>,
    header: &'a str,
) -> Result<SignatureClaim<'a>, SigV4Error> {
    let (algorithm, params) = match header.bytes().position(|b| b.is_ascii_whitespace()) {
        Some(i) => (&header[..i], &header[i + 1..]),
        None => (header, ""),
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'.",
            echo(algorithm)
        )));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    // SDKs write ", " between parameters, some tools only "," or " ": no
    // parameter value contains either, so any run of them separates.
    for part in ascii::split_runs(params, |b| b == b',' || b.is_ascii_whitespace()) {
        let Some((key, value)) = ascii::split_once(part, b'=') else {
            return Err(SigV4Error::incomplete(format!(
                "'{}' not a valid key=value pair (missing equal-sign) in Authorization header: \
                 '{}'.",
                echo(part),
                echo(header)
            )));
        };
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(SigV4Error::incomplete(format!(
                "Authorization header has more than one '{key}' parameter. Authorization={}",
                echo(header)
            )));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        let missing: Vec<String> = [
            ("Credential", credential.is_none()),
            ("Signature", signature.is_none()),
            ("SignedHeaders", signed_headers.is_none()),
        ]
        .iter()
        .filter(|(_, absent)| *absent)
        .map(|(name, _)| format!("Authorization header requires '{name}' parameter."))
        .collect();
        return Err(SigV4Error::incomplete(format!(
            "{} Authorization={}",
            missing.join(" "),
            echo(header)
        )));
    };

    let timestamp = match single_header(req.headers, "x-amz-date")? {
        Some(value) => parse_amz_date(value.trim()).ok_or_else(|| {
            SigV4Error::incomplete(format!(
                "Invalid X-Amz-Date header '{}': expected the ISO-8601 basic format \
                 YYYYMMDDTHHMMSSZ.",
                echo(value)
            ))
        })?,
        None => match single_header(req.headers, "date")? {
            Some(value) => parse_http_date(value.trim()).ok_or_else(|| {
                SigV4Error::incomplete(format!(
                    "Invalid Date header '{}': expected RFC 1123 (e.g. 'Sun, 30 Aug 2015 \
                     12:36:00 GMT') or YYYYMMDDTHHMMSSZ.",
                    echo(value)
                ))
            })?,
            None => {
                return Err(SigV4Error::incomplete(format!(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a \
                     'Date' header. Authorization={}",
                    echo(header)
                )))
            }
        },
    };
    let security_token = single_header(req.headers, "x-amz-security-token")?.map(Cow::Borrowed);
    build_claim(
        req,
        SignatureLocation::Header,
        Cow::Borrowed(credential),
        Cow::Borrowed(signed_headers),
        Cow::Borrowed(signature),
        timestamp,
        security_token,
        None,
    )
}

fn from_query<'a>(req: &SignedRequest<'a>) -> Result<SignatureClaim<'a>, SigV4Error> {
    let param = |name: &str| single_param(req.query, name);
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(date)) = (
        param(PARAM_ALGORITHM)?,
        param(PARAM_CREDENTIAL)?,
        param(PARAM_SIGNATURE)?,
        param(PARAM_SIGNED_HEADERS)?,
        param(PARAM_DATE)?,
    ) else {
        return Err(SigV4Error::incomplete(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', \
             'X-Amz-Signature', 'X-Amz-SignedHeaders', and 'X-Amz-Date'. Re-examine the \
             query-string parameters.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'.",
            echo(&algorithm)
        )));
    }
    let timestamp = parse_amz_date(&date).ok_or_else(|| {
        SigV4Error::incomplete(format!(
            "Invalid X-Amz-Date parameter '{}': expected the ISO-8601 basic format \
             YYYYMMDDTHHMMSSZ.",
            echo(&date)
        ))
    })?;
    let expires = match param(PARAM_EXPIRES)? {
        None => None,
        Some(raw) => Some(parse_expires(&raw)?),
    };
    build_claim(
        req,
        SignatureLocation::Query,
        credential,
        signed_headers,
        signature,
        timestamp,
        param(PARAM_SECURITY_TOKEN)?,
        expires,
    )
}

#[allow(clippy::too_many_arguments)]
fn build_claim<'a>(
    req: &SignedRequest<'a>,
    location: SignatureLocation,
    credential: Cow<'a, str>,
    signed_headers: Cow<'a, str>,
    signature: Cow<'a, str>,
    timestamp: OffsetDateTime,
    security_token: Option<Cow<'a, str>>,
    presigned_expires: Option<u64>,
) -> Result<SignatureClaim<'a>, SigV4Error> {
    let mut parts = ascii::split(&credential, b'/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(SigV4Error::incomplete(format!(
            "Invalid credential '{}': expected \
             'ACCESS_KEY_ID/YYYYMMDD/region/service/aws4_request'.",
            echo(&credential)
        )));
    };
    if terminator != "aws4_request" {
        return Err(SigV4Error::mismatch(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
            echo(terminator)
        )));
    }
    if [access_key_id, date, region, service]
        .iter()
        .any(|p| p.is_empty())
    {
        return Err(SigV4Error::incomplete(format!(
            "Invalid credential '{}': the access key id, date, region and service must not be \
             empty.",
            echo(&credential)
        )));
    }
    let unsigned_payload = single_header(req.headers, "x-amz-content-sha256")?
        .is_some_and(|v| v.trim() == UNSIGNED_PAYLOAD);
    let names = ascii::split(&signed_headers, b';')
        .filter(|name| !name.is_empty())
        .map(|name| {
            if name.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(name.to_ascii_lowercase())
            } else {
                sub(&signed_headers, name)
            }
        })
        .collect();
    Ok(SignatureClaim {
        location,
        access_key_id: sub(&credential, access_key_id),
        date: sub(&credential, date),
        region: sub(&credential, region),
        service: sub(&credential, service),
        signed_headers: names,
        signature,
        timestamp,
        security_token,
        presigned_expires,
        unsigned_payload,
    })
}

/// `piece` (a slice of `text`) as a `Cow` that borrows what `text` borrows.
fn sub<'a>(text: &Cow<'a, str>, piece: &str) -> Cow<'a, str> {
    match text {
        Cow::Borrowed(whole) => {
            // `piece` was cut from `whole`: find it by address.
            let start = piece.as_ptr() as usize - whole.as_ptr() as usize;
            Cow::Borrowed(&whole[start..start + piece.len()])
        }
        Cow::Owned(_) => Cow::Owned(piece.to_owned()),
    }
}

fn parse_expires(raw: &str) -> Result<u64, SigV4Error> {
    let seconds = (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()))
        .then(|| raw.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| {
            SigV4Error::incomplete(format!(
                "X-Amz-Expires should be a number of seconds, not '{}'.",
                echo(raw)
            ))
        })?;
    if seconds > MAX_PRESIGN_EXPIRES {
        return Err(SigV4Error::incomplete(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}."
        )));
    }
    Ok(seconds)
}

/// The one value of header `name` (any case), `None` when absent. Two
/// copies of a header that decides the verification (two dates, two
/// Authorization headers) would leave it ambiguous which one was meant, so
/// that is refused.
fn single_header<'r>(
    headers: &[(&str, &'r str)],
    name: &str,
) -> Result<Option<&'r str>, SigV4Error> {
    let mut found = None;
    for (n, value) in headers {
        if n.eq_ignore_ascii_case(name) && found.replace(*value).is_some() {
            return Err(SigV4Error::incomplete(format!(
                "The request has more than one '{name}' header."
            )));
        }
    }
    Ok(found)
}

/// The decoded value of query parameter `name`; duplicates are refused for
/// the same reason as in [`single_header`].
fn single_param<'a>(query: &'a str, name: &str) -> Result<Option<Cow<'a, str>>, SigV4Error> {
    let mut found = None;
    for (key, value) in raw_query_pairs(query) {
        if decode_component(key).as_ref() != name.as_bytes() {
            continue;
        }
        let not_utf8 =
            || SigV4Error::incomplete(format!("Query parameter '{name}' is not valid UTF-8."));
        let value = match decode_component(value) {
            Cow::Borrowed(bytes) => {
                Cow::Borrowed(std::str::from_utf8(bytes).map_err(|_| not_utf8())?)
            }
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8(bytes).map_err(|_| not_utf8())?),
        };
        if found.replace(value).is_some() {
            return Err(SigV4Error::incomplete(format!(
                "The query string has more than one '{name}' parameter."
            )));
        }
    }
    Ok(found)
}

fn echo(value: &str) -> &str {
    match value.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => &value[..cut],
        None => value,
    }
}

/// Parses `YYYYMMDDTHHMMSSZ` strictly: exactly that shape, UTC.
pub(crate) fn parse_amz_date(value: &str) -> Option<OffsetDateTime> {
    let b = value.as_bytes();
    let shape_ok = b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    if !shape_ok {
        return None;
    }
    // The shape check above made every byte read here a digit.
    let num = |range: std::ops::Range<usize>| {
        b[range]
            .iter()
            .fold(0u16, |n, digit| n * 10 + u16::from(digit - b'0'))
    };
    let two = |range| u8::try_from(num(range)).ok();
    let date = Date::from_calendar_date(
        i32::from(num(0..4)),
        Month::try_from(two(4..6)?).ok()?,
        two(6..8)?,
    )
    .ok()?;
    let time = Time::from_hms(two(9..11)?, two(11..13)?, two(13..15)?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// The `Date` header: RFC 1123 (`Sun, 30 Aug 2015 12:36:00 GMT`), or the
/// ISO-8601 basic form that some clients put there too.
pub(crate) fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    if let Some(t) = parse_amz_date(value) {
        return Some(t);
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(value, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// A time as `YYYYMMDDTHHMMSSZ` (UTC), on the stack: every verification
/// formats the request's date at least twice, and `format!` was a visible
/// share of the verify time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct AmzDate([u8; 16]);

impl AmzDate {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits, 'T' and 'Z' are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// `YYYYMMDD`, the credential-scope date.
    pub(crate) fn day(&self) -> &str {
        &self.as_str()[..8]
    }
}

impl std::fmt::Display for AmzDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for AmzDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

pub(crate) fn format_amz_date(t: OffsetDateTime) -> AmzDate {
    let t = t.to_offset(time::UtcOffset::UTC);
    let mut out = *b"00000000T000000Z";
    // Years outside 0..=9999 cannot come from a parsed X-Amz-Date; clamp
    // rather than print a sign or a fifth digit.
    let year = u32::try_from(t.year().clamp(0, 9999)).unwrap_or(0);
    put_digits(&mut out[0..4], year);
    put_digits(&mut out[4..6], u32::from(u8::from(t.month())));
    put_digits(&mut out[6..8], u32::from(t.day()));
    put_digits(&mut out[9..11], u32::from(t.hour()));
    put_digits(&mut out[11..13], u32::from(t.minute()));
    put_digits(&mut out[13..15], u32::from(t.second()));
    AmzDate(out)
}

/// Writes the low `out.len()` decimal digits of `value`.
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse_strictly() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(format_amz_date(t).as_str(), "20150830T123600Z");
        let t = parse_amz_date("00010101T000009Z").unwrap();
        assert_eq!(format_amz_date(t).as_str(), "00010101T000009Z");
        let t = parse_amz_date("99991231T235959Z").unwrap();
        assert_eq!(format_amz_date(t).as_str(), "99991231T235959Z");
        let offset = time::macros::datetime!(2015-08-30 14:36:00 +02:00);
        assert_eq!(format_amz_date(offset).as_str(), "20150830T123600Z");
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "2015-08-30T12:36:00Z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T256000Z",
            "+0150830T123600Z",
            "20150830T123600Z ",
        ] {
            assert!(parse_amz_date(bad).is_none(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn http_dates_parse_rfc1123_and_iso_basic() {
        let t = parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        assert_eq!(format_amz_date(t).as_str(), "20150830T123600Z");
        assert!(parse_http_date("20150830T123600Z").is_some());
        assert!(parse_http_date("Sun, 30 Aug 2015 12:36:00 +0200").is_none());
    }

    #[test]
    fn expires_must_be_a_number_up_to_a_week() {
        assert_eq!(parse_expires("0").unwrap(), 0);
        assert_eq!(parse_expires("604800").unwrap(), 604_800);
        for bad in ["", "-1", "+5", "1e3", " 5", "99999999999999999999999"] {
            assert_eq!(
                parse_expires(bad).unwrap_err().code(),
                "IncompleteSignature",
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_expires("604801").unwrap_err().message(),
            "X-Amz-Expires must be less than a week (in seconds) that is 604800."
        );
    }

    #[test]
    fn echoed_input_is_bounded() {
        let long = "x".repeat(10_000);
        assert_eq!(echo(&long).len(), ECHO_LIMIT);
        assert_eq!(echo("short"), "short");
        let multibyte = "\u{1234}".repeat(600);
        assert_eq!(echo(&multibyte).chars().count(), ECHO_LIMIT);
    }
}
