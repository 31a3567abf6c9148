//! Making the plan: the sources read, the cases taken heaviest first in tranches (each
//! judged in parallel, then placed into the room the tranches before it left), the actions
//! numbered by value.

use std::collections::BTreeMap;

use daylight_compliance::Pack;
use daylight_domain::history::DebtorHistory;
use daylight_scoring::features::Priors;
use daylight_scoring::product::Scorer as Contactability;
use rayon::prelude::*;

use super::facts::{history_of, weight};
use super::judge::{Brief, Context, Judged, Want};
use super::model::{propensities, shrinkage};
use super::room::Room;
use super::slots::Zones;
use super::{Action, Plan, PlanCase, PlanError, PlanInput, Skip, perr};
use crate::document::Strategy;
use crate::experiment::Arms;
use crate::select::{self, ScriptVectors};

/// [`plan`](super::plan), `tranche` cases at a time.
pub(super) fn plan_in(input: &PlanInput, tranche_size: usize) -> Result<Plan, PlanError> {
    let strategy = read_strategy(&input.strategy, "strategy")?;
    let pack = Pack::from_toml(&input.pack, "pack")
        .map_err(|e| PlanError { code: e.code, message: e.to_string() })?;
    let arms = read_arms(input)?;
    let mut cases: Vec<&PlanCase> = input.cases.iter().collect();
    cases.sort_by(|a, b| a.case.cmp(&b.case));
    let zones = Zones::read(&cases)?;
    let timing = timing_model(input, &cases, &zones)?;
    let (strategies, arm_strategy) = arm_strategies(input, arms.as_ref())?;
    let all: Vec<&Strategy> = std::iter::once(&strategy).chain(&strategies).collect();
    let script_vectors = script_vectors(input, &all);
    let propensity = propensities(input, &cases, &zones)?;
    let ctx = Context {
        propensity: propensity.as_deref(),
        input,
        strategies: &all,
        arm_strategy: &arm_strategy,
        pack: &pack,
        arms: arms.as_ref(),
        timing: &timing,
        script_vectors: &script_vectors,
    };
    let mut tally = Tally::default();
    let actions = take_tranches(&ctx, &cases, &zones, &strategy, tranche_size, &mut tally)?;
    Ok(Plan {
        date: input.date,
        strategy: strategy.name,
        considered: tally.considered,
        actions: by_value(actions),
        skipped: tally.skipped,
    })
}

/// A strategy document read, its errors as the plan's.
fn read_strategy(source: &str, origin: &str) -> Result<Strategy, PlanError> {
    Strategy::from_toml(source, origin).map_err(|e| PlanError { code: e.code, message: e.to_string() })
}

/// The experiment's arms and salt, when the input follows one.
fn read_arms(input: &PlanInput) -> Result<Option<(Arms, String)>, PlanError> {
    match &input.experiment {
        Some(x) => Ok(Some((Arms::parse(&x.arms).map_err(|e| perr(e.code, e.message))?, x.salt.clone()))),
        None => Ok(None),
    }
}

/// The contactability model that times calls: the champion's trees with its hour tables
/// brought up to the plan's as-of, or without a champion the shrinkage estimator, both from
/// the portfolio's own dials.
fn timing_model(input: &PlanInput, cases: &[&PlanCase], zones: &Zones) -> Result<Contactability, PlanError> {
    // Only debtors who were dialled move the hour tables.
    let dialled = || -> Vec<DebtorHistory> {
        cases
            .par_iter()
            .enumerate()
            .filter(|(_, c)| c.contacts.iter().any(|a| a.channel.is_call()))
            .map(|(ci, c)| history_of(c, zones.of(ci)))
            .collect()
    };
    match &input.contactability {
        Some(m) => {
            // The champion's trees, with its hour tables (statistics, not learnt weights)
            // brought up to the plan's as-of from the portfolio's own dials: hours tried since
            // it was trained count.
            let mut m = m.clone();
            m.priors = Priors::estimate(
                &dialled(),
                input.as_of,
                m.priors.debtor_strength,
                m.priors.segment_strength,
            );
            Contactability::new(m).map_err(|e| perr(e.code, e.message))
        }
        None => shrinkage(&dialled(), input.as_of),
    }
}

/// The arms' own strategies, checked against the experiment's arms, and each arm's index
/// among all strategies (the main one is 0, these follow it).
fn arm_strategies(
    input: &PlanInput,
    arms: Option<&(Arms, String)>,
) -> Result<(Vec<Strategy>, BTreeMap<String, usize>), PlanError> {
    let mut strategies: Vec<Strategy> = Vec::new();
    let mut arm_strategy: BTreeMap<String, usize> = BTreeMap::new();
    for (arm, source) in &input.arm_strategies {
        let known = arms.is_some_and(|(a, _)| a.arms().iter().any(|x| &x.name == arm));
        if !known {
            return Err(perr(
                "PLAN_INPUT",
                format!("arm_strategies names {arm:?}, which is not an arm of the experiment"),
            ));
        }
        let s = read_strategy(source, &format!("strategy of arm {arm}"))?;
        arm_strategy.insert(arm.clone(), strategies.len() + 1);
        strategies.push(s);
    }
    Ok((strategies, arm_strategy))
}

