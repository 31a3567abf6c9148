//! The money policy: the bounds on promises, repayment plans and waivers, and the waiver
//! approval matrix. It is the `[money]` table of the policy pack in force (every table and key
//! optional; what is left out keeps the default below), so a bank sets it with its compliance
//! rules and every path (console, API, command line) judges by the same figures.
//!
//! ```toml
//! [money]
//! promise_max_days = 90          # longer is a repayment plan
//! pending_promises_per_account = 1
//! plan_max_instalments = 60      # never above 60 (five years)
//! plan_first_due_within_days = 30
//! plan_max_monthly_fee_bp = 200
//! waiver_two_approvers_above_fen = 500000   # ¥5,000: a second approver above this
//!
//! [[money.waiver_authority]]       # the defaults: team leads only
//! role = "team_lead"
//! max_fen = 2000000              # ¥20,000 per waiver
//! max_share_bp = 5000            # and at most half of the overdue part it reduces
//! ```
//!
//! Roles are those of the console (`team_lead`, `admin`, …); only roles with the approve
//! permission reach the approval queue, so rows for others are inert.

use serde::{Deserialize, Serialize};

use crate::agreement::{
    ArrangementTerms, MAX_INSTALMENTS, MAX_MONTHLY_FEE_BP, MAX_PROMISE_DAYS, PENDING_PROMISES_PER_ACCOUNT,
};
use crate::error::{Code, Invalid, Valid};
use crate::money::Money;

/// What one role may approve of a waiver alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverAuthority {
    /// The role (`team_lead`, `admin`, …).
    pub role: String,
    /// The largest single waiver, fen.
    pub max_fen: i64,
    /// The largest share of the overdue part (principal, interest, fees, late fees) it reduces,
    /// in basis points (10000 = all of it).
    pub max_share_bp: u32,
}

/// The bounds on money a collector may agree and a lead may concede.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoneyPolicy {
    /// Longest a promise may run, days (at most [`MAX_PROMISE_DAYS`]).
    pub promise_max_days: i64,
    /// Promises pending at once on one account (on the case, for one that names none).
    pub pending_promises_per_account: u32,
    /// Most instalments a plan may have (at most [`MAX_INSTALMENTS`]).
    pub plan_max_instalments: u32,
    /// The first instalment falls due within this many days of the proposal.
    pub plan_first_due_within_days: i64,
    /// Highest monthly fee, basis points of the plan total (at most [`MAX_MONTHLY_FEE_BP`]).
    pub plan_max_monthly_fee_bp: u32,
    /// A waiver above this many fen needs two approvers, each within their authority.
    pub waiver_two_approvers_above_fen: i64,
    /// Who may approve which waivers. A role not listed may approve none.
    pub waiver_authority: Vec<WaiverAuthority>,
}

impl Default for MoneyPolicy {
    fn default() -> MoneyPolicy {
        MoneyPolicy {
            promise_max_days: MAX_PROMISE_DAYS,
            pending_promises_per_account: PENDING_PROMISES_PER_ACCOUNT,
            plan_max_instalments: MAX_INSTALMENTS,
            plan_first_due_within_days: 30,
            plan_max_monthly_fee_bp: MAX_MONTHLY_FEE_BP,
            waiver_two_approvers_above_fen: 500_000,
            waiver_authority: vec![WaiverAuthority {
                role: "team_lead".into(),
                max_fen: 2_000_000,
                max_share_bp: 5_000,
            }],
        }
    }
}

fn policy_error(field: &str, message: impl std::fmt::Display) -> Invalid {
    Invalid::new(Code::MoneyPolicy, format!("[money] {field}: {message}"))
}

/// How a waiver stands after one approver's say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaiverVerdict {
    /// Within this approver's authority and needing no one else: approved.
    Approved,
    /// Within this approver's authority but above the two-approver threshold: a second
    /// approver (another person, within their own authority) must approve too.
    NeedsSecond,
}

impl MoneyPolicy {
    /// Checks the policy itself: limits within the law's and the product's, each role once.
    pub fn check(&self) -> Valid<()> {
        if !(1..=MAX_PROMISE_DAYS).contains(&self.promise_max_days) {
            return Err(policy_error("promise_max_days", format!("expected 1–{MAX_PROMISE_DAYS}")));
        }
        if self.pending_promises_per_account == 0 {
            return Err(policy_error("pending_promises_per_account", "expected at least 1"));
        }
        if !(1..=MAX_INSTALMENTS).contains(&self.plan_max_instalments) {
            return Err(policy_error("plan_max_instalments", format!("expected 1–{MAX_INSTALMENTS}")));
        }
        if !(1..=366).contains(&self.plan_first_due_within_days) {
            return Err(policy_error("plan_first_due_within_days", "expected 1–366"));
        }
        if self.plan_max_monthly_fee_bp > MAX_MONTHLY_FEE_BP {
            return Err(policy_error(
                "plan_max_monthly_fee_bp",
                format!("expected at most {MAX_MONTHLY_FEE_BP}"),
            ));
        }
        if self.waiver_two_approvers_above_fen < 0 {
            return Err(policy_error("waiver_two_approvers_above_fen", "expected 0 or more"));
        }
        for (i, a) in self.waiver_authority.iter().enumerate() {
            let at = format!("waiver_authority[{i}]");
            if a.role.trim().is_empty() {
                return Err(policy_error(&at, "role is empty"));
            }
            if self.waiver_authority[..i].iter().any(|b| b.role == a.role) {
                return Err(policy_error(&at, format!("role {} is listed twice", a.role)));
            }
            if a.max_fen < 0 || a.max_share_bp > 10_000 {
                return Err(policy_error(&at, "expected max_fen ≥ 0 and max_share_bp 0–10000"));
            }
        }
        Ok(())
    }

