//! The pacer: given the floor now and the campaign's counts, how many calls to place.
//!
//! The caller (the dialer on a real floor, the twin at one-second resolution) calls
//! [`Pacer::dials`] once a second with a fresh [`Floor`] and [`Tally`], then takes at most
//! that many contacts from the hopper, each through the gate.

pub mod daylight;
pub mod vicidial;

use serde::Serialize;

/// A collector on a call or in its wrap-up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Busy {
    /// On the call (VICIdial's INCALL); otherwise in wrap-up (VICIdial's agents dispose of
    /// a call while PAUSED).
    pub talking: bool,
    /// Expected seconds until they are ready again: the rest of the talk (from the campaign's
    /// mean handle time) and the wrap-up.
    pub free_in_secs: f64,
}

/// The floor at one second.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Floor {
    /// Seconds since local midnight (VICIdial's tapered mode reads the time of day).
    pub time_of_day_secs: u32,
    /// Collectors logged in to the campaign, paused ones included.
    pub logged_in: u32,
    /// Collectors ready for a call.
    pub ready: u32,
    /// Collectors on a call or wrapping one up.
    pub busy: Vec<Busy>,
    /// Calls placed and not yet answered.
    pub ringing: u32,
    /// Calls answered by a person and waiting for a collector.
    pub waiting: u32,
    /// The share of placed calls a person answers, as the dialer estimates it now (0–1).
    pub answer_rate: f64,
    /// Mean seconds from placing a call to its answer, as the dialer estimates it now.
    pub secs_to_answer: f64,
}

impl Floor {
    /// Collectors on a call.
    pub fn talking(&self) -> u32 {
        self.busy.iter().filter(|b| b.talking).count() as u32
    }
}

/// The campaign's counts, kept by the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Calls placed today (since local midnight).
    pub calls_today: u64,
    /// Of those, answered by a person.
    pub answered_today: u64,
    /// Of those, abandoned: answered, and no collector within the pack's seconds (2 s).
    pub dropped_today: u64,
    /// Calls placed in the last 60 seconds.
    pub calls_last_min: u64,
    /// Of those, abandoned.
    pub dropped_last_min: u64,
    /// Calls answered over the pack's abandonment window (30 days under the FTC and Ofcom
    /// rules), today included.
    pub answered_window: u64,
    /// Of those, abandoned.
    pub dropped_window: u64,
}

impl Tally {
    /// Abandoned calls as a share of answered ones over the window (0 before any answer).
    pub fn window_rate(&self) -> f64 {
        if self.answered_window == 0 { 0.0 } else { self.dropped_window as f64 / self.answered_window as f64 }
    }
}

/// A pacing policy.
pub trait Pacer {
    /// Calls to place now. Called once a second.
    fn dials(&mut self, floor: &Floor, tally: &Tally) -> u32;

    /// The dial level now: calls in flight the pacer aims for per working collector.
    fn level(&self) -> f64;

    /// Its name in reports ("VICIdial ADAPT_HARD_LIMIT", "Daylight …").
    fn name(&self) -> String;
}
