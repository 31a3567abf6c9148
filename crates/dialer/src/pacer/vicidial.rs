//! VICIdial's adaptive predictive pacing, reimplemented from its published source as the
//! reference Daylight's own pacer is measured against.
//!
//! Source read: VICIdial `bin/AST_VDadapt.pl` version 2.14, build 240219-1514 (SVN revision
//! 3884; the copy in github.com/ccabrerar/vicidial at 739c0ce), the subroutines
//! `count_agents_lines` (about lines 2639–2743), `calculate_drops` (2958–4195) and
//! `calculate_dial_level` (6777–7042); and `bin/AST_VDauto_dial.pl` build 240917-1719, which
//! turns the level into calls (about lines 673–1470). Defaults are those of
//! `extras/MySQL_AST_CREATE_tables.sql`: `adaptive_maximum_level` 3.0,
//! `adaptive_dropped_percentage` 3, `adaptive_intensity` 0, `adaptive_dl_diff_target` 0,
//! `adaptive_latest_server_time` 2100. This is our code, written from a reading of theirs.
//!
//! What it does, per campaign:
//! - every loop (one a second, `--delay` 1) it samples ready agents (READY|DONE), answered
//!   calls waiting for an agent (LIVE) and all logged-in agents; averages are over the last
//!   15 loops;
//! - every 60 loops it reads the drop counts: the last minute's drops as a share of its calls,
//!   and today's drops as a share of today's answered calls (each rounded to 2 decimals);
//! - every 15 loops (first on the 16th) it moves the dial level by the ratio of the
//!   differential (ready − waiting, plus the diff target) to the agents, scaled by the
//!   intensity; caps it at the maximum, floors it at 1.0; halves it when over 50 % of the last
//!   minute's calls (more than 20) dropped; and, once today's drops (more than 50 calls) pass
//!   the limit, `ADAPT_HARD_LIMIT` drops it to 1.0, `ADAPT_AVERAGE` halves it and
//!   `ADAPT_TAPERED` scales it by the time left until the latest server time;
//! - each loop the auto-dialler places `round(level × agents) − calls in progress`, agents
//!   being those ready or on a call (not paused; VICIdial's agents dispose of a call paused),
//!   calls in progress those ringing, waiting or with an agent.
//!
//! Simplifications, each said: the auto-dialler runs every second here (VICIdial's loop is
//! 2.5 s); its trunk limits are the caller's; the level is kept as a number (VICIdial writes a
//! six-character string); the UK Ofcom variant of the drop count, drop-rate groups, dial
//! level thresholds and shared campaigns are not modelled.

use std::collections::VecDeque;

use super::{Floor, Pacer, Tally};

/// What VICIdial does once today's drops pass the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropMethod {
    /// `ADAPT_HARD_LIMIT`: the dial level drops to 1.0.
    HardLimit,
    /// `ADAPT_AVERAGE`: the dial level is halved.
    Average,
    /// `ADAPT_TAPERED`: the dial level is scaled by the time left before the latest server
    /// time (HHMM difference / 1000, at most 1).
    Tapered,
}

impl DropMethod {
    /// VICIdial's name for it.
    pub const fn as_str(self) -> &'static str {
        match self {
            DropMethod::HardLimit => "ADAPT_HARD_LIMIT",
            DropMethod::Average => "ADAPT_AVERAGE",
            DropMethod::Tapered => "ADAPT_TAPERED",
        }
    }
}

/// A campaign's adaptive settings, with VICIdial's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// `dial_method`.
    pub method: DropMethod,
    /// `adaptive_maximum_level` (default 3.0).
    pub max_level: f64,
    /// `adaptive_dropped_percentage` (default 3).
    pub dropped_percentage: f64,
    /// `adaptive_intensity`, −40 to 40 (default 0).
    pub intensity: i32,
    /// `adaptive_dl_diff_target`, −40 to 40 (default 0): −1 aims for an agent waiting, +1 for
    /// a call waiting.
    pub dl_diff_target: i32,
    /// `adaptive_latest_server_time`, HHMM (default 2100).
    pub latest_server_time: u32,
    /// The dial level the campaign starts the day at (`auto_dial_level`).
    pub start_level: f64,
}

impl Settings {
    /// VICIdial's defaults with `method`.
    pub const fn defaults(method: DropMethod) -> Settings {
        Settings {
            method,
            max_level: 3.0,
            dropped_percentage: 3.0,
            intensity: 0,
            dl_diff_target: 0,
            latest_server_time: 2100,
            start_level: 1.0,
        }
    }
}

/// The averaging window, loops.
const WINDOW: usize = 15;
/// Loops between dial level updates.
const LEVEL_EVERY: u32 = 15;
/// Loops between drop count updates.
const DROPS_EVERY: u32 = 60;

