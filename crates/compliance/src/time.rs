//! Local days and times without a time-zone lookup per history entry.
//!
//! A decision looks at dozens of earlier attempts. Converting each one to a zoned date would cost
//! a time-zone lookup apiece; instead [`Offsets`] reads the zone's offset and transitions once for
//! the weeks around the decision, and every attempt's local day is then integer arithmetic.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;

/// Whole seconds since the Unix epoch, rounded down (also for instants before 1970).
pub(crate) fn secs(ts: Timestamp) -> i64 {
    let s = ts.as_second();
    if ts.subsec_nanosecond() < 0 { s - 1 } else { s }
}

/// The instant of a whole second since the epoch.
pub(crate) fn at_second(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(Timestamp::MAX)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn epoch_day(date: Date) -> i32 {
    let (y, m, d) = (i32::from(date.year()), i32::from(date.month()), i32::from(date.day()));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day since 1970-01-01.
pub(crate) fn date_of(day: i32) -> Date {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    Date::new(y as i16, m as i8, d as i8).unwrap_or(if day < 0 { Date::MIN } else { Date::MAX })
}

/// How many transitions [`Offsets`] keeps; no zone changes its offset this often in a year.
const MAX_CUTS: usize = 12;

/// How far beyond the span asked for [`Offsets::cached`] reads a zone, so that the decisions
/// that follow (the same zone, nearby times) find it ready.
const MEMO_MARGIN: i64 = 120 * DAY;

std::thread_local! {
    /// The last zone's offsets, by IANA name: decisions come in runs for one zone.
    static MEMO: std::cell::RefCell<Option<(String, i64, i64, Offsets)>> = const { std::cell::RefCell::new(None) };
}

/// A zone's UTC offsets over a span of time: the offset at its start and each change within it.
#[derive(Clone, Copy)]
pub(crate) struct Offsets {
    cuts: [(i64, i32); MAX_CUTS],
    n: usize,
}

impl Offsets {
    /// The offsets of `tz` from `lo` to `hi`.
    pub(crate) fn new(tz: &TimeZone, lo: Timestamp, hi: Timestamp) -> Offsets {
        let mut cuts = [(i64::MIN, tz.to_offset(lo).seconds()); MAX_CUTS];
        let mut n = 1;
        for tr in tz.following(lo) {
            if tr.timestamp() > hi || n == MAX_CUTS {
                break;
            }
            cuts[n] = (secs(tr.timestamp()), tr.offset().seconds());
            n += 1;
        }
        Offsets { cuts, n }
    }

    /// The offsets of `tz` over at least `lo ..= hi` (whole seconds), reusing the last zone's
    /// when it covers the span. A pure memo: the answer is the same as [`Offsets::new`]'s.
    pub(crate) fn cached(tz: &TimeZone, lo: i64, hi: i64) -> Offsets {
        let Some(name) = tz.iana_name() else {
            return Offsets::new(tz, at_second(lo), at_second(hi));
        };
        MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            if let Some((n, a, b, o)) = memo.as_ref()
                && *a <= lo
                && hi <= *b
                && n == name
            {
                return *o;
            }
            let (a, b) = (lo - MEMO_MARGIN, hi + MEMO_MARGIN);
            let o = Offsets::new(tz, at_second(a), at_second(b));
            // A span so full of transitions that some were left out is not kept.
            let b = if o.n == MAX_CUTS { o.cuts[MAX_CUTS - 1].0 } else { b };
            if b >= hi {
                *memo = Some((name.to_owned(), a, b, o));
            }
            if hi <= b { o } else { Offsets::new(tz, at_second(lo), at_second(hi)) }
        })
    }

    /// The offset in seconds at an instant (in whole seconds) inside the span.
    #[inline]
    pub(crate) fn offset(&self, s: i64) -> i64 {
        let mut off = self.cuts[0].1;
        for &(from, o) in &self.cuts[1..self.n] {
            if s < from {
                break;
            }
            off = o;
        }
        i64::from(off)
    }

    /// The local day (days since 1970-01-01) and second of the day.
    #[inline]
    pub(crate) fn local(&self, s: i64) -> (i32, i64) {
        let l = s + self.offset(s);
        (l.div_euclid(DAY) as i32, l.rem_euclid(DAY))
    }

    /// The local day.
    #[inline]
    pub(crate) fn day(&self, s: i64) -> i32 {
        (s + self.offset(s)).div_euclid(DAY) as i32
    }
}

