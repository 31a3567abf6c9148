//! Quality control of calls: analyses, transcripts and findings.

use async_trait::async_trait;
use daylight_domain::id::CaseId;
use jiff::Timestamp;

use crate::access::Scope;
use crate::error::Result;
use crate::qc::{NewQcCall, QcCall, QcRecorded};

/// Quality control of calls: analyses, transcripts and findings.
#[async_trait]
pub trait QcStore: Send + Sync {
    /// In one transaction: a call's QC analysis stored with its attempt (once per attempt), the
    /// debtor tags it sets, the supervisor's review task it opens, and a `qc.analysed` event.
    async fn record_qc(&self, qc: &NewQcCall, actor: &str, now: Timestamp) -> Result<QcRecorded>;

    /// Analysed calls on cases within `scope` (of one case, or with a finding of one code),
    /// newest first, each with its findings.
    async fn qc_calls_in(
        &self,
        scope: &Scope,
        case: Option<&CaseId>,
        code: Option<&str>,
        limit: u32,
    ) -> Result<Vec<QcCall>>;

    /// An attempt's analysis and its transcript (the case within `scope`).
    async fn qc_transcript(&self, scope: &Scope, attempt: i64) -> Result<(QcCall, String)>;

    /// The names said in calls of `cases` that screens mask: each case's debtor and the names
    /// of their contact points, as `(case, name)` pairs (one read for a whole list).
    async fn names_of_cases(&self, cases: &[CaseId]) -> Result<Vec<(CaseId, String)>>;
}
