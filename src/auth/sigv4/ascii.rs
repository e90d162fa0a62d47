//! Bytewise cuts of text at ASCII separators. Every signed request parses
//! a dozen short pieces (the Authorization header, the credential scope,
//! the signed header list, the URL); `str::split` with a `char` pattern
//! costs a searcher's setup per piece, more than the scan of a few bytes.
//! An ASCII byte is never inside a multi-byte UTF-8 sequence, so every cut
//! falls on a char boundary.

/// The index of the first `separator` in `text`.
pub(crate) fn find(text: &str, separator: u8) -> Option<usize> {
    text.bytes().position(|b| b == separator)
}

/// `str::split_once` at the first `separator`.
pub(crate) fn split_once(text: &str, separator: u8) -> Option<(&str, &str)> {
    find(text, separator).map(|i| (&text[..i], &text[i + 1..]))
}

/// `str::split`: every piece between `separator`s, empty ones included.
pub(crate) fn split(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match split_once(current, separator) {
            Some((piece, after)) => {
                rest = Some(after);
                Some(piece)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The non-empty pieces of `text` between bytes that are `separator`s (a
/// run of them separates once).
pub(crate) fn split_runs(text: &str, separator: impl Fn(u8) -> bool) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < bytes.len() && separator(bytes[start]) {
            start += 1;
        }
        if start == bytes.len() {
            return None;
        }
        let end = bytes[start..]
            .iter()
            .position(|&b| separator(b))
            .map_or(bytes.len(), |n| start + n);
        let piece = &text[start..end];
        start = end;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_match_the_standard_library() {
        for text in [
            "",
            "/",
            "a",
            "a/b",
            "/a//b/",
            "é/ü/",
            "AKID/20150830/us-east-1/iam/aws4_request",
        ] {
            assert_eq!(
                split(text, b'/').collect::<Vec<_>>(),
                text.split('/').collect::<Vec<_>>(),
                "{text:?}"
            );
            assert_eq!(split_once(text, b'/'), text.split_once('/'), "{text:?}");
            assert_eq!(find(text, b'/'), text.find('/'), "{text:?}");
        }
    }

    #[test]
    fn headers_split_on_any_run_of_commas_and_blanks() {
        let split = |s| split_runs(s, |b| b == b',' || b.is_ascii_whitespace()).collect::<Vec<_>>();
        assert_eq!(
            split("a=1, b=2,c=3  d=\u{e9}"),
            ["a=1", "b=2", "c=3", "d=\u{e9}"]
        );
        assert_eq!(split(" ,, "), Vec::<&str>::new());
        assert_eq!(split(""), Vec::<&str>::new());
        assert_eq!(split("x"), ["x"]);
    }
}
