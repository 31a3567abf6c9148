//! A dialling day at one-second resolution: what pacing needs and the day loop does not
//! resolve. Collectors log in for their shifts; a hopper holds the open cases of the chosen
//! buckets (largest overdue first); each second the pacer ([`daylight_dialer::pacer::Pacer`])
//! sees the floor and says how many calls to place; each call is put to the real compliance
//! engine (`allowed_at`, with the request built the one way, `request_of`) before it is
//! placed, so a refused contact waits in the hopper for a later second; the debtors answer by
//! their hidden behaviour (`behaviour::answer`), after a ring of 4–18 s; an answered call
//! with no collector free within `greeting_secs` is abandoned (it hears the bank's message
//! and ends). Afterwards every call placed is audited against the pack with everything
//! before it: a call the pack would deny is a cap violation (there must be none).
//!
//! The day's conversations move the accounts once [`World::close_dialing_day`] is given them:
//! a promise made on the call is kept or broken by the debtor's hidden behaviour, a
//! conversation nudges them to pay, and every account then moves one day
//! (`dynamics::advance`, as the day loop's do), so the next day's hopper holds what is still
//! open. Simulated, and simplified on purpose: talk times are 30 s plus an exponential draw,
//! collectors take no pauses, and a day's contacts stay in its own history only (the caps are
//! per day here).

use std::collections::VecDeque;

use daylight_compliance::Contact as GateContact;
use daylight_dialer::pacer::{Busy, Floor, Pacer, Tally};
use daylight_domain::attempt::{Channel, Outcome, OutcomeClass};
use daylight_domain::bucket::Bucket;
use daylight_domain::customer::Recipient;
use daylight_strategy::plan::{PlanCase, contact_of, request_of};
use jiff::Timestamp;
use serde::Serialize;

use crate::behaviour::{self, Contact};
use crate::rng::{Stream, uniform};
use crate::world::{SimError, World, index_of};

/// The floor a dialling day runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorSettings {
    /// Collectors logged in through every shift.
    pub collectors: u32,
    /// Shifts, seconds of the local day `[from, until)`.
    pub shifts: Vec<(u32, u32)>,
    /// Mean talk time of a connected call, seconds (at least 30).
    pub mean_talk_secs: f64,
    /// Wrap-up after each call, seconds.
    pub wrap_secs: u32,
    /// An answered call waits this long for a collector, then is abandoned (2 s under the
    /// FTC and Ofcom rules).
    pub greeting_secs: u32,
    /// A call not answered by then rings out (at least 15 s).
    pub ring_secs: u32,
    /// The buckets whose open cases fill the hopper.
    pub buckets: Vec<Bucket>,
    /// A contact the gate refuses is tried again this many seconds later.
    pub retry_secs: u32,
}

impl Default for FloorSettings {
    fn default() -> FloorSettings {
        FloorSettings {
            collectors: 40,
            shifts: vec![(9 * 3600, 12 * 3600), (14 * 3600, 18 * 3600)],
            mean_talk_secs: 150.0,
            wrap_secs: 30,
            greeting_secs: 2,
            ring_secs: 30,
            buckets: vec![Bucket::M1, Bucket::M2, Bucket::M3],
            retry_secs: 1800,
        }
    }
}

/// A campaign's counts carried from day to day (the abandonment window).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Calls answered by a person.
    pub answered: u64,
    /// Of those, abandoned.
    pub abandoned: u64,
}

/// What a dialling day did (simulated).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DialDay {
    /// Calls placed.
    pub dials: u64,
    /// Answered by a person.
    pub answered: u64,
    /// Answered with nobody to take them within the greeting.
    pub abandoned: u64,
    /// Taken by a collector.
    pub connected: u64,
    /// Of those, right-party conversations.
    pub conversations: u64,
    /// Contacts the gate refused when the hopper offered them (tried again later).
    pub refused: u64,
    /// Calls the audit finds the pack would have denied (must be 0).
    pub violations: u64,
    /// Collectors' talk time, seconds.
    pub talk_secs: u64,
    /// Collectors' logged-in time, seconds.
    pub logged_secs: u64,
    /// The highest dial level the pacer reached.
    pub max_level: f64,
    /// Paid by the debtors the day after their calls were closed
    /// ([`World::close_dialing_day`]), fen.
    pub recovered_fen: i64,
    /// Each call a collector took: the debtor (the world's index) and the outcome.
    #[serde(skip)]
    pub talks: Vec<(usize, Outcome)>,
}

