//! The contact gate: every contact judged under the pack in force, with the facts it judges read in
//! its own transaction, and recorded when allowed.

use async_trait::async_trait;
use daylight_domain::attempt::{Attempt, Outcome, Planned};
use jiff::Timestamp;

use crate::error::Result;
use crate::model::*;

/// The contact gate: every contact judged under the pack in force, with the facts it judges read in
/// its own transaction, and recorded when allowed.
#[async_trait]
pub trait GateStore: Send + Sync {
    /// The contact gate, for an attempt already made (`at` no later than `now`): judges it under
    /// the pack in force against every earlier attempt on the debtor (all cases, channels,
    /// agents and agencies) and through the same number, with every fact it judges read in its
    /// own transaction (the case's status, the number's status, a team lead's third-party
    /// confirmation, the flags: nothing a caller asserts) and, when allowed, records it (and its
    /// note, and what the outcome says of the number) in the same transaction, serialised per
    /// debtor and per number. When denied nothing is recorded but the denial, a ledger event.
    async fn record_attempt(&self, attempt: &Attempt, actor: &str, now: Timestamp) -> Result<Gated>;

    /// [`GateStore::record_attempt`] for a batch of attempts already made, in one transaction: each
    /// is judged, in order, against everything stored before it, including the batch's earlier
    /// attempts, exactly as `record_attempt` would judge it. For a provider's call-detail
    /// records or the digital twin. A bad attempt (an error, not a denial) writes none of the
    /// batch.
    async fn record_attempts(&self, batch: &[Attempt], actor: &str, now: Timestamp) -> Result<Vec<Gated>>;

    /// The contact gate, before dialling (`at` within a minute of `now`): as
    /// [`GateStore::record_attempt`], but an allowed contact is stored as started, holding its place
    /// under the caps (as the worst outcome each rule could see) until
    /// [`GateStore::finish_attempt`] gives its outcome. A start not finished within two hours is
    /// recorded without a result by the next gate of that debtor and cannot be finished.
    async fn start_attempt(&self, planned: &Planned, actor: &str, now: Timestamp) -> Result<Gated>;

    /// Gives a started attempt its outcome and records it. Returns the attempt id.
    async fn finish_attempt(
        &self,
        started: i64,
        outcome: Outcome,
        duration_secs: u32,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// What the gate would judge `planned` by (pack in force, request, the debtor's history),
    /// read without taking the debtor's lock.
    async fn contact_context(&self, planned: &Planned) -> Result<ContactContext>;

    /// [`GateStore::contact_context`] for several contacts of one case (its contact points, say),
    /// reading the debtor and the pack once: for the case screen's "can I call now?".
    async fn contact_contexts(&self, planned: &[Planned]) -> Result<Vec<ContactContext>>;

    /// Attempts started and not yet finished, oldest first.
    async fn started_attempts(&self) -> Result<Vec<StartedAttempt>>;
}
