//! Properties over random histories: an allowed attempt never breaks a cap, and the next
//! allowed time is exact to the minute (checked against a minute-by-minute scan).
#![allow(missing_docs)]

use daylight_compliance::pack::SHIPPED;
use daylight_compliance::{Channels, Contact, Pack, Request, allowed_at, evaluate};
use daylight_domain::attempt::{Channel, Outcome, OutcomeClass};
use daylight_domain::customer::Recipient;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use proptest::prelude::*;

/// Instants where rules meet edges: Spring Festival 2026, a make-up Saturday, both US
/// daylight-saving changes, a month end for cycles.
const BASES: [&str; 6] = [
    "2026-02-12T00:00:00+08:00",
    "2026-02-22T00:00:00+08:00",
    "2026-03-07T00:00:00-05:00",
    "2026-10-31T00:00:00-04:00",
    "2026-01-29T00:00:00+08:00",
    "2026-09-30T00:00:00+08:00",
];

fn outcome_for(channel: Channel, pick: usize) -> Option<Outcome> {
    let fits: Vec<Outcome> = Outcome::ALL.iter().copied().filter(|o| o.fits(channel)).collect();
    if pick.is_multiple_of(23) { None } else { Some(fits[pick % fits.len()]) }
}

fn recipient(pick: usize) -> Recipient {
    [Recipient::Debtor, Recipient::Debtor, Recipient::Debtor, Recipient::Guarantor, Recipient::ThirdParty]
        [pick % 5]
}

fn point(r: Recipient, pick: usize) -> Option<String> {
    let p = match r {
        Recipient::Debtor => ["p1", "p2", "p1"][pick % 3],
        Recipient::Guarantor => "g1",
        Recipient::ThirdParty => ["e1", "e2"][pick % 2],
    };
    (!pick.is_multiple_of(11)).then(|| p.to_owned())
}

#[derive(Debug, Clone)]
struct Case {
    pack: usize,
    base: usize,
    history: Vec<(i64, usize, usize, usize, usize)>,
    at: i64,
    channel: usize,
    who: usize,
    cp: usize,
    confirmed: bool,
    cycle: Option<i64>,
    flags: usize,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        0..3usize,
        0..BASES.len(),
        prop::collection::vec(
            (0..13 * 1440i64, 0..6usize, any::<usize>(), any::<usize>(), any::<usize>()),
            0..60,
        ),
        0..3usize,
        0..3 * 1440i64,
        0..6usize,
        any::<usize>(),
        any::<usize>(),
        any::<bool>(),
        prop::option::of(0..40i64),
        0..40usize,
    )
        .prop_map(|(pack, base, mut history, spread, at, channel, who, cp, confirmed, cycle, flags)| {
            // Dense histories (a day either side of the request) test the daily caps, sparse
            // ones (ten days back, three ahead) the windows.
            for h in &mut history {
                h.0 = match spread {
                    0 => at - 1440 + h.0 % 2880,
                    1 => at - 4 * 1440 + h.0 % (5 * 1440),
                    _ => h.0 - 10 * 1440,
                };
            }
            Case { pack, base, history, at, channel, who, cp, confirmed, cycle, flags }
        })
}

struct Built {
    pack: Pack,
    req: Request,
    history: Vec<Contact>,
    at: Timestamp,
}