/// The local day and second of the day of an instant in a zone.
pub(crate) fn local_of(tz: &TimeZone, t: Timestamp) -> (i32, i64) {
    let l = secs(t) + i64::from(tz.to_offset(t).seconds());
    (l.div_euclid(DAY) as i32, l.rem_euclid(DAY))
}

/// The first instant at which the local clock of `tz` shows `day` at `second` of the day or
/// later. Where the clock skips that time (a daylight-saving gap) it is the instant of the skip;
/// where the clock shows it twice, the first.
pub(crate) fn instant(tz: &TimeZone, day: i32, second: i64) -> Timestamp {
    let date = date_of(day);
    let (h, m, s) = (second / 3600, second / 60 % 60, second % 60);
    let Ok(dt) = DateTime::new(date.year(), date.month(), date.day(), h as i8, m as i8, s as i8, 0) else {
        return Timestamp::MAX;
    };
    let amb = tz.to_ambiguous_timestamp(dt);
    match amb.offset() {
        AmbiguousOffset::Gap { after, .. } => {
            // The clock jumps over `dt`: the skip happens after `dt` read with the later offset.
            let local = i64::from(epoch_day(date)) * DAY + second;
            let probe = at_second(local - i64::from(after.seconds()) - 1);
            tz.following(probe).next().map(|tr| tr.timestamp()).unwrap_or(Timestamp::MAX)
        }
        _ => amb.compatible().unwrap_or(Timestamp::MAX),
    }
}

/// The first whole minute at or after `t`.
pub(crate) fn ceil_minute(t: Timestamp) -> Timestamp {
    let s = secs(t);
    let exact = s.rem_euclid(60) == 0 && t.subsec_nanosecond() == 0;
    if exact { t } else { at_second(s - s.rem_euclid(60) + 60) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days_round_trip() {
        for day in (-800_000..800_000).step_by(97) {
            assert_eq!(epoch_day(date_of(day)), day);
        }
        assert_eq!(epoch_day(Date::constant(1970, 1, 1)), 0);
        assert_eq!(date_of(epoch_day(Date::constant(2024, 2, 29))), Date::constant(2024, 2, 29));
        assert_eq!(epoch_day(Date::constant(2026, 3, 3)), 20_515);
    }

    #[test]
    fn instants_follow_the_clock_through_daylight_saving() {
        let ny = TimeZone::get("America/New_York").unwrap();
        // 2026-03-08 02:30 does not exist in New York: the clock jumps from 02:00 EST to 03:00 EDT.
        let day = epoch_day(Date::constant(2026, 3, 8));
        let t = instant(&ny, day, 2 * 3600 + 30 * 60);
        assert_eq!(t.to_string(), "2026-03-08T07:00:00Z");
        // 08:00 that day is EDT.
        assert_eq!(instant(&ny, day, 8 * 3600).to_string(), "2026-03-08T12:00:00Z");
        // 2026-11-01 01:30 happens twice: the first is EDT.
        let day = epoch_day(Date::constant(2026, 11, 1));
        assert_eq!(instant(&ny, day, 5400).to_string(), "2026-11-01T05:30:00Z");
        let offs =
            Offsets::new(&ny, "2026-10-01T00:00Z".parse().unwrap(), "2026-12-01T00:00Z".parse().unwrap());
        let before: Timestamp = "2026-11-01T05:59:59Z".parse().unwrap();
        let after: Timestamp = "2026-11-01T06:00:00Z".parse().unwrap();
        assert_eq!(offs.offset(secs(before)), -4 * 3600);
        assert_eq!(offs.offset(secs(after)), -5 * 3600);
        assert_eq!(offs.local(secs(after)), (day, 3600));
    }

    #[test]
    fn minutes_round_up() {
        let t: Timestamp = "2026-03-03T01:30:00Z".parse().unwrap();
        assert_eq!(ceil_minute(t), t);
        let u: Timestamp = "2026-03-03T01:30:00.5Z".parse().unwrap();
        assert_eq!(ceil_minute(u).to_string(), "2026-03-03T01:31:00Z");
    }
}