impl DialDay {
    /// Talk time over logged-in time.
    pub fn occupancy(&self) -> f64 {
        if self.logged_secs == 0 { 0.0 } else { self.talk_secs as f64 / self.logged_secs as f64 }
    }

    /// Abandoned calls over answered ones.
    pub fn abandonment(&self) -> f64 {
        if self.answered == 0 { 0.0 } else { self.abandoned as f64 / self.answered as f64 }
    }

    /// Adds another day's counts.
    pub fn add(&mut self, o: &DialDay) {
        self.dials += o.dials;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.connected += o.connected;
        self.conversations += o.conversations;
        self.refused += o.refused;
        self.violations += o.violations;
        self.talk_secs += o.talk_secs;
        self.logged_secs += o.logged_secs;
        self.max_level = self.max_level.max(o.max_level);
        self.recovered_fen += o.recovered_fen;
    }
}

/// A call in flight.
#[derive(Debug, Clone, Copy)]
struct Ringing {
    case: usize,
    outcome: Outcome,
    /// When it is answered, or ends unanswered (seconds of the day).
    at: u32,
    answers: bool,
}

/// A collector.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Seat {
    Ready,
    Talking { since: u32, until: u32 },
    Wrapping { until: u32 },
}

/// The dialler's running estimates: the answer rate over the calls resolved lately, and the
/// mean seconds to an answer.
#[derive(Debug, Clone)]
struct Estimates {
    resolved: VecDeque<bool>,
    answer_secs: f64,
}

impl Estimates {
    const KEEP: usize = 300;

    fn rate(&self) -> f64 {
        // A prior of 30 % worth 20 calls until enough are resolved.
        let hits = self.resolved.iter().filter(|a| **a).count() as f64;
        (hits + 6.0) / (self.resolved.len() as f64 + 20.0)
    }

    fn resolve(&mut self, answered: bool, after_secs: u32) {
        if self.resolved.len() == Self::KEEP {
            self.resolved.pop_front();
        }
        self.resolved.push_back(answered);
        if answered {
            self.answer_secs = 0.95 * self.answer_secs + 0.05 * f64::from(after_secs);
        }
    }
}

/// One day's state.
struct Day<'w> {
    world: &'w World,
    day: u32,
    settings: &'w FloorSettings,
    cases: Vec<PlanCase>,
    /// Per case: the debtor's index and the history the gate counts (today's calls added).
    debtors: Vec<usize>,
    histories: Vec<Vec<GateContact>>,
    made_today: Vec<u32>,
    /// Cases that may be offered now, in order.
    hopper: VecDeque<usize>,
    /// Cases to offer again from a second on, in that second's order (appended with a fixed
    /// delay, so already sorted).
    later: VecDeque<(u32, usize)>,
    ringing: Vec<(Ringing, u32)>,
    waiting: VecDeque<(usize, Outcome, u32)>,
    seats: Vec<Seat>,
    estimates: Estimates,
    /// Calls placed and abandoned, by second, for the last minute's counts.
    minute: VecDeque<(u32, bool)>,
    placed: Vec<(usize, Timestamp)>,
    out: DialDay,
}

impl World {
    /// Simulates dialling day `day` with `pacer` on the floor `settings`; `window` carries
    /// the campaign's abandonment counts from earlier days and is updated.
    pub fn dialing_day(
        &self,
        day: u32,
        pacer: &mut dyn Pacer,
        settings: &FloorSettings,
        window: &mut Window,
    ) -> Result<DialDay, SimError> {
        let mut cases: Vec<PlanCase> =
            self.open_cases().into_iter().filter(|c| settings.buckets.contains(&c.bucket)).collect();
        cases.sort_by_key(|c| std::cmp::Reverse(c.overdue_fen));
        let debtors: Vec<usize> = cases.iter().map(|c| index_of(&c.customer).unwrap_or(usize::MAX)).collect();
        let histories =
            debtors.iter().map(|&i| self.contacts_of(i).iter().map(contact_of).collect()).collect();
        let n = cases.len();
        let mut d = Day {
            world: self,
            day,
            settings,
            hopper: (0..n).collect(),
            later: VecDeque::new(),
            cases,
            debtors,
            histories,
            made_today: vec![0; n],
            ringing: Vec::new(),
            waiting: VecDeque::new(),
            seats: vec![Seat::Ready; settings.collectors as usize],
            estimates: Estimates { resolved: VecDeque::new(), answer_secs: 10.0 },
            minute: VecDeque::new(),
            placed: Vec::new(),
            out: DialDay::default(),
        };
        for &(from, until) in &settings.shifts {
            // No call is placed that could still ring when the shift ends.
            let last_dial = until.saturating_sub(settings.ring_secs);
            for t in from..until {
                d.second(t, (t < last_dial).then_some(&mut *pacer), window)?;
            }
            // After the shift: calls in flight end; collectors finish and log out.
            d.ringing.clear();
            d.out.abandoned += d.waiting.len() as u64;
            window.abandoned += d.waiting.len() as u64;
            d.waiting.clear();
            for s in &mut d.seats {
                if let Seat::Talking { since, until: end } = *s {
                    d.out.talk_secs -= u64::from(end.saturating_sub(until.max(since)));
                }
                *s = Seat::Ready;
            }
            d.out.logged_secs += u64::from(until - from) * u64::from(settings.collectors);
        }
        d.audit()?;
        Ok(d.out)
    }
}