/// The drop counts as `calculate_drops` leaves them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Drops {
    calls_one: u64,
    drops_one_pct: f64,
    calls_today: u64,
    drops_answers_today_pct: f64,
}

/// VICIdial's adaptive pacer for one campaign.
#[derive(Debug, Clone)]
pub struct Vicidial {
    settings: Settings,
    level: f64,
    /// (ready, waiting, logged in) of the last loops.
    samples: VecDeque<(u32, u32, u32)>,
    diff_ratio_updater: u32,
    drop_count_updater: u32,
    drops: Drops,
}

impl Vicidial {
    /// A campaign starting its day at `settings.start_level`.
    pub fn new(settings: Settings) -> Vicidial {
        Vicidial {
            settings,
            level: settings.start_level.max(1.0),
            samples: VecDeque::with_capacity(WINDOW),
            diff_ratio_updater: 0,
            // Drop counts are read on the first loop.
            drop_count_updater: DROPS_EVERY + 1,
            drops: Drops::default(),
        }
    }

    /// The last 15 loops' averages: (ready − waiting, logged in).
    fn averages(&self) -> (f64, f64) {
        let n = self.samples.len().max(1) as f64;
        let (mut ready, mut waiting, mut total) = (0.0, 0.0, 0.0);
        for (r, w, t) in &self.samples {
            ready += f64::from(*r);
            waiting += f64::from(*w);
            total += f64::from(*t);
        }
        (ready / n - waiting / n, total / n)
    }

    fn read_drops(&mut self, tally: &Tally) {
        let pct = |num: u64, den: u64| round_to(num as f64 / den.max(1) as f64 * 100.0, 2);
        self.drops = Drops {
            calls_one: tally.calls_last_min,
            drops_one_pct: if tally.dropped_last_min > 0 {
                pct(tally.dropped_last_min, tally.calls_last_min)
            } else {
                0.0
            },
            calls_today: tally.calls_today,
            drops_answers_today_pct: if tally.dropped_today > 0 {
                pct(tally.dropped_today, tally.answered_today)
            } else {
                0.0
            },
        };
    }

    /// `calculate_dial_level`.
    fn calculate_level(&mut self, time_of_day_secs: u32) {
        let s = &self.settings;
        let (differential, agents) = self.averages();
        if agents <= 0.0 {
            return;
        }
        let diff = differential + f64::from(s.dl_diff_target);
        let mul = if diff != 0.0 { diff / agents } else { 0.0 };
        let pct = mul * 100.0;
        let m = f64::from(s.intensity) / 100.0;
        let ipct = if pct < 0.0 { pct * (m - 1.0).abs() } else { pct * (m + 1.0) };
        let mut level = round_to(self.level * (ipct / 100.0 + 1.0), 3);
        // Raw HHMM subtraction, as VICIdial does (2100 − 1930 = 170).
        let hourmin = (time_of_day_secs / 3600) * 100 + (time_of_day_secs % 3600) / 60;
        let hours_left = f64::from(s.latest_server_time) - f64::from(hourmin);
        let taper = if hours_left > 1000.0 { 1.0 } else { hours_left / 1000.0 };
        if level > s.max_level {
            level = s.max_level;
        }
        if level < 1.0 {
            level = 1.0;
        }
        let d = self.drops;
        if d.calls_one > 20 && d.drops_one_pct > 50.0 {
            level /= 2.0;
        }
        if d.calls_today > 50 && d.drops_answers_today_pct > s.dropped_percentage {
            level = match s.method {
                DropMethod::HardLimit => 1.0,
                DropMethod::Average => level / 2.0,
                DropMethod::Tapered if hours_left < 0.0 => 1.0,
                DropMethod::Tapered => level * taper,
            };
        }
        if level < 1.0 {
            level = 1.0;
        }
        self.level = level;
    }
}

impl Pacer for Vicidial {
    fn dials(&mut self, floor: &Floor, tally: &Tally) -> u32 {
        // count_agents_lines: one sample a loop.
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back((floor.ready, floor.waiting, floor.logged_in));
        if self.drop_count_updater >= DROPS_EVERY {
            self.read_drops(tally);
            self.drop_count_updater = 0;
        }
        if self.diff_ratio_updater >= LEVEL_EVERY {
            self.calculate_level(floor.time_of_day_secs);
            self.diff_ratio_updater = 0;
        }
        self.drop_count_updater += 1;
        self.diff_ratio_updater += 1;
        // AST_VDauto_dial.pl: goal = round(level × agents), less the calls in progress.
        let talking = floor.talking();
        let agents = floor.ready + talking;
        let goal = (self.level * f64::from(agents)).round_ties_even().max(0.0) as i64;
        let exist = i64::from(floor.ringing) + i64::from(floor.waiting) + i64::from(talking);
        (goal - exist).max(0) as u32
    }

