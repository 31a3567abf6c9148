//! The desk and its approvals: promises, repayment plans, waivers, third-party confirmations,
//! complaints, tasks and the team lead's figures.

use async_trait::async_trait;
use daylight_domain::agreement::{ArrangementStatus, PromiseStatus, WaiverStatus};
use daylight_domain::bounds::WaiverVerdict;
use daylight_domain::id::{CaseId, ContactId};
use jiff::Timestamp;

use crate::access::Scope;
use crate::desk::{
    Audience, Complaint, KpiDimension, Kpis, NewComplaint, NewNumber, NewThirdPartyRequest, NumberProposal,
    Sweep, Task, TaskClose, TaskStatus, ThirdPartyRequest,
};
use crate::error::Result;
use crate::model::*;

/// The desk and its approvals: promises, repayment plans, waivers, third-party confirmations,
/// complaints, tasks and the team lead's figures.
#[async_trait]
pub trait DeskStore: Send + Sync {
    /// Locks a promise to pay. Returns its id.
    async fn create_promise(&self, promise: &NewPromise, actor: &str, now: Timestamp) -> Result<i64>;

    /// Promise changes made together (a provider's feed, the digital twin): in one transaction,
    /// in order, each judged and recorded exactly as its single form ([`DeskStore::create_promise`],
    /// [`DeskStore::change_promise`], [`DeskStore::settle_promise`]) would, against everything
    /// before it; a bad one (naming its place in the batch) writes none. Returns each new
    /// promise's id, in place (none for the other changes).
    async fn promise_batch(&self, ops: &[PromiseOp], actor: &str) -> Result<Vec<Option<i64>>>;

