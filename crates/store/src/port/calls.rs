//! Calls placed through Daylight's switch: the number to dial, the call's end with its
//! recording, and the audited access to recordings.

use async_trait::async_trait;
use daylight_domain::attempt::{Outcome, Planned};
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
    /// and the recording is stored with the attempt, in one transaction; `note` (a robot's
    /// account of the call: keys pressed, the way through its flow) is stored as the attempt's
    /// note.
    #[allow(clippy::too_many_arguments)]
    async fn finish_call(
        &self,
        started: i64,
        outcome: Outcome,
        duration_secs: u32,
        recording: Option<&NewRecording>,
        note: Option<&str>,
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

    /// The recording of attempt `attempt`, if it has one.
    async fn recording_by_attempt(&self, attempt: i64) -> Result<Option<RecordingRow>>;

    /// Records that `actor` listened to (`how` = `listen`), downloaded (`download`), exported
    /// (`export`, in a batch export) or sent to speech recognition (`recognize`) recording `id`:
    /// a `recording.accessed` event.
    async fn recording_accessed(&self, id: i64, how: &str, actor: &str, now: Timestamp) -> Result<()>;

    /// Records that `actor` supervised call `call` (its started attempt) on case `case`, a call
    /// of `collector`: `action` is `listen`, `whisper`, `barge`, `end` or `hangup` (强制挂断); a
    /// `call.supervised` event.
    async fn call_supervised(
        &self,
        case: &CaseId,
        call: i64,
        collector: &str,
        action: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// The cases whose phone contact points carry `number` (as a trunk sends it: `+86…`, `0…`
    /// or the digits as stored), open cases first, then the latest changed.
    async fn callers(&self, number: &str) -> Result<Vec<CallerMatch>>;

    /// Logs a call from the trunk as it arrives; its id.
    async fn inbound_started(&self, call: &NewInbound, now: Timestamp) -> Result<i64>;

    /// Logs how call `id` from the trunk ended, with a `call.inbound` event (its case, the
    /// number's digest, who answered, the outcome, talk time, the recording's hash), in one
    /// transaction; an answered call's recording joins the vault's list (played, exported and
    /// purged as a dialled call's). `INCONSISTENT` if it had ended already, or if a recording
    /// comes with no case matched.
    async fn inbound_finished(&self, id: i64, end: &InboundEnd, actor: &str, now: Timestamp) -> Result<()>;

    /// The calls from the trunk matched to case `case`, newest first.
    async fn inbound_calls_of(&self, case: &CaseId) -> Result<Vec<InboundRow>>;

    /// Notes that live call `id` from the trunk is being offered to collector `collector` (who
    /// is freed on the board should the call be cut off by a stop).
    async fn inbound_offered(&self, id: i64, collector: &str) -> Result<()>;

    /// Ends every call from the trunk switch `node` took and never ended, because its process
    /// stopped: each is logged `interrupted` (a `call.inbound` event, naming the collector last
    /// offered it), without a recording.
    /// The calls so ended.
    async fn interrupted_calls_in(&self, node: &str, actor: &str, now: Timestamp) -> Result<Vec<InboundRow>>;

    /// Notes that switch `node` placed started call `started`, its recording going to
    /// `recording` (relative to the vault), before the first INVITE leaves: should `node`'s
    /// process stop mid-call, its restart finishes the call as interrupted
    /// ([`CallStore::interrupted_calls`]). The note goes when the call finishes or is withdrawn.
    async fn call_placed(&self, started: i64, node: &str, recording: &str, now: Timestamp) -> Result<()>;

    /// The gate's start for a call ([`crate::GateStore::start_attempt`]) and, when allowed, the
    /// note that switch `node` places it ([`CallStore::call_placed`]) with its recording at
    /// `recording(started)`, in one transaction: no start is ever left without its note.
    async fn start_call(
        &self,
        planned: &Planned,
        node: &str,
        recording: &(dyn Fn(i64) -> String + Sync),
        actor: &str,
        now: Timestamp,
    ) -> Result<Gated>;

    /// Finishes every call switch `node` placed and never finished, because its process stopped:
    /// each is recorded as `interrupted`, no talk time, with a note saying so. A start the gate
    /// has already expired is left as the gate recorded it.
    async fn interrupted_calls(
        &self,
        node: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<InterruptedCall>>;

    /// Puts case `case` under a legal hold for `reason` (`Some`), or lifts its hold (`None`): a
    /// `case.legal_hold` event. A held case's recordings are not purged.
    async fn set_legal_hold(
        &self,
        case: &CaseId,
        reason: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// The cases under a legal hold.
    async fn legal_holds(&self) -> Result<Vec<LegalHold>>;

    /// The recordings due for purge: not yet purged, made before `cutoff`, on a case last
    /// contacted before `cutoff` and not under a legal hold; oldest first.
    async fn recordings_due(&self, cutoff: Timestamp) -> Result<Vec<RecordingRow>>;

    /// Marks recording `id` purged (its audio is to be deleted next; its hash stays): a
    /// `recording.purged` event. Refused (`LEGAL_HOLD`) if its case is now under a hold, and
    /// (`INCONSISTENT`) if it was purged already.
    async fn recording_purged(&self, id: i64, actor: &str, now: Timestamp) -> Result<()>;

    /// The wrap-up (小结) of a bridged call: within [`WRAP_UP_MINUTES`] of the call's end, its
    /// collector (`actor`, who recorded it) refines the `conversation` the switch recorded to
    /// what was said (a right-party outcome, `third_party_answered` or `wrong_number`), once,
    /// with an optional note: an `attempt.wrapped_up` event (from, to, the note's digest). A
    /// cease request sets the debtor's flag and a wrong number marks the contact point, as when
    /// such an outcome is recorded.
    async fn wrap_up_call(
        &self,
        attempt: i64,
        outcome: Outcome,
        note: Option<&str>,
        actor: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// Collector `login`'s state and today's counts (offline, zero, when never set).
    async fn agent(&self, login: &str) -> Result<AgentRow>;

    /// Sets collector `login`'s state (and pause reason). The time in state restarts only when
    /// the state or the reason changes.
    async fn set_agent_state(
        &self,
        login: &str,
        state: daylight_domain::agent::AgentState,
        reason: Option<daylight_domain::agent::PauseReason>,
        now: Timestamp,
    ) -> Result<()>;

    /// Counts a call collector `login` placed through the switch on `day` (the team's local
    /// date), with its talk time; a new day starts the counts again.
    async fn agent_call_done(&self, login: &str, day: &str, talk_secs: u32, now: Timestamp) -> Result<()>;

    /// The live board of team `team`: each enabled collector, by login.
    async fn agent_board(&self, team: &str) -> Result<Vec<AgentRow>>;
}

/// How long after a bridged call its wrap-up may refine the outcome.
pub const WRAP_UP_MINUTES: i64 = 30;
