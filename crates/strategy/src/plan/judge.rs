//! Judging one case: its arm and segment, the ladder's steps due today, the script and
//! channel, the contact point, and the slots the pack allows — what it wants before capacity.

use std::collections::BTreeMap;
use std::sync::Arc;

use daylight_compliance::{Contact, Pack, Rule};
use daylight_domain::attempt::Channel;
use daylight_domain::customer::Recipient;
use daylight_domain::history::DebtorHistory;
use daylight_scoring::product::Scorer as Contactability;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use super::facts::{contact_of, days_since, facts, history_of, pick_point, request_of, weight};
use super::model::user_vector;
use super::slots::{Scan, SlotSpan, allowed_slots, first_run, working_day};
use super::{PlanCase, PlanError, PlanInput, Skip, perr};
use crate::document::{Move, Step, Strategy};
use crate::experiment::{Arms, HOLDOUT};
use crate::segment::{Extreme, Segment};
use crate::select::{self, Item};

/// What a case wants today, before capacity.
pub(super) struct Want {
    pub(super) case: usize,
    pub(super) action: Move,
    pub(super) recipient: Recipient,
    pub(super) point: Option<String>,
    pub(super) script: Option<String>,
    /// Allowed slots `(start, end, index of the slot in the day)`.
    pub(super) slots: Vec<(Timestamp, Timestamp, usize)>,
    /// P(connect) per allowed slot (about 1 without model-driven timing: see [`spread`]).
    pub(super) p: Vec<f64>,
    /// Whether `p` is a model's P(connect).
    pub(super) timed: bool,
    pub(super) weight: f64,
    /// The case's reasons (segment, ladder), shared by its alternatives.
    pub(super) reasons: Arc<[String]>,
    /// This alternative's own (step, selection, time, fallback).
    pub(super) own: Vec<String>,
    /// Contacts: the alternative's place in the case's order (0 first); referrals: none.
    pub(super) rank: Option<usize>,
}

/// What the planner holds while judging cases.
pub(super) struct Context<'a> {
    pub(super) input: &'a PlanInput,
    pub(super) pack: &'a Pack,
    pub(super) arms: Option<&'a (Arms, String)>,
    pub(super) timing: &'a Contactability,
    /// The main strategy, then the arms' own.
    pub(super) strategies: &'a [&'a Strategy],
    /// Arm name → index in `strategies`.
    pub(super) arm_strategy: &'a BTreeMap<String, usize>,
    /// Scripts' word vectors, per strategy.
    pub(super) script_vectors: &'a [BTreeMap<&'a str, [f64; select::SCRIPT_DIM]>],
    /// P(pay within 30 days) per case, in case order, when a propensity model is champion.
    pub(super) propensity: Option<&'a [f64]>,
}

/// One case judged: what it wants, or why it was skipped.
pub(super) struct Judged {
    pub(super) considered: u64,
    pub(super) skipped: Option<Skip>,
    pub(super) wants: Vec<Want>,
    pub(super) arm: String,
}

/// A case's segment, ladder and options, before compliance and capacity.
struct Prepared<'s> {
    arm: String,
    /// The strategy the case follows (its arm's, or the main one) and its index.
    strategy: &'s Strategy,
    sx: usize,
    segment: Segment,
    /// The ladder's name (`None`: no ladder serves the segment).
    ladder: Option<&'s str>,
    /// Referral steps due.
    referrals: Vec<&'s Step>,
    /// Contact options: (step, script, contact point), the ladder's order.
    options: Vec<(&'s Step, &'s str, String)>,
    /// A contact step is due.
    due: bool,
    /// Why there is no option (`NO_LADDER`, `NO_CONTACT_POINT`, `NO_SCRIPT`).
    missing: Option<Skip>,
}

/// What a case wants, in brief.
#[derive(Clone, Copy)]
pub(super) struct Brief {
    /// Referrals due.
    pub(super) referrals: u32,
    /// A contact step is due.
    pub(super) contact: bool,
    /// Why it has no contact option although one is due.
    pub(super) missing: Option<Skip>,
    /// The moves it could take ([`bit`]).
    pub(super) moves: u16,
}

/// A move's bit in a set of moves.
pub(super) fn bit(m: Move) -> u16 {
    match m {
        Move::Contact(c) => match c {
            Channel::Call => 1,
            Channel::RobotCall => 1 << 1,
            Channel::Sms => 1 << 2,
            Channel::Email => 1 << 3,
            Channel::Letter => 1 << 4,
            Channel::Visit => 1 << 5,
        },
        Move::Legal => 1 << 6,
        Move::Agency => 1 << 7,
    }
}