impl Day<'_> {
    fn now(&self, t: u32) -> Result<Timestamp, SimError> {
        let (h, rest) = (t / 3600, t % 3600);
        let at = self.world.local(self.day, h as i8, (rest / 60) as i8)?;
        Ok(at + jiff::SignedDuration::from_secs(i64::from(rest % 60)))
    }

    /// Second `t` of the day; `pacer` is asked for calls unless the shift is ending.
    fn second(&mut self, t: u32, pacer: Option<&mut dyn Pacer>, window: &mut Window) -> Result<(), SimError> {
        while self.later.front().is_some_and(|(at, _)| *at <= t) {
            if let Some((_, case)) = self.later.pop_front() {
                self.hopper.push_back(case);
            }
        }
        // Calls answered or ending now.
        let mut still = Vec::with_capacity(self.ringing.len());
        for (call, placed_at) in std::mem::take(&mut self.ringing) {
            if call.at > t {
                still.push((call, placed_at));
                continue;
            }
            self.estimates.resolve(call.answers, t - placed_at);
            if call.answers {
                self.out.answered += 1;
                window.answered += 1;
                self.waiting.push_back((call.case, call.outcome, t));
            }
        }
        self.ringing = still;
        // Collectors: talk → wrap-up → ready.
        for s in &mut self.seats {
            *s = match *s {
                Seat::Talking { until, .. } if until <= t => {
                    Seat::Wrapping { until: t + self.settings.wrap_secs }
                }
                Seat::Wrapping { until } if until <= t => Seat::Ready,
                other => other,
            };
        }
        // Waiting calls to ready collectors, first come first served.
        while let Some(seat) = self.seats.iter().position(|s| *s == Seat::Ready) {
            let Some((case, outcome, _)) = self.waiting.pop_front() else { break };
            let talk = self.talk_secs(case, outcome);
            self.seats[seat] = Seat::Talking { since: t, until: t + talk };
            self.out.connected += 1;
            self.out.talks.push((self.debtors[case], outcome));
            self.out.talk_secs += u64::from(talk);
            if outcome.class() == OutcomeClass::Conversation {
                self.out.conversations += 1;
            }
        }
        // Nobody within the greeting: abandoned.
        while self.waiting.front().is_some_and(|(_, _, at)| t - at >= self.settings.greeting_secs) {
            self.waiting.pop_front();
            self.out.abandoned += 1;
            window.abandoned += 1;
            self.minute.push_back((t, true));
        }
        while self.minute.front().is_some_and(|(at, _)| t - at >= 60) {
            self.minute.pop_front();
        }
        let Some(pacer) = pacer else { return Ok(()) };
        let floor = self.floor(t);
        let tally = Tally {
            calls_today: self.out.dials,
            answered_today: self.out.answered,
            dropped_today: self.out.abandoned,
            calls_last_min: self.minute.iter().filter(|(_, dropped)| !dropped).count() as u64,
            dropped_last_min: self.minute.iter().filter(|(_, dropped)| *dropped).count() as u64,
            answered_window: window.answered,
            dropped_window: window.abandoned,
        };
        let n = pacer.dials(&floor, &tally);
        self.out.max_level = self.out.max_level.max(pacer.level());
        for _ in 0..n {
            if !self.place(t)? {
                break;
            }
        }
        Ok(())
    }

    fn floor(&self, t: u32) -> Floor {
        let mean = self.settings.mean_talk_secs;
        let wrap = f64::from(self.settings.wrap_secs);
        let busy = self
            .seats
            .iter()
            .filter_map(|s| match *s {
                Seat::Ready => None,
                // The mean rest of a talk of 30 s plus an exponential draw, then the wrap-up.
                Seat::Talking { since, .. } => Some(Busy {
                    talking: true,
                    free_in_secs: (30.0 - f64::from(t - since)).max(0.0) + (mean - 30.0).max(0.0) + wrap,
                }),
                Seat::Wrapping { until } => {
                    Some(Busy { talking: false, free_in_secs: f64::from(until - t).max(1.0) })
                }
            })
            .collect();
        Floor {
            time_of_day_secs: t,
            logged_in: self.settings.collectors,
            ready: self.seats.iter().filter(|s| **s == Seat::Ready).count() as u32,
            busy,
            ringing: self.ringing.len() as u32,
            waiting: self.waiting.len() as u32,
            answer_rate: self.estimates.rate(),
            secs_to_answer: self.estimates.answer_secs,
        }
    }

    /// Places the next contact the gate allows now; false when the hopper has none. A
    /// contact refused, or placed, is offered again `retry_secs` later.
    fn place(&mut self, t: u32) -> Result<bool, SimError> {
        let now = self.now(t)?;
        let date = self.world.date(self.day);
        while let Some(case) = self.hopper.pop_front() {
            self.later.push_back((t + self.settings.retry_secs, case));
            let c = &self.cases[case];
            let point = format!("{}:mobile", c.customer);
            let mut request = request_of(c, Channel::Call, Recipient::Debtor, &point, date)
                .map_err(|e| SimError { code: e.code, message: e.message })?;
            request.at = Some(now);
            if !daylight_compliance::allowed_at(self.world.pack(), &request, &self.histories[case], now) {
                self.out.refused += 1;
                continue;
            }
            self.dial(case, t, now, &point);
            return Ok(true);
        }
        Ok(false)
    }

    fn dial(&mut self, case: usize, t: u32, now: Timestamp, point: &str) {
        let i = self.debtors[case];
        let Some(debtor) = self.world.debtors.get(i) else { return };
        let k = u64::from(self.day) << 24 | u64::from(self.made_today[case]);
        let answer = behaviour::answer(
            self.world.seed(),
            i as u64,
            debtor,
            self.day,
            Contact {
                channel: Channel::Call,
                recipient: Recipient::Debtor,
                hour: (t / 3600) as u8,
                tone: None,
                earlier_today: self.made_today[case],
                recent_conversations: 0,
            },
        );
        self.made_today[case] += 1;
        let o = answer.outcome;
        let answers = matches!(o.class(), OutcomeClass::Conversation) || o == Outcome::ThirdPartyAnswered;
        let u = uniform(self.world.seed(), Stream::Dial, i as u64, k);
        let after = match o {
            _ if answers => 4 + (u * 14.0) as u32,
            Outcome::Busy => 3,
            Outcome::NoAnswer => self.settings.ring_secs,
            _ => 2,
        };
        self.ringing.push((Ringing { case, outcome: o, at: t + after, answers }, t));
        self.histories[case].push(GateContact {
            at: now,
            channel: Channel::Call,
            recipient: Recipient::Debtor,
            contact_point: Some(point.to_owned()),
            debt: self.cases[case].account.clone(),
            outcome: Some(o),
        });
        self.placed.push((case, now));
        self.minute.push_back((t, false));
        self.out.dials += 1;
    }

    fn talk_secs(&self, case: usize, outcome: Outcome) -> u32 {
        if outcome == Outcome::ThirdPartyAnswered {
            return 20;
        }
        let i = self.debtors[case] as u64;
        let k = u64::from(self.day) << 24 | u64::from(self.made_today[case]) | 1 << 40;
        let u = uniform(self.world.seed(), Stream::Dial, i, k).max(1e-9);
        let extra = (self.settings.mean_talk_secs - 30.0).max(0.0);
        30 + (-u.ln() * extra) as u32
    }

    /// Each call placed against the pack, with the history before it.
    fn audit(&mut self) -> Result<(), SimError> {
        let date = self.world.date(self.day);
        let mut seen = vec![0usize; self.cases.len()];
        let base: Vec<usize> = self.debtors.iter().map(|&i| self.world.contacts_of(i).len()).collect();
        for &(case, at) in &self.placed {
            let c = &self.cases[case];
            let point = format!("{}:mobile", c.customer);
            let mut request = request_of(c, Channel::Call, Recipient::Debtor, &point, date)
                .map_err(|e| SimError { code: e.code, message: e.message })?;
            request.at = Some(at);
            let before = &self.histories[case][..base[case] + seen[case]];
            if !daylight_compliance::allowed_at(self.world.pack(), &request, before, at) {
                self.out.violations += 1;
            }
            seen[case] += 1;
        }
        Ok(())
    }
}
