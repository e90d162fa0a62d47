//! The canonical request and the string to sign (AWS-IAM-NOTES.md §10.3),
//! rebuilt from the request as received.

use std::borrow::Cow;

use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{SignatureClaim, SignatureLocation, SignedRequest, ALGORITHM, PARAM_SIGNATURE};

/// RFC 3986 unreserved characters stay as they are; everything else is `%XX`.
const ENCODE_ALL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The same, but keeping the path separators.
const ENCODE_PATH: &AsciiSet = &ENCODE_ALL.remove(b'/');

/// The canonical request: method, URI, query, headers, signed headers and
/// payload hash, joined by `\n`.
pub(crate) fn canonical_request(
    req: &SignedRequest<'_>,
    claim: &SignatureClaim<'_>,
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(
        req.method.len() + req.path.len() * 2 + req.query.len() * 2 + 64 * 8 + 128,
    );
    out.push_str(req.method);
    out.push('\n');
    push_canonical_uri(&mut out, req.path);
    out.push('\n');
    push_canonical_query(
        &mut out,
        req.query,
        claim.location == SignatureLocation::Query,
    );
    out.push('\n');
    for name in &claim.signed_headers {
        out.push_str(name);
        out.push(':');
        push_canonical_header_value(&mut out, req.headers, name);
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in claim.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// `AWS4-HMAC-SHA256\n<X-Amz-Date>\n<scope>\n<hex sha256 of the canonical request>`.
pub(crate) fn string_to_sign(claim: &SignatureClaim<'_>, canonical_request_sha256: &str) -> String {
    let date = super::claim::format_amz_date(claim.timestamp);
    let mut out = String::with_capacity(
        ALGORITHM.len()
            + claim.date.len()
            + claim.region.len()
            + claim.service.len()
            + canonical_request_sha256.len()
            + 48,
    );
    for piece in [
        ALGORITHM,
        "\n",
        date.as_str(),
        "\n",
        &claim.date,
        "/",
        &claim.region,
        "/",
        &claim.service,
        "/aws4_request\n",
        canonical_request_sha256,
    ] {
        out.push_str(piece);
    }
    out
}

/// Non-S3 services normalise the path (RFC 3986 §5.2.4: drop `.` and empty
/// segments, resolve `..`) and then percent-encode the path *as received*,
/// so an `%20` on the wire becomes `%2520` here. That second encoding is
/// what the SDKs do for every service but S3 (aws-sigv4's
/// `PercentEncodingMode::Double`), so we match it exactly.
pub(crate) fn push_canonical_uri(out: &mut String, raw_path: &str) {
    let normalized = normalize_path(raw_path);
    out.extend(percent_encode(normalized.as_bytes(), ENCODE_PATH));
}

fn normalize_path(raw_path: &str) -> Cow<'_, str> {
    if raw_path.is_empty() {
        return Cow::Borrowed("/");
    }
    if is_normal(raw_path) {
        return Cow::Borrowed(raw_path);
    }
    Cow::Owned(remove_dot_segments(raw_path))
}

/// RFC 3986 §5.2.4 on `raw_path`, segment by segment, with a leading `/`.
fn remove_dot_segments(raw_path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw_path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut result = String::with_capacity(raw_path.len() + 1);
    for segment in &segments {
        result.push('/');
        result.push_str(segment);
    }
    // A path ending in `/`, `/.` or `/..` names a directory: keep the slash.
    let directory = ["/", "/.", "/.."].iter().any(|end| raw_path.ends_with(end));
    if result.is_empty() || directory {
        result.push('/');
    }
    result
}

/// Whether normalizing would leave `raw_path` as it is: absolute, with no
/// empty segment but a trailing one, and no `.` or `..` segment. Most
/// paths are (a dot in a file name is not a dot segment).
fn is_normal(raw_path: &str) -> bool {
    let Some(rest) = raw_path.strip_prefix('/') else {
        return false;
    };
    let mut segments = super::ascii::split(rest, b'/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if (segment.is_empty() && !last) || segment == "." || segment == ".." {
            return false;
        }
    }
    true
}

