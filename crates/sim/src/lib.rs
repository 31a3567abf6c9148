//! Daylight's digital twin (数字孪生): virtual debtors to rehearse strategies on before they
//! touch real ones. Pure and seeded: no IO, no clock; every draw is named by the event it
//! decides (`rng`), so runs are the same on every machine and in any order.
//!
//! - [`population`]: each debtor's observable record (name, resident ID with a valid check
//!   character, mobile, region, employer, guarantor and emergency contacts, a card account
//!   with limit, balance, statement day, days past due and the overdue split) and hidden
//!   traits (ability and willingness to pay, a persona with an hour-by-hour answering
//!   profile, temperament, the state of their line, robot tolerance, how each tone moves
//!   them). [`files`] writes the records in Daylight's import formats.
//! - [`behaviour`]: the answer to a contact: picked up or not, by whom, and what is said
//!   (promise, refusal, hardship, abuse, a cease request) and whether the debtor complains.
//! - [`dynamics`]: an account's day: interest, late fees, missed due dates, payments
//!   (spontaneous, reminded, promised), cure, hardship.
//! - [`dialing`]: a dialling day at one-second resolution: collectors, a hopper of the open
//!   cases, a pacer (VICIdial's or Daylight's) placing calls through the real compliance
//!   engine, debtors answering by their hidden behaviour, abandonments, occupancy.
//! - [`world`]: the day loop: the real planner plans the open cases from what the product can
//!   know, the real compliance engine judges each contact at its time, the hidden behaviour
//!   answers, the accounts move, and a day's contacts are audited against the pack.
//!
//! docs/twin.md lists every calibration constant with its target and source. The twin is a
//! model of the world: its numbers are simulated.

pub mod behaviour;
pub mod dialing;
pub mod dynamics;
pub mod files;
pub mod population;
pub mod rng;
pub mod world;
