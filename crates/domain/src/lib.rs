//! Daylight's domain model: the words of credit-card collections, as types.
//!
//! No IO and no clock: every function that needs the time takes it as an argument.
//!
//! - [`money`]: [`Money`] in integer minor units with a [`Currency`]; decimal text parsed without
//!   floats.
//! - [`id`]: the bank's external ids, one newtype per record kind.
//! - [`pii`]: personal data types that print masked, their validation (GB 11643 resident IDs,
//!   mainland phones, Luhn card numbers) and the masking functions every display uses.
//! - [`customer`]: customers, contact points, owner roles, validity, compliance recipients.
//! - [`account`]: card accounts with the overdue split, transactions, payments.
//! - [`bucket`]: buckets M0–M6+ from a configurable DPD scheme, and bucket moves.
//! - [`case`]: one case per customer, its status machine, notes.
//! - [`attempt`]: channels, outcomes (and the classes caps count), agents, attempts.
//! - [`agreement`]: promises to pay, repayment plans (≤ 60 instalments), waivers; four-eyes
//!   approval.
//! - [`facts`]: one open case as the planner sees it: contact points, earlier contacts,
//!   payments, promises and the gate's flags.
//! - [`history`]: one debtor as the models see them: attempts, payments, promises and the
//!   accounts' buckets over time.
//! - [`text`]: the characters refused in every text input (controls, bidirectional, zero-width).
//! - [`error`]: [`Invalid`] with a stable [`Code`] for every refusal.
#![deny(clippy::float_arithmetic)]

pub mod vocab;

pub mod account;
pub mod agent;
pub mod agreement;
pub mod attempt;
pub mod bounds;
pub mod bucket;
pub mod case;
pub mod customer;
pub mod error;
pub mod facts;
pub mod history;
pub mod id;
pub mod money;
pub mod pii;
pub mod text;

pub use error::{Code, Invalid, Valid};
pub use money::{Currency, Money};
