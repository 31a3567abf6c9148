//! Field parsers for import files: dates, times, whole numbers and words, each refusing with a
//! stable code and saying what it expected.

use std::str::FromStr;

use daylight_domain::{Code, Invalid};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// Years a date in a bank's file can plausibly have. Anything else is a typo (`0026` for
/// `2026`) — and years outside 0001–9999 could not even be stored in the canonical text form.
pub const YEARS: std::ops::RangeInclusive<i16> = 1900..=2200;

/// `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYYMMDD`, in [`YEARS`].
pub fn date(text: &str) -> Result<Date, Invalid> {
    let t = text.trim();
    let bad = || {
        Invalid::new(
            Code::DateFormat,
            format!("{t:?} is not a date; expected YYYY-MM-DD (or YYYY/MM/DD, YYYYMMDD)"),
        )
    };
    let (y, m, d) = match t.len() {
        8 if t.bytes().all(|b| b.is_ascii_digit()) => (&t[..4], &t[4..6], &t[6..]),
        10 => {
            let sep = t.as_bytes()[4];
            if !(sep == b'-' || sep == b'/') || t.as_bytes()[7] != sep {
                return Err(bad());
            }
            (&t[..4], &t[5..7], &t[8..])
        }
        _ => return Err(bad()),
    };
    let num = |s: &str| s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse::<i16>().ok()).flatten();
    let (Some(y), Some(m), Some(d)) = (num(y), num(m), num(d)) else {
        return Err(bad());
    };
    if !YEARS.contains(&y) {
        return Err(Invalid::new(
            Code::DateFormat,
            format!("{t:?} is outside {}–{}", YEARS.start(), YEARS.end()),
        ));
    }
    Date::new(y, m as i8, d as i8)
        .map_err(|_| Invalid::new(Code::DateFormat, format!("{t:?} is not a real date")))
}

/// An instant: RFC 3339 with an offset (`2026-03-01T10:00:00+08:00`), or a local
/// `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DDTHH:MM[:SS]` or plain date (midnight) read in `zone`.
pub fn instant(text: &str, zone: &TimeZone) -> Result<Timestamp, Invalid> {
    let t = text.trim();
    let at = parse_instant(t, zone)?;
    let year = at.to_zoned(TimeZone::UTC).year();
    if !YEARS.contains(&year) {
        return Err(Invalid::new(
            Code::DateTimeFormat,
            format!("{t:?} is outside {}–{}", YEARS.start(), YEARS.end()),
        ));
    }
    Ok(at)
}

fn parse_instant(t: &str, zone: &TimeZone) -> Result<Timestamp, Invalid> {
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(ts);
    }
    let local = if t.len() <= 10 {
        date(t).ok().map(|d| d.at(0, 0, 0, 0))
    } else {
        t.replacen(' ', "T", 1).parse::<DateTime>().ok()
    };
    local
        .and_then(|dt| dt.to_zoned(zone.clone()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            Invalid::new(
                Code::DateTimeFormat,
                format!(
                    "{t:?} is not a time; expected 2026-03-01T10:00:00+08:00, 2026-03-01 10:00[:00] (local) or 2026-03-01"
                ),
            )
        })
}

/// A whole number in `min..=max`.
pub fn integer<T>(text: &str, min: T, max: T) -> Result<T, Invalid>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let t = text.trim();
    match t.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(Invalid::new(Code::Integer, format!("{t:?} is not a whole number from {min} to {max}"))),
    }
}

/// One of a vocabulary's words.
pub fn word<T: FromStr<Err = Invalid>>(text: &str) -> Result<T, Invalid> {
    text.trim().parse()
}

/// Free text of at most `max` characters without refused characters ([`daylight_domain::text`]).
pub fn free_text(text: &str, max: usize) -> Result<String, Invalid> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(Invalid::new(Code::TooLong, format!("text is longer than {max} characters")));
    }
    if let Some((at, c)) = daylight_domain::text::first_refused(t) {
        return Err(Invalid::new(
            Code::Encoding,
            format!(
                "text holds {} at character {}: control, bidirectional and zero-width characters are refused",
                daylight_domain::text::describe(c),
                at + 1
            ),
        ));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_three_spellings() {
        let want = Date::new(2026, 3, 1).unwrap();
        for s in ["2026-03-01", "2026/03/01", "20260301", " 2026-03-01 "] {
            assert_eq!(date(s), Ok(want), "{s}");
        }
        for s in [
            "2026-3-1",
            "2026-02-30",
            "01/03/2026",
            "2026-03/01",
            "",
            "2026-0a-01",
            "0026-03-01",
            "2201-01-01",
        ] {
            assert_eq!(date(s).unwrap_err().code, Code::DateFormat, "{s}");
        }
    }

    #[test]
    fn instants_with_offset_or_local() {
        let sh = TimeZone::get("Asia/Shanghai").unwrap();
        let want: Timestamp = "2026-03-01T02:00:00Z".parse().unwrap();
        assert_eq!(instant("2026-03-01T10:00:00+08:00", &sh), Ok(want));
        assert_eq!(instant("2026-03-01 10:00:00", &sh), Ok(want));
        assert_eq!(instant("2026-03-01 10:00", &sh), Ok(want));
        assert_eq!(instant("2026-03-01", &sh), Ok("2026-02-28T16:00:00Z".parse().unwrap()));
        assert_eq!(instant("yesterday", &sh).unwrap_err().code, Code::DateTimeFormat);
        assert_eq!(instant("0000-01-01", &sh).unwrap_err().code, Code::DateTimeFormat);
        assert_eq!(instant("0001-01-01T00:00:00Z", &sh).unwrap_err().code, Code::DateTimeFormat);
    }

    #[test]
    fn integers_and_text() {
        assert_eq!(integer("31", 1u8, 31), Ok(31));
        assert_eq!(integer("32", 1u8, 31).unwrap_err().code, Code::Integer);
        assert_eq!(integer("-1", 0u32, 10).unwrap_err().code, Code::Integer);
        assert_eq!(integer("1.5", 0u32, 10).unwrap_err().code, Code::Integer);
        assert_eq!(free_text(" 北京 ", 10), Ok("北京".into()));
        assert_eq!(free_text("abc", 2).unwrap_err().code, Code::TooLong);
    }
}