fn build(c: &Case, packs: &[Pack]) -> Built {
    let pack = packs[c.pack].clone();
    let base: Timestamp = BASES[c.base].parse().unwrap();
    let zone = match &pack.default_time_zone {
        Some((_, tz)) => tz.clone(),
        None => TimeZone::get("America/New_York").unwrap(),
    };
    let history = c
        .history
        .iter()
        .map(|&(min, ch, who, cp, out)| {
            let channel = Channel::ALL[ch % 6];
            let r = recipient(who);
            Contact {
                at: base + SignedDuration::from_mins(min),
                channel,
                recipient: r,
                contact_point: point(r, cp),
                debt: [Some("A1".to_owned()), Some("A2".to_owned()), None][out % 3].clone(),
                outcome: outcome_for(channel, out / 3),
            }
        })
        .collect();
    let at = base + SignedDuration::from_mins(c.at) + SignedDuration::from_secs((c.cp % 3) as i64 * 20);
    let r = recipient(c.who);
    let mut zones = vec![zone];
    if pack.name == "us-reg-f" && c.who.is_multiple_of(7) {
        zones.push(TimeZone::get("America/Los_Angeles").unwrap());
    }
    let mut req = Request::new(Channel::ALL[c.channel % 6], r, zones).unwrap();
    req.at = Some(at);
    req.contact_point = point(r, c.cp);
    req.debt = Some("A1".into());
    req.confirmed_third_party = c.confirmed;
    req.cycle_start = c.cycle.map(|k| base.to_zoned(req.zones[0].clone()).date() - k.days());
    req.flags.cease = c.flags == 0;
    req.flags.opt_out = if c.flags == 1 { [Channel::Sms].into_iter().collect() } else { Channels::NONE };
    req.flags.consented_hours = c.flags % 4 == 2;
    Built { pack, req, history, at }
}

fn day(t: Timestamp, tz: &TimeZone) -> Date {
    t.to_zoned(tz.clone()).date()
}

