//! The one place a contact's [`Request`] is built from the facts of the debtor.
//!
//! The planner, the store's gate, the console's "can call now" and every dialer ask the pack
//! about a contact; each gathers the facts its own way (the planner from its input, the gate in
//! its transaction) and hands them to [`request_for`], so the same facts always make the same
//! request and so the same verdict. Which account a contact is about when the caller names
//! none ([`contact_debt`]), which cycle its caps count in, which zones must allow the hour and
//! which numbers are the debtor's are decided here and nowhere else.

use daylight_domain::attempt::Channel;
use daylight_domain::customer::{ContactKind, Recipient};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::eval::{Contact, Flags, PointStatus, Request, statement_anchor};

/// One of the debtor's contact points, as a request needs it.
#[derive(Debug, Clone, Copy)]
pub struct PointFacts<'a> {
    /// Its id.
    pub id: &'a str,
    /// Who answers it (from its owner's role).
    pub recipient: Recipient,
    /// Phone, e-mail or address.
    pub kind: ContactKind,
    /// The owner's zone when it differs from the debtor's.
    pub zone: Option<&'a str>,
    /// What screening and outcomes found of it.
    pub status: Option<PointStatus>,
}

/// One of the debtor's accounts, as a request needs it.
#[derive(Debug, Clone, Copy)]
pub struct DebtFacts<'a> {
    /// The account's id.
    pub id: &'a str,
    /// Days past due: contacts are about the worst account.
    pub days_past_due: i64,
    /// The statement day: the cycle a contact's caps count in.
    pub statement_day: i8,
}

impl DebtFacts<'_> {
    /// Whether `self` is the one contacts are about rather than `other`: more days past due,
    /// then the lower id.
    pub fn is_worse_than(&self, other: &DebtFacts<'_>) -> bool {
        self.days_past_due > other.days_past_due
            || (self.days_past_due == other.days_past_due && self.id < other.id)
    }
}

/// The account a contact is about: the one named, else the worst of the debtor's
/// ([`DebtFacts::is_worse_than`]). `None` when the debtor has no account.
pub fn contact_debt<'a>(debts: &'a [DebtFacts<'a>], named: Option<&str>) -> Option<&'a DebtFacts<'a>> {
    match named {
        Some(id) => debts.iter().find(|d| d.id == id),
        None => debts.iter().fold(None, |worst: Option<&DebtFacts<'_>>, d| match worst {
            Some(w) if !d.is_worse_than(w) => Some(w),
            _ => Some(d),
        }),
    }
}

/// Everything a contact is judged by, gathered by the caller.
#[derive(Debug, Clone)]
pub struct ContactFacts<'a> {
    /// When the contact is (or was) made.
    pub at: Timestamp,
    /// How.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// The debtor's IANA zone.
    pub debtor_zone: &'a str,
    /// Every contact point kept for the debtor.
    pub points: &'a [PointFacts<'a>],
    /// The one used, when the contact uses one.
    pub point: Option<&'a str>,
    /// Every account of the debtor.
    pub debts: &'a [DebtFacts<'a>],
    /// The account the caller names; `None`: the worst ([`contact_debt`]).
    pub debt: Option<&'a str>,
    /// The debtor's flags.
    pub flags: Flags,
    /// A team lead's approval of a call to this third party is in force (read by the gate).
    pub third_party_confirmed: bool,
    /// The case is closed.
    pub case_closed: bool,
    /// Contacts through the same physical number outside this point's own record.
    pub same_number: Vec<Contact>,
    /// No collector is on the line when the recipient answers (a robot, a predictive dialler).
    pub unattended: bool,
}

/// Why facts do not make a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactsError {
    /// The contact point is not one of the debtor's.
    UnknownPoint(String),
    /// The contact point belongs to someone other than the recipient named.
    WrongRecipient {
        /// The point.
        point: String,
        /// Who answers it.
        owner: Recipient,
    },
    /// The account is not one of the debtor's.
    UnknownDebt(String),
    /// A zone is not an IANA zone.
    Zone(String),
}

impl std::fmt::Display for FactsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FactsError::UnknownPoint(p) => write!(f, "contact point {p} is not kept for this debtor"),
            FactsError::WrongRecipient { point, owner } => {
                write!(f, "contact point {point} is answered by the {owner}, so the recipient is the {owner}")
            }
            FactsError::UnknownDebt(a) => write!(f, "account {a} is not this debtor's"),
            FactsError::Zone(z) => write!(f, "time zone {z:?} is not an IANA zone"),
        }
    }
}

impl std::error::Error for FactsError {}

