//! Daylight's SIP side: a back-to-back user agent (B2BUA) for click-to-dial.
//!
//! # Topology
//!
//! ```text
//!   collector's phone            Daylight switch                      trunk → debtor
//!   (agent leg, first)     ┌──────────────────────────────┐     (debtor leg, second)
//!        INVITE  ◀──────── │ SIP UDP endpoint (rsipstack) │ ────────▶ INVITE
//!        RTP     ◀───────▶ │ RTP socket A ◀─relay─▶ RTP D │ ◀───────▶ RTP
//!                          │        └─ recorder ─┘        │
//!                          └──────────────────────────────┘
//! ```
//!
//! 1. [`Switch::dial`] INVITEs the collector's phone (the *agent leg*). It rings at most the
//!    ring time (default [`DEFAULT_RING_SECS`], never below [`MIN_RING_SECS`]) and is then
//!    CANCELled.
//! 2. Only once the collector answers does the switch INVITE the debtor through the trunk (the
//!    *debtor leg*, Request-URI from [`Trunk::uri_template`], digest auth on 401/407). If the
//!    collector hangs up while the debtor rings, the debtor leg is CANCELled.
//! 3. When the debtor answers, the switch bridges the legs: each leg's RTP reaches the switch's
//!    own socket for that leg, and the switch forwards packets to the other leg (keeping SSRC,
//!    sequence and timestamps, rewriting payload types, transcoding PCMU⇄PCMA when the legs
//!    chose different laws, relaying RFC 4733 telephone events and reporting them as
//!    [`CallEvent::Dtmf`]).
//! 4. Both directions are recorded into a two-channel 8 kHz 16-bit WAV (left = collector, right =
//!    debtor), encrypted with age to the vault's X25519 public key; the switch never holds the
//!    private key. [`Recording`] gives the ciphertext's path, SHA-256 and size.
//! 5. A BYE from either leg, [`Switch::hangup`] or the call length limit ends both legs; the last
//!    event is always [`CallEvent::Ended`] with a [`CallEnd`].
//!
//! Debtor numbers are never logged in clear ([`mask_number`]).
//!
//! # Outcomes
//!
//! [`mapping::outcome`] turns a [`CallEnd`] into the attempt [`Outcome`](daylight_domain::attempt::Outcome):
//! the collector never answering withdraws the attempt (`None`); a bridged call is a
//! `Conversation`; 486/600 `Busy`; 480/408 or a ring-time CANCEL `NoAnswer`; 404/484/604
//! `InvalidNumber`; 410 `Suspended`; 5xx and anything else `NotConnected`. The full table is on
//! the [`mapping`] module.
//!
//! # Supervisors
//!
//! [`Switch::supervise`] brings a supervisor's phone into a bridged call as a third leg, to
//! [`Supervision::Listen`] (hears both), [`Supervision::Whisper`] (only the collector hears the
//! supervisor) or [`Supervision::Barge`] (everyone hears everyone; recorded on the collector's
//! channel). The legs that must hear two sources get their sum every 20 ms on an RTP stream of
//! the switch's own; the other directions still pass straight through.
//!
//! # Robot calls
//!
//! [`Switch::robot`] calls the debtor alone; once they answer, the holder of the [`Robot`]
//! plays prompts to them ([`Robot::say`], then [`CallEvent::Said`]), hears their keys
//! ([`CallEvent::Dtmf`]) and may [`Robot::transfer`] the call to a collector's phone, bridged on
//! the same recording (left: the prompts, then the collector). [`speech`] renders the prompts
//! (espeak-ng's Mandarin voice, a pronunciation table, a cache); [`mapping::robot_outcome`]
//! gives the attempt the flow's outcome once answered.
//!
//! # Test far ends
//!
//! [`peer`] runs `baresip` as a scriptable phone for tests and demos.

mod codec;
mod config;
mod error;
mod event;
mod inbound;
mod leg;
pub mod loopback;
pub mod mapping;
mod media;
pub mod peer;
mod record;
mod robot;
mod sdp;
pub mod speech;
mod switch;

pub use codec::Codec;
pub use config::{DEFAULT_RING_SECS, Dial, MIN_RING_SECS, SwitchConfig, Trunk, mask_number};
pub use error::CallError;
pub use event::{CallEnd, CallEvent, EndedBy, Leg, Recording, Supervision};
pub use inbound::{Incoming, Route};
pub use robot::Robot;
pub use switch::Switch;
