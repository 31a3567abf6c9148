//! What a debtor agrees to and what the bank concedes: promises to pay, repayment plans
//! (arrangements, 个性化分期) and waivers (减免).
//!
//! Plans and waivers need approval by someone other than the person who proposed them (four
//! eyes); promises are locked by the collector who took them. Each has a small lifecycle.

use std::fmt;

use jiff::civil::Date;
use jiff::{SignedDuration, Span, Timestamp};

use crate::account::Component;
use crate::error::{Code, Invalid, Valid};
use crate::money::Money;
use crate::vocabulary;

/// `next` when the lifecycle allows it, else a `TRANSITION` error naming both states.
fn transition<S: fmt::Display + Copy>(what: &str, from: S, next: S, allowed: bool) -> Valid<S> {
    if allowed {
        Ok(next)
    } else {
        Err(Invalid::new(Code::Transition, format!("a {what} cannot go from {from} to {next}")))
    }
}

/// Refuses an approval by the person who asked for it.
pub fn check_approver(requested_by: &str, decided_by: &str) -> Valid<()> {
    if requested_by == decided_by {
        return Err(Invalid::new(
            Code::SelfApproval,
            format!("{decided_by} proposed this and cannot also approve it; another approver must decide"),
        ));
    }
    Ok(())
}

vocabulary! {
    /// Where a promise to pay stands.
    pub enum PromiseStatus ("promise status") {
        /// Due date not reached.
        Pending = "pending",
        /// Paid in full by the due time.
        Kept = "kept",
        /// Not paid by the due time: escalate at once.
        Broken = "broken",
        /// Withdrawn (e.g. replaced by a repayment plan).
        Cancelled = "cancelled",
    }
}

impl PromiseStatus {
    /// `next` if a promise may move there: only a pending promise is settled.
    pub fn become_(self, next: PromiseStatus) -> Valid<PromiseStatus> {
        let ok = self == PromiseStatus::Pending && next != PromiseStatus::Pending;
        transition("promise", self, next, ok)
    }
}

/// The longest a promise to pay may run; anything longer is a repayment plan (the money policy
/// may set less: [`crate::bounds::MoneyPolicy::check_promise`]).
pub const MAX_PROMISE_DAYS: i64 = 90;

/// The reminder goes out this long before a promise falls due.
pub const PROMISE_REMINDER_LEAD: SignedDuration = SignedDuration::from_hours(24);

/// How many promises may be pending at once on one account (or, for a promise that names no
/// account, on the case): one, as collection floors work — a second promise replaces the first
/// (settle or cancel it first).
pub const PENDING_PROMISES_PER_ACCOUNT: u32 = 1;

/// A promise against what the debtor owes and the promises already pending: at most what is
/// owed (`owed` in the promise's currency), and no more pending than `pending_allowed`.
pub fn check_promise_bounds(amount: Money, owed: Money, pending: u32, pending_allowed: u32) -> Valid<()> {
    if amount.minor > owed.minor {
        return Err(Invalid::new(
            Code::PromiseOverOwed,
            format!("a promise is at most what is owed ({owed}); {amount} is more"),
        ));
    }
    if pending >= pending_allowed {
        return Err(Invalid::new(
            Code::PromisePending,
            format!(
                "{pending} promise(s) already pending: keep, break or cancel it before a new one (at most {pending_allowed} at once)"
            ),
        ));
    }
    Ok(())
}

/// When to remind the debtor of a promise: 24 hours before it falls due.
pub fn promise_reminder_at(due_at: Timestamp) -> Timestamp {
    due_at - PROMISE_REMINDER_LEAD
}

vocabulary! {
    /// Where a repayment plan stands.
    pub enum ArrangementStatus ("arrangement status") {
        /// Waiting for approval.
        Proposed = "proposed",
        /// Approved and running.
        Approved = "approved",
        /// Refused by the approver.
        Rejected = "rejected",
        /// Every instalment paid.
        Completed = "completed",
        /// An instalment missed beyond tolerance.
        Broken = "broken",
        /// Withdrawn before completion.
        Cancelled = "cancelled",
    }
}

impl ArrangementStatus {
    /// `next` if a plan may move there.
    pub fn become_(self, next: ArrangementStatus) -> Valid<ArrangementStatus> {
        use ArrangementStatus::*;
        let ok = matches!(
            (self, next),
            (Proposed, Approved | Rejected | Cancelled) | (Approved, Completed | Broken | Cancelled)
        );
        transition("repayment plan", self, next, ok)
    }
}