    fn level(&self) -> f64 {
        self.level
    }

    fn name(&self) -> String {
        format!("VICIdial {}", self.settings.method.as_str())
    }
}

/// Perl's `sprintf("%.Nf")`: the exact binary value rounded, ties to even.
fn round_to(x: f64, places: i32) -> f64 {
    format!("{x:.prec$}", prec = places as usize).parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pacer::Busy;

    fn floor(ready: u32, talking: u32, ringing: u32, waiting: u32) -> Floor {
        Floor {
            time_of_day_secs: 10 * 3600,
            logged_in: ready + talking,
            ready,
            busy: vec![Busy { talking: true, free_in_secs: 60.0 }; talking as usize],
            ringing,
            waiting,
            answer_rate: 0.3,
            secs_to_answer: 10.0,
        }
    }

    #[test]
    fn the_level_moves_every_fifteen_loops_by_the_ratio_of_ready_agents() {
        let mut p = Vicidial::new(Settings::defaults(DropMethod::HardLimit));
        let t = Tally::default();
        // Ten agents, four of them ready all the time, nothing waiting.
        let f = floor(4, 6, 0, 0);
        for i in 1..=15 {
            p.dials(&f, &t);
            assert_eq!(p.level(), 1.0, "loop {i}");
        }
        // Loop 16: level × (1 + 4/10) = 1.4.
        p.dials(&f, &t);
        assert_eq!(p.level(), 1.4);
        for _ in 0..15 {
            p.dials(&f, &t);
        }
        assert_eq!(p.level(), 1.96);
        // And so on up to the maximum, 3.0.
        for _ in 0..200 {
            p.dials(&f, &t);
        }
        assert_eq!(p.level(), 3.0);
        // Calls = round(3.0 × (4 + 6)) − (6 with agents) = 24.
        assert_eq!(p.dials(&f, &t), 24);
    }

    #[test]
    fn calls_waiting_lower_the_level_and_intensity_scales_the_move() {
        let mut settings = Settings::defaults(DropMethod::HardLimit);
        settings.start_level = 2.0;
        let mut p = Vicidial::new(settings);
        let t = Tally::default();
        // Two calls waiting for agents, none ready: level × (1 − 2/10) = 1.6.
        let f = floor(0, 10, 0, 2);
        for _ in 0..16 {
            p.dials(&f, &t);
        }
        assert_eq!(p.level(), 1.6);
        // Intensity +20 makes it fall slower: × (1 − 0.2 × 0.8) = 1.68.
        settings.intensity = 20;
        let mut p = Vicidial::new(settings);
        for _ in 0..16 {
            p.dials(&f, &t);
        }
        assert_eq!(p.level(), 1.68);
    }

    #[test]
    fn past_the_drop_limit_each_method_brakes_its_own_way() {
        let over = Tally { calls_today: 400, answered_today: 100, dropped_today: 4, ..Tally::default() };
        let at = Tally { dropped_today: 3, ..over };
        let f = floor(5, 5, 0, 0);
        let run = |method: DropMethod, t: &Tally, time: u32| {
            let mut s = Settings::defaults(method);
            s.start_level = 2.5;
            let mut p = Vicidial::new(s);
            let mut f = f.clone();
            f.time_of_day_secs = time;
            for _ in 0..16 {
                p.dials(&f, t);
            }
            p.level()
        };
        let ten = 10 * 3600;
        // Not over (3 % is not more than 3 %): the level rises, capped at 3.0.
        assert_eq!(run(DropMethod::HardLimit, &at, ten), 3.0);
        assert_eq!(run(DropMethod::HardLimit, &over, ten), 1.0);
        assert_eq!(run(DropMethod::Average, &over, ten), 1.5);
        // Tapered at 19:30: (2100 − 1930) / 1000 = 0.17 of 3.0 is under 1: floored at 1.0;
        // at 10:00 over 1000 "HHMM" remain: unchanged.
        assert_eq!(run(DropMethod::Tapered, &over, 19 * 3600 + 1800), 1.0);
        assert_eq!(run(DropMethod::Tapered, &over, ten), 3.0);
        // Over half of the last minute's calls dropped: halved.
        let minute = Tally { calls_last_min: 30, dropped_last_min: 16, ..Tally::default() };
        assert_eq!(run(DropMethod::HardLimit, &minute, ten), 1.5);
    }

    #[test]
    fn perl_rounding() {
        assert_eq!(round_to(1.0005, 3), 1.0);
        assert_eq!(round_to(2.3475, 2), 2.35);
        assert_eq!(round_to(2.71249, 3), 2.712);
    }
}