/// Caps checked the slow way, one zoned date per attempt: with `extra` added, is any broken?
fn naive_caps_hold(b: &Built, extra: &Contact) -> Result<(), String> {
    let tz = &b.req.zones[0];
    let today = day(b.at, tz);
    let mut all = b.history.clone();
    all.push(extra.clone());
    let calls_on = |d: Date, f: &dyn Fn(&Contact) -> bool| {
        all.iter().filter(|c| c.channel.is_call() && day(c.at, tz) == d && f(c)).count() as u32
    };
    let same_party = |c: &Contact| c.recipient == b.req.recipient;
    let party = b.req.recipient != Recipient::ThirdParty;
    let had = |d: Date, f: &dyn Fn(&Contact) -> bool| calls_on(d, f);
    let p = &b.pack;
    if party && let Some(cap) = &p.daily_cap {
        let n = had(today, &same_party);
        if n > cap.max {
            return Err(format!("DAILY_CAP: {n} calls on {today}"));
        }
    }
    if party && let Some(cap) = &p.cycle_cap {
        let windows: Vec<(Date, Date)> = match b.req.cycle_start {
            Some(s) => {
                let mut k = -24;
                loop {
                    let (a, z) =
                        (s.checked_add(k.months()).unwrap(), s.checked_add((k + 1).months()).unwrap());
                    if a <= today && today < z {
                        break vec![(a, z)];
                    }
                    k += 1;
                }
            }
            None => (0..cap.rolling_days)
                .map(|i| {
                    let a = today - i64::from(i).days();
                    (a, a + i64::from(cap.rolling_days).days())
                })
                .collect(),
        };
        for (a, z) in windows {
            let n = all
                .iter()
                .filter(|c| c.channel.is_call() && same_party(c) && (a..z).contains(&day(c.at, tz)))
                .count();
            if n as u32 > cap.max {
                return Err(format!("CYCLE_CAP: {n} calls in {a}..{z}"));
            }
        }
    }
    if let Some(cap) = &p.unanswered_cap {
        let failed = |c: &Contact| {
            c.outcome.is_none_or(|o| o.class() == OutcomeClass::Failed)
                && (b.req.contact_point.is_none()
                    || c.contact_point.is_none()
                    || c.contact_point == b.req.contact_point)
        };
        let n = had(today, &failed);
        if n > cap.max {
            return Err(format!("UNANSWERED_CAP: {n}"));
        }
    }
    if party && let Some(cap) = &p.conversation_cap {
        let conv =
            |c: &Contact| same_party(c) && c.outcome.is_none_or(|o| o.class() == OutcomeClass::Conversation);
        let n = had(today, &conv);
        if n > cap.max {
            return Err(format!("CONVERSATION_CAP: {n}"));
        }
    }
    if party && let Some(s) = &p.seven_in_seven {
        for i in 0..s.days {
            let a = today - i64::from(i).days();
            let z = a + i64::from(s.days).days();
            let n = all
                .iter()
                .filter(|c| {
                    c.channel.is_call()
                        && same_party(c)
                        && c.debt.as_deref().is_none_or(|d| d == "A1")
                        && c.outcome.is_none_or(|o| !s.uncounted.contains(&o))
                        && (a..z).contains(&day(c.at, tz))
                })
                .count();
            if n as u32 > s.max {
                return Err(format!("SEVEN_IN_SEVEN: {n} in {a}..{z}"));
            }
        }
    }
    if !party && let Some(max) = p.third_party.per_point_per_day {
        let here = |c: &Contact| {
            c.recipient == Recipient::ThirdParty
                && (b.req.contact_point.is_none()
                    || c.contact_point.is_none()
                    || c.contact_point == b.req.contact_point)
        };
        let n = all.iter().filter(|c| day(c.at, tz) == today && here(c)).count() as u32;
        if n > max {
            return Err(format!("THIRD_PARTY per day: {n}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn an_allowed_attempt_never_breaks_a_cap(c in cases()) {
        let packs: Vec<Pack> = SHIPPED.iter().map(|(n, _)| Pack::shipped(n).unwrap()).collect();
        let b = build(&c, &packs);
        // Only histories that kept the caps before can be asked to keep them after.
        let before = Contact {
            at: b.at, channel: Channel::Letter, recipient: b.req.recipient,
            contact_point: None, debt: None, outcome: Some(Outcome::Sent),
        };
        prop_assume!(naive_caps_hold(&b, &before).is_ok());
        let d = evaluate(&b.pack, &b.req, &b.history, b.at);
        if d.allowed {
            for outcome in Outcome::ALL.iter().copied().filter(|o| o.fits(b.req.channel)).map(Some).chain([None]) {
                let made = Contact {
                    at: b.at,
                    channel: b.req.channel,
                    recipient: b.req.recipient,
                    contact_point: b.req.contact_point.clone(),
                    debt: b.req.debt.clone(),
                    outcome,
                };
                if let Err(e) = naive_caps_hold(&b, &made) {
                    prop_assert!(false, "allowed, then {e} ({:?})", outcome);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn next_allowed_at_is_exact_to_the_minute(c in cases()) {
        let packs: Vec<Pack> = SHIPPED.iter().map(|(n, _)| Pack::shipped(n).unwrap()).collect();
        let b = build(&c, &packs);
        let d = evaluate(&b.pack, &b.req, &b.history, b.at);
        prop_assert_eq!(d.allowed, allowed_at(&b.pack, &b.req, &b.history, b.at));
        prop_assert_eq!(d.allowed, d.violations.is_empty());
        let minute = SignedDuration::from_mins(1);
        let first_minute = {
            let s = b.at.as_second();
            let up = if s % 60 == 0 && b.at.subsec_nanosecond() == 0 { s } else { s - s.rem_euclid(60) + 60 };
            Timestamp::from_second(up).unwrap()
        };
        // Scan up to three days minute by minute: nothing before the answer is allowed.
        let scan_end = match d.next_allowed_at {
            Some(n) => n.min(b.at + SignedDuration::from_hours(72)),
            None => b.at + SignedDuration::from_hours(72),
        };
        if !d.allowed {
            let mut t = first_minute;
            while t < scan_end {
                prop_assert!(!allowed_at(&b.pack, &b.req, &b.history, t), "allowed at {t} before {:?}", d.next_allowed_at);
                t += minute;
            }
        }
        match d.next_allowed_at {
            Some(n) if d.allowed => prop_assert_eq!(n, b.at),
            Some(n) => {
                prop_assert!(n > b.at && n.as_second() % 60 == 0 && n.subsec_nanosecond() == 0);
                prop_assert!(allowed_at(&b.pack, &b.req, &b.history, n), "next_allowed_at {n} itself is denied");
                let before = n - minute;
                if before >= b.at {
                    prop_assert!(!allowed_at(&b.pack, &b.req, &b.history, before), "the minute before {n} is allowed");
                }
                prop_assert!(n <= b.at + SignedDuration::from_hours(24 * 400));
            }
            None => prop_assert!(!d.allowed),
        }
    }
}