/// Most instalments a plan may have: five years (商业银行信用卡业务监督管理办法 art. 70).
pub const MAX_INSTALMENTS: u32 = 60;
/// Highest monthly fee rate accepted, in basis points of the plan total (2 % a month).
pub const MAX_MONTHLY_FEE_BP: u32 = 200;

/// The terms a collector proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrangementTerms {
    /// The amount the plan repays.
    pub total: Money,
    /// Number of monthly instalments, 1–60.
    pub instalments: u32,
    /// Monthly fee in basis points of `total` (60 = 0.60 % a month), charged with each instalment.
    pub monthly_fee_bp: u32,
    /// Due date of the first instalment; the rest fall on the same day of later months (the
    /// last day of a shorter month).
    pub first_due: Date,
}

/// One instalment of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    /// 1-based.
    pub number: u32,
    /// Due date.
    pub due: Date,
    /// Part of the plan total.
    pub principal: Money,
    /// The month's fee.
    pub fee: Money,
}

impl ArrangementTerms {
    /// Checks the limits: a positive total, 1–60 instalments, a fee within
    /// [`MAX_MONTHLY_FEE_BP`].
    pub fn check(&self) -> Valid<()> {
        if self.total.minor <= 0 {
            return Err(Invalid::new(Code::Arrangement, "a plan must repay an amount above zero"));
        }
        if !(1..=MAX_INSTALMENTS).contains(&self.instalments) {
            return Err(Invalid::new(
                Code::Arrangement,
                format!(
                    "a plan has 1–{MAX_INSTALMENTS} instalments (at most five years), not {}",
                    self.instalments
                ),
            ));
        }
        if self.monthly_fee_bp > MAX_MONTHLY_FEE_BP {
            return Err(Invalid::new(
                Code::Arrangement,
                format!(
                    "a monthly fee of {} bp is above the {MAX_MONTHLY_FEE_BP} bp limit",
                    self.monthly_fee_bp
                ),
            ));
        }
        Ok(())
    }

    /// The schedule: the total split evenly in minor units (the first instalments carry the
    /// remainder, one unit each) and the monthly fee rounded half up.
    pub fn schedule(&self) -> Valid<Vec<Instalment>> {
        self.check()?;
        let n = i64::from(self.instalments);
        let base = self.total.minor / n;
        let remainder = self.total.minor % n;
        let fee = (i128::from(self.total.minor) * i128::from(self.monthly_fee_bp) + 5_000) / 10_000;
        let fee = Money::new(
            i64::try_from(fee).map_err(|_| Invalid::new(Code::AmountRange, "fee out of range"))?,
            self.total.currency,
        );
        (0..self.instalments)
            .map(|i| {
                let due = self
                    .first_due
                    .checked_add(Span::new().months(i64::from(i)))
                    .map_err(|_| Invalid::new(Code::Arrangement, "instalment date out of range"))?;
                let extra = i64::from(i64::from(i) < remainder);
                Ok(Instalment {
                    number: i + 1,
                    due,
                    principal: Money::new(base + extra, self.total.currency),
                    fee,
                })
            })
            .collect()
    }

    /// The total of fees over the plan.
    pub fn total_fees(&self) -> Valid<Money> {
        let schedule = self.schedule()?;
        schedule.iter().try_fold(Money::zero(self.total.currency), |acc, i| acc.checked_add(i.fee))
    }
}

vocabulary! {
    /// Where a waiver request stands.
    pub enum WaiverStatus ("waiver status") {
        /// Waiting for approval.
        Requested = "requested",
        /// Approved: the amount is waived.
        Approved = "approved",
        /// Refused.
        Rejected = "rejected",
    }
}

impl WaiverStatus {
    /// `next` if a waiver may move there: only a request is decided.
    pub fn become_(self, next: WaiverStatus) -> Valid<WaiverStatus> {
        let ok = self == WaiverStatus::Requested && next != WaiverStatus::Requested;
        transition("waiver", self, next, ok)
    }
}