/// Splits a raw query string into `(key, value)` pairs, still encoded. A
/// parameter without `=` has an empty value; empty pieces (`a&&b`) are
/// skipped.
pub(crate) fn raw_query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

/// Form-decodes one query component: `+` is a space and `%XX` a byte.
/// Clients that mean a literal plus send `%2B`; the front ends parse the
/// query with the same rule, so the signature covers what the server reads.
pub(crate) fn decode_component(raw: &str) -> Cow<'_, [u8]> {
    if raw.contains('+') {
        let spaced = raw.replace('+', " ");
        Cow::Owned(percent_decode(spaced.as_bytes()).collect())
    } else {
        percent_decode(raw.as_bytes()).into()
    }
}

fn encode_component(raw: &str) -> String {
    percent_encode(&decode_component(raw), ENCODE_ALL).to_string()
}

/// Every parameter decoded and re-encoded the RFC 3986 way, sorted by key
/// and then value, joined with `&`. A presigned request leaves out its own
/// `X-Amz-Signature`.
pub(crate) fn push_canonical_query(out: &mut String, query: &str, presigned: bool) {
    let mut pairs: Vec<(String, String)> = raw_query_pairs(query)
        .filter(|(key, _)| {
            !(presigned && decode_component(key).as_ref() == PARAM_SIGNATURE.as_bytes())
        })
        .map(|(key, value)| (encode_component(key), encode_component(value)))
        .collect();
    pairs.sort_unstable();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
}

/// Every value of header `name` (any case in the request), each trimmed
/// with inner runs of whitespace collapsed, joined with `,` in the order
/// received. A signed header that is absent gives an empty value, which
/// simply fails to match unless the client signed it empty.
fn push_canonical_header_value(out: &mut String, headers: &[(&str, &str)], name: &str) {
    let mut first = true;
    for (_, value) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
        if !first {
            out.push(',');
        }
        first = false;
        push_trimmed(out, value);
    }
}