    /// A promise: a positive amount, due after `now` and within
    /// [`MoneyPolicy::promise_max_days`].
    pub fn check_promise(&self, amount: Money, due_at: jiff::Timestamp, now: jiff::Timestamp) -> Valid<()> {
        if amount.minor <= 0 {
            return Err(Invalid::new(Code::AmountRange, "a promised amount must be above zero"));
        }
        if due_at <= now {
            return Err(Invalid::new(Code::Inconsistent, "a promise must fall due in the future"));
        }
        if due_at.duration_since(now) > jiff::SignedDuration::from_hours(24 * self.promise_max_days) {
            return Err(Invalid::new(
                Code::Inconsistent,
                format!(
                    "a promise may run at most {} days; propose a repayment plan instead",
                    self.promise_max_days
                ),
            ));
        }
        Ok(())
    }

    /// A plan's terms against what is owed (`owed`, after approved adjustments) on `today`: the
    /// plan repays exactly what is owed (its fees come on top, declared in the schedule), its
    /// first instalment falls due from today and within the policy's days, and its
    /// instalments and fee are within the policy.
    pub fn check_plan(&self, terms: &ArrangementTerms, owed: Money, today: jiff::civil::Date) -> Valid<()> {
        terms.check()?;
        if terms.instalments > self.plan_max_instalments {
            return Err(Invalid::new(
                Code::Arrangement,
                format!(
                    "the policy allows at most {} instalments, not {}",
                    self.plan_max_instalments, terms.instalments
                ),
            ));
        }
        if terms.monthly_fee_bp > self.plan_max_monthly_fee_bp {
            return Err(Invalid::new(
                Code::Arrangement,
                format!(
                    "the policy allows a monthly fee of at most {} bp, not {}",
                    self.plan_max_monthly_fee_bp, terms.monthly_fee_bp
                ),
            ));
        }
        if terms.total.currency != owed.currency {
            return Err(Invalid::new(
                Code::CurrencyMismatch,
                format!("what is owed is in {}", owed.currency),
            ));
        }
        if terms.total.minor != owed.minor {
            return Err(Invalid::new(
                Code::PlanTotal,
                format!(
                    "a plan repays what is owed, {} (its fees come on top); {} is not that",
                    owed.decimal(),
                    terms.total.decimal()
                ),
            ));
        }
        let days = (terms.first_due - today).get_days();
        if terms.first_due < today || i64::from(days) > self.plan_first_due_within_days {
            return Err(Invalid::new(
                Code::PlanFirstDue,
                format!(
                    "the first instalment falls due from today to {} days ahead, not on {}",
                    self.plan_first_due_within_days, terms.first_due
                ),
            ));
        }
        Ok(())
    }

    /// One approver's say on a waiver of `amount` reducing an overdue part of `part`: within
    /// the authority of `role` (`WAIVER_AUTHORITY` otherwise), and whether a second approver
    /// is needed. `first_approver` is the role of someone who has already approved, if any.
    pub fn judge_waiver(
        &self,
        role: &str,
        amount: Money,
        part: Money,
        first_approver: bool,
    ) -> Valid<WaiverVerdict> {
        let Some(a) = self.waiver_authority.iter().find(|a| a.role == role) else {
            return Err(Invalid::new(
                Code::WaiverAuthority,
                format!("the money policy gives the role {role} no authority to approve waivers"),
            ));
        };
        if amount.minor > a.max_fen {
            return Err(Invalid::new(
                Code::WaiverAuthority,
                format!(
                    "{role} may approve waivers up to {}; this one is {}",
                    Money::new(a.max_fen, amount.currency).decimal(),
                    amount.decimal()
                ),
            ));
        }
        // amount / part ≤ share / 10000, in integers.
        if part.minor <= 0
            || i128::from(amount.minor) * 10_000 > i128::from(part.minor) * i128::from(a.max_share_bp)
        {
            return Err(Invalid::new(
                Code::WaiverAuthority,
                format!(
                    "{role} may waive at most {}.{:02} % of the overdue part ({}); {} is more",
                    a.max_share_bp / 100,
                    a.max_share_bp % 100,
                    part.decimal(),
                    amount.decimal()
                ),
            ));
        }
        if amount.minor > self.waiver_two_approvers_above_fen && !first_approver {
            return Ok(WaiverVerdict::NeedsSecond);
        }
        Ok(WaiverVerdict::Approved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use jiff::civil::date;

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::Cny)
    }