/// Checks a waiver: a positive amount that fits in the overdue part it reduces once the
/// waivers already committed on that part (`committed`: requested, or approved but not yet in
/// the bank's figures) are taken off.
pub fn check_waiver(component: Component, amount: Money, overdue_part: Money, committed: Money) -> Valid<()> {
    if amount.minor <= 0 {
        return Err(Invalid::new(Code::AmountRange, "a waiver must be above zero"));
    }
    if amount.currency != overdue_part.currency || committed.currency != overdue_part.currency {
        return Err(Invalid::new(Code::CurrencyMismatch, "a waiver must be in the account's currency"));
    }
    let room = overdue_part.minor - committed.minor;
    if amount.minor > room {
        return Err(Invalid::new(
            Code::AmountRange,
            format!(
                "a waiver of {} exceeds what can still be waived of the overdue {component}: {} of {} ({} already requested or approved)",
                amount.decimal(),
                Money::new(room.max(0), amount.currency).decimal(),
                overdue_part.decimal(),
                committed.decimal()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::Cny)
    }

    #[test]
    fn schedule_splits_exactly_and_clamps_month_ends() {
        let terms = ArrangementTerms {
            total: cny(100_001),
            instalments: 3,
            monthly_fee_bp: 60,
            first_due: Date::new(2026, 1, 31).unwrap(),
        };
        let s = terms.schedule().unwrap();
        let principal: i64 = s.iter().map(|i| i.principal.minor).sum();
        assert_eq!(principal, 100_001);
        assert_eq!(s[0].principal, cny(33_334));
        assert_eq!(s[1].principal, cny(33_334));
        assert_eq!(s[2].principal, cny(33_333));
        assert_eq!(s[0].fee, cny(600)); // 100001 × 0.6 % = 600.006 → 600
        assert_eq!(s[1].due, Date::new(2026, 2, 28).unwrap());
        assert_eq!(s[2].due, Date::new(2026, 3, 31).unwrap());
        assert_eq!(terms.total_fees().unwrap(), cny(1_800));
    }

    #[test]
    fn plans_are_at_most_five_years() {
        let mut t = ArrangementTerms {
            total: cny(6_000_000),
            instalments: 60,
            monthly_fee_bp: 0,
            first_due: Date::new(2026, 5, 10).unwrap(),
        };
        assert_eq!(t.schedule().unwrap().len(), 60);
        t.instalments = 61;
        assert_eq!(t.schedule().unwrap_err().code, Code::Arrangement);
        t.instalments = 0;
        assert_eq!(t.check().unwrap_err().code, Code::Arrangement);
        t.instalments = 12;
        t.monthly_fee_bp = 201;
        assert_eq!(t.check().unwrap_err().code, Code::Arrangement);
    }

    #[test]
    fn lifecycles() {
        assert_eq!(PromiseStatus::Pending.become_(PromiseStatus::Kept), Ok(PromiseStatus::Kept));
        assert_eq!(PromiseStatus::Kept.become_(PromiseStatus::Broken).unwrap_err().code, Code::Transition);
        assert!(ArrangementStatus::Proposed.become_(ArrangementStatus::Approved).is_ok());
        assert!(ArrangementStatus::Rejected.become_(ArrangementStatus::Approved).is_err());
        assert!(WaiverStatus::Requested.become_(WaiverStatus::Rejected).is_ok());
        assert!(WaiverStatus::Approved.become_(WaiverStatus::Rejected).is_err());
        assert_eq!(check_approver("E001", "E001").unwrap_err().code, Code::SelfApproval);
        assert_eq!(check_approver("E001", "L001"), Ok(()));
    }

    #[test]
    fn promises_and_waivers() {
        let due: Timestamp = "2026-03-06T07:00:00Z".parse().unwrap();
        assert_eq!(promise_reminder_at(due), "2026-03-05T07:00:00Z".parse().unwrap());
        assert_eq!(check_waiver(Component::LateFees, cny(500), cny(500), cny(0)), Ok(()));
        assert_eq!(
            check_waiver(Component::LateFees, cny(501), cny(500), cny(0)).unwrap_err().code,
            Code::AmountRange
        );
        assert_eq!(check_waiver(Component::LateFees, cny(300), cny(500), cny(200)), Ok(()));
        let e = check_waiver(Component::LateFees, cny(301), cny(500), cny(200)).unwrap_err();
        assert!(e.message.contains("3.00 of 5.00 (2.00 already"), "{}", e.message);
    }
}
