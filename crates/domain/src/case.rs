//! Collection cases and notes.
//!
//! One case per customer holds the accounts in collection. Its bucket is the worst bucket of
//! those accounts; its status follows a small state machine ([`CaseStatus::can_become`]):
//! imports open a case when an account goes past due and close it when every account is
//! current again, but never undo a legal referral or a write-off.

use jiff::Timestamp;

use crate::bucket::Bucket;
use crate::error::{Code, Invalid, Valid};
use crate::id::{CaseId, CustomerId};
use crate::vocabulary;

vocabulary! {
    /// Where a case stands.
    pub enum CaseStatus ("case status") {
        /// Being worked.
        Open = "open",
        /// Paid, cured or settled.
        Closed = "closed",
        /// Referred to litigation.
        Legal = "legal",
        /// Written off by the bank; recovery may continue (often through an agency).
        WrittenOff = "written_off",
    }
}

vocabulary! {
    /// Why a case is closed: a fixed list, so reports and audits can count closures by reason.
    pub enum CloseReason ("close reason") {
        /// Everything owed was paid (checked against the accounts when the case closes).
        PaidInFull = "paid_in_full",
        /// Settled for less under an approved plan or waiver.
        Settled = "settled",
        /// Written off by the bank.
        WrittenOff = "written_off",
        /// The debtor died.
        Deceased = "deceased",
        /// A dispute was upheld: the debt is not owed as claimed.
        DisputeUpheld = "dispute_upheld",
        /// Placed elsewhere (sold, or with an agency outside Daylight).
        Placed = "placed",
        /// Handed to litigation outside collections.
        Legal = "legal",
    }
}

/// A change of a case's status with its reason: closing takes a [`CloseReason`]; every change
/// says why in words (kept with the case, its digest in the ledger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The new status.
    pub to: CaseStatus,
    /// Why it closes; only for [`CaseStatus::Closed`].
    pub reason: Option<CloseReason>,
    /// In words.
    pub note: String,
}

impl StatusChange {
    /// A change to `to` with a note and no close reason.
    pub fn new(to: CaseStatus, note: impl Into<String>) -> StatusChange {
        StatusChange { to, reason: None, note: note.into() }
    }

    /// A closure for `reason`.
    pub fn close(reason: CloseReason, note: impl Into<String>) -> StatusChange {
        StatusChange { to: CaseStatus::Closed, reason: Some(reason), note: note.into() }
    }

    /// A closure needs a reason from the list, other changes none; every change needs a note.
    pub fn check(&self) -> Valid<()> {
        if self.note.trim().is_empty() {
            return Err(Invalid::new(Code::Required, "say why the case's status changes"));
        }
        check_note(&self.note)?;
        match (self.to, self.reason) {
            (CaseStatus::Closed, None) => Err(Invalid::new(
                Code::Required,
                format!("a case closes for a reason: one of {}", CloseReason::words()),
            )),
            (to, Some(r)) if to != CaseStatus::Closed => Err(Invalid::new(
                Code::Inconsistent,
                format!("{r} is a reason to close, not to make a case {to}"),
            )),
            _ => Ok(()),
        }
    }
}

impl CaseStatus {
    /// Whether a case may move from `self` to `next`.
    pub fn can_become(self, next: CaseStatus) -> bool {
        use CaseStatus::*;
        matches!(
            (self, next),
            (Open, Closed | Legal | WrittenOff)
                | (Closed, Open)
                | (Legal, Closed | WrittenOff | Open)
                | (WrittenOff, Closed)
        )
    }

    /// `next`, or a `TRANSITION` error naming both.
    pub fn become_(self, next: CaseStatus) -> Valid<CaseStatus> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(Invalid::new(Code::Transition, format!("a case cannot go from {self} to {next}")))
        }
    }

    /// The status an import leaves a case in when its worst account is `dpd` days past due:
    /// past due opens (or reopens) a closed case and a cure closes an open one, while legal and
    /// written-off cases stay where people put them.
    pub fn after_import(current: Option<CaseStatus>, max_dpd: u32) -> CaseStatus {
        match (current, max_dpd) {
            (None | Some(CaseStatus::Closed) | Some(CaseStatus::Open), 0) => CaseStatus::Closed,
            (None | Some(CaseStatus::Closed) | Some(CaseStatus::Open), _) => CaseStatus::Open,
            (Some(kept), _) => kept,
        }
    }
}

/// A customer's collection case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// `CASE-<customer id>`.
    pub id: CaseId,
    /// The debtor.
    pub customer: CustomerId,
    /// Where it stands.
    pub status: CaseStatus,
    /// The worst bucket among the customer's accounts.
    pub bucket: Bucket,
    /// The worst days past due among the customer's accounts.
    pub max_dpd: u32,
    /// The internal team that owns it.
    pub team: Option<String>,
    /// The collector it is assigned to (login).
    pub collector: Option<String>,
    /// The outside agency it is placed with (委案), if any.
    pub agency: Option<String>,
    /// When it was first opened.
    pub opened_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Longest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 4000;

/// A collection note (催记): what happened and what was said, kept for every attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// The case.
    pub case: CaseId,
    /// Who wrote it (login or robot id).
    pub author: String,
    /// When.
    pub at: Timestamp,
    /// The text.
    pub text: String,
    /// The attempt it belongs to, when written about one.
    pub attempt: Option<i64>,
}

/// Checks note text: non-empty and at most [`MAX_NOTE_CHARS`] characters.
pub fn check_note(text: &str) -> Valid<&str> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Invalid::new(Code::Required, "a note needs text"));
    }
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(Invalid::new(Code::TooLong, format!("a note is at most {MAX_NOTE_CHARS} characters")));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        assert!(CaseStatus::Open.can_become(CaseStatus::Legal));
        assert!(CaseStatus::Closed.can_become(CaseStatus::Open));
        assert!(!CaseStatus::WrittenOff.can_become(CaseStatus::Open));
        assert!(!CaseStatus::Open.can_become(CaseStatus::Open));
        let err = CaseStatus::Closed.become_(CaseStatus::Legal).unwrap_err();
        assert_eq!(err.code, Code::Transition);
    }

    #[test]
    fn imports_open_and_close_but_keep_legal_and_written_off() {
        assert_eq!(CaseStatus::after_import(None, 12), CaseStatus::Open);
        assert_eq!(CaseStatus::after_import(Some(CaseStatus::Closed), 3), CaseStatus::Open);
        assert_eq!(CaseStatus::after_import(Some(CaseStatus::Open), 0), CaseStatus::Closed);
        assert_eq!(CaseStatus::after_import(Some(CaseStatus::Legal), 0), CaseStatus::Legal);
        assert_eq!(CaseStatus::after_import(Some(CaseStatus::WrittenOff), 9), CaseStatus::WrittenOff);
    }

    #[test]
    fn notes() {
        assert_eq!(check_note("  已接通，承诺周五还款 "), Ok("已接通，承诺周五还款"));
        assert_eq!(check_note(" ").unwrap_err().code, Code::Required);
        assert_eq!(check_note(&"字".repeat(4001)).unwrap_err().code, Code::TooLong);
    }
}