impl Context<'_> {
    /// Where a case following `strategy` may be contacted on `channel`: calls and robot calls
    /// within that strategy's shifts (an arm's own calling hours; the team's room in each slot
    /// is the main strategy's), other channels in the day's first allowed run.
    fn scan<'s>(strategy: &'s Strategy, channel: Channel) -> Scan<'s> {
        match channel {
            Channel::Call => Scan::Shifts(&strategy.capacity.call.shifts),
            Channel::RobotCall => {
                Scan::Shifts(strategy.capacity.robot_call.as_ref().map_or(&[][..], |l| &l.shifts[..]))
            }
            _ => Scan::FirstRun,
        }
    }

    /// Segment, ladder and options of one case: what it wants before compliance and capacity.
    fn prepare<'s>(&'s self, ci: usize, c: &PlanCase, zone: &TimeZone) -> Prepared<'s> {
        let arm = match self.arms {
            Some((a, salt)) => a.assign(salt, &c.customer).name.clone(),
            None => "none".to_owned(),
        };
        let sx = self.arm_strategy.get(&arm).copied().unwrap_or(0);
        let strategy = self.strategies[sx];
        let mut f = facts(c, zone.clone(), self.input.date);
        f.propensity = self.propensity.map(|p| p[ci]);
        let segment = strategy.segmentation.segment(&f);
        let Some(ladder) = strategy.ladder_for(&segment) else {
            return Prepared {
                arm,
                strategy,
                sx,
                segment,
                ladder: None,
                referrals: Vec::new(),
                options: Vec::new(),
                due: false,
                missing: Some(Skip::NoLadder),
            };
        };
        let due: Vec<&Step> =
            ladder.steps.iter().filter(|s| s.due(c.dpd, days_since(c, zone, s, self.input.date))).collect();
        // A case already with an agency is not placed again (the legal team takes a case out
        // of the open ones by its status).
        let placed = c.agency.is_some();
        let referrals: Vec<&Step> = due
            .iter()
            .copied()
            .filter(|s| match s.action {
                Move::Contact(_) => false,
                Move::Agency => !placed,
                Move::Legal => true,
            })
            .collect();
        let contacts: Vec<&Step> = due.into_iter().filter(|s| matches!(s.action, Move::Contact(_))).collect();
        // The options: (step, script) pairs the tones allow, with a usable contact point.
        let mut options: Vec<(&Step, &str, String)> = Vec::new();
        let mut missing = None;
        for step in &contacts {
            let Move::Contact(channel) = step.action else { continue };
            let Some(point) = pick_point(c, channel, step.recipient) else {
                missing = Some(Skip::NoContactPoint);
                continue;
            };
            let scripts = strategy.scripts_for_step(step, &segment);
            if scripts.is_empty() {
                missing.get_or_insert(Skip::NoScript);
            }
            for s in scripts {
                options.push((step, s.id.as_str(), point.clone()));
            }
        }
        if options.is_empty() && !contacts.is_empty() {
            missing.get_or_insert(Skip::NoScript);
        } else if !options.is_empty() {
            missing = None;
        }
        Prepared {
            arm,
            strategy,
            sx,
            segment,
            ladder: Some(&ladder.name),
            referrals,
            options,
            due: !contacts.is_empty(),
            missing,
        }
    }

    /// What a case wants, in brief: for the order in which cases are judged and for cases
    /// the day's capacity never reaches.
    pub(super) fn brief(&self, ci: usize, c: &PlanCase, zone: &TimeZone) -> Brief {
        let p = self.prepare(ci, c, zone);
        let mut moves = 0u16;
        for r in &p.referrals {
            moves |= bit(r.action);
        }
        for (step, _, _) in &p.options {
            moves |= bit(step.action);
        }
        Brief {
            referrals: u32::try_from(p.referrals.len()).unwrap_or(u32::MAX),
            contact: p.due || p.ladder.is_none(),
            missing: if p.options.is_empty() { p.missing } else { None },
            moves,
        }
    }

    /// Segment, ladder, selection, compliance and timing of one case. Alternatives on
    /// channels in `full` (no room left today) are not put to the pack.
    pub(super) fn judge(
        &self,
        ci: usize,
        c: &PlanCase,
        zone: &TimeZone,
        full: u16,
    ) -> Result<Judged, PlanError> {
        let p = self.prepare(ci, c, zone);
        let mut out = Judged { considered: 0, skipped: None, wants: Vec::new(), arm: p.arm.clone() };
        let Some(ladder) = p.ladder else {
            out.considered += 1;
            out.skipped = p.missing;
            return Ok(out);
        };
        let case = Judging { ci, c, zone, weight: weight(c), reasons: case_reasons(&p.segment, ladder) };
        self.want_referrals(&case, &p.referrals, &mut out)?;
        if !p.due {
            return Ok(out);
        }
        out.considered += 1;
        if p.options.is_empty() {
            out.skipped = Some(p.missing.unwrap_or(Skip::NoScript));
            return Ok(out);
        }
        self.want_contacts(&case, &p, full, &mut out)?;
        Ok(out)
    }

    /// Each referral due becomes a want of its own, handed over in the working day.
    fn want_referrals(
        &self,
        case: &Judging<'_>,
        referrals: &[&Step],
        out: &mut Judged,
    ) -> Result<(), PlanError> {
        for referral in referrals {
            out.considered += 1;
            out.wants.push(Want {
                case: case.ci,
                action: referral.action,
                recipient: Recipient::Debtor,
                point: None,
                script: None,
                slots: vec![working_day(self.input.date, case.zone)?],
                p: Vec::new(),
                timed: false,
                weight: case.weight,
                reasons: case.reasons.clone(),
                own: vec![format!("STEP: {} from day {}", referral.action, referral.from_day)],
                rank: None,
            });
        }
        Ok(())
    }

    /// The case's contact alternatives, most wanted first, each with the slots the pack allows
    /// it: if the first has no capacity or is not allowed today, the next is tried (one contact
    /// per debtor per day). With none, the case is skipped under the rule that denied the
    /// first alternative most, or for capacity.
    fn want_contacts(
        &self,
        case: &Judging<'_>,
        p: &Prepared<'_>,
        full: u16,
        out: &mut Judged,
    ) -> Result<(), PlanError> {
        let model_driven = p.arm != HOLDOUT && p.strategy.models;
        let (order, how) = self.order_options(case.c, p, model_driven);
        let history: Vec<Contact> = case.c.contacts.iter().map(contact_of).collect();
        // The debtor's history, for the timing model: built when a call is timed.
        let mut facts_of: Option<DebtorHistory> = None;
        let mut tried: Vec<Move> = Vec::new();
        // Alternatives passed over because their channel has no room left today.
        let mut no_room = 0;
        let mut first_denial: Option<Skip> = None;
        for k in order {
            let (step, script, point) = &p.options[k];
            // One alternative per channel and recipient: the best script for it.
            let Move::Contact(channel) = step.action else { continue };
            if tried.contains(&step.action) {
                continue;
            }
            tried.push(step.action);
            if full & bit(step.action) != 0 {
                no_room += 1;
                continue;
            }
            let request = request_of(case.c, channel, step.recipient, point, self.input.date)?;
            let (slots, denied) = allowed_slots(
                self.pack,
                &request,
                &history,
                self.input.date,
                case.zone,
                self.input.as_of,
                Self::scan(p.strategy, channel),
            )?;
            if slots.is_empty() {
                first_denial.get_or_insert(most_denied(&denied));
                continue;
            }
            // Other channels need only their window: the first run of allowed slots.
            let slots = if channel.is_call() { slots } else { vec![first_run(&slots)] };
            let timed = channel.is_call() && model_driven && p.segment.extreme.is_none();
            let values = if timed {
                let h = facts_of.get_or_insert_with(|| history_of(case.c, case.zone));
                self.p_connect(h, &slots)?
            } else {
                spread(&case.c.case, slots.len())
            };
            let rank = out.wants.iter().filter(|w| w.rank.is_some()).count();
            let why = Why { how: &how, timed, extreme: p.segment.extreme, models: p.strategy.models };
            out.wants.push(Want {
                case: case.ci,
                action: step.action,
                recipient: step.recipient,
                point: Some(point.clone()),
                script: Some((*script).to_owned()),
                slots,
                p: values,
                timed,
                weight: case.weight,
                reasons: case.reasons.clone(),
                own: why.reasons(channel, step, rank + no_room),
                rank: Some(rank),
            });
        }
        if !out.wants.iter().any(|w| w.rank.is_some()) {
            // Denied by the pack, or every channel it could take is full.
            out.skipped = Some(first_denial.unwrap_or(if full != 0 { Skip::Capacity } else { Skip::Past }));
        }
        Ok(())
    }

    /// The order in which the case's options are tried, and how it was chosen: by the
    /// script-and-channel scorer when there is one and the case's timing is model-driven,
    /// else the most recently opened step first (the library's first script for each).
    fn order_options(&self, c: &PlanCase, p: &Prepared<'_>, model_driven: bool) -> (Vec<usize>, String) {
        match (&self.input.selector, model_driven) {
            (Some(scorer), true) => {
                let user = user_vector(c, &p.segment, self.input.date);
                let items: Vec<Item> = p
                    .options
                    .iter()
                    .map(|(step, script, _)| Item {
                        script: self.script_vectors[p.sx][script],
                        channel: select::channel_vector(step.action),
                    })
                    .collect();
                let seed = seed_of(p.strategy.exploration.seed, self.input.date, &c.case);
                let explore = ((seed >> 11) as f64 / (1u64 << 53) as f64) < p.strategy.exploration.share;
                let ranked = scorer.rank(&user, &items, explore, seed);
                let best = ranked.first().map_or(0.0, |r| r.1);
                let how = if explore {
                    format!("SELECTION: explored (Thompson sampling), P(pay) {best:.3}")
                } else {
                    format!("SELECTION: highest expected repayment, P(pay) {best:.3}")
                };
                (ranked.into_iter().map(|r| r.0).collect(), how)
            }
            _ => {
                // The most recently opened step first, the library's first script for each.
                let options = &p.options;
                let mut order: Vec<usize> = (0..options.len()).collect();
                order.sort_by(|a, b| options[*b].0.from_day.cmp(&options[*a].0.from_day).then(a.cmp(b)));
                let why = if model_driven { "no scorer yet" } else { unmodelled(p.strategy.models) };
                (order, format!("SELECTION: ladder order ({why})"))
            }
        }
    }

    /// P(connect) of the debtor in each slot, by the timing model.
    fn p_connect(&self, h: &DebtorHistory, slots: &[SlotSpan]) -> Result<Vec<f64>, PlanError> {
        let items: Vec<(&DebtorHistory, Timestamp)> = slots.iter().map(|s| (h, s.0)).collect();
        self.timing.score_many(&items).map_err(|e| perr(e.code, e.message))
    }
}