/// Each strategy's scripts' word vectors, by script id; empty without a scorer (they are only
/// read by the scorer, and loading jieba's dictionary is not free).
fn script_vectors<'s>(
    input: &PlanInput,
    all: &[&'s Strategy],
) -> Vec<BTreeMap<&'s str, [f64; select::SCRIPT_DIM]>> {
    match &input.selector {
        Some(_) => {
            let vectors = ScriptVectors::default();
            all.iter()
                .map(|st| st.scripts.iter().map(|s| (s.id.as_str(), vectors.vector(&s.text))).collect())
                .collect()
        }
        None => vec![BTreeMap::new(); all.len()],
    }
}

/// What the plan counts besides its actions: contacts and referrals considered, and those
/// skipped by reason code.
#[derive(Default)]
struct Tally {
    considered: u64,
    skipped: BTreeMap<Skip, u64>,
}

impl Tally {
    /// Counts `n` skipped for `why`.
    fn skip(&mut self, why: Skip, n: u64) {
        *self.skipped.entry(why).or_default() += n;
    }

    /// Counts a case never judged: what it wanted is skipped for capacity (the reason known
    /// without the pack kept when it has no contact option).
    fn unreached(&mut self, b: Brief) {
        let contact = u64::from(b.contact);
        self.considered += u64::from(b.referrals) + contact;
        let capacity = u64::from(b.referrals) + if b.missing.is_none() { contact } else { 0 };
        if capacity > 0 {
            self.skip(Skip::Capacity, capacity);
        }
        if let (true, Some(why)) = (b.contact, b.missing) {
            self.skip(why, 1);
        }
    }

    /// Counts a judged case: what it considered and why it was skipped, if it was.
    fn judged(&mut self, j: &Judged) {
        self.considered += j.considered;
        if let Some(why) = j.skipped {
            self.skip(why, 1);
        }
    }
}

/// Takes the cases by weight (what is at stake), heaviest first, in tranches: each tranche is
/// judged in parallel and placed into the room the tranches before it left. Once every move
/// still wanted has no room left, the cases not reached are skipped for capacity without being
/// put to the pack. Returns (value, action) of everything placed.
fn take_tranches(
    ctx: &Context<'_>,
    cases: &[&PlanCase],
    zones: &Zones,
    strategy: &Strategy,
    tranche_size: usize,
    tally: &mut Tally,
) -> Result<Vec<(f64, Action)>, PlanError> {
    let briefs: Vec<Brief> =
        cases.par_iter().enumerate().map(|(ci, c)| ctx.brief(ci, c, zones.of(ci))).collect();
    let order = heaviest_first(cases);
    let mut arm_of: Vec<Option<String>> = vec![None; cases.len()];
    let mut room = Room::new(strategy, cases.len());
    let mut actions: Vec<(f64, Action)> = Vec::new();
    let mut next = 0;
    let mut tranche: Vec<usize> = Vec::with_capacity(tranche_size);
    while next < order.len() {
        let full = room.full();
        next_tranche(&order, &mut next, &briefs, full, tranche_size, &mut tranche, tally);
        let judged: Vec<Result<Judged, PlanError>> =
            tranche.par_iter().map(|&ci| ctx.judge(ci, cases[ci], zones.of(ci), full)).collect();
        let mut wants: Vec<Want> = Vec::new();
        for (j, &ci) in judged.into_iter().zip(&tranche) {
            let j = j?;
            tally.judged(&j);
            wants.extend(j.wants);
            arm_of[ci] = Some(j.arm);
        }
        actions.extend(room.place(&wants, cases, &arm_of, &mut tally.skipped));
    }
    Ok(actions)
}

/// Case indices by weight, heaviest first (ties by case order).
fn heaviest_first(cases: &[&PlanCase]) -> Vec<usize> {
    let weights: Vec<f64> = cases.iter().map(|c| weight(c)).collect();
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by(|a, b| weights[*b].total_cmp(&weights[*a]).then(a.cmp(b)));
    order
}

