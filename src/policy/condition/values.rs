//! Value formats of the typed operators (§4.2, §4.5): numbers, dates, IP
//! ranges, booleans and base64. Policy values are parsed once at compile
//! time; request values on every evaluation, without allocating.

use std::net::IpAddr;

use base64::Engine as _;
use ipnet::IpNet;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// An exact decimal: the value times 10^18. Integers and decimals compare
/// exactly (no float rounding), over the whole 64-bit range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Decimal(i128);

const FRACTION_DIGITS: u32 = 18;

pub(crate) fn parse_number(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let (negative, digits) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > FRACTION_DIGITS as usize {
        return None;
    }
    let mut value: i128 = 0;
    for b in int.bytes() {
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let mut scaled = value.checked_mul(10i128.pow(FRACTION_DIGITS))?;
    let mut unit = 10i128.pow(FRACTION_DIGITS);
    for b in frac.bytes() {
        unit /= 10;
        scaled = scaled.checked_add(i128::from(b - b'0') * unit)?;
    }
    Some(Decimal(if negative { -scaled } else { scaled }))
}

/// A point in time as Unix nanoseconds.
pub(crate) type Instant = i128;

/// ISO-8601 / RFC 3339 with offsets and fractions, a bare date, a date-time
/// without offset (read as UTC), or integer epoch seconds.
pub(crate) fn parse_date(text: &str) -> Option<Instant> {
    let t = text.trim();
    if !t.is_empty()
        && t.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-'))
    {
        let secs: i64 = t.parse().ok()?;
        return Some(i128::from(secs) * 1_000_000_000);
    }
    if let Ok(dt) = OffsetDateTime::parse(t, &Rfc3339) {
        return Some(dt.unix_timestamp_nanos());
    }
    // RFC 3339 wants an upper-case T and Z; ISO-8601 tolerates more.
    let upper = t.to_ascii_uppercase();
    if upper != t {
        if let Ok(dt) = OffsetDateTime::parse(&upper, &Rfc3339) {
            return Some(dt.unix_timestamp_nanos());
        }
    }
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(t, &date_fmt) {
        return Some(
            PrimitiveDateTime::new(d, Time::MIDNIGHT)
                .assume_utc()
                .unix_timestamp_nanos(),
        );
    }
    let local_fmts = [
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"
        ),
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ];
    let bare = upper.strip_suffix('Z').unwrap_or(&upper);
    for fmt in local_fmts {
        if let Ok(dt) = PrimitiveDateTime::parse(bare, &fmt) {
            return Some(dt.assume_utc().unix_timestamp_nanos());
        }
    }
    None
}

/// A CIDR block; a bare address is a /32 or /128.
pub(crate) fn parse_net(text: &str) -> Option<IpNet> {
    let t = text.trim();
    if let Ok(net) = t.parse::<IpNet>() {
        return Some(net);
    }
    t.parse::<IpAddr>().ok().map(IpNet::from)
}

/// A CIDR block as network bits and mask, so that a membership test is one
/// AND and one comparison (`IpNet::contains` computes the network and
/// broadcast addresses on every call). As with `IpNet`, an IPv4 block holds
/// no IPv6 address and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cidr {
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
}

impl Cidr {
    pub(crate) fn parse(text: &str) -> Option<Cidr> {
        Some(match parse_net(text)? {
            IpNet::V4(n) => {
                let mask = u32::from(n.netmask());
                Cidr::V4 {
                    net: u32::from(n.addr()) & mask,
                    mask,
                }
            }
            IpNet::V6(n) => {
                let mask = u128::from(n.netmask());
                Cidr::V6 {
                    net: u128::from(n.addr()) & mask,
                    mask,
                }
            }
        })
    }

    #[inline]
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Cidr::V4 { net, mask }, IpAddr::V4(a)) => u32::from(a) & mask == net,
            (Cidr::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
            _ => false,
        }
    }
}

