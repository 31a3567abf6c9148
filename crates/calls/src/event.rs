//! What a call reports while it runs and when it ends.

use std::path::PathBuf;

/// One of the legs of a click-to-dial call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Leg {
    /// The collector's phone, called first.
    Agent,
    /// The debtor, called through the trunk once the agent answered.
    Debtor,
    /// A supervisor's phone, called into a bridged call ([`crate::Switch::supervise`]).
    Supervisor,
}

/// How a supervisor takes part in a bridged call (三方监听).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Supervision {
    /// The supervisor hears both sides; nobody hears the supervisor (监听).
    Listen,
    /// The supervisor hears both sides; only the collector hears the supervisor (耳语).
    Whisper,
    /// Everyone hears everyone (强插); the supervisor is recorded on the collector's channel.
    Barge,
}

impl Supervision {
    /// `listen`, `whisper` or `barge`.
    pub fn as_str(self) -> &'static str {
        match self {
            Supervision::Listen => "listen",
            Supervision::Whisper => "whisper",
            Supervision::Barge => "barge",
        }
    }
}

/// Who or what ended a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndedBy {
    /// The collector hung up, refused or never answered.
    Agent,
    /// The debtor hung up, refused or the debtor leg failed with a SIP status.
    Debtor,
    /// The switch: [`crate::Switch::hangup`], a ring timeout, the call length limit or shutdown.
    Switch,
    /// A transport or media error.
    Error,
}

/// The encrypted recording of a bridged call.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// Where the age ciphertext was written (the dial's `record_to`).
    pub path: PathBuf,
    /// SHA-256 of the ciphertext, lowercase hex.
    pub sha256: String,
    /// Size of the ciphertext in bytes.
    pub bytes: u64,
    /// Length of the audio in seconds.
    pub secs: f64,
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq)]
pub struct CallEnd {
    /// Final SIP status of the agent leg's INVITE (`None` if none came).
    pub agent_code: Option<u16>,
    /// Final SIP status of the debtor leg's INVITE (`None` if it was never sent or nothing came).
    pub debtor_code: Option<u16>,
    /// Whether the two legs were bridged.
    pub bridged: bool,
    /// How long the debtor leg rang (INVITE sent to final response or CANCEL), in seconds.
    pub ring_secs: f64,
    /// How long the legs were bridged, in seconds.
    pub talk_secs: f64,
    /// Who ended the call.
    pub ended_by: EndedBy,
    /// Whether the switch cancelled the debtor leg because it rang for the full ring time.
    pub ring_timeout: bool,
    /// The encrypted recording, when the call was bridged and recording succeeded.
    pub recording: Option<Recording>,
}

/// Progress of a call, in order; [`CallEvent::Ended`] is always last.
#[derive(Clone, Debug, PartialEq)]
pub enum CallEvent {
    /// A leg's phone is ringing (a provisional response came).
    Ringing(Leg),
    /// A leg answered (200 OK).
    Answered(Leg),
    /// The media of both legs is bridged and recorded.
    Bridged,
    /// A keypad digit (RFC 4733) came from a leg and was relayed to the other.
    Dtmf {
        /// The leg that pressed the key.
        leg: Leg,
        /// `0`–`9`, `*`, `#`, `A`–`D`.
        digit: char,
    },
    /// A call from the trunk is offered to the `i`-th phone of its route (counting from 0 in
    /// the order [`crate::Route::Ring`] lists them or [`crate::Route::Queue`] sends them): that
    /// phone rings next.
    Offered(usize),
    /// A call from the trunk routed to a queue ([`crate::Route::Queue`]) waits, ringing, for the
    /// queue's next phone: the router sends one when a collector is free.
    Queued,
    /// A supervisor joined or changed how they take part (`Some`), or left (`None`).
    Supervised(Option<Supervision>),
    /// A robot call's prompt has been played whole: the number [`crate::Robot::say`] gave
    /// it (a prompt replaced before its end gives no event, so an older prompt's event is told
    /// from the current one's).
    Said(u64),
    /// A robot call's transfer ([`crate::Robot::transfer`]) failed: the collector's phone did
    /// not answer (its final SIP status, when one came). The robot still has the call.
    TransferFailed(Option<u16>),
    /// The call is over.
    Ended(CallEnd),
}
