//! Daylight's pacer: dial the most calls whose expected abandonments fit the campaign's
//! abandonment budget, looking at who will be free when the calls are answered.
//!
//! Each second it models the calls in flight and those it would place now meeting the
//! collectors, `lookahead × secs_to_answer + greeting_secs` from now (calls answer from a few
//! seconds on, and one answered early finds only the collectors free early):
//! - **Collectors free by then**: those ready now, each in wrap-up whose wrap-up ends by then,
//!   and each on a call with the probability that the call has ended (the rest of a call
//!   taken as gamma with shape 2 and mean `free_in_secs`: unlike an exponential it gives
//!   little chance of ending at once), a Poisson-binomial count `Y`.
//! - **Calls needing one**: those answered and waiting now, plus each call ringing or placed
//!   now answered with probability `answer_rate`: `X = waiting + Binomial(ringing + n,
//!   answer_rate)`.
//! - **Abandonments**: `E[max(0, X − Y)]`, calls answered with nobody to take them.
//!
//! It places the largest `n` with `E[abandoned] ≤ share × E[answered]`, where `share` is the
//! target (2.5 % by default, under the 3 % limit) while the window's rate is at or under it,
//! and falls linearly to zero as the rate nears the limit. At the limit the hard brake dials
//! progressively: a call only for a collector free now with no call already ringing for
//! them. With nobody able to be free within the budget it places none. `max_level` bounds
//! calls in flight per working collector.
//!
//! Unlike VICIdial's, which reacts to the last 15 seconds' averages and the day's drops, this
//! pacer looks ahead (who frees up when) and spends the regulatory budget evenly over the
//! window rather than braking after it is spent.

use super::{Busy, Floor, Pacer, Tally};

/// The pacer's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// The pack's abandonment limit: abandoned calls as a share of answered ones over the
    /// window (0.03 under the FTC and Ofcom rules).
    pub limit: f64,
    /// The share it aims for, under the limit (default 0.025).
    pub target: f64,
    /// Calls in flight per working collector, at most (default 4).
    pub max_level: f64,
    /// Answered calls over the window before the window's rate is trusted (default 100).
    pub min_answered: u64,
    /// How far ahead collectors are counted free, as a share of the mean seconds to an
    /// answer (default 0.5): calls answer from a few seconds on, and one answered early finds
    /// only the collectors free early.
    pub lookahead: f64,
    /// Seconds an answered call waits for a collector before it is abandoned (2).
    pub greeting_secs: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            limit: 0.03,
            target: 0.025,
            max_level: 4.0,
            min_answered: 100,
            lookahead: 0.5,
            greeting_secs: 2.0,
        }
    }
}

/// Daylight's abandonment-constrained pacer.
#[derive(Debug, Clone)]
pub struct Daylight {
    settings: Settings,
    level: f64,
    braking: bool,
}

impl Daylight {
    /// A pacer with `settings`.
    pub fn new(settings: Settings) -> Daylight {
        Daylight { settings, level: 1.0, braking: false }
    }

    /// Whether the hard brake held at the last decision.
    pub fn braking(&self) -> bool {
        self.braking
    }

    /// The share of the calls answered that may be abandoned, given the window's rate so far;
    /// `None` at or past the limit (the brake).
    fn share(&self, tally: &Tally) -> Option<f64> {
        let s = &self.settings;
        if tally.answered_window < s.min_answered {
            return Some(s.target);
        }
        let rate = tally.window_rate();
        if rate >= s.limit {
            None
        } else if rate <= s.target {
            Some(s.target)
        } else {
            Some(s.target * (s.limit - rate) / (s.limit - s.target))
        }
    }
}

impl Pacer for Daylight {
    fn dials(&mut self, floor: &Floor, tally: &Tally) -> u32 {
        let p = floor.answer_rate.clamp(0.0, 1.0);
        let working = floor.ready + floor.busy.len() as u32;
        let in_flight = floor.ringing + floor.waiting;
        let share = self.share(tally);
        self.braking = share.is_none();
        if working == 0 || p <= 0.0 {
            self.level = 1.0;
            return 0;
        }
        let cap = (self.settings.max_level * f64::from(working)).floor() as u32;
        let room = cap.saturating_sub(in_flight + floor.talking());
        let n = match share {
            // Progressive: a call only for a collector free now, none for whom a call is
            // already ringing or waiting.
            None => floor.ready.saturating_sub(in_flight).min(room),
            Some(share) => {
                let horizon = self.settings.lookahead * floor.secs_to_answer + self.settings.greeting_secs;
                largest_within(floor, p, share, room, horizon)
            }
        };
        self.level = f64::from(in_flight + floor.talking() + n) / f64::from(working);
        n
    }

