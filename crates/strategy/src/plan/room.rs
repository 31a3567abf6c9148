//! The day's room: the team's capacity per slot for calls and robot calls and per day for
//! the other moves, and placing what a tranche of cases wants into it.

use std::collections::{BTreeMap, BTreeSet};

use daylight_domain::attempt::Channel;
use jiff::Timestamp;

use super::judge::{Want, bit};
use super::slots::{SLOTS, first_run};
use super::{Action, PlanCase, Skip};
use crate::assign::{Candidate, assign};
use crate::document::{Move, Strategy};

/// The day's room left: per slot for calls and robot calls, per day for the other moves.
pub(super) struct Room<'a> {
    strategy: &'a Strategy,
    left: BTreeMap<Channel, Vec<u32>>,
    used: BTreeMap<Move, u32>,
    /// Cases with a contact placed.
    placed: Vec<bool>,
}

impl<'a> Room<'a> {
    /// The whole day's room: the team's lines per slot, nothing used yet.
    pub(super) fn new(strategy: &'a Strategy, cases: usize) -> Room<'a> {
        let per_slot = |lines: Option<&crate::document::Lines>| -> Vec<u32> {
            (0..SLOTS).map(|s| lines.map_or(0, |l| l.per_slot(u32::try_from(s * 15).unwrap_or(0)))).collect()
        };
        Room {
            strategy,
            left: BTreeMap::from([
                (Channel::Call, per_slot(Some(&strategy.capacity.call))),
                (Channel::RobotCall, per_slot(strategy.capacity.robot_call.as_ref())),
            ]),
            used: BTreeMap::new(),
            placed: vec![false; cases],
        }
    }

    /// The moves with no room left (see [`bit`]).
    pub(super) fn full(&self) -> u16 {
        let mut full = 0;
        for (channel, left) in &self.left {
            if left.iter().all(|n| *n == 0) {
                full |= bit(Move::Contact(*channel));
            }
        }
        for m in [Channel::Sms, Channel::Email, Channel::Letter, Channel::Visit]
            .map(Move::Contact)
            .into_iter()
            .chain([Move::Legal, Move::Agency])
        {
            if self.used.get(&m).copied().unwrap_or(0) >= self.strategy.capacity.per_day(m).unwrap_or(0) {
                full |= bit(m);
            }
        }
        full
    }

    /// Places a tranche's wants: referrals by weight up to their daily limits; contacts in
    /// rounds (every case's first alternative, then the second of those still without a
    /// contact, and so on), calls and robot calls into slots by regret, the rest by weight.
    /// Returns (value, action).
    pub(super) fn place(
        &mut self,
        wants: &[Want],
        cases: &[&PlanCase],
        arm_of: &[Option<String>],
        skipped: &mut BTreeMap<Skip, u64>,
    ) -> Vec<(f64, Action)> {
        let made = Made { cases, arm_of };
        let mut out = Vec::new();
        self.place_referrals(wants, &made, skipped, &mut out);
        let rounds = wants.iter().filter_map(|w| w.rank).max().map_or(0, |r| r + 1);
        for round in 0..rounds {
            let this: Vec<&Want> =
                wants.iter().filter(|w| w.rank == Some(round) && !self.placed[w.case]).collect();
            for channel in [Channel::Call, Channel::RobotCall] {
                self.place_calls(channel, &this, &made, &mut out);
            }
            self.place_by_weight(&this, &made, &mut out);
        }
        self.count_unplaced(wants, skipped);
        out
    }

    /// Referrals, heaviest first, while their move's daily limit lasts; the rest are skipped
    /// for capacity.
    fn place_referrals(
        &mut self,
        wants: &[Want],
        made: &Made<'_>,
        skipped: &mut BTreeMap<Skip, u64>,
        out: &mut Vec<(f64, Action)>,
    ) {
        let mut referrals: Vec<&Want> = wants.iter().filter(|w| w.rank.is_none()).collect();
        referrals.sort_by(|a, b| made.heaviest_first(a, b));
        for w in referrals {
            let n = self.used.entry(w.action).or_default();
            if *n >= self.strategy.capacity.per_day(w.action).unwrap_or(0) {
                *skipped.entry(Skip::Capacity).or_default() += 1;
                continue;
            }
            *n += 1;
            if let Some(first) = w.slots.first() {
                out.push((w.weight, made.action(w, first.0, first.1)));
            }
        }
    }

    /// A round's wants on `channel` (a call or robot call) into the slots left, by regret
    /// ([`assign`]) with value = P(connect) × weight.
    fn place_calls(
        &mut self,
        channel: Channel,
        this: &[&Want],
        made: &Made<'_>,
        out: &mut Vec<(f64, Action)>,
    ) {
        let group: Vec<&&Want> = this.iter().filter(|w| w.action == Move::Contact(channel)).collect();
        if group.is_empty() {
            return;
        }
        let mut capacity = self.left.get_mut(&channel).map(std::mem::take).unwrap_or_default();
        let candidates: Vec<Candidate> = group
            .iter()
            .map(|w| Candidate {
                options: w.slots.iter().zip(&w.p).map(|((_, _, slot), p)| (*slot, p * w.weight)).collect(),
            })
            .collect();
        let got = assign(&capacity, &candidates);
        for (w, got) in group.iter().zip(got) {
            if let Some(slot) = got {
                capacity[slot] -= 1;
                self.placed[w.case] = true;
                let k = w.slots.iter().position(|s| s.2 == slot).unwrap_or(0);
                let (start, end, _) = w.slots[k];
                let mut a = made.action(w, start, end);
                if w.timed {
                    a.reasons.push(format!("P(connect) {:.3} at {}", w.p[k], start));
                }
                out.push((w.p[k] * w.weight, a));
            }
        }
        self.left.insert(channel, capacity);
    }

    /// A round's other contacts (SMS, e-mail, letters, visits), heaviest first, while their
    /// daily limits last; the window is the first run of allowed slots.
    fn place_by_weight(&mut self, this: &[&Want], made: &Made<'_>, out: &mut Vec<(f64, Action)>) {
        let mut rest: Vec<&&Want> = this
            .iter()
            .filter(|w| !matches!(w.action, Move::Contact(Channel::Call | Channel::RobotCall)))
            .collect();
        rest.sort_by(|a, b| made.heaviest_first(a, b));
        for w in rest {
            let n = self.used.entry(w.action).or_default();
            if *n >= self.strategy.capacity.per_day(w.action).unwrap_or(0) {
                continue;
            }
            *n += 1;
            self.placed[w.case] = true;
            if w.slots.is_empty() {
                continue;
            }
            let (start, end, _) = first_run(&w.slots);
            out.push((w.weight, made.action(w, start, end)));
        }
    }

    /// Skips for capacity each case of the tranche none of whose alternatives found room.
    fn count_unplaced(&self, wants: &[Want], skipped: &mut BTreeMap<Skip, u64>) {
        let wanting: BTreeSet<usize> = wants.iter().filter(|w| w.rank.is_some()).map(|w| w.case).collect();
        let unplaced = wanting.iter().filter(|c| !self.placed[**c]).count() as u64;
        if unplaced > 0 {
            *skipped.entry(Skip::Capacity).or_default() += unplaced;
        }
    }
}

/// What an action is made with besides its want: the cases and their arms.
struct Made<'a> {
    cases: &'a [&'a PlanCase],
    arm_of: &'a [Option<String>],
}

impl Made<'_> {
    /// The action of `w` in the window `start`–`end` (its priority is set later).
    fn action(&self, w: &Want, start: Timestamp, end: Timestamp) -> Action {
        Action {
            case: self.cases[w.case].case.clone(),
            channel: w.action,
            recipient: w.recipient,
            contact_point: w.point.clone(),
            script: w.script.clone(),
            window_start: start,
            window_end: end,
            priority: 0,
            arm: self.arm_of[w.case].clone().unwrap_or_default(),
            reasons: w.reasons.iter().chain(&w.own).cloned().collect(),
        }
    }

    /// Heavier first, ties by case id.
    fn heaviest_first(&self, a: &Want, b: &Want) -> std::cmp::Ordering {
        b.weight.total_cmp(&a.weight).then(self.cases[a.case].case.cmp(&self.cases[b.case].case))
    }
}