/// Dotted-quad IPv4 without the general parser: aws:SourceIp is read on
/// most requests.
/// One pass over the bytes: four dot-separated decimal octets of one to
/// three digits, no leading zero, each at most 255.
fn parse_ipv4_fast(t: &str) -> Option<IpAddr> {
    let mut octets = [0u8; 4];
    let mut bytes = t.as_bytes().iter().copied();
    for (i, o) in octets.iter_mut().enumerate() {
        let mut v: u16 = 0;
        let mut digits = 0;
        loop {
            match bytes.next() {
                Some(b @ b'0'..=b'9') => {
                    if digits == 3 || (digits == 1 && v == 0) {
                        return None;
                    }
                    v = v * 10 + u16::from(b - b'0');
                    digits += 1;
                }
                Some(b'.') if i < 3 => break,
                None if i == 3 => break,
                _ => return None,
            }
        }
        if digits == 0 {
            return None;
        }
        *o = u8::try_from(v).ok()?;
    }
    Some(IpAddr::from(octets))
}

pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Some(ip) = parse_ipv4_fast(text) {
        return Some(ip);
    }
    let t = text.trim();
    t.parse::<IpAddr>().ok().or_else(|| {
        // A request may carry an address in CIDR form; use its address.
        t.parse::<IpNet>().ok().map(|n| n.addr())
    })
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

pub(crate) fn parse_base64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_exact() {
        assert_eq!(parse_number("16"), parse_number("16.0"));
        assert!(parse_number("6") < parse_number("16"));
        assert!(parse_number("-1.5") < parse_number("-1.25"));
        assert_ne!(
            parse_number("9007199254740993"),
            parse_number("9007199254740992")
        );
        assert_eq!(parse_number(".5"), parse_number("0.5"));
        for bad in ["", "abc", "1e3", "1.2.3", "-", "."] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_in_every_form() {
        let z = parse_date("2009-11-10T15:00:00Z").unwrap();
        assert_eq!(parse_date("2009-11-10T16:00:00+01:00"), Some(z));
        assert_eq!(parse_date("2009-11-10T15:00:00.000Z"), Some(z));
        assert_eq!(parse_date("2009-11-10T15:00:00"), Some(z));
        assert_eq!(parse_date("1257865200"), Some(z));
        assert_eq!(parse_date("2009-11-10"), parse_date("2009-11-10T00:00:00Z"));
        assert!(parse_date("2009-11-10T15:00:00.5Z").unwrap() > z);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn ips_and_bools_and_binary() {
        assert!(parse_net("10.0.0.0/8")
            .unwrap()
            .contains(&parse_ip("10.1.2.3").unwrap()));
        assert_eq!(parse_net("10.1.2.3").unwrap().prefix_len(), 32);
        assert_eq!(parse_net("2001:db8::1").unwrap().prefix_len(), 128);
        assert!(parse_net("2001:db8::/32")
            .unwrap()
            .contains(&parse_ip("2001:db8::5").unwrap()));
        assert_eq!(parse_ip("nope"), None);
        assert_eq!(parse_ip("10.1.2.3"), "10.1.2.3".parse().ok());
        for bad in [
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.1.1.1",
            "1..1.1",
            "a.b.c.d",
        ] {
            assert_eq!(parse_ipv4_fast(bad), None, "{bad}");
        }
        assert_eq!(parse_ip(" 10.0.0.1 "), "10.0.0.1".parse().ok());
        let ip = |t: &str| parse_ip(t).unwrap();
        let c = |t: &str| Cidr::parse(t).unwrap();
        assert!(c("10.9.9.9/8").contains(ip("10.255.0.1")));
        assert!(!c("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(c("0.0.0.0/0").contains(ip("203.0.113.7")));
        assert!(c("203.0.113.7").contains(ip("203.0.113.7")));
        assert!(!c("203.0.113.7").contains(ip("203.0.113.8")));
        assert!(c("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!c("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(!c("0.0.0.0/0").contains(ip("::ffff:10.0.0.1")));
        assert!(!c("::/0").contains(ip("10.0.0.1")));
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_base64("bXlidWNrZXQ=").unwrap(), b"mybucket");
    }
}
