//! Daylight's dialer engine: how many calls a campaign places each second.
//!
//! - [`pacer`]: the [`pacer::Pacer`] interface over a snapshot of the floor
//!   ([`pacer::Floor`]) and the campaign's counts ([`pacer::Tally`]);
//!   [`pacer::vicidial::Vicidial`], VICIdial's adaptive algorithm reimplemented as a
//!   reference; [`pacer::daylight::Daylight`], the default, which dials the most calls whose
//!   expected abandonments fit the campaign's remaining abandonment budget.
//!
//! The pacer only says how many. Every call it asks for still goes through the compliance
//! gate's start, one at a time, so no per-debtor cap can be exceeded however hard it dials;
//! the hopper, the SIP side and the clock live with the caller. The engine does no IO and
//! reads no clock: the time of day is in the floor.

pub mod pacer;