/// AWS's "trimall": strip both ends, and turn each run of spaces or tabs
/// (and folded line breaks) into one space.
fn push_trimmed(out: &mut String, value: &str) {
    // Nearly every value is already trimmed: copy it whole.
    let bytes = value.as_bytes();
    let is_blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let already_trimmed = !bytes.first().is_some_and(is_blank)
        && !bytes.last().is_some_and(is_blank)
        && !bytes.windows(2).any(|w| is_blank(&w[0]) && is_blank(&w[1]))
        && !bytes.iter().any(|b| matches!(b, b'\t' | b'\r' | b'\n'));
    if already_trimmed {
        out.push_str(value);
        return;
    }
    let mut pending_space = false;
    let mut wrote = false;
    for ch in value.chars() {
        if matches!(ch, ' ' | '\t' | '\r' | '\n') {
            pending_space = wrote;
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(ch);
            wrote = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str) -> String {
        let mut out = String::new();
        push_canonical_uri(&mut out, path);
        out
    }

    fn query(q: &str, presigned: bool) -> String {
        let mut out = String::new();
        push_canonical_query(&mut out, q, presigned);
        out
    }

    fn trimmed(v: &str) -> String {
        let mut out = String::new();
        push_trimmed(&mut out, v);
        out
    }

    #[test]
    fn paths_are_normalized_like_rfc3986_remove_dot_segments() {
        assert_eq!(uri(""), "/");
        assert_eq!(uri("/"), "/");
        assert_eq!(uri("//"), "/");
        assert_eq!(uri("/./"), "/");
        assert_eq!(uri("/example/.."), "/");
        assert_eq!(uri("/example1/example2/../.."), "/");
        assert_eq!(uri("/./example"), "/example");
        assert_eq!(uri("//example//"), "/example/");
        assert_eq!(uri("/a/b/.."), "/a/");
        assert_eq!(uri("/a/b/."), "/a/b/");
        assert_eq!(uri("/../a"), "/a");
        assert_eq!(uri("a/b"), "/a/b");
        assert_eq!(uri("/v1/users/bob"), "/v1/users/bob");
        assert_eq!(uri("/a.b/c"), "/a.b/c");
        assert_eq!(uri("/reports/q1.csv"), "/reports/q1.csv");
        assert_eq!(uri("/a/.hidden/..."), "/a/.hidden/...");
        assert_eq!(uri("/a/"), "/a/");
    }

    #[test]
    fn paths_left_alone_are_exactly_those_normalizing_keeps() {
        for path in [
            "", "/", "//", "/a", "/a/", "/a//b", "a", "a/", "/.", "/..", "/a/.", "/a/..", "/./a",
            "/../a", "/a/./b", "/a/../b", "/.a", "/a.", "/a/...", "/a/.b/", "/a//",
        ] {
            assert_eq!(
                is_normal(path),
                remove_dot_segments(path) == path,
                "{path:?}"
            );
        }
    }

    #[test]
    fn paths_are_encoded_once_more_than_on_the_wire() {
        assert_eq!(uri("/example space/"), "/example%20space/");
        assert_eq!(uri("/example%20space/"), "/example%2520space/");
        assert_eq!(uri("/example/$delete"), "/example/%24delete");
        assert_eq!(uri("/\u{1234}"), "/%E1%88%B4");
        assert_eq!(uri("/-._~AZaz09"), "/-._~AZaz09");
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted_by_key_then_value() {
        assert_eq!(query("", false), "");
        assert_eq!(
            query("Param2=value2&Param1=value1", false),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            query("Param1=value2&Param1=Value1", false),
            "Param1=Value1&Param1=value2"
        );
        // Sorting by key first: "Param" < "Param-3" although "Param-3=" < "Param=".
        assert_eq!(
            query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1", false),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(query("k", false), "k=");
        assert_eq!(query("a&&b=1", false), "a=&b=1");
        assert_eq!(query("a=b c", false), "a=b%20c");
        assert_eq!(query("a=b+c&d=e%2Bf", false), "a=b%20c&d=e%2Bf");
        assert_eq!(query("a=%7e%2f", false), "a=~%2F");
        assert_eq!(query("a=%zz", false), "a=%25zz");
        assert_eq!(query("a=%FF", false), "a=%FF");
    }

    #[test]
    fn presigned_queries_leave_out_only_the_signature() {
        let q = "X-Amz-Signature=abc&X-Amz-Date=1&x-amz-signature=kept";
        assert_eq!(query(q, true), "X-Amz-Date=1&x-amz-signature=kept");
        assert_eq!(query("X-Amz-Signature=abc", false), "X-Amz-Signature=abc");
    }

    #[test]
    fn header_values_are_trimmed_and_collapsed() {
        assert_eq!(trimmed("  a   b\t\tc  "), "a b c");
        assert_eq!(
            trimmed("value1\r\n  value2\n     value3"),
            "value1 value2 value3"
        );
        assert_eq!(trimmed("\"a   b   c\""), "\"a b c\"");
        assert_eq!(trimmed("   "), "");
        assert_eq!(trimmed(""), "");
        // Values that need no work are copied whole; one blank of any kind
        // that is not a single inner space still takes the slow path.
        for (raw, want) in [
            ("a b c", "a b c"),
            ("a\tb", "a b"),
            ("a\nb", "a b"),
            ("a  b", "a b"),
            (" a", "a"),
            ("a ", "a"),
            ("\ta", "a"),
            ("\u{e9}t\u{e9} x", "\u{e9}t\u{e9} x"),
        ] {
            assert_eq!(trimmed(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn repeated_headers_are_joined_in_arrival_order() {
        let headers = [
            ("My-Header1", "value4"),
            ("host", "h"),
            ("my-header1", " value1 "),
            ("MY-HEADER1", "value3"),
        ];
        let mut out = String::new();
        push_canonical_header_value(&mut out, &headers, "my-header1");
        assert_eq!(out, "value4,value1,value3");
        let mut absent = String::new();
        push_canonical_header_value(&mut absent, &headers, "x-absent");
        assert_eq!(absent, "");
    }
}
