//! A deterministic benchmark workload: requests with weeks of history, for `cargo bench` and
//! `daylight policy bench`.

use daylight_domain::attempt::{Channel, Outcome};
use daylight_domain::customer::Recipient;
use jiff::{SignedDuration, Timestamp};

use crate::eval::{Contact, Request};
use crate::pack::Pack;

/// A small linear congruential generator: the same workload on every machine.
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    /// Seeded.
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// The day the workload's requests are made: Tuesday 2026-03-03, from 07:00 local.
pub const DAY: &str = "2026-03-03T07:00:00";

fn zone(pack: &Pack) -> jiff::tz::TimeZone {
    pack.default_time_zone
        .as_ref()
        .map(|(_, tz)| tz.clone())
        .unwrap_or_else(|| jiff::tz::TimeZone::get("America/New_York").expect("bundled zone"))
}

fn start(pack: &Pack) -> Timestamp {
    let day: jiff::civil::DateTime = DAY.parse().expect("valid time");
    day.to_zoned(zone(pack)).expect("unambiguous").timestamp()
}

/// A request of the workload: a contact about debt `A1` in the pack's zone (or New York's).
pub fn request(pack: &Pack, at: Timestamp, channel: Channel, recipient: Recipient, point: &str) -> Request {
    let mut req = Request::new(channel, recipient, vec![zone(pack)]).expect("one zone");
    req.at = Some(at);
    req.debt = Some("A1".into());
    req.contact_point = Some(point.into());
    req.confirmed_third_party = true;
    req
}

/// What a collection team did in the `days` days before the workload's day: `per_day` contacts a
/// day tried at working hours (calls, robot calls, texts, e-mails), each made only when the pack
/// allowed it, else sent as a text, else dropped; outcomes at random.
pub fn history(pack: &Pack, days: i64, per_day: i64) -> Vec<Contact> {
    let mut rng = Lcg::new(7);
    let first = start(pack);
    let mut out: Vec<Contact> = Vec::with_capacity((days * per_day) as usize);
    for d in (1..=days).rev() {
        for k in 0..per_day {
            let minutes = 90 + k * 240 + rng.below(180) as i64;
            let at = first - SignedDuration::from_hours(24 * d) + SignedDuration::from_mins(minutes);
            let wanted = [Channel::Call, Channel::RobotCall, Channel::Call, Channel::Sms, Channel::Email]
                [rng.below(5) as usize];
            let recipient = if rng.below(10) == 0 { Recipient::Guarantor } else { Recipient::Debtor };
            let point = format!("p{}", 1 + rng.below(2));
            let made = [wanted, Channel::Sms].into_iter().find(|c| {
                let req = request(pack, at, *c, recipient, &point);
                crate::eval::allowed_at(pack, &req, &out, at)
            });
            let Some(channel) = made else { continue };
            let outcome = match channel {
                Channel::Sms | Channel::Email => Outcome::Delivered,
                _ => [
                    Outcome::NoAnswer,
                    Outcome::Busy,
                    Outcome::PoweredOff,
                    Outcome::Conversation,
                    Outcome::Refused,
                ][rng.below(5) as usize],
            };
            out.push(Contact {
                at,
                channel,
                recipient,
                contact_point: Some(point),
                debt: Some("A1".into()),
                outcome: Some(outcome),
            });
        }
    }
    out
}

/// `n` requests spread over the workload's day from 07:00 to 22:00: calls, robot calls and
/// texts, mostly to the debtor, some to the guarantor and to an emergency contact. Some are
/// allowed and some denied, with the next allowed time to find.
pub fn requests(pack: &Pack, n: usize) -> Vec<Request> {
    let mut rng = Lcg::new(11);
    let first = start(pack);
    (0..n)
        .map(|i| {
            let at = first
                + SignedDuration::from_mins((i as i64 * 15 * 60 / n.max(1) as i64) + rng.below(15) as i64);
            let channel =
                [Channel::Call, Channel::RobotCall, Channel::Call, Channel::Sms][rng.below(4) as usize];
            let (recipient, point) = match rng.below(10) {
                0 => (Recipient::ThirdParty, "e1"),
                1 => (Recipient::Guarantor, "g1"),
                _ => (Recipient::Debtor, "p1"),
            };
            request(pack, at, channel, recipient, point)
        })
        .collect()
}