/// The request for the contact `f` describes:
/// - the zones: the debtor's, then the point owner's when it differs (each must allow the hour);
/// - the debt: the one named or the worst, and the cycle its statement day starts;
/// - the debtor's own phones (for "every debtor number is invalid");
/// - the point's status, the flags, the third-party confirmation, the case's closure and the
///   contacts through the same number.
pub fn request_for(f: ContactFacts<'_>) -> Result<Request, FactsError> {
    let point = match f.point {
        Some(id) => {
            Some(f.points.iter().find(|p| p.id == id).ok_or_else(|| FactsError::UnknownPoint(id.into()))?)
        }
        None => None,
    };
    if let Some(p) = point
        && p.recipient != f.recipient
    {
        return Err(FactsError::WrongRecipient { point: p.id.into(), owner: p.recipient });
    }
    let mut names = vec![f.debtor_zone];
    if let Some(z) = point.and_then(|p| p.zone)
        && z != f.debtor_zone
    {
        names.push(z);
    }
    let zones = names
        .iter()
        .map(|z| TimeZone::get(z).map_err(|_| FactsError::Zone((*z).to_owned())))
        .collect::<Result<Vec<_>, _>>()?;
    let debt = match f.debt {
        Some(id) => Some(contact_debt(f.debts, Some(id)).ok_or_else(|| FactsError::UnknownDebt(id.into()))?),
        None => contact_debt(f.debts, None),
    };
    let local = f.at.to_zoned(zones[0].clone()).date();
    let mut req = Request::new(f.channel, f.recipient, zones).map_err(|_| FactsError::Zone(String::new()))?;
    req.at = Some(f.at);
    req.debt = debt.map(|d| d.id.to_owned());
    req.cycle_start = debt.map(|d| statement_anchor(d.statement_day, local));
    req.contact_point = point.map(|p| p.id.to_owned());
    req.point_status = point.and_then(|p| p.status);
    req.debtor_contact_points = f
        .points
        .iter()
        .filter(|p| p.recipient == Recipient::Debtor && p.kind == ContactKind::Phone)
        .map(|p| p.id.to_owned())
        .collect();
    req.flags = f.flags;
    req.confirmed_third_party = f.third_party_confirmed;
    req.case_closed = f.case_closed;
    req.same_number = f.same_number;
    req.unattended = f.unattended;
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debt(id: &'static str, dpd: i64, day: i8) -> DebtFacts<'static> {
        DebtFacts { id, days_past_due: dpd, statement_day: day }
    }

    #[test]
    fn contacts_are_about_the_worst_account_unless_one_is_named() {
        let debts = [debt("A2", 40, 5), debt("A1", 40, 20), debt("A3", 10, 9)];
        assert_eq!(contact_debt(&debts, None).unwrap().id, "A1");
        assert_eq!(contact_debt(&debts, Some("A3")).unwrap().id, "A3");
        assert!(contact_debt(&debts, Some("A9")).is_none());
        assert!(contact_debt(&[], None).is_none());
    }

    #[test]
    fn the_cycle_is_the_debts_whatever_the_other_accounts() {
        let points = [PointFacts {
            id: "p1",
            recipient: Recipient::Debtor,
            kind: ContactKind::Phone,
            zone: None,
            status: None,
        }];
        let debts = [debt("A1", 90, 5), debt("A2", 30, 20)];
        let facts = |named| ContactFacts {
            at: "2026-03-03T02:00:00Z".parse().unwrap(),
            channel: Channel::Call,
            recipient: Recipient::Debtor,
            debtor_zone: "Asia/Shanghai",
            points: &points,
            point: Some("p1"),
            debts: &debts,
            debt: named,
            flags: Flags::default(),
            third_party_confirmed: false,
            case_closed: false,
            same_number: Vec::new(),
            unattended: false,
        };
        let worst = request_for(facts(None)).unwrap();
        assert_eq!(worst.debt.as_deref(), Some("A1"));
        assert_eq!(worst.cycle_start.unwrap().to_string(), "2026-02-05");
        let named = request_for(facts(Some("A2"))).unwrap();
        assert_eq!(named.cycle_start.unwrap().to_string(), "2026-02-20");
        assert_eq!(named.debtor_contact_points, vec!["p1".to_owned()]);
        assert_eq!(request_for(facts(Some("A9"))).unwrap_err(), FactsError::UnknownDebt("A9".into()));
        let mut wrong = facts(None);
        wrong.recipient = Recipient::Guarantor;
        assert!(matches!(request_for(wrong), Err(FactsError::WrongRecipient { .. })));
    }
}
