//! A case's facts as the others read them: the segmenter's [`CaseFacts`], the compliance
//! engine's request and contacts, the models' [`DebtorHistory`], the case's weight and the
//! contact point a channel uses.

use daylight_compliance::{Contact, ContactFacts, DebtFacts, PointFacts, PointStatus, Request};
use daylight_domain::attempt::{Channel, Outcome};
use daylight_domain::customer::{ContactKind, ContactStatus, Recipient};
use daylight_domain::history::{AccountPath, AttemptFact, DebtorHistory, PaymentFact, PromiseFact};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::{PastContact, PlanCase, PlanError, Point, perr};
use crate::document::{Move, Step};
use crate::segment::CaseFacts;

/// Days a hardship or abuse outcome of a call keeps routing the debtor (a tag lasts until
/// cleared).
pub const SIGNAL_DAYS: i64 = 90;

pub(super) fn facts(c: &PlanCase, zone: TimeZone, date: Date) -> CaseFacts {
    let since = date
        .checked_sub(jiff::Span::new().days(SIGNAL_DAYS))
        .ok()
        .and_then(|d| d.to_zoned(zone).ok())
        .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp());
    let heard = |o: Outcome| c.contacts.iter().any(|a| a.at >= since && a.outcome == Some(o));
    let dials: Vec<&PastContact> = c
        .contacts
        .iter()
        .filter(|a| a.channel.is_call() && a.recipient == Recipient::Debtor && a.outcome.is_some())
        .collect();
    let conversations =
        dials.iter().filter(|a| a.outcome.is_some_and(|o| o == Outcome::Conversation)).count();
    let last = c.contacts.last().map_or(Timestamp::UNIX_EPOCH, |a| a.at);
    let cutoff = last.max(c.payments.last().map_or(Timestamp::UNIX_EPOCH, |p| p.0))
        - SignedDuration::from_hours(24 * 90);
    CaseFacts {
        case: c.case.clone(),
        customer: c.customer.clone(),
        bucket: c.bucket,
        dpd: c.dpd,
        overdue_fen: c.overdue_fen,
        propensity: None,
        dials: u32::try_from(dials.len()).unwrap_or(u32::MAX),
        conversations: u32::try_from(conversations).unwrap_or(u32::MAX),
        promises_kept: c.promises.iter().filter(|p| p.kept).count() as u32,
        promises_broken: c.promises.iter().filter(|p| p.broken).count() as u32,
        promises: c.promises.len() as u32,
        payments_90d: c.payments.iter().filter(|p| p.0 >= cutoff).count() as u32,
        hardship: c.hardship || heard(Outcome::Hardship),
        abusive: c.abusive || heard(Outcome::Abusive),
        anxious: c.anxious,
    }
}

/// Days between the case's last contact on the step's channel (to the step's recipient) and
/// the planned date, in the debtor's zone.
pub(super) fn days_since(c: &PlanCase, zone: &TimeZone, step: &Step, date: Date) -> Option<u32> {
    let last = c
        .contacts
        .iter()
        .filter(|a| Move::Contact(a.channel) == step.action && a.recipient == step.recipient)
        .map(|a| a.at)
        .max()?;
    let day = last.to_zoned(zone.clone()).date();
    let days = (date - day).get_days();
    u32::try_from(days).ok()
}

pub(super) fn weight(c: &PlanCase) -> f64 {
    let yuan = c.overdue_fen.max(0) as f64 / 100.0;
    (1.0 + yuan).ln() * (1.0 + c.bucket.rank() as f64 / 7.0)
}

pub(super) fn pick_point(c: &PlanCase, channel: Channel, recipient: Recipient) -> Option<String> {
    let kind = match channel {
        Channel::Call | Channel::RobotCall | Channel::Sms => ContactKind::Phone,
        Channel::Email => ContactKind::Email,
        Channel::Letter | Channel::Visit => ContactKind::Address,
    };
    let reached = |id: &str| {
        c.contacts
            .iter()
            .any(|a| a.contact_point.as_deref() == Some(id) && a.outcome == Some(Outcome::Conversation))
    };
    c.points
        .iter()
        .filter(|p| {
            p.recipient == recipient
                && p.kind == kind
                && !matches!(p.status, ContactStatus::Invalid | ContactStatus::Suspended)
        })
        .min_by_key(|p| (!reached(&p.id), p.status != ContactStatus::Valid, p.id.clone()))
        .map(|p| p.id.clone())
}