    fn level(&self) -> f64 {
        self.level
    }

    fn name(&self) -> String {
        format!(
            "Daylight abandonment-constrained ({:.1} % target, {:.0} % limit)",
            self.settings.target * 100.0,
            self.settings.limit * 100.0
        )
    }
}

/// The largest `n ≤ room` with `E[abandoned] ≤ share × E[answered]`.
fn largest_within(floor: &Floor, p: f64, share: f64, room: u32, horizon: f64) -> u32 {
    // Y: collectors free by the horizon.
    let frees: Vec<f64> = floor.busy.iter().map(|b| free_by(b, horizon)).collect();
    let y = poisson_binomial(&frees);
    // g[x] = E[max(0, x − Y')] with Y' = ready + Y, for x up to the most calls that could
    // need a collector.
    let ready = floor.ready as usize;
    let max_x = (floor.waiting + floor.ringing + room) as usize;
    let mut g = vec![0.0; max_x + 2];
    let mut below = 0.0; // P(Y' ≤ x)
    for x in 0..=max_x {
        // P(Y' = x) = P(Y = x − ready).
        let py = x.checked_sub(ready).and_then(|k| y.get(k)).copied().unwrap_or(0.0);
        below += py;
        g[x + 1] = g[x] + below;
    }
    // X = waiting + Binomial(ringing + n, p), built one call at a time.
    let w = floor.waiting as usize;
    let mut x = vec![0.0; max_x + 1];
    x[w] = 1.0;
    for _ in 0..floor.ringing {
        add_call(&mut x, p);
    }
    let expected_drops = |x: &[f64]| x.iter().zip(&g).map(|(px, gx)| px * gx).sum::<f64>();
    let base = f64::from(floor.waiting) + p * f64::from(floor.ringing);
    let mut n = 0;
    while n < room {
        let mut next = x.clone();
        add_call(&mut next, p);
        let answered = base + p * f64::from(n + 1);
        if expected_drops(&next) > share * answered + 1e-12 {
            break;
        }
        x = next;
        n += 1;
    }
    n
}

/// P(collector `b` is free within `h` seconds). The rest of a call is taken as gamma with
/// shape 2 and mean `free_in_secs` (little chance of ending at once, unlike an exponential);
/// a wrap-up ends when it says.
fn free_by(b: &Busy, h: f64) -> f64 {
    let m = b.free_in_secs.max(1.0);
    if !b.talking {
        return if m <= h { 1.0 } else { 0.0 };
    }
    let x = 2.0 * h / m;
    1.0 - (-x).exp() * (1.0 + x)
}

/// Adds one call answered with probability `p` to the count distribution `x`.
fn add_call(x: &mut [f64], p: f64) {
    for k in (0..x.len()).rev() {
        let from_below = if k > 0 { x[k - 1] * p } else { 0.0 };
        x[k] = x[k] * (1.0 - p) + from_below;
    }
}