/// The case being judged, with what its alternatives share.
struct Judging<'c> {
    ci: usize,
    c: &'c PlanCase,
    zone: &'c TimeZone,
    weight: f64,
    /// The case's reasons (segment, ladder), shared by its alternatives.
    reasons: Arc<[String]>,
}

/// The case's reasons: its segment's, and the ladder serving it.
fn case_reasons(segment: &Segment, ladder: &str) -> Arc<[String]> {
    let mut base = segment.reasons.clone();
    base.push(format!("LADDER: {ladder}"));
    base.into()
}

/// Why a case's timing is not model-driven, when it is not.
fn unmodelled(models: bool) -> &'static str {
    if models { "holdout arm" } else { "the strategy uses no models" }
}

/// The rule that denied most of the day's slots (ties: the first in [`Rule::ALL`]), else the
/// first reason counted (by code), else `PAST`.
fn most_denied(denied: &BTreeMap<Skip, usize>) -> Skip {
    Rule::ALL
        .iter()
        .filter_map(|r| denied.get(&Skip::Rule(*r)).map(|n| (Skip::Rule(*r), *n)))
        .fold(None::<(Skip, usize)>, |best, (why, n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((why, n)),
        })
        .map_or_else(|| denied.keys().next().copied().unwrap_or(Skip::Past), |(why, _)| why)
}

