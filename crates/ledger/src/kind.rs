//! The kinds of event the ledger records.

use std::fmt;

/// What a ledger event records. The word ([`EventKind::as_str`]) is stored and never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A store was initialised (schema created).
    StoreInitialised,
    /// The schema was upgraded by a migration.
    StoreMigrated,
    /// An import batch was stored.
    ImportBatch,
    /// A contact attempt was recorded.
    AttemptRecorded,
    /// A contact attempt was allowed and started (its outcome follows).
    AttemptStarted,
    /// The compliance gate refused a contact attempt: nothing was made or recorded.
    AttemptDenied,
    /// A debtor's contact flags (cease, opt-outs, consented hours) changed.
    ContactFlagsChanged,
    /// A note was added to a case.
    NoteAdded,
    /// A promise to pay was locked.
    PromiseCreated,
    /// A promise was kept, broken or cancelled.
    PromiseSettled,
    /// A pending promise's amount or due time was changed, or it was cancelled, with a reason.
    PromiseChanged,
    /// A repayment plan was proposed.
    ArrangementProposed,
    /// A repayment plan was approved, rejected or closed.
    ArrangementDecided,
    /// A waiver was requested.
    WaiverRequested,
    /// A waiver was approved or rejected.
    WaiverDecided,
    /// A case changed status or assignment by hand.
    CaseChanged,
    /// A configuration value changed.
    ConfigChanged,
    /// Someone saw a personal field unmasked.
    PiiViewed,
    /// A model version was registered.
    ModelRegistered,
    /// A model version became the champion (the one before it retired).
    ModelPromoted,
    /// An experiment was created (its arms and salt).
    ExperimentCreated,
    /// A daily plan was made and stored (digests of its input and of the plan).
    PlanSaved,
    /// A debtor was tagged (hardship, abusive) or a tag was cleared.
    DebtorTagged,
    /// A user was created (by an admin or the command line).
    UserCreated,
    /// A user's name, mobile, role, team, agency or disabled flag changed.
    UserChanged,
    /// A user's password was set: changed by the user or reset by an admin.
    PasswordSet,
    /// A user was locked out after repeated failed logins.
    UserLocked,
    /// A user logged in (a session was opened).
    UserLogin,
    /// A user's second factor: enrolled, reset by an admin, or a recovery code used.
    SecondFactor,
    /// The database was marked as a demo or test database.
    Purpose,
    /// A data key added, activated or rewrapped, or values re-sealed (the key material never).
    Keys,
    /// A team or an agency was put on record or renamed (`org.unit`: kind, id, name, from).
    OrgUnit,
    /// A strategy version was saved (`strategy.saved`: version, name, the text's SHA-256).
    StrategySaved,
    /// A collector asked to contact a third party (an emergency contact, say).
    ThirdPartyRequested,
    /// A team lead confirmed or refused a third-party contact.
    ThirdPartyDecided,
    /// A collector proposed a new or corrected number for a case's contact (masked in the
    /// payload, with its digest).
    NumberProposed,
    /// A team lead confirmed (the contact point added or corrected) or refused a proposed number.
    NumberDecided,
    /// A complaint was registered against a case (and perhaps one of its contacts).
    ComplaintRegistered,
    /// A task (a promise's reminder, a broken promise's escalation) was done.
    TaskDone,
    /// A call's transcript was analysed by QC and stored with its attempt (the transcript's
    /// digest, the codes found, the tags set, the review opened).
    QcAnalysed,
    /// A started call was withdrawn before it reached the debtor (the collector's phone did not
    /// answer): nothing was dialled to the debtor and nothing counts under the caps.
    AttemptWithdrawn,
    /// A call recording was listened to or downloaded (who, which, how).
    RecordingAccessed,
    /// A recording's audio was deleted by the purge at the end of its retention period (its
    /// hash stays).
    RecordingPurged,
    /// A case was put under a legal hold, or the hold was lifted (`held`, the reason).
    LegalHold,
    /// A bridged call's collector refined its outcome in the wrap-up (from, to, the note's
    /// digest).
    AttemptWrappedUp,
    /// A supervisor joined a live call (listen, whisper, barge), changed how, left it, or hung
    /// it up (三方监听 / 强制挂断): the call, its collector, the action.
    CallSupervised,
    /// A call from the trunk ended (a debtor calling back): the case matched by number, who
    /// answered, the outcome, talk time and the recording's SHA-256. Not a contact attempt.
    CallInbound,
}

impl EventKind {
    /// The stored word.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::StoreInitialised => "store.initialised",
            EventKind::StoreMigrated => "store.migrated",
            EventKind::ImportBatch => "import.batch",
            EventKind::AttemptRecorded => "attempt.recorded",
            EventKind::AttemptStarted => "attempt.started",
            EventKind::AttemptDenied => "attempt.denied",
            EventKind::ContactFlagsChanged => "contact.flags",
            EventKind::NoteAdded => "note.added",
            EventKind::PromiseCreated => "promise.created",
            EventKind::PromiseSettled => "promise.settled",
            EventKind::PromiseChanged => "promise.changed",
            EventKind::ArrangementProposed => "arrangement.proposed",
            EventKind::ArrangementDecided => "arrangement.decided",
            EventKind::WaiverRequested => "waiver.requested",
            EventKind::WaiverDecided => "waiver.decided",
            EventKind::CaseChanged => "case.changed",
            EventKind::ConfigChanged => "config.changed",
            EventKind::PiiViewed => "pii.viewed",
            EventKind::ModelRegistered => "model.registered",
            EventKind::ModelPromoted => "model.promoted",
            EventKind::ExperimentCreated => "experiment.created",
            EventKind::PlanSaved => "plan.saved",
            EventKind::DebtorTagged => "debtor.tagged",
            EventKind::UserCreated => "user.created",
            EventKind::UserChanged => "user.changed",
            EventKind::PasswordSet => "user.password",
            EventKind::UserLocked => "user.locked",
            EventKind::UserLogin => "user.login",
            EventKind::SecondFactor => "user.second_factor",
            EventKind::Purpose => "store.purpose",
            EventKind::Keys => "store.keys",
            EventKind::OrgUnit => "org.unit",
            EventKind::StrategySaved => "strategy.saved",
            EventKind::ThirdPartyRequested => "third_party.requested",
            EventKind::ThirdPartyDecided => "third_party.decided",
            EventKind::NumberProposed => "number.proposed",
            EventKind::NumberDecided => "number.decided",
            EventKind::ComplaintRegistered => "complaint.registered",
            EventKind::TaskDone => "task.done",
            EventKind::QcAnalysed => "qc.analysed",
            EventKind::AttemptWithdrawn => "attempt.withdrawn",
            EventKind::RecordingAccessed => "recording.accessed",
            EventKind::RecordingPurged => "recording.purged",
            EventKind::LegalHold => "case.legal_hold",
            EventKind::AttemptWrappedUp => "attempt.wrapped_up",
            EventKind::CallSupervised => "call.supervised",
            EventKind::CallInbound => "call.inbound",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