    /// Amends a pending promise's amount and due time, or cancels it, with a reason: the new
    /// terms within the same bounds as a new promise (the money policy of the pack in force),
    /// the earlier terms and the reason kept, a `promise.changed` event.
    async fn change_promise(
        &self,
        id: i64,
        change: &PromiseChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Marks a pending promise kept or broken (cancelling takes a reason:
    /// [`DeskStore::change_promise`]).
    async fn settle_promise(&self, id: i64, status: PromiseStatus, actor: &str, now: Timestamp)
    -> Result<()>;

    /// Proposes a repayment plan for approval. Returns its id.
    async fn propose_arrangement(
        &self,
        arrangement: &NewArrangement,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// Approves, rejects or closes a plan; approval and rejection need someone other than the
    /// proposer.
    async fn decide_arrangement(
        &self,
        id: i64,
        status: ArrangementStatus,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Rejects a request waiting for a decision (`Proposed` or `Requested`) for `reason`
    /// (required): by anyone but who asked. The reason is kept with the request; the ledger's
    /// decision event carries its SHA-256.
    async fn reject(&self, what: Decidable, id: i64, reason: &str, actor: &str, now: Timestamp)
    -> Result<()>;

    /// Repayment plans on cases within `scope`, oldest first (without their stored schedules:
    /// `terms.schedule()` gives them): a team lead's approval queue with `Proposed`.
    async fn arrangements_in(
        &self,
        scope: &Scope,
        status: Option<ArrangementStatus>,
        limit: u32,
    ) -> Result<Vec<StoredArrangement>>;

    /// Requests a waiver. Returns its id.
    async fn request_waiver(&self, waiver: &NewWaiver, actor: &str, now: Timestamp) -> Result<i64>;

    /// Rejects a waiver (anyone but the requester), or approves it by the approval matrix of
    /// the pack's money policy: the approver's role (read from the users table, not asserted)
    /// must allow the amount and its share of the overdue part; above the policy's threshold a
    /// first approval makes it [`WaiverVerdict::NeedsSecond`] and a second person within their
    /// own authority approves it. Nobody approves their own request or twice. An approved
    /// waiver adjusts what its account owes until the next accounts file restates it.
    async fn decide_waiver(
        &self,
        id: i64,
        approve: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<WaiverVerdict>;

    /// Waivers on cases within `scope`, oldest first: a team lead's queue with `Requested`.
    async fn waivers_in(
        &self,
        scope: &Scope,
        status: Option<WaiverStatus>,
        limit: u32,
    ) -> Result<Vec<StoredWaiver>>;

    /// Asks to contact a third party of a case (one of its contact points that is not the
    /// debtor's). Returns the request's id.
    async fn request_third_party(
        &self,
        request: &NewThirdPartyRequest,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// Confirms or refuses a third-party request; needs someone other than the requester. An
    /// approval confirms contacts to the point for [`ThirdPartyRequest::VALID_FOR`].
    async fn decide_third_party(&self, id: i64, approve: bool, actor: &str, now: Timestamp) -> Result<()>;

    /// Third-party requests on cases within `scope` (on `case` only, if given), oldest first.
    async fn third_party_requests_in(
        &self,
        scope: &Scope,
        case: Option<&CaseId>,
        status: Option<WaiverStatus>,
        limit: u32,
    ) -> Result<Vec<ThirdPartyRequest>>;

    /// Whether an approval confirms a contact to `point` of `case` at `at`.
    async fn third_party_confirmed(&self, case: &CaseId, point: &ContactId, at: Timestamp) -> Result<bool>;

    /// Registers a complaint (against an attempt of the case, if one is named). Returns its id.
    async fn register_complaint(&self, complaint: &NewComplaint, actor: &str, now: Timestamp) -> Result<i64>;

    /// Complaints on cases within `scope`, newest first.
    async fn complaints_in(&self, scope: &Scope, limit: u32) -> Result<Vec<Complaint>>;

    /// In one transaction: a reminder task for every pending promise due within
    /// [`Sweep::REMINDER_LEAD`] that has none; every pending promise past due by more than
    /// [`Sweep::GRACE`] (up to [`Sweep::BATCH`], oldest first) settled kept if the debtor's payments since it
    /// was made cover it, else broken with an escalation task for the team lead. Each
    /// settlement is a ledger event. Running it again changes nothing new.
    async fn sweep_promises(&self, actor: &str, now: Timestamp) -> Result<Sweep>;

    /// Tasks on cases within `scope`, by due time.
    async fn tasks_in(
        &self,
        scope: &Scope,
        audience: Option<Audience>,
        status: Option<TaskStatus>,
        limit: u32,
    ) -> Result<Vec<Task>>;

    /// Marks an open task within `scope` done with `close`'s outcome and reason (checked
    /// against the task's kind, [`TaskClose::check`]); an outcome with a follow-up
    /// ([`crate::desk::TaskOutcome::follow_up`]) opens the next task in the same transaction,
    /// whose id is returned. A ledger event.
    async fn finish_task(
        &self,
        scope: &Scope,
        id: i64,
        close: &TaskClose,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<i64>>;

    /// Every task about a contact attempt within `scope` (a QC review, its finding, the
    /// appeal), oldest first.
    async fn attempt_tasks(&self, scope: &Scope, attempt: i64) -> Result<Vec<Task>>;

    /// The team lead's figures for cases within `scope` over `[from, to)`, grouped by `dim`,
    /// and day by day from each of `days` (ascending, the first no earlier than `from`).
    async fn kpis(
        &self,
        scope: &Scope,
        dim: KpiDimension,
        from: Timestamp,
        to: Timestamp,
        days: &[Timestamp],
    ) -> Result<Kpis>;

    /// Proposes a new number for a case's debtor or related person, or a correction of one of
    /// the case's phone points (validated and normalised; `EXISTS` if the debtor's record
    /// already carries it; a `number.proposed` event). Returns the proposal's id.
    async fn propose_number(&self, number: &NewNumber, actor: &str, now: Timestamp) -> Result<i64>;

    /// Confirms or refuses a proposed number; someone other than the proposer. A confirmation
    /// adds the contact point (status unknown) or corrects the one named (its status back to
    /// unknown), in the same transaction as the `number.decided` event. Returns the point.
    async fn decide_number(
        &self,
        id: i64,
        approve: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Option<ContactId>>;

    /// Number proposals on cases within `scope` (on `case` only, if given), oldest first.
    async fn numbers_in(
        &self,
        scope: &Scope,
        case: Option<&CaseId>,
        status: Option<WaiverStatus>,
        limit: u32,
    ) -> Result<Vec<NumberProposal>>;
}