/// The compliance request for a contact of case `c` on `date`, built from the case's facts by
/// [`daylight_compliance::request_for`], the function the gate builds its own with. The
/// request's `at` is left for the caller (each slot of the day is put to the pack).
pub fn request_of(
    c: &PlanCase,
    channel: Channel,
    recipient: Recipient,
    point: &str,
    date: Date,
) -> Result<Request, PlanError> {
    let bad = |e: daylight_compliance::FactsError| perr("PLAN_INPUT", format!("case {}: {e}", c.case));
    let zone =
        TimeZone::get(&c.zone).map_err(|_| bad(daylight_compliance::FactsError::Zone(c.zone.clone())))?;
    let noon = date.at(12, 0, 0, 0).to_zoned(zone).map_err(|e| perr("PLAN_INPUT", e.to_string()))?;
    let points: Vec<PointFacts<'_>> = c.points.iter().map(point_facts).collect();
    let debts: Vec<DebtFacts<'_>> = match (&c.account, c.statement_day) {
        (Some(id), Some(day)) => vec![DebtFacts { id, days_past_due: i64::from(c.dpd), statement_day: day }],
        _ => Vec::new(),
    };
    daylight_compliance::request_for(ContactFacts {
        at: noon.timestamp(),
        channel,
        recipient,
        debtor_zone: &c.zone,
        points: &points,
        point: Some(point),
        debts: &debts,
        debt: None,
        flags: daylight_compliance::Flags {
            cease: c.cease,
            opt_out: c.opt_out.iter().copied().collect(),
            consented_hours: c.consented_hours,
        },
        // A plan never proposes a third party; the gate reads a confirmation when one is called.
        third_party_confirmed: false,
        case_closed: false,
        same_number: Vec::new(),
        // A plan's contacts are judged as a collector's; the gate judges a robot's own.
        unattended: false,
    })
    .map_err(bad)
}

/// A contact point as the request needs it.
pub(super) fn point_facts(p: &Point) -> PointFacts<'_> {
    let status = match (p.status, p.status_since) {
        (ContactStatus::Invalid | ContactStatus::Suspended, since) => {
            Some(PointStatus { status: p.status, since: since.unwrap_or(Timestamp::UNIX_EPOCH) })
        }
        (ContactStatus::PoweredOff, Some(since)) => Some(PointStatus { status: p.status, since }),
        _ => None,
    };
    PointFacts { id: &p.id, recipient: p.recipient, kind: p.kind, zone: p.zone.as_deref(), status }
}

/// An earlier contact as the compliance engine counts it.
pub fn contact_of(a: &PastContact) -> Contact {
    Contact {
        at: a.at,
        channel: a.channel,
        recipient: a.recipient,
        contact_point: a.contact_point.clone(),
        debt: a.debt.clone(),
        outcome: a.outcome,
    }
}

pub(super) fn history_of(c: &PlanCase, zone: &TimeZone) -> DebtorHistory {
    let mut h = DebtorHistory {
        case: c.case.clone(),
        zone: zone.clone(),
        birth_date: c.birth_date,
        credit_limit: c.credit_limit_fen,
        accounts: vec![AccountPath { now: c.bucket, moves: Vec::new() }],
        attempts: c
            .contacts
            .iter()
            .filter_map(|a| {
                Some(AttemptFact {
                    at: a.at,
                    channel: a.channel,
                    recipient: a.recipient,
                    outcome: a.outcome?,
                    duration_secs: a.duration_secs,
                })
            })
            .collect(),
        payments: c.payments.iter().map(|(at, amount)| PaymentFact { at: *at, amount: *amount }).collect(),
        promises: c
            .promises
            .iter()
            .map(|p| PromiseFact {
                created_at: p.created_at,
                settled_at: p.settled_at,
                kept: p.kept,
                broken: p.broken,
            })
            .collect(),
    };
    h.sort();
    h
}
