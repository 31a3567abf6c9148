//! The product models' features, defined once: training builds its rows with [`features`] at
//! each example's time from the history before it, and serving calls the same function at the
//! time being scored, so the two cannot drift.
//!
//! A debtor's facts ([`DebtorHistory`]) are read by the store; this module does no IO and reads
//! no clock: every feature is a function of the history and the time `t` it is asked about,
//! and only what happened strictly before `t` counts.
//!
//! ## Cold start: hierarchical shrinkage
//!
//! A debtor's connect rate in an hour of the day is shrunk toward their segment's, and the
//! segment's toward the portfolio's (empirical Bayes with pseudo-counts, [`Priors`]):
//!
//! ```text
//! portfolio, hour h:           g_h      = (C_h + M·ḡ) / (N_h + M)
//! segment k, day kind w, h:    s_kwh    = (C_kwh + M·g_h) / (N_kwh + M)
//! debtor d, hour h:            p_dh     = (c_dh + m·s_kwh) / (n_dh + m)
//! ```
//!
//! `C`, `N` (and `c`, `n`) count right-party connects and dials to the debtor; `ḡ` is the
//! portfolio's rate with one pseudo-connect in two pseudo-dials; `k` is the bucket at the time,
//! `w` weekday or weekend; `M` ([`Priors::segment_strength`], default 50) and `m`
//! ([`Priors::debtor_strength`], default 8) are how many dials a rate is worth. A debtor never
//! dialled gets the segment's rate; after `m` dials in an hour their own history counts half.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use daylight_domain::attempt::Outcome;
use daylight_domain::bucket::Bucket;
pub use daylight_domain::history::{AccountPath, AttemptFact, DebtorHistory, PaymentFact, PromiseFact};

/// Days in a feature's long look-back (dials by hour).
pub const LOOKBACK_DAYS: i64 = 180;
/// Default `m`: dials a segment's hour rate is worth against a debtor's own.
pub const DEBTOR_STRENGTH: f64 = 8.0;
/// Default `M`: dials the portfolio's hour rate is worth against a segment's.
pub const SEGMENT_STRENGTH: f64 = 50.0;
const DAY: i64 = 86_400;

/// The local hour (0–23) and whether the day is a weekend, in `zone`.
pub fn local_slot(t: Timestamp, zone: &TimeZone) -> (usize, bool) {
    let z = t.to_zoned(zone.clone());
    (z.hour() as usize, z.weekday().to_monday_one_offset() >= 6)
}

/// `c` connects in `n` dials shrunk toward `prior`, worth `m` dials.
fn shrink(c: u64, n: u64, prior: f64, m: f64) -> f64 {
    (c as f64 + m * prior) / (n as f64 + m)
}

/// Connect rates by hour, shrunk portfolio → segment → debtor (see the module's formula).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priors {
    /// `m`: dials a segment's rate is worth against a debtor's own.
    pub debtor_strength: f64,
    /// `M`: dials the portfolio's rate is worth against a segment's.
    pub segment_strength: f64,
    /// Dials counted.
    pub dials: u64,
    /// Right-party connects counted.
    pub connects: u64,
    /// `ḡ`.
    pub overall: f64,
    /// `g_h` by local hour.
    pub hour: Vec<f64>,
    /// `s_kwh`: by bucket (M0 … M6+), weekday (0) or weekend (1), hour.
    pub segment: Vec<Vec<Vec<f64>>>,
}

