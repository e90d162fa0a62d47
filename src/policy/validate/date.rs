//! The date values the legacy parser accepts under `Date*` operators.
//!
//! IAM reads them with an ISO-8601 parser whose year range is
//! -292275054..=292278993 (the range of Joda-Time, which is where moto's
//! test values come from), or as epoch seconds. The grammar accepted here:
//!
//! ```text
//! value    = epoch | date ["T" [time] [offset]] | "T" time [offset]
//! epoch    = digit+                       ; 0 ..= i64::MAX
//! date     = ["-"] year ["-" month ["-" day]]
//! year     = 1*9digit                     ; -292275054 ..= 292278993
//! month    = 1*2digit (1..=12)   day = 1*2digit (1..=31)
//! time     = hour [":" minute [":" second [fraction]] | fraction] | fraction
//! hour     = 1*2digit (0..=23)   minute, second = 1*2digit (0..=59)
//! fraction = ("." | ",") 1*9digit
//! offset   = "Z" | ("+" | "-") 2digit (0..=23) [":" 2digit (0..=59)]
//! ```
//! `T` and `Z` may be lower case.

const MIN_YEAR: i64 = -292_275_054;
const MAX_YEAR: i64 = 292_278_993;

pub(super) fn is_policy_date(text: &str) -> bool {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().is_ok();
    }
    let mut cursor = Cursor { rest: text };
    let parsed = if cursor.eat_t() {
        cursor.time() && cursor.optional_offset()
    } else {
        cursor.date() && (!cursor.eat_t() || (cursor.optional_time() && cursor.optional_offset()))
    };
    parsed && cursor.rest.is_empty()
}

struct Cursor<'a> {
    rest: &'a str,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.rest.bytes().next()
    }

    fn eat(&mut self, wanted: u8) -> bool {
        if self.peek() == Some(wanted) {
            self.rest = &self.rest[1..];
            true
        } else {
            false
        }
    }

    fn eat_t(&mut self) -> bool {
        self.eat(b'T') || self.eat(b't')
    }

    /// Reads between `min` and `max` digits and returns their value.
    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        let len = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min {
            return None;
        }
        let (digits, rest) = self.rest.split_at(len);
        self.rest = rest;
        digits.parse().ok()
    }

    fn field(&mut self, min_digits: usize, max_digits: usize, range: (i64, i64)) -> bool {
        self.number(min_digits, max_digits)
            .is_some_and(|n| (range.0..=range.1).contains(&n))
    }

    fn date(&mut self) -> bool {
        let negative = self.eat(b'-');
        let Some(year) = self.number(1, 9) else {
            return false;
        };
        let year = if negative { -year } else { year };
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return false;
        }
        if self.eat(b'-') {
            if !self.field(1, 2, (1, 12)) {
                return false;
            }
            if self.eat(b'-') && !self.field(1, 2, (1, 31)) {
                return false;
            }
        }
        true
    }

    fn optional_time(&mut self) -> bool {
        match self.peek() {
            Some(b) if b.is_ascii_digit() || b == b'.' || b == b',' => self.time(),
            _ => true,
        }
    }

    fn time(&mut self) -> bool {
        if self.fraction_start() {
            return self.fraction_digits();
        }
        if !self.field(1, 2, (0, 23)) {
            return false;
        }
        if self.fraction_start() {
            return self.fraction_digits();
        }
        if !self.eat(b':') {
            return true;
        }
        if !self.field(1, 2, (0, 59)) {
            return false;
        }
        if self.fraction_start() {
            return self.fraction_digits();
        }
        if !self.eat(b':') {
            return true;
        }
        if !self.field(1, 2, (0, 59)) {
            return false;
        }
        !self.fraction_start() || self.fraction_digits()
    }

    fn fraction_start(&mut self) -> bool {
        self.eat(b'.') || self.eat(b',')
    }

    fn fraction_digits(&mut self) -> bool {
        let len = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        self.rest = &self.rest[len..];
        (1..=9).contains(&len)
    }

    fn optional_offset(&mut self) -> bool {
        if self.eat(b'Z') || self.eat(b'z') {
            return true;
        }
        if !(self.eat(b'+') || self.eat(b'-')) {
            return true;
        }
        if !self.field(2, 2, (0, 23)) {
            return false;
        }
        !self.eat(b':') || self.field(2, 2, (0, 59))
    }
}

#[cfg(test)]
mod tests {
    use super::is_policy_date;

    #[test]
    fn accepts_iso_dates_epochs_and_partial_forms() {
        for ok in [
            "2019-07-01T13:20:15Z",
            "2016-12-13T21:20:37.593194+00:00",
            "2016-12-13t2:00:00.593194+23",
            "2017-07-01",
            "2017-07",
            "2017",
            "01T",
            "-292275054",
            "292278993-12-31",
            "0",
            "9223372036854775807",
            "2020-01-01T10",
            "2020-01-01T10:30",
            "2020-01-01T10:30:00,5-05:30",
            "T10:30:00Z",
        ] {
            assert!(is_policy_date(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_what_the_legacy_parser_rejects() {
        for bad in [
            "",
            "sdfdsf",
            "234-13",
            "2016-12-13t2:00:00.593194+1",
            "2016-12-13t2:00:00.1999999999+10:59",
            "9223372036854775808",
            "-292275055",
            "292278994-01",
            "2020-00-01",
            "2020-01-32",
            "2020-01-01T24:00",
            "2020-01-01T10:60",
            "2020-01-01T10:30:60",
            "2020-01-01T10:30:00+24",
            "2020-01-01T10:30:00+05:60",
            "2020-01-01T10:30:00Zjunk",
            "2020-01-01 10:30",
            "2020-01-01Z",
            "2020-01-01-01",
            "-",
            "T",
            "2020-01-01T10:30:00.",
        ] {
            assert!(!is_policy_date(bad), "{bad}");
        }
    }
}
