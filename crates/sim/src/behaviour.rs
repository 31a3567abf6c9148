//! How a virtual debtor answers: whether a call is picked up (their line, their persona's hour,
//! robot tolerance), who picks up, and what they say (willingness, ability, temperament and
//! the tone of the script). Each contact is an event named by the debtor, the day and the
//! attempt's number that day, so the answer does not depend on the order contacts are made in.

use daylight_domain::attempt::{Channel, Outcome};
use daylight_domain::customer::Recipient;
use daylight_strategy::document::Tone;

use crate::population::{Debtor, Line, Temperament};
use crate::rng::{Stream, logistic, uniform};

/// A contact the twin is asked to answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contact {
    /// Its channel.
    pub channel: Channel,
    /// Who it is addressed to.
    pub recipient: Recipient,
    /// The debtor's local hour (0–23).
    pub hour: u8,
    /// The script's tone, if it has one.
    pub tone: Option<Tone>,
    /// Contacts made to this debtor earlier today (0 for the first).
    pub earlier_today: u32,
    /// Conversations with the debtor in the last 30 days (pressure builds on them).
    pub recent_conversations: u32,
}

/// What came of a contact, and what the debtor will do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// As a collector (or the robot, or the SMS gateway) records it.
    pub outcome: Outcome,
    /// The debtor complains about this contact (to the bank or a regulator).
    pub complaint: bool,
}

/// P(a debtor with this line has their phone on today).
const FLAKY_ON: f64 = 0.55;
/// The personas' answering profiles are shapes; this scales them to the level of the world
/// (calibrated: the baseline strategy's daily contact rate near the 12 % the requirements
/// report; docs/twin.md).
pub const PICK_UP_SCALE: f64 = 0.72;
/// P(someone else picks up the debtor's phone | it is picked up).
const THIRD_PARTY_PICKS_UP: f64 = 0.04;

fn tone_index(t: Tone) -> usize {
    Tone::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

/// The debtor's answer to `c` on day `day` (days since the simulation began).
pub fn answer(seed: u64, i: u64, d: &Debtor, day: u32, c: Contact) -> Answer {
    let key = u64::from(day) << 16 | u64::from(c.earlier_today.min(0xffff));
    let u = |k: u64| uniform(seed, Stream::Answer, i, key.wrapping_mul(16).wrapping_add(k));
    let h = &d.hidden;
    let quiet = Answer { outcome: Outcome::NoAnswer, complaint: false };
    match c.channel {
        Channel::Sms | Channel::Email => {
            let delivered = c.channel == Channel::Email || matches!(h.line, Line::Valid | Line::Flaky);
            return Answer {
                outcome: if delivered { Outcome::Delivered } else { Outcome::Undelivered },
                complaint: false,
            };
        }
        Channel::Letter => return Answer { outcome: Outcome::Sent, complaint: false },
        Channel::Visit => {
            let home = u(0) < 0.5;
            return Answer {
                outcome: if home { Outcome::Visited } else { Outcome::NotHome },
                complaint: false,
            };
        }
        Channel::Call | Channel::RobotCall => {}
    }
    let night = c.hour < 8 || c.hour >= 21;
    if c.recipient != Recipient::Debtor {
        // Related people pick up more readily than debtors do; the twin counts their calls
        // but says nothing about the debt to them. A debtor whose family or guarantor is
        // called may complain (harassment of third parties), the anti-collection most.
        let picked = u(1) < 0.35;
        if !picked {
            return quiet;
        }
        let odds = match h.temperament {
            Temperament::AntiCollection => 0.15,
            Temperament::Abusive => 0.05,
            Temperament::Anxious => 0.03,
            Temperament::Calm => 0.01,
        } * if night { 4.0 } else { 1.0 };
        return Answer { outcome: Outcome::ThirdPartyAnswered, complaint: u(12) < odds };
    }
    match h.line {
        Line::Invalid => return Answer { outcome: Outcome::InvalidNumber, complaint: false },
        Line::Suspended => return Answer { outcome: Outcome::Suspended, complaint: false },
        Line::Flaky if uniform(seed, Stream::Answer, i, u64::from(day) << 20) >= FLAKY_ON => {
            return Answer { outcome: Outcome::PoweredOff, complaint: false };
        }
        _ => {}
    }
    // Repeated calls the same day are answered less and less.
    let fatigue = 0.75f64.powi(i32::try_from(c.earlier_today).unwrap_or(i32::MAX));
    let mut pick_up = PICK_UP_SCALE * h.persona.answering()[usize::from(c.hour.min(23))] * fatigue;
    if c.channel == Channel::RobotCall {
        pick_up *= h.robot_tolerance;
    }
    let r = u(2);
    if r >= pick_up {
        return if u(3) < 0.08 { Answer { outcome: Outcome::Busy, complaint: false } } else { quiet };
    }
    if u(4) < THIRD_PARTY_PICKS_UP {
        return Answer { outcome: Outcome::ThirdPartyAnswered, complaint: false };
    }
    // A conversation: what is said.
    let pressure = matches!(c.tone, Some(Tone::Firm | Tone::LegalNotice));
    let complaint_odds = match h.temperament {
        Temperament::AntiCollection => 0.05 + if pressure { 0.25 } else { 0.0 },
        Temperament::Abusive => 0.03,
        Temperament::Anxious => 0.01 + if pressure { 0.03 } else { 0.0 },
        Temperament::Calm => 0.002,
    } * (1.0 + 0.5 * f64::from(c.recent_conversations) + if night { 3.0 } else { 0.0 });
    let complaint = u(5) < complaint_odds.min(0.9);
    if h.temperament == Temperament::Abusive && u(6) < 0.35 {
        return Answer { outcome: Outcome::Abusive, complaint };
    }
    if h.temperament == Temperament::AntiCollection && pressure && u(7) < 0.3 {
        return Answer { outcome: Outcome::CeaseRequest, complaint };
    }
    if h.ability < 0.15 && u(8) < 0.6 {
        return Answer { outcome: Outcome::Hardship, complaint };
    }
    if u(9) < 0.02 {
        return Answer { outcome: Outcome::Dispute, complaint };
    }
    let tone = c.tone.map_or(1.0, |t| h.tone[tone_index(t)]);
    let odds = (h.willingness / (1.0 - h.willingness).max(1e-9)) * tone * (0.3 + 0.7 * h.ability);
    let promise = logistic(odds.ln() - 0.4);
    let outcome = if u(10) < promise {
        Outcome::PromiseToPay
    } else if u(11) < 0.5 {
        Outcome::Refused
    } else {
        Outcome::Conversation
    };
    Answer { outcome, complaint }
}