impl Priors {
    /// Counts every dial before `until` in `histories` and shrinks.
    pub fn estimate(
        histories: &[DebtorHistory],
        until: Timestamp,
        debtor_strength: f64,
        segment_strength: f64,
    ) -> Priors {
        let mut hour = [[0u64; 2]; 24];
        let mut seg = vec![[[[0u64; 2]; 24]; 2]; 8];
        for h in histories {
            for a in h.before(until).iter().filter(|a| a.is_dial()) {
                let (hr, weekend) = local_slot(a.at, &h.zone);
                let k = h.bucket_at(a.at).rank();
                let c = u64::from(a.is_rpc());
                hour[hr][0] += c;
                hour[hr][1] += 1;
                seg[k][usize::from(weekend)][hr][0] += c;
                seg[k][usize::from(weekend)][hr][1] += 1;
            }
        }
        let connects: u64 = hour.iter().map(|h| h[0]).sum();
        let dials: u64 = hour.iter().map(|h| h[1]).sum();
        let overall = (connects as f64 + 1.0) / (dials as f64 + 2.0);
        let hour: Vec<f64> = hour.iter().map(|[c, n]| shrink(*c, *n, overall, segment_strength)).collect();
        let segment = seg
            .iter()
            .map(|by_w| {
                by_w.iter()
                    .map(|by_h| {
                        by_h.iter()
                            .enumerate()
                            .map(|(h, [c, n])| shrink(*c, *n, hour[h], segment_strength))
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Priors { debtor_strength, segment_strength, dials, connects, overall, hour, segment }
    }

    /// `s_kwh`.
    pub fn segment_rate(&self, bucket: Bucket, weekend: bool, hour: usize) -> f64 {
        self.segment
            .get(bucket.rank())
            .and_then(|w| w.get(usize::from(weekend)))
            .and_then(|h| h.get(hour))
            .copied()
            .unwrap_or(self.overall)
    }

    /// `p_dh`: the debtor's shrunk rate in the hour of `t`, from their dials before `t`.
    pub fn debtor_rate(&self, h: &DebtorHistory, t: Timestamp) -> f64 {
        let (hour, weekend) = local_slot(t, &h.zone);
        let prior = self.segment_rate(h.bucket_at(t), weekend, hour);
        let (mut c, mut n) = (0u64, 0u64);
        for a in h.before(t).iter().rev().take_while(|a| (t - a.at).get_seconds() < LOOKBACK_DAYS * DAY) {
            if a.is_dial() && local_slot(a.at, &h.zone).0 == hour {
                c += u64::from(a.is_rpc());
                n += 1;
            }
        }
        shrink(c, n, prior, self.debtor_strength)
    }
}

/// The features' names, in [`features`]' order.
pub const NAMES: [&str; 27] = [
    "hour",
    "weekday",
    "bucket",
    "age",
    "credit_limit_yuan",
    "dials_90d",
    "connects_90d",
    "rate_shrunk",
    "hour_dials_180d",
    "hour_connects_180d",
    "hour_rate_shrunk",
    "segment_hour_rate",
    "long_calls_0_30d",
    "long_calls_30_60d",
    "long_calls_60_90d",
    "days_since_rpc",
    "days_since_attempt",
    "fail_streak",
    "bad_number_30d",
    "dials_today",
    "payments_90d",
    "paid_90d_yuan",
    "days_since_payment",
    "promises_broken_180d",
    "promises_kept_180d",
    "promise_pending",
    "last_rpc_outcome",
];

/// The version of [`NAMES`] and their definitions; a model records it and refuses another.
pub const VERSION: u32 = 1;

/// Position of a feature in [`NAMES`].
pub fn index(name: &str) -> Option<usize> {
    NAMES.iter().position(|n| *n == name)
}

/// Codes of `last_rpc_outcome`: what the debtor last said.
fn outcome_code(o: Outcome) -> f32 {
    match o {
        Outcome::PromiseToPay => 1.0,
        Outcome::Refused => 2.0,
        Outcome::Hardship => 3.0,
        Outcome::Dispute => 4.0,
        Outcome::Abusive => 5.0,
        Outcome::CeaseRequest => 6.0,
        _ => 0.0,
    }
}

/// Every feature of `h` at `t` (missing = NaN), from facts strictly before `t`.
///
/// - `hour` local hour with minutes (14.25), `weekday` 1 (Monday) … 7, `bucket` 0 (M0) … 7;
/// - `age` in years, `credit_limit_yuan`;
/// - `dials_90d`, `connects_90d`: dials to the debtor and right-party connects;
/// - `rate_shrunk`: the debtor's connect rate over 180 days shrunk toward the portfolio's;
/// - `hour_dials_180d`, `hour_connects_180d`, `hour_rate_shrunk` ([`Priors::debtor_rate`]),
///   `segment_hour_rate` ([`Priors::segment_rate`]): the same within `t`'s hour of the day;
/// - `long_calls_*`: calls with over 60 s of talk in each of the last three 30-day periods;
/// - `days_since_rpc`, `days_since_attempt`; `fail_streak`: failed dials since the last connect;
/// - `bad_number_30d`: invalid, powered-off, wrong-number or undelivered results in 30 days;
/// - `dials_today`: dials earlier on `t`'s local day;
/// - `payments_90d`, `paid_90d_yuan`, `days_since_payment`;
/// - `promises_broken_180d`, `promises_kept_180d` (settled before `t`), `promise_pending`;
/// - `last_rpc_outcome`: 0 talked, 1 promised, 2 refused, 3 hardship, 4 dispute, 5 abusive,
///   6 asked to stop.
pub fn features(h: &DebtorHistory, priors: &Priors, t: Timestamp) -> [f32; NAMES.len()] {
    let z = t.to_zoned(h.zone.clone());
    let today = z.date();
    let days = |at: Timestamp| (t - at).get_seconds() as f64 / DAY as f64;
    let mut f = [f32::NAN; NAMES.len()];
    f[0] = z.hour() as f32 + z.minute() as f32 / 60.0;
    f[1] = f32::from(z.weekday().to_monday_one_offset());
    f[2] = h.bucket_at(t).rank() as f32;
    if let Some(b) = h.birth_date {
        f[3] = ((today.since(b).map_or(0, |s| s.get_days()) as f64) / 365.25) as f32;
    }
    f[4] = (h.credit_limit / 100) as f32;

    let hour = z.hour() as usize;
    let weekend = z.weekday().to_monday_one_offset() >= 6;
    let mut dials = [0u32; 2];
    let mut connects90 = 0u32;
    let (mut hour_dials, mut hour_connects) = (0u32, 0u32);
    let (mut all_dials, mut all_connects) = (0u32, 0u32);
    let mut long = [0f32; 3];
    let mut since_rpc = f32::NAN;
    let mut last_rpc = f32::NAN;
    let mut streak = 0u32;
    let mut streak_open = true;
    let mut bad_number = 0u32;
    let mut dials_today = 0u32;
    let before = h.before(t);
    for a in before.iter().rev() {
        let age = days(a.at);
        if age >= LOOKBACK_DAYS as f64 {
            break;
        }
        if a.is_rpc() && since_rpc.is_nan() {
            since_rpc = age as f32;
            last_rpc = outcome_code(a.outcome);
        }
        if age < 30.0
            && matches!(
                a.outcome,
                Outcome::InvalidNumber | Outcome::PoweredOff | Outcome::WrongNumber | Outcome::Undelivered
            )
        {
            bad_number += 1;
        }
        if !a.is_dial() {
            continue;
        }
        let rpc = a.is_rpc();
        all_dials += 1;
        all_connects += u32::from(rpc);
        if age < 90.0 {
            dials[0] += 1;
            connects90 += u32::from(rpc);
        }
        let local = a.at.to_zoned(h.zone.clone());
        if local.hour() as usize == hour {
            hour_dials += 1;
            hour_connects += u32::from(rpc);
        }
        if a.duration_secs > 60 && age < 90.0 {
            long[(age / 30.0) as usize] += 1.0;
        }
        if streak_open {
            if rpc {
                streak_open = false;
            } else {
                streak += 1;
            }
        }
        if local.date() == today {
            dials_today += 1;
        }
    }
    f[5] = dials[0] as f32;
    f[6] = connects90 as f32;
    let m = priors.debtor_strength;
    f[7] = shrink(u64::from(all_connects), u64::from(all_dials), priors.overall, m) as f32;
    f[8] = hour_dials as f32;
    f[9] = hour_connects as f32;
    // The same counts Priors::debtor_rate makes: p_dh of the module's formula.
    let segment = priors.segment_rate(h.bucket_at(t), weekend, hour);
    f[10] = shrink(u64::from(hour_connects), u64::from(hour_dials), segment, m) as f32;
    f[11] = segment as f32;
    f[12..15].copy_from_slice(&long);
    f[15] = since_rpc;
    f[16] = before.last().map_or(f32::NAN, |a| days(a.at) as f32);
    f[17] = streak as f32;
    f[18] = bad_number as f32;
    f[19] = dials_today as f32;

    let paid = &h.payments[..h.payments.partition_point(|p| p.at < t)];
    let recent: Vec<&PaymentFact> = paid.iter().rev().take_while(|p| days(p.at) < 90.0).collect();
    f[20] = recent.len() as f32;
    f[21] = (recent.iter().map(|p| p.amount).sum::<i64>() / 100) as f32;
    f[22] = paid.last().map_or(f32::NAN, |p| days(p.at) as f32);

    let (mut broken, mut kept, mut pending) = (0u32, 0u32, 0u32);
    for p in h.promises.iter().filter(|p| p.created_at < t) {
        match p.settled_at {
            Some(s) if s < t => {
                if days(s) < 180.0 {
                    broken += u32::from(p.broken);
                    kept += u32::from(p.kept);
                }
            }
            _ => pending += 1,
        }
    }
    f[23] = broken as f32;
    f[24] = kept as f32;
    f[25] = (pending > 0) as u8 as f32;
    f[26] = last_rpc;
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use daylight_domain::attempt::Channel;
    use daylight_domain::customer::Recipient;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn dial(at: &str, outcome: Outcome, secs: u32) -> AttemptFact {
        AttemptFact {
            at: ts(at),
            channel: Channel::Call,
            recipient: Recipient::Debtor,
            outcome,
            duration_secs: secs,
        }
    }

    fn debtor(attempts: Vec<AttemptFact>) -> DebtorHistory {
        DebtorHistory {
            case: "CASE-1".into(),
            zone: TimeZone::get("Asia/Shanghai").unwrap(),
            birth_date: Some(jiff::civil::date(1990, 6, 1)),
            credit_limit: 5_000_000,
            accounts: vec![AccountPath {
                now: Bucket::M2,
                moves: vec![
                    (ts("2026-03-01T00:00:00Z"), Bucket::M0, Bucket::M1),
                    (ts("2026-04-01T00:00:00Z"), Bucket::M1, Bucket::M2),
                ],
            }],
            attempts,
            payments: vec![PaymentFact { at: ts("2026-04-10T02:00:00Z"), amount: 123_456 }],
            promises: vec![PromiseFact {
                created_at: ts("2026-04-02T02:00:00Z"),
                settled_at: Some(ts("2026-04-09T02:00:00Z")),
                kept: false,
                broken: true,
            }],
        }
    }

    #[test]
    fn buckets_follow_the_moves() {
        let h = debtor(vec![]);
        assert_eq!(h.bucket_at(ts("2026-02-01T00:00:00Z")), Bucket::M0);
        assert_eq!(h.bucket_at(ts("2026-03-15T00:00:00Z")), Bucket::M1);
        assert_eq!(h.bucket_at(ts("2026-05-01T00:00:00Z")), Bucket::M2);
        let still = AccountPath { now: Bucket::M3, moves: vec![] };
        assert_eq!(still.at(ts("2020-01-01T00:00:00Z")), Bucket::M3);
    }

    #[test]
    fn only_the_past_counts_and_hours_are_the_debtors() {
        // 10:05 and 10:40 Beijing time are 02:05 and 02:40 UTC.
        let h = debtor(vec![
            dial("2026-04-20T02:05:00Z", Outcome::NoAnswer, 0),
            dial("2026-04-20T02:40:00Z", Outcome::Conversation, 95),
            dial("2026-04-21T07:00:00Z", Outcome::NoAnswer, 0),
            dial("2026-04-21T07:30:00Z", Outcome::PoweredOff, 0),
        ]);
        let priors = Priors::estimate(std::slice::from_ref(&h), ts("2026-05-01T00:00:00Z"), 8.0, 50.0);
        assert_eq!((priors.dials, priors.connects), (4, 1));
        let at = |s: &str, name: &str| features(&h, &priors, ts(s))[index(name).unwrap()];
        // 2026-04-22 10:15 Beijing, a Wednesday.
        let t = "2026-04-22T02:15:00Z";
        assert_eq!(at(t, "hour"), 10.25);
        assert_eq!(at(t, "weekday"), 3.0);
        assert_eq!(at(t, "bucket"), 2.0);
        assert_eq!(at(t, "dials_90d"), 4.0);
        assert_eq!(at(t, "connects_90d"), 1.0);
        assert_eq!(at(t, "hour_dials_180d"), 2.0);
        assert_eq!(at(t, "hour_connects_180d"), 1.0);
        assert_eq!(at(t, "long_calls_0_30d"), 1.0);
        assert_eq!(at(t, "fail_streak"), 2.0);
        assert_eq!(at(t, "bad_number_30d"), 1.0);
        assert_eq!(at(t, "last_rpc_outcome"), 0.0);
        assert_eq!(at(t, "promises_broken_180d"), 1.0);
        assert_eq!(at(t, "payments_90d"), 1.0);
        assert_eq!(at(t, "paid_90d_yuan"), 1234.0);
        assert!((at(t, "age") - 35.9).abs() < 0.1);
        // The same day at 16:00: two dials earlier that day, none of them at 16.
        assert_eq!(at("2026-04-21T08:00:00Z", "dials_today"), 2.0);
        assert_eq!(at("2026-04-21T08:00:00Z", "hour_dials_180d"), 0.0);
        // Before everything: nothing is known yet.
        let early = "2026-04-01T02:00:00Z";
        assert_eq!(at(early, "dials_90d"), 0.0);
        assert!(at(early, "days_since_rpc").is_nan());
        assert!(at(early, "days_since_payment").is_nan());
        assert_eq!(at(early, "bucket"), 2.0);
    }

    #[test]
    fn shrinkage_moves_from_the_segment_to_the_debtor_as_dials_add_up() {
        let zone = "2026-04-20T02:05:00Z";
        let mut many = Vec::new();
        for d in 0..40 {
            let at = ts(zone) + jiff::SignedDuration::from_hours(24 * d);
            many.push(AttemptFact { at, ..dial(zone, Outcome::Conversation, 30) });
        }
        let fresh = debtor(vec![]);
        let seasoned = debtor(many);
        let histories = [fresh.clone(), seasoned.clone()];
        let priors = Priors::estimate(&histories, ts("2026-07-01T00:00:00Z"), 8.0, 50.0);
        let t = ts("2026-06-10T02:30:00Z");
        let s = priors.segment_rate(Bucket::M2, false, 10);
        assert!((priors.debtor_rate(&fresh, t) - s).abs() < 1e-12, "no history: the segment's rate");
        let p = priors.debtor_rate(&seasoned, t);
        assert!((p - (40.0 + 8.0 * s) / 48.0).abs() < 1e-12, "{p}");
        assert!(p > 0.9 && s < p);
        let f = features(&seasoned, &priors, t);
        assert_eq!(f[index("hour_rate_shrunk").unwrap()], p as f32, "the feature is the estimator");
        // An hour nobody was dialled at falls back to the portfolio's hour rate.
        assert!((priors.segment_rate(Bucket::M5, true, 3) - priors.hour[3]).abs() < 1e-12);
    }
}
