//! Calls placed through Daylight's switch: the number to dial, the call's end with its
//! recording, and the audited access to recordings.

use async_trait::async_trait;
use daylight_domain::attempt::Outcome;
use daylight_domain::id::{CaseId, ContactId};
use jiff::Timestamp;

use crate::error::Result;
use crate::model::*;

/// Calls placed through Daylight's switch.
#[async_trait]
pub trait CallStore: Send + Sync {
    /// The clear number of phone contact point `point` of case `case`'s debtor, for the switch
    /// only (it is never shown; the dial itself is audited by its gate event).
    async fn dial_number(&self, case: &CaseId, point: &ContactId) -> Result<String>;

    /// [`GateStore::finish_attempt`](crate::GateStore::finish_attempt) for a call the switch
    /// placed, with its recording: the attempt's ledger event carries the recording's SHA-256,
    /// and the recording is stored with the attempt, in one transaction.
    async fn finish_call(
        &self,
        started: i64,
        outcome: Outcome,
        duration_secs: u32,
        recording: Option<&NewRecording>,
        actor: &str,
        now: Timestamp,
    ) -> Result<i64>;

    /// Withdraws a started call that never reached the debtor (the collector's phone did not
    /// answer): the start is removed, with an `attempt.withdrawn` event naming `reason`.
    async fn withdraw_call(&self, started: i64, reason: &str, actor: &str, now: Timestamp) -> Result<()>;

    /// The case's recordings, oldest first.
    async fn recordings_of(&self, case: &CaseId) -> Result<Vec<RecordingRow>>;

    /// One recording.
    async fn recording(&self, id: i64) -> Result<RecordingRow>;

    /// Records that `actor` listened to (`how` = `listen`) or downloaded (`download`) recording
    /// `id`: a `recording.accessed` event.
    async fn recording_accessed(&self, id: i64, how: &str, actor: &str, now: Timestamp) -> Result<()>;
}