/// Fills `tranche` with the next cases of `order` (from `next`) that room is left for: a case
/// none of whose moves has room left (`full`) is not put to the pack but counted unreached.
fn next_tranche(
    order: &[usize],
    next: &mut usize,
    briefs: &[Brief],
    full: u16,
    tranche_size: usize,
    tranche: &mut Vec<usize>,
    tally: &mut Tally,
) {
    tranche.clear();
    while *next < order.len() && tranche.len() < tranche_size {
        let ci = order[*next];
        *next += 1;
        // Room is left for something it wants: judged; otherwise nothing it could take
        // has room, and it is not put to the pack.
        if briefs[ci].moves & !full != 0 || briefs[ci].moves == 0 {
            tranche.push(ci);
        } else {
            tally.unreached(briefs[ci]);
        }
    }
}

/// The actions by value, most valuable first (ties by case, then by the channel's word),
/// numbered 1, 2, …
fn by_value(mut actions: Vec<(f64, Action)>) -> Vec<Action> {
    actions.sort_by(|a, b| {
        b.0.total_cmp(&a.0).then(a.1.case.cmp(&b.1.case)).then(a.1.channel.as_str().cmp(b.1.channel.as_str()))
    });
    actions
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut a))| {
            a.priority = u32::try_from(i + 1).unwrap_or(u32::MAX);
            a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Move;
    use crate::plan::{Point, TRANCHE};
    use daylight_domain::attempt::Channel;
    use daylight_domain::bucket::Bucket;
    use daylight_domain::customer::{ContactKind, ContactStatus, Recipient};

    /// `n` M2 cases on day 40, heavier as `n` grows; four calls a day and no other room.
    fn short_day(n: usize) -> PlanInput {
        let cases = (0..n)
            .map(|k| PlanCase {
                bucket: Bucket::M2,
                dpd: 40,
                overdue_fen: 300_000 + k as i64 * 1000,
                credit_limit_fen: 5_000_000,
                account: Some(format!("A{k:04}")),
                statement_day: Some(5),
                points: vec![Point {
                    id: format!("P{k:04}"),
                    recipient: Recipient::Debtor,
                    kind: ContactKind::Phone,
                    status: ContactStatus::Valid,
                    status_since: None,
                    zone: None,
                }],
                ..PlanCase::new(format!("CASE-C{k:04}"), format!("C{k:04}"), "Asia/Shanghai".into())
            })
            .collect();
        let mut strategy = crate::document::DEFAULT.to_owned();
        for (from, to) in [
            ("sms_per_day = 50000", "sms_per_day = 0"),
            ("letter_per_day = 500", "letter_per_day = 0"),
            ("lines = 40 ", "lines = 1 "),
            ("minutes_per_call = 5 ", "minutes_per_call = 15 "),
            ("shifts = [\"09:00-12:00\", \"14:00-18:00\", \"19:00-20:00\"]", "shifts = [\"09:00-10:00\"]"),
        ] {
            assert!(strategy.contains(from), "{from}");
            strategy = strategy.replacen(from, to, 1);
        }
        PlanInput {
            date: jiff::civil::date(2026, 3, 4),
            as_of: "2026-03-01T00:00:00Z".parse().unwrap(),
            strategy,
            pack: Pack::shipped(daylight_compliance::DEFAULT_PACK).unwrap().source,
            experiment: None,
            contactability: None,
            propensity: None,
            selector: None,
            arm_strategies: BTreeMap::new(),
            cases,
        }
    }

    /// Cases are taken heaviest first, a tranche at a time; once nothing they could take has
    /// room, the rest are skipped for capacity, and every contact considered is either planned
    /// or skipped, whatever the tranche.
    #[test]
    fn the_heaviest_cases_get_the_room_tranche_by_tranche() {
        let input = short_day(12);
        let whole = plan_in(&input, TRANCHE).unwrap();
        for tranche in [1, 3, 5, TRANCHE] {
            let p = plan_in(&input, tranche).unwrap();
            let mut got: Vec<&str> = p.actions.iter().map(|a| a.case.as_str()).collect();
            got.sort_unstable();
            assert_eq!(got, ["CASE-C0008", "CASE-C0009", "CASE-C0010", "CASE-C0011"], "tranche {tranche}");
            assert!(p.actions.iter().all(|a| a.channel == Move::Contact(Channel::Call)), "{:?}", p.actions);
            let skipped: u64 = p.skipped.values().sum();
            assert_eq!(p.actions.len() as u64 + skipped, p.considered, "tranche {tranche}: {:?}", p.skipped);
            assert_eq!((p.considered, &p.skipped), (whole.considered, &whole.skipped), "tranche {tranche}");
        }
        assert_eq!(whole.skipped.get(&Skip::Capacity), Some(&8));
        // The plan reads back as it was written: moves and reasons as their words.
        let json = serde_json::to_string(&whole).unwrap();
        assert!(
            json.contains(r#""channel":"call""#) && json.contains(r#""skipped":{"CAPACITY":8}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), whole);
        assert_eq!(whole.skipped.get("CAPACITY"), Some(&8), "looked up by the code");
    }
}