    #[test]
    fn defaults_are_valid_and_bounded() {
        let p = MoneyPolicy::default();
        assert_eq!(p.check(), Ok(()));
        let bad = MoneyPolicy { plan_max_instalments: 61, ..MoneyPolicy::default() };
        assert_eq!(bad.check().unwrap_err().code, Code::MoneyPolicy);
        let twice = MoneyPolicy {
            waiver_authority: vec![
                WaiverAuthority { role: "admin".into(), max_fen: 1, max_share_bp: 1 },
                WaiverAuthority { role: "admin".into(), max_fen: 1, max_share_bp: 1 },
            ],
            ..MoneyPolicy::default()
        };
        assert!(twice.check().unwrap_err().message.contains("waiver_authority[1]"));
    }

    #[test]
    fn money_plan_total_is_what_is_owed() {
        let p = MoneyPolicy::default();
        let today = date(2026, 12, 6);
        let mut t = ArrangementTerms {
            total: cny(2_148_300),
            instalments: 12,
            monthly_fee_bp: 60,
            first_due: date(2026, 12, 20),
        };
        assert_eq!(p.check_plan(&t, cny(2_148_300), today), Ok(()));
        t.total = cny(999_999_900);
        assert_eq!(p.check_plan(&t, cny(2_148_300), today).unwrap_err().code, Code::PlanTotal);
        t.total = cny(2_148_300);
        t.first_due = date(2099, 1, 1);
        assert_eq!(p.check_plan(&t, cny(2_148_300), today).unwrap_err().code, Code::PlanFirstDue);
        t.first_due = date(2026, 12, 5);
        assert_eq!(p.check_plan(&t, cny(2_148_300), today).unwrap_err().code, Code::PlanFirstDue);
        t.first_due = date(2027, 1, 5);
        assert_eq!(p.check_plan(&t, cny(2_148_300), today), Ok(()));
        let short = MoneyPolicy { plan_max_instalments: 24, ..MoneyPolicy::default() };
        t.instalments = 36;
        assert_eq!(short.check_plan(&t, cny(2_148_300), today).unwrap_err().code, Code::Arrangement);
    }

    #[test]
    fn money_waiver_matrix() {
        let p = MoneyPolicy::default();
        // A lead: ¥20,000 and half the part at most; one approver up to ¥5,000.
        assert_eq!(
            p.judge_waiver("team_lead", cny(100_000), cny(400_000), false),
            Ok(WaiverVerdict::Approved)
        );
        assert_eq!(
            p.judge_waiver("team_lead", cny(2_000_001), cny(100_000_000), false).unwrap_err().code,
            Code::WaiverAuthority
        );
        // A 100 % principal waiver is beyond a lead's share.
        assert_eq!(
            p.judge_waiver("team_lead", cny(200_000), cny(200_000), false).unwrap_err().code,
            Code::WaiverAuthority
        );
        assert_eq!(
            p.judge_waiver("collector", cny(1), cny(100), false).unwrap_err().code,
            Code::WaiverAuthority
        );
        // Above ¥5,000: two approvers.
        assert_eq!(
            p.judge_waiver("team_lead", cny(600_000), cny(2_000_000), false),
            Ok(WaiverVerdict::NeedsSecond)
        );
        assert_eq!(
            p.judge_waiver("team_lead", cny(600_000), cny(2_000_000), true),
            Ok(WaiverVerdict::Approved)
        );
        assert_eq!(
            p.judge_waiver("team_lead", cny(1), cny(0), false).unwrap_err().code,
            Code::WaiverAuthority
        );
    }

    #[test]
    fn promise_term_by_policy() {
        let now: jiff::Timestamp = "2026-03-03T02:00:00Z".parse().unwrap();
        let p = MoneyPolicy { promise_max_days: 7, ..MoneyPolicy::default() };
        assert_eq!(p.check_promise(cny(1), "2026-03-09T02:00:00Z".parse().unwrap(), now), Ok(()));
        assert_eq!(
            p.check_promise(cny(1), "2026-03-11T02:00:00Z".parse().unwrap(), now).unwrap_err().code,
            Code::Inconsistent
        );
        // The default policy: the law's 90 days.
        let p = MoneyPolicy::default();
        let due: jiff::Timestamp = "2026-03-06T07:00:00Z".parse().unwrap();
        assert_eq!(p.check_promise(cny(200_000), due, now), Ok(()));
        assert_eq!(p.check_promise(cny(0), due, now).unwrap_err().code, Code::AmountRange);
        assert_eq!(p.check_promise(cny(1), now, now).unwrap_err().code, Code::Inconsistent);
        let far: jiff::Timestamp = "2026-07-01T00:00:00Z".parse().unwrap();
        assert_eq!(p.check_promise(cny(1), far, now).unwrap_err().code, Code::Inconsistent);
    }
}