/// The distribution of the number of successes of independent trials with probabilities `ps`.
fn poisson_binomial(ps: &[f64]) -> Vec<f64> {
    let mut d = vec![0.0; ps.len() + 1];
    d[0] = 1.0;
    for (i, &q) in ps.iter().enumerate() {
        for k in (0..=i + 1).rev() {
            let from_below = if k > 0 { d[k - 1] * q } else { 0.0 };
            d[k] = d[k] * (1.0 - q) + from_below;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn floor(ready: u32, busy: &[f64], ringing: u32, waiting: u32, p: f64) -> Floor {
        Floor {
            time_of_day_secs: 10 * 3600,
            logged_in: ready + busy.len() as u32,
            ready,
            busy: busy.iter().map(|&f| Busy { talking: true, free_in_secs: f }).collect(),
            ringing,
            waiting,
            answer_rate: p,
            secs_to_answer: 12.0,
        }
    }

    #[test]
    fn ready_collectors_get_calls_and_more_when_few_answer() {
        let mut d = Daylight::new(Settings::default());
        let t = Tally::default();
        // Ten ready, nobody busy: at a 30 % answer rate it dials well past ten.
        let n = d.dials(&floor(10, &[], 0, 0, 0.3), &t);
        assert!((15..=40).contains(&n), "{n}");
        // At 90 % it dials about one each.
        let m = d.dials(&floor(10, &[], 0, 0, 0.9), &t);
        assert!((8..=11).contains(&m), "{m}");
        assert!(n > m);
    }

    #[test]
    fn collectors_about_to_be_free_count_and_those_far_from_it_do_not() {
        let mut d = Daylight::new(Settings::default());
        let t = Tally::default();
        let soon = d.dials(&floor(0, &[5.0; 10], 0, 0, 0.3), &t);
        let late = d.dials(&floor(0, &[600.0; 10], 0, 0, 0.3), &t);
        assert!(soon > late, "{soon} {late}");
        assert_eq!(late, 0, "nobody will be free when the calls are answered");
    }

    #[test]
    fn at_the_limit_the_brake_leaves_calls_for_the_free_collectors_only() {
        let mut d = Daylight::new(Settings::default());
        let over = Tally { answered_window: 1000, dropped_window: 30, ..Tally::default() };
        let n = d.dials(&floor(3, &[5.0; 10], 0, 0, 0.5), &over);
        assert!(d.braking());
        assert_eq!(n, 3, "a call per collector free now");
        assert_eq!(d.dials(&floor(3, &[5.0; 10], 2, 0, 0.5), &over), 1, "less the calls ringing");
        assert_eq!(d.dials(&floor(0, &[5.0; 10], 4, 0, 0.5), &over), 0);
        // Near the limit the budget shrinks.
        let near = Tally { answered_window: 1000, dropped_window: 29, ..Tally::default() };
        let fresh = d.dials(&floor(0, &[20.0; 20], 0, 0, 0.3), &Tally::default());
        let tight = d.dials(&floor(0, &[20.0; 20], 0, 0, 0.3), &near);
        assert!(!d.braking() && tight < fresh, "{tight} {fresh}");
    }

    #[test]
    fn distributions_sum_to_one() {
        let d = poisson_binomial(&[0.1, 0.5, 0.9, 0.3]);
        assert!((d.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((d[0] - 0.9 * 0.5 * 0.1 * 0.7).abs() < 1e-12);
        let mut x = vec![0.0; 4];
        x[0] = 1.0;
        for _ in 0..3 {
            add_call(&mut x, 0.5);
        }
        assert_eq!(x, vec![0.125, 0.375, 0.375, 0.125]);
    }

    fn arb_floor() -> impl Strategy<Value = Floor> {
        (
            0u32..20,
            prop::collection::vec(1.0f64..900.0, 0..30),
            0u32..40,
            0u32..10,
            0.05f64..1.0,
            3.0f64..30.0,
        )
            .prop_map(|(ready, busy, ringing, waiting, p, secs)| {
                let mut f = floor(ready, &busy, ringing, waiting, p);
                f.secs_to_answer = secs;
                f
            })
    }

    fn arb_tally() -> impl Strategy<Value = Tally> {
        (0u64..5000, 0u64..300).prop_map(|(answered, dropped)| Tally {
            answered_window: answered,
            dropped_window: dropped.min(answered),
            ..Tally::default()
        })
    }

    proptest! {
        /// With nobody ready and nobody who can be free when the calls would be answered, it
        /// never dials.
        #[test]
        fn never_dials_when_nobody_can_take_a_call(busy in prop::collection::vec(10_000.0f64..1e6, 0..30), ringing in 0u32..20, p in 0.05f64..1.0, t in arb_tally()) {
            let mut d = Daylight::new(Settings::default());
            let f = floor(0, &busy, ringing, 0, p);
            prop_assert_eq!(d.dials(&f, &t), 0);
        }

        /// Whatever it places keeps the expected abandonments within the budget it was given.
        #[test]
        fn what_it_places_fits_the_budget(f in arb_floor(), t in arb_tally()) {
            let mut d = Daylight::new(Settings::default());
            let n = d.dials(&f, &t);
            if let Some(share) = d.share(&t) {
                let s = Settings::default();
                let horizon = s.lookahead * f.secs_to_answer + s.greeting_secs;
                let check = largest_within(&f, f.answer_rate, share, n, horizon);
                prop_assert_eq!(check, n, "every call up to n fits");
            } else {
                // The brake: calls in flight never outnumber the collectors free now.
                prop_assert!(n == 0 || f.waiting + f.ringing + n <= f.ready, "{} calls for {} ready", f.waiting + f.ringing + n, f.ready);
            }
            let working = f.ready + f.busy.len() as u32;
            prop_assert!(f64::from(n) <= Settings::default().max_level * f64::from(working));
        }

        /// The brake engages exactly at the limit.
        #[test]
        fn the_brake_engages_at_the_limit(f in arb_floor(), answered in 100u64..10_000, over in 0u64..50) {
            let mut d = Daylight::new(Settings::default());
            // Integers: 3 % of the answered, rounded up, is at the limit.
            let at = (answered * 3).div_ceil(100) + over;
            d.dials(&f, &Tally { answered_window: answered, dropped_window: at, ..Tally::default() });
            prop_assert!(d.braking());
            let under = (answered * 3).div_ceil(100) - 1;
            d.dials(&f, &Tally { answered_window: answered, dropped_window: under, ..Tally::default() });
            prop_assert!(!d.braking());
        }
    }
}
