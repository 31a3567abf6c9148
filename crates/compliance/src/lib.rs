//! Daylight's compliance engine: "collection in daylight".
//!
//! [`evaluate`] judges one contact — a call, robot call, SMS, e-mail, letter or visit — under a
//! policy [`Pack`], given the recipient's earlier contacts, and answers with every rule broken
//! (stable code, zh-CN and English text, citation) and the earliest minute the same contact
//! would be allowed. Packs are TOML ([`pack::SHIPPED`]: `cn-default`, `cn-cba-2026`, `us-reg-f`);
//! China's statutory holidays and make-up working days are data ([`Calendar`]).
//!
//! The engine does no IO and reads no clock: the time of a request, or `now`, is an argument.
//! The store runs it inside the transaction that records an attempt, so that concurrent dialers
//! cannot together exceed a cap; `daylight policy check` exposes it to outside dialers as JSON
//! lines ([`wire`]).

pub mod calendar;
pub mod error;
pub mod eval;
pub mod pack;
pub mod request;
pub mod statutory;
mod time;
pub mod wire;
pub mod workload;

pub use calendar::{Calendar, DayKind};
pub use error::PolicyError;
pub use eval::{
    Contact, Decision, Flags, HORIZON_DAYS, PointStatus, Request, allowed_at, evaluate, statement_anchor,
};
pub use pack::{Beyond, Channels, DEFAULT_PACK, Pack, Retention, Rule, RuleText};
pub use request::{ContactFacts, DebtFacts, FactsError, PointFacts, contact_debt, request_for};
pub use statutory::{StatutoryDay, check_years, statutory_days};