/// What an alternative's own reasons say of how it was chosen and timed.
struct Why<'a> {
    /// How the options were ordered (`SELECTION: …`).
    how: &'a str,
    /// Timed by P(connect).
    timed: bool,
    /// The case's extreme contact group, if any.
    extreme: Option<Extreme>,
    /// Whether the strategy uses models.
    models: bool,
}

impl Why<'_> {
    /// The alternative's reasons: its step, the selection, a call's timing, and which
    /// alternative of the day it is (`passed`: alternatives before it, 0 for the first).
    fn reasons(&self, channel: Channel, step: &Step, passed: usize) -> Vec<String> {
        let mut why = Vec::with_capacity(4);
        why.push(format!("STEP: {channel} from day {}", step.from_day));
        why.push(self.how.to_owned());
        if channel.is_call() {
            why.push(match (self.timed, self.extreme) {
                (true, _) => "TIME: best allowed slot by P(connect)".to_owned(),
                (false, Some(Extreme::Low | Extreme::High)) => {
                    "TIME: no model-driven timing (extreme contact group)".to_owned()
                }
                (false, None) => format!("TIME: no model-driven timing ({})", unmodelled(self.models)),
            });
        }
        if passed > 0 {
            why.push(format!("FALLBACK: alternative {} of the day", passed + 1));
        }
        why
    }
}

/// How much an untimed call prefers one allowed slot over another: enough to break ties.
const SPREAD: f64 = 1e-3;

/// An untimed call's values of its `n` allowed slots: about 1, highest at a slot chosen by the
/// stable hash of the case and falling away after it, so that calls without model-driven
/// timing spread evenly over the shifts (as a team working a queue through the day does)
/// instead of filling the first slots.
pub(super) fn spread(case: &str, n: usize) -> Vec<f64> {
    let first = (crate::experiment::unit_hash("daylight-spread", case) % n.max(1) as u64) as usize;
    (0..n).map(|k| 1.0 - SPREAD * ((k + n - first) % n.max(1)) as f64 / n as f64).collect()
}

/// A per-case seed: SHA-256 of the strategy's seed, the date and the case.
fn seed_of(seed: u64, date: Date, case: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(date.to_string().as_bytes());
    h.update(case.as_bytes());
    let d = h.finalize();
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}
