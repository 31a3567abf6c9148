//! Cases and the debtor's contact settings: lists, detail, status, assignment, notes, tags and
//! flags.

use async_trait::async_trait;
use daylight_domain::case::StatusChange;
use daylight_domain::id::{CaseId, CustomerId};
use jiff::Timestamp;

use crate::access::Scope;
use crate::error::Result;
use crate::model::*;

/// Cases and the debtor's contact settings: lists, detail, status, assignment, notes, tags and
/// flags.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Cases matching `filter`, worst bucket first.
    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>>;

    /// How many cases `filter` selects, whatever its limit and offset: a list's count.
    async fn count_cases(&self, filter: &CaseFilter) -> Result<u64>;

    /// Open cases within `scope` with a pending promise due before `until`, each with its
    /// earliest such due time (a queue's "promise due").
    async fn promises_due(&self, scope: &Scope, until: Timestamp) -> Result<Vec<(CaseId, Timestamp)>>;

    /// Everything about one case.
    async fn case_detail(&self, id: &CaseId) -> Result<CaseDetail> {
        self.case_detail_in(&Scope::All, id).await
    }

    /// Everything about one case, if it is within `scope`; a case outside it is `NOT_FOUND`,
    /// exactly as one that does not exist.
    async fn case_detail_in(&self, scope: &Scope, id: &CaseId) -> Result<CaseDetail>;

    /// `Ok` if the case exists within `scope`, `NOT_FOUND` otherwise: the check a scoped caller
    /// passes before any change to a case.
    async fn case_in_scope(&self, scope: &Scope, id: &CaseId) -> Result<()>;

    /// Moves a case to another status (open, closed, legal, written off).
    async fn set_case_status(
        &self,
        id: &CaseId,
        change: &StatusChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Moves several cases within `scope` as `change` says in one transaction (a team lead's
    /// bulk close): all of them, or, if any is outside the scope, may not move, or (closing as
    /// paid in full) still owes anything, none.
    async fn set_cases_status(
        &self,
        scope: &Scope,
        cases: &[CaseId],
        change: &StatusChange,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Sets who owns a case.
    async fn assign_case(&self, id: &CaseId, to: &Assignment, actor: &str, now: Timestamp) -> Result<()>;

    /// A debtor's contact flags (all false until set).
    async fn contact_flags(&self, customer: &CustomerId) -> Result<ContactFlags>;

    /// Sets a debtor's contact flags.
    async fn set_contact_flags(
        &self,
        customer: &CustomerId,
        flags: &ContactFlags,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Adds a note to a case. Returns the note id.
    async fn add_note(
        &self,
        case: &CaseId,
        text: &str,
        attempt: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// Tags a debtor (`hardship`, `abusive`) with a note, or clears the tag (`note` none).
    async fn tag_debtor(
        &self,
        customer: &CustomerId,
        tag: &str,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;
}
