//! The daily contact plan: for one date, every open case's next action — channel, recipient,
//! contact point, script, window, priority, experiment arm — with the reasons behind it, and
//! what was skipped and why.
//!
//! [`plan`] is a pure function of a [`PlanInput`]: the date and the moment of planning, the
//! strategy and policy pack sources, the experiment, the models, and the cases as the store
//! read them. The input is serialisable, so the store keeps it beside the plan and
//! `daylight plan --replay` rebuilds the plan from it bit for bit.
//!
//! Cases are taken heaviest first (by weight, below; ties by case id), in tranches of
//! [`TRANCHE`]: each tranche is judged in parallel and placed into the room the tranches
//! before it left. A brief pass first finds, for every case, the moves it could take (steps 1,
//! 2 and 4 without the pack); a case none of whose moves has room left is skipped for
//! `CAPACITY` without being put to the pack, and an alternative on a channel with no room left
//! is passed over. For each case judged:
//!
//! 1. **Segment** it ([`crate::segment`]) and find its arm (stable hash of the customer id).
//! 2. **Ladder**: the strategy's ladder for the segment; its steps due today (by days past
//!    due and the days since the case last had that move). Referrals (legal, agency) become
//!    actions of their own; of the contact steps due, one is chosen (one contact per debtor
//!    per day).
//! 3. **Script and channel**: among the due contact steps and the scripts their tones allow,
//!    the patent-style scorer's most probable (script, channel), exploring by Thompson
//!    sampling on the strategy's share; without a scorer, or in the holdout arm, the most
//!    recently opened step and the library's first script.
//! 4. **Contact point**: the recipient's usable point of the channel's kind (valid before
//!    unknown; never invalid or suspended), the one that reached them before first.
//! 5. **Compliance**: every 15-minute slot of the day is put to the pack with the request and
//!    history the gate would build; a case with no allowed slot is skipped under the rule that
//!    denied most slots (`HOLIDAY`, `DAILY_CAP`, …).
//! 6. **Time and capacity**: calls and robot calls go into slots by regret
//!    ([`crate::assign`]) with value = P(connect in the slot) × the case's weight; P(connect)
//!    comes from the contactability model (or the shrinkage estimator over the input's
//!    histories), except for the holdout arm and extreme contact groups, which get no
//!    model-driven timing (every allowed slot is worth the same). SMS, e-mail, letters, visits
//!    and referrals are granted by weight up to their daily capacity; their window is the
//!    first run of allowed slots.
//!
//! The weight of a case is ln(1 + overdue yuan) × (1 + bucket index / 7); priorities number
//! the actions by value, 1 first.

use std::collections::BTreeMap;

use daylight_compliance::{Contact, ContactFacts, DebtFacts, Pack, PointFacts, PointStatus, Request, Rule};
use daylight_domain::attempt::{Channel, Outcome};
use daylight_domain::bucket::Bucket;
use daylight_domain::customer::{ContactKind, ContactStatus, Recipient};
use daylight_scoring::features::{AccountPath, AttemptFact, DebtorHistory, PaymentFact, Priors, PromiseFact};
use daylight_scoring::product::{self, ProductModel, Scorer as Contactability};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::assign::{Candidate, assign};
use crate::document::{Move, Step, Strategy};
use crate::experiment::{Arms, HOLDOUT};
use crate::segment::{CaseFacts, Extreme, Segment};
use crate::select::{self, Item, ScriptVectors};

/// A plan that cannot be made: stable code and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// `PLAN_INPUT` (a source that does not read, a bad zone) or the source's own code
    /// (`STRATEGY_TOML`, `POLICY_INVALID`, `EXPERIMENT_ARMS`, `MODEL_FORMAT`, …).
    pub code: &'static str,
    /// What, and where.
    pub message: String,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlanError {}

fn perr(code: &'static str, message: impl Into<String>) -> PlanError {
    PlanError { code, message: message.into() }
}

/// A contact point of the debtor or of someone related to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Its id.
    pub id: String,
    /// Whose: debtor, guarantor, or a third party (emergency contact, relative, colleague).
    pub recipient: Recipient,
    /// Phone, e-mail or address.
    pub kind: ContactKind,
    /// What screening and outcomes found of it.
    pub status: ContactStatus,
    /// When the status was set (a switched-off number is retried from the next day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_since: Option<Timestamp>,
    /// The owner's zone when it differs from the debtor's.
    pub zone: Option<String>,
}

/// An earlier contact on the debtor (any case), as the gate counts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastContact {
    /// When it started.
    pub at: Timestamp,
    /// How.
    pub channel: Channel,
    /// To whom.
    pub recipient: Recipient,
    /// Through which point.
    pub contact_point: Option<String>,
    /// About which account.
    pub debt: Option<String>,
    /// What came of it (`None`: started, not finished).
    pub outcome: Option<Outcome>,
    /// Talk time.
    pub duration_secs: u32,
}

/// A promise and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastPromise {
    /// When it was made.
    pub created_at: Timestamp,
    /// When it settled.
    pub settled_at: Option<Timestamp>,
    /// Kept.
    pub kept: bool,
    /// Broken.
    pub broken: bool,
}

/// One open case as the planner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCase {
    /// The case.
    pub case: String,
    /// The debtor.
    pub customer: String,
    /// The debtor's zone (IANA).
    pub zone: String,
    /// Date of birth.
    pub birth_date: Option<Date>,
    /// The case's bucket.
    pub bucket: Bucket,
    /// Days past due.
    pub dpd: u32,
    /// Overdue amount, fen.
    pub overdue_fen: i64,
    /// Sum of credit limits, fen.
    pub credit_limit_fen: i64,
    /// The account contacts are about (the worst one).
    pub account: Option<String>,
    /// The statement day of `account`: the cycle the contacts' caps count in.
    pub statement_day: Option<i8>,
    /// The agency the case is placed with, if any (no second placement is proposed).
    #[serde(default)]
    pub agency: Option<String>,
    /// Contact points.
    pub points: Vec<Point>,
    /// Cease request.
    pub cease: bool,
    /// Channels opted out of.
    pub opt_out: Vec<Channel>,
    /// Consented to calls outside the usual hours.
    pub consented_hours: bool,
    /// Hardship reported.
    pub hardship: bool,
    /// Tagged abusive.
    pub abusive: bool,
    /// Tagged anxious (QC heard it on a call).
    #[serde(default)]
    pub anxious: bool,
    /// Every earlier contact on the debtor, oldest first.
    pub contacts: Vec<PastContact>,
    /// Payments: when and how much (fen), oldest first.
    pub payments: Vec<(Timestamp, i64)>,
    /// Promises, oldest first.
    pub promises: Vec<PastPromise>,
}

impl PlanCase {
    /// A case with nothing known of it yet but its id, its debtor and their zone: M0, no
    /// accounts, points, flags or history.
    pub fn new(case: String, customer: String, zone: String) -> PlanCase {
        PlanCase {
            case,
            customer,
            zone,
            birth_date: None,
            bucket: Bucket::M0,
            dpd: 0,
            overdue_fen: 0,
            credit_limit_fen: 0,
            account: None,
            statement_day: None,
            agency: None,
            points: Vec::new(),
            cease: false,
            opt_out: Vec::new(),
            consented_hours: false,
            hardship: false,
            abusive: false,
            anxious: false,
            contacts: Vec::new(),
            payments: Vec::new(),
            promises: Vec::new(),
        }
    }
}

/// An experiment the plan follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentInput {
    /// Its name.
    pub name: String,
    /// Its arms, `name:weight,…`.
    pub arms: String,
    /// Its salt.
    pub salt: String,
}

/// Everything a plan is made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInput {
    /// The day planned (in each debtor's zone).
    pub date: Date,
    /// When the plan was made: slots before it are over.
    pub as_of: Timestamp,
    /// The strategy document (TOML).
    pub strategy: String,
    /// The policy pack in force (TOML).
    pub pack: String,
    /// The experiment, if any.
    pub experiment: Option<ExperimentInput>,
    /// The contactability model (a `daylight-product/1` document), if one is champion.
    pub contactability: Option<ProductModel>,
    /// The propensity-to-pay model, if one is champion: it feeds the risk rating and ability.
    #[serde(default)]
    pub propensity: Option<ProductModel>,
    /// The script-and-channel scorer's posterior, if it has learnt.
    pub selector: Option<select::Scorer>,
    /// Strategies (TOML) for arms of the experiment, by arm name: a champion/challenger test of
    /// strategies. A case in a named arm is segmented, laddered, scripted and timed by its
    /// arm's strategy; other arms follow `strategy`. The team (capacity and shifts) is always
    /// `strategy`'s, shared by every arm.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arm_strategies: BTreeMap<String, String>,
    /// The open cases.
    pub cases: Vec<PlanCase>,
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// The case.
    pub case: String,
    /// `call`, `robot_call`, `sms`, `email`, `letter`, `visit`, `legal` or `agency`.
    pub channel: String,
    /// `debtor` or `guarantor` (referrals: `debtor`).
    pub recipient: Recipient,
    /// The point to use (none for referrals).
    pub contact_point: Option<String>,
    /// The script (none for referrals).
    pub script: Option<String>,
    /// Window start (allowed by the pack).
    pub window_start: Timestamp,
    /// Window end.
    pub window_end: Timestamp,
    /// 1 = most valuable.
    pub priority: u32,
    /// Experiment arm (`none` without an experiment).
    pub arm: String,
    /// Why.
    pub reasons: Vec<String>,
}

/// A plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The day.
    pub date: Date,
    /// The strategy's name.
    pub strategy: String,
    /// Contacts and referrals considered (due steps, one contact per case).
    pub considered: u64,
    /// The actions, by priority.
    pub actions: Vec<Action>,
    /// Skipped contacts by reason code.
    pub skipped: BTreeMap<String, u64>,
}

impl Plan {
    /// "412 of 9,800 skipped: 300 DAILY_CAP, 112 HOLIDAY".
    pub fn summary(&self) -> String {
        let total: u64 = self.skipped.values().sum();
        let mut by: Vec<(&String, &u64)> = self.skipped.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let parts: Vec<String> = by.iter().map(|(k, v)| format!("{} {k}", thousands(**v))).collect();
        if parts.is_empty() {
            format!(
                "{} planned, 0 of {} skipped",
                thousands(self.actions.len() as u64),
                thousands(self.considered)
            )
        } else {
            format!(
                "{} planned, {} of {} skipped: {}",
                thousands(self.actions.len() as u64),
                thousands(total),
                thousands(self.considered),
                parts.join(", ")
            )
        }
    }

    /// The plan's canonical bytes (its JSON) and their SHA-256: what replay compares.
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex(&Sha256::digest(&bytes))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What a case wants today, before capacity.
struct Want {
    case: usize,
    action: Move,
    recipient: Recipient,
    point: Option<String>,
    script: Option<String>,
    /// Allowed slots `(start, end, index of the slot in the day)`.
    slots: Vec<(Timestamp, Timestamp, usize)>,
    /// P(connect) per allowed slot (about 1 without model-driven timing: see [`spread`]).
    p: Vec<f64>,
    /// Whether `p` is a model's P(connect).
    timed: bool,
    weight: f64,
    /// The case's reasons (segment, ladder), shared by its alternatives.
    reasons: std::sync::Arc<[String]>,
    /// This alternative's own (step, selection, time, fallback).
    own: Vec<String>,
    /// Contacts: the alternative's place in the case's order (0 first); referrals: none.
    rank: Option<usize>,
}

const SLOTS: usize = 96;

/// An allowed slot: start, end, index of the local quarter hour (0–95).
type SlotSpan = (Timestamp, Timestamp, usize);

/// Makes the plan.
pub fn plan(input: &PlanInput) -> Result<Plan, PlanError> {
    plan_in(input, TRANCHE)
}

/// [`plan`], `tranche` cases at a time.
fn plan_in(input: &PlanInput, tranche_size: usize) -> Result<Plan, PlanError> {
    let strategy = Strategy::from_toml(&input.strategy, "strategy")
        .map_err(|e| PlanError { code: e.code, message: e.to_string() })?;
    let pack = Pack::from_toml(&input.pack, "pack")
        .map_err(|e| PlanError { code: e.code, message: e.to_string() })?;
    let arms = match &input.experiment {
        Some(x) => Some((Arms::parse(&x.arms).map_err(|e| perr(e.code, e.message))?, x.salt.clone())),
        None => None,
    };
    let mut cases: Vec<&PlanCase> = input.cases.iter().collect();
    cases.sort_by(|a, b| a.case.cmp(&b.case));
    let zones = Zones::read(&cases)?;
    // Only debtors who were dialled move the hour tables.
    let dialled = || -> Vec<DebtorHistory> {
        cases
            .par_iter()
            .enumerate()
            .filter(|(_, c)| c.contacts.iter().any(|a| a.channel.is_call()))
            .map(|(ci, c)| history_of(c, zones.of(ci)))
            .collect()
    };
    let timing = match &input.contactability {
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
            Contactability::new(m).map_err(|e| perr(e.code, e.message))?
        }
        None => shrinkage(&dialled(), input.as_of)?,
    };
    // The arms' own strategies, checked against the experiment's arms.
    let mut strategies: Vec<Strategy> = Vec::new();
    let mut arm_strategy: BTreeMap<String, usize> = BTreeMap::new();
    for (arm, source) in &input.arm_strategies {
        let known = arms.as_ref().is_some_and(|(a, _)| a.arms().iter().any(|x| &x.name == arm));
        if !known {
            return Err(perr(
                "PLAN_INPUT",
                format!("arm_strategies names {arm:?}, which is not an arm of the experiment"),
            ));
        }
        let s = Strategy::from_toml(source, &format!("strategy of arm {arm}"))
            .map_err(|e| PlanError { code: e.code, message: e.to_string() })?;
        arm_strategy.insert(arm.clone(), strategies.len() + 1);
        strategies.push(s);
    }
    let all: Vec<&Strategy> = std::iter::once(&strategy).chain(&strategies).collect();
    // Scripts' word vectors are only read by the scorer (loading jieba's dictionary is not free).
    let script_vectors: Vec<BTreeMap<&str, [f64; select::SCRIPT_DIM]>> = match &input.selector {
        Some(_) => {
            let vectors = ScriptVectors::default();
            all.iter()
                .map(|st| st.scripts.iter().map(|s| (s.id.as_str(), vectors.vector(&s.text))).collect())
                .collect()
        }
        None => vec![BTreeMap::new(); all.len()],
    };
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
    // Cases are taken by weight (what is at stake), heaviest first, in tranches: each
    // tranche is judged in parallel and placed into the room the tranches before it left.
    // Once every move still wanted has no room left, the cases not reached are skipped for
    // capacity without being put to the pack.
    let briefs: Vec<Brief> =
        cases.par_iter().enumerate().map(|(ci, c)| ctx.brief(ci, c, zones.of(ci))).collect();
    let weights: Vec<f64> = cases.iter().map(|c| weight(c)).collect();
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by(|a, b| weights[*b].total_cmp(&weights[*a]).then(a.cmp(b)));
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    let mut considered = 0u64;
    let mut arm_of: Vec<Option<String>> = vec![None; cases.len()];
    let mut room = Room::new(&strategy, cases.len());
    let mut actions: Vec<(f64, Action)> = Vec::new();
    // Cases not judged: skipped for capacity (the reasons known without the pack kept).
    let unreached = |b: Brief, considered: &mut u64, skipped: &mut BTreeMap<String, u64>| {
        let contact = u64::from(b.contact);
        *considered += u64::from(b.referrals) + contact;
        let capacity = u64::from(b.referrals) + if b.missing.is_none() { contact } else { 0 };
        if capacity > 0 {
            *skipped.entry("CAPACITY".into()).or_default() += capacity;
        }
        if let (true, Some(code)) = (b.contact, b.missing) {
            *skipped.entry(code.to_owned()).or_default() += 1;
        }
    };
    let mut next = 0;
    let mut tranche: Vec<usize> = Vec::with_capacity(tranche_size);
    while next < order.len() {
        let full = room.full();
        tranche.clear();
        while next < order.len() && tranche.len() < tranche_size {
            let ci = order[next];
            next += 1;
            // Room is left for something it wants: judged; otherwise nothing it could take
            // has room, and it is not put to the pack.
            if briefs[ci].moves & !full != 0 || briefs[ci].moves == 0 {
                tranche.push(ci);
            } else {
                unreached(briefs[ci], &mut considered, &mut skipped);
            }
        }
        let judged: Vec<Result<Judged, PlanError>> =
            tranche.par_iter().map(|&ci| ctx.judge(ci, cases[ci], zones.of(ci), full)).collect();
        let mut wants: Vec<Want> = Vec::new();
        for (j, &ci) in judged.into_iter().zip(&tranche) {
            let j = j?;
            considered += j.considered;
            if let Some(code) = j.skipped {
                *skipped.entry(code.to_owned()).or_default() += 1;
            }
            wants.extend(j.wants);
            arm_of[ci] = Some(j.arm);
        }
        actions.extend(room.place(&wants, &cases, &arm_of, &mut skipped));
    }
    actions.sort_by(|a, b| {
        b.0.total_cmp(&a.0).then(a.1.case.cmp(&b.1.case)).then(a.1.channel.cmp(&b.1.channel))
    });
    let actions = actions
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut a))| {
            a.priority = u32::try_from(i + 1).unwrap_or(u32::MAX);
            a
        })
        .collect();
    Ok(Plan { date: input.date, strategy: strategy.name, considered, actions, skipped })
}

/// What the planner holds while judging cases.
struct Context<'a> {
    input: &'a PlanInput,
    pack: &'a Pack,
    arms: Option<&'a (Arms, String)>,
    timing: &'a Contactability,
    /// The main strategy, then the arms' own.
    strategies: &'a [&'a Strategy],
    /// Arm name → index in `strategies`.
    arm_strategy: &'a BTreeMap<String, usize>,
    /// Scripts' word vectors, per strategy.
    script_vectors: &'a [BTreeMap<&'a str, [f64; select::SCRIPT_DIM]>],
    /// P(pay within 30 days) per case, in case order, when a propensity model is champion.
    propensity: Option<&'a [f64]>,
}

/// One case judged: what it wants, or why it was skipped.
struct Judged {
    considered: u64,
    skipped: Option<&'static str>,
    wants: Vec<Want>,
    arm: String,
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
    missing: Option<&'static str>,
}

/// What a case wants, in brief.
#[derive(Clone, Copy)]
struct Brief {
    /// Referrals due.
    referrals: u32,
    /// A contact step is due.
    contact: bool,
    /// Why it has no contact option although one is due.
    missing: Option<&'static str>,
    /// The moves it could take ([`bit`]).
    moves: u16,
}

/// A move's bit in a set of moves.
fn bit(m: Move) -> u16 {
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

/// Which of the day's slots to put to the pack.
#[derive(Clone, Copy)]
enum Scan<'a> {
    /// Only those in these shifts (minutes of the day): calls go where there are agents.
    Shifts(&'a [(u32, u32)]),
    /// From the day's start to the end of the first run of allowed slots (a window).
    FirstRun,
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
                missing: Some("NO_LADDER"),
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
                missing = Some("NO_CONTACT_POINT");
                continue;
            };
            let scripts = strategy.scripts_for_step(step, &segment);
            if scripts.is_empty() {
                missing.get_or_insert("NO_SCRIPT");
            }
            for s in scripts {
                options.push((step, s.id.as_str(), point.clone()));
            }
        }
        if options.is_empty() && !contacts.is_empty() {
            missing.get_or_insert("NO_SCRIPT");
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
    fn brief(&self, ci: usize, c: &PlanCase, zone: &TimeZone) -> Brief {
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
    fn judge(&self, ci: usize, c: &PlanCase, zone: &TimeZone, full: u16) -> Result<Judged, PlanError> {
        let Prepared { arm, strategy, sx, segment, ladder, referrals, options, due, missing } =
            self.prepare(ci, c, zone);
        // The debtor's history, for the timing model: built when a call is timed.
        let mut facts_of: Option<DebtorHistory> = None;
        let mut out = Judged { considered: 0, skipped: None, wants: Vec::new(), arm: arm.clone() };
        let Some(ladder) = ladder else {
            out.considered += 1;
            out.skipped = missing;
            return Ok(out);
        };
        // The case's reasons, shared by its alternatives (each adds its own few).
        let mut base = segment.reasons.clone();
        base.push(format!("LADDER: {ladder}"));
        let reasons: std::sync::Arc<[String]> = base.into();
        let weight = weight(c);
        for referral in referrals {
            out.considered += 1;
            out.wants.push(Want {
                case: ci,
                action: referral.action,
                recipient: Recipient::Debtor,
                point: None,
                script: None,
                slots: vec![working_day(self.input.date, zone)?],
                p: Vec::new(),
                timed: false,
                weight,
                reasons: reasons.clone(),
                own: vec![format!("STEP: {} from day {}", referral.action, referral.from_day)],
                rank: None,
            });
        }
        if !due {
            return Ok(out);
        }
        out.considered += 1;
        if options.is_empty() {
            out.skipped = Some(missing.unwrap_or("NO_SCRIPT"));
            return Ok(out);
        }
        let model_driven = arm != HOLDOUT && strategy.models;
        // Why not, when not.
        let unmodelled = if strategy.models { "holdout arm" } else { "the strategy uses no models" };
        // The alternatives, most wanted first: if the first has no capacity or is not
        // allowed today, the next is tried (one contact per debtor per day).
        let (order, how): (Vec<usize>, String) = match (&self.input.selector, model_driven) {
            (Some(scorer), true) => {
                let user = user_vector(c, &segment, self.input.date);
                let items: Vec<Item> = options
                    .iter()
                    .map(|(step, script, _)| Item {
                        script: self.script_vectors[sx][script],
                        channel: select::channel_vector(step.action),
                    })
                    .collect();
                let seed = seed_of(strategy.exploration.seed, self.input.date, &c.case);
                let explore = ((seed >> 11) as f64 / (1u64 << 53) as f64) < strategy.exploration.share;
                let ranked = scorer.rank(&user, &items, explore, seed);
                let p = ranked.first().map_or(0.0, |r| r.1);
                let how = if explore {
                    format!("SELECTION: explored (Thompson sampling), P(pay) {p:.3}")
                } else {
                    format!("SELECTION: highest expected repayment, P(pay) {p:.3}")
                };
                (ranked.into_iter().map(|r| r.0).collect(), how)
            }
            _ => {
                // The most recently opened step first, the library's first script for each.
                let mut order: Vec<usize> = (0..options.len()).collect();
                order.sort_by(|a, b| options[*b].0.from_day.cmp(&options[*a].0.from_day).then(a.cmp(b)));
                let why = if model_driven { "no scorer yet" } else { unmodelled };
                (order, format!("SELECTION: ladder order ({why})"))
            }
        };
        let history: Vec<Contact> = c.contacts.iter().map(contact_of).collect();
        let mut tried: Vec<Move> = Vec::new();
        // Alternatives passed over because their channel has no room left today.
        let mut no_room = 0;
        let mut first_denial: Option<&'static str> = None;
        for k in order {
            let (step, script, point) = &options[k];
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
            let request = request_of(c, channel, step.recipient, point, self.input.date)?;
            let (slots, denied) = allowed_slots(
                self.pack,
                &request,
                &history,
                self.input.date,
                zone,
                self.input.as_of,
                Self::scan(strategy, channel),
            )?;
            if slots.is_empty() {
                let code = Rule::ALL
                    .iter()
                    .filter_map(|r| denied.get(r.code()).map(|n| (r.code(), *n)))
                    .fold(None::<(&str, usize)>, |best, (code, n)| match best {
                        Some((_, m)) if m >= n => best,
                        _ => Some((code, n)),
                    })
                    .map_or_else(|| denied.keys().next().copied().unwrap_or("PAST"), |(code, _)| code);
                first_denial.get_or_insert(code);
                continue;
            }
            // Other channels need only their window: the first run of allowed slots.
            let slots = if channel.is_call() {
                slots
            } else {
                let (start, mut end, index) = slots[0];
                for slot in &slots[1..] {
                    if slot.0 != end {
                        break;
                    }
                    end = slot.1;
                }
                vec![(start, end, index)]
            };
            let timed = channel.is_call() && model_driven && segment.extreme.is_none();
            let p = if timed {
                let h = facts_of.get_or_insert_with(|| history_of(c, zone));
                let items: Vec<(&DebtorHistory, Timestamp)> = slots.iter().map(|s| (&*h, s.0)).collect();
                self.timing.score_many(&items).map_err(|e| perr(e.code, e.message))?
            } else {
                spread(&c.case, slots.len())
            };
            let mut why = Vec::with_capacity(4);
            why.push(format!("STEP: {channel} from day {}", step.from_day));
            why.push(how.clone());
            if channel.is_call() {
                why.push(match (timed, segment.extreme) {
                    (true, _) => "TIME: best allowed slot by P(connect)".to_owned(),
                    (false, Some(Extreme::Low | Extreme::High)) => {
                        "TIME: no model-driven timing (extreme contact group)".to_owned()
                    }
                    (false, None) => format!("TIME: no model-driven timing ({unmodelled})"),
                });
            }
            let rank = out.wants.iter().filter(|w| w.rank.is_some()).count();
            if rank + no_room > 0 {
                why.push(format!("FALLBACK: alternative {} of the day", rank + no_room + 1));
            }
            out.wants.push(Want {
                case: ci,
                action: step.action,
                recipient: step.recipient,
                point: Some(point.clone()),
                script: Some((*script).to_owned()),
                slots,
                p,
                timed,
                weight,
                reasons: reasons.clone(),
                own: why,
                rank: Some(rank),
            });
        }
        if !out.wants.iter().any(|w| w.rank.is_some()) {
            // Denied by the pack, or every channel it could take is full.
            out.skipped = Some(first_denial.unwrap_or(if full != 0 { "CAPACITY" } else { "PAST" }));
        }
        Ok(out)
    }
}

/// How much an untimed call prefers one allowed slot over another: enough to break ties.
const SPREAD: f64 = 1e-3;

/// An untimed call's values of its `n` allowed slots: about 1, highest at a slot chosen by the
/// stable hash of the case and falling away after it, so that calls without model-driven
/// timing spread evenly over the shifts (as a team working a queue through the day does)
/// instead of filling the first slots.
fn spread(case: &str, n: usize) -> Vec<f64> {
    let first = (crate::experiment::unit_hash("daylight-spread", case) % n.max(1) as u64) as usize;
    (0..n).map(|k| 1.0 - SPREAD * ((k + n - first) % n.max(1)) as f64 / n as f64).collect()
}

/// Cases judged and placed at a time (see [`plan`]).
pub const TRANCHE: usize = 1 << 15;

/// The day's room left: per slot for calls and robot calls, per day for the other moves.
struct Room<'a> {
    strategy: &'a Strategy,
    left: BTreeMap<Channel, Vec<u32>>,
    used: BTreeMap<Move, u32>,
    /// Cases with a contact placed.
    placed: Vec<bool>,
}

impl<'a> Room<'a> {
    fn new(strategy: &'a Strategy, cases: usize) -> Room<'a> {
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

    /// The moves with no room left ([`bit`]).
    fn full(&self) -> u16 {
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
    fn place(
        &mut self,
        wants: &[Want],
        cases: &[&PlanCase],
        arm_of: &[Option<String>],
        skipped: &mut BTreeMap<String, u64>,
    ) -> Vec<(f64, Action)> {
        let strategy = self.strategy;
        let mut out = Vec::new();
        let action_of = |w: &Want, start: Timestamp, end: Timestamp| Action {
            case: cases[w.case].case.clone(),
            channel: w.action.as_str().to_owned(),
            recipient: w.recipient,
            contact_point: w.point.clone(),
            script: w.script.clone(),
            window_start: start,
            window_end: end,
            priority: 0,
            arm: arm_of[w.case].clone().unwrap_or_default(),
            reasons: w.reasons.iter().chain(&w.own).cloned().collect(),
        };
        let used = &mut self.used;
        let mut referrals: Vec<&Want> = wants.iter().filter(|w| w.rank.is_none()).collect();
        referrals
            .sort_by(|a, b| b.weight.total_cmp(&a.weight).then(cases[a.case].case.cmp(&cases[b.case].case)));
        for w in referrals {
            let n = used.entry(w.action).or_default();
            if *n >= strategy.capacity.per_day(w.action).unwrap_or(0) {
                *skipped.entry("CAPACITY".into()).or_default() += 1;
                continue;
            }
            *n += 1;
            if let Some(first) = w.slots.first() {
                out.push((w.weight, action_of(w, first.0, first.1)));
            }
        }
        let placed = &mut self.placed;
        let rounds = wants.iter().filter_map(|w| w.rank).max().map_or(0, |r| r + 1);
        for round in 0..rounds {
            let this: Vec<&Want> =
                wants.iter().filter(|w| w.rank == Some(round) && !placed[w.case]).collect();
            for channel in [Channel::Call, Channel::RobotCall] {
                let group: Vec<&&Want> = this.iter().filter(|w| w.action == Move::Contact(channel)).collect();
                if group.is_empty() {
                    continue;
                }
                let capacity = self.left.get_mut(&channel).map(std::mem::take).unwrap_or_default();
                let candidates: Vec<Candidate> = group
                    .iter()
                    .map(|w| Candidate {
                        options: w
                            .slots
                            .iter()
                            .zip(&w.p)
                            .map(|((_, _, slot), p)| (*slot, p * w.weight))
                            .collect(),
                    })
                    .collect();
                let got = assign(&capacity, &candidates);
                let mut capacity = capacity;
                for (w, got) in group.iter().zip(got) {
                    if let Some(slot) = got {
                        capacity[slot] -= 1;
                        placed[w.case] = true;
                        let k = w.slots.iter().position(|s| s.2 == slot).unwrap_or(0);
                        let (start, end, _) = w.slots[k];
                        let mut a = action_of(w, start, end);
                        if w.timed {
                            a.reasons.push(format!("P(connect) {:.3} at {}", w.p[k], start));
                        }
                        out.push((w.p[k] * w.weight, a));
                    }
                }
                self.left.insert(channel, capacity);
            }
            let mut rest: Vec<&&Want> = this
                .iter()
                .filter(|w| !matches!(w.action, Move::Contact(Channel::Call | Channel::RobotCall)))
                .collect();
            rest.sort_by(|a, b| {
                b.weight.total_cmp(&a.weight).then(cases[a.case].case.cmp(&cases[b.case].case))
            });
            for w in rest {
                let n = used.entry(w.action).or_default();
                if *n >= strategy.capacity.per_day(w.action).unwrap_or(0) {
                    continue;
                }
                *n += 1;
                placed[w.case] = true;
                // The first run of allowed slots.
                let Some(first) = w.slots.first() else { continue };
                let mut end = first.1;
                for slot in &w.slots[1..] {
                    if slot.0 != end {
                        break;
                    }
                    end = slot.1;
                }
                out.push((w.weight, action_of(w, first.0, end)));
            }
        }
        // A case none of whose alternatives found room.
        let wanting: std::collections::BTreeSet<usize> =
            wants.iter().filter(|w| w.rank.is_some()).map(|w| w.case).collect();
        let unplaced = wanting.iter().filter(|c| !placed[**c]).count() as u64;
        if unplaced > 0 {
            *skipped.entry("CAPACITY".into()).or_default() += unplaced;
        }
        out
    }
}

/// The day's 15-minute slots (in `zone`) the pack allows for `request` after `now`, among
/// those `scan` names; when none is allowed, how many slots each rule denied.
#[allow(clippy::too_many_arguments)]
fn allowed_slots(
    pack: &Pack,
    request: &Request,
    history: &[Contact],
    date: Date,
    zone: &TimeZone,
    now: Timestamp,
    scan: Scan<'_>,
) -> Result<(Vec<SlotSpan>, BTreeMap<&'static str, usize>), PlanError> {
    let start = date.to_zoned(zone.clone()).map_err(|e| perr("PLAN_INPUT", format!("date {date}: {e}")))?;
    let quarter = SignedDuration::from_mins(15);
    // The slots to put to the pack: start, end, index of the local quarter hour.
    let mut scanned = Vec::new();
    let mut t = start.timestamp();
    while scanned.len() < 100 {
        let local = t.to_zoned(zone.clone());
        if local.date() != date {
            break;
        }
        let minute = local.hour() as u32 * 60 + local.minute() as u32;
        let end = t + quarter;
        let wanted = match scan {
            Scan::Shifts(shifts) => shifts.iter().any(|(a, b)| *a <= minute && minute < *b),
            Scan::FirstRun => true,
        };
        if wanted && end > now {
            scanned.push((t.max(now), end, (minute / 15) as usize));
        }
        t = end;
    }
    let mut req = request.clone();
    let mut allowed = Vec::new();
    for &(at, end, index) in &scanned {
        req.at = Some(at);
        if daylight_compliance::allowed_at(pack, &req, history, at) {
            allowed.push((at, end, index.min(SLOTS - 1)));
        } else if matches!(scan, Scan::FirstRun) && !allowed.is_empty() {
            break;
        }
    }
    let mut denied = BTreeMap::new();
    if scanned.is_empty() {
        // Nothing to ask: the day is over, or no shift has hours left in it.
        denied.insert(if t <= now { "PAST" } else { "CAPACITY" }, 1);
    }
    if allowed.is_empty() {
        for &(at, _, _) in &scanned {
            req.at = Some(at);
            for r in daylight_compliance::evaluate(pack, &req, history, at).violations {
                *denied.entry(r.code()).or_insert(0) += 1;
            }
        }
    }
    Ok((allowed, denied))
}

/// 09:00–18:00 of `date` in `zone`: when a referral is handed over.
fn working_day(date: Date, zone: &TimeZone) -> Result<(Timestamp, Timestamp, usize), PlanError> {
    let at = |h: i8| {
        date.at(h, 0, 0, 0)
            .to_zoned(zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| perr("PLAN_INPUT", format!("date {date}: {e}")))
    };
    Ok((at(9)?, at(18)?, 36))
}

/// Each case's segment as the plan made from `input` sees it (scores included), by case id.
pub fn segments(input: &PlanInput, strategy: &Strategy) -> Result<BTreeMap<String, Segment>, PlanError> {
    let mut cases: Vec<&PlanCase> = input.cases.iter().collect();
    cases.sort_by(|a, b| a.case.cmp(&b.case));
    let zones = Zones::read(&cases)?;
    let propensity = propensities(input, &cases, &zones)?;
    let mut out = BTreeMap::new();
    for (ci, c) in cases.iter().enumerate() {
        let mut f = facts(c, zones.of(ci).clone(), input.date);
        f.propensity = propensity.as_ref().map(|p| p[ci]);
        out.insert(c.case.clone(), strategy.segmentation.segment(&f));
    }
    Ok(out)
}

/// P(pay within 30 days) of every case at the plan's as-of instant, when the input has a
/// propensity model.
fn propensities(
    input: &PlanInput,
    cases: &[&PlanCase],
    zones: &Zones,
) -> Result<Option<Vec<f64>>, PlanError> {
    let Some(model) = &input.propensity else { return Ok(None) };
    let scorer = Contactability::new(model.clone()).map_err(|e| perr(e.code, e.message))?;
    // Each history is built, scored and dropped: a million of them are not held at once.
    cases
        .par_iter()
        .enumerate()
        .map(|(ci, c)| {
            let h = history_of(c, zones.of(ci));
            let p = scorer.score_many(&[(&h, input.as_of)]).map_err(|e| perr(e.code, e.message))?;
            Ok(p.first().copied().unwrap_or(0.0))
        })
        .collect::<Result<Vec<f64>, PlanError>>()
        .map(Some)
}

/// Each case's zone, looked up once per zone name.
struct Zones {
    zones: Vec<TimeZone>,
    /// Index into `zones` of each case (case order).
    index: Vec<u16>,
}

impl Zones {
    fn read(cases: &[&PlanCase]) -> Result<Zones, PlanError> {
        let mut names: BTreeMap<&str, u16> = BTreeMap::new();
        let mut zones = Vec::new();
        let mut index = Vec::with_capacity(cases.len());
        for c in cases {
            let k = match names.get(c.zone.as_str()) {
                Some(k) => *k,
                None => {
                    let z = TimeZone::get(&c.zone).map_err(|_| {
                        perr("PLAN_INPUT", format!("case {}: time zone {:?}", c.case, c.zone))
                    })?;
                    let k = u16::try_from(zones.len())
                        .map_err(|_| perr("PLAN_INPUT", "more than 65,535 time zones"))?;
                    zones.push(z);
                    names.insert(c.zone.as_str(), k);
                    k
                }
            };
            index.push(k);
        }
        Ok(Zones { zones, index })
    }

    /// Case `ci`'s zone.
    fn of(&self, ci: usize) -> &TimeZone {
        &self.zones[usize::from(self.index[ci])]
    }
}

/// Days a hardship or abuse outcome of a call keeps routing the debtor (a tag lasts until
/// cleared).
pub const SIGNAL_DAYS: i64 = 90;

fn facts(c: &PlanCase, zone: TimeZone, date: Date) -> CaseFacts {
    let since = date
        .checked_sub(jiff::Span::new().days(SIGNAL_DAYS))
        .ok()
        .and_then(|d| d.to_zoned(zone).ok())
        .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp());
    let heard = |o: Outcome| c.contacts.iter().any(|a| a.at >= since && a.outcome == Some(o));
    let dials: Vec<&PastContact> = c
        .contacts
        .iter()
        .filter(|a| a.channel.is_call() && a.recipient == Recipient::Debtor && a.outcome.is_some())
        .collect();
    let conversations =
        dials.iter().filter(|a| a.outcome.is_some_and(|o| o == Outcome::Conversation)).count();
    let last = c.contacts.last().map_or(Timestamp::UNIX_EPOCH, |a| a.at);
    let cutoff = last.max(c.payments.last().map_or(Timestamp::UNIX_EPOCH, |p| p.0))
        - SignedDuration::from_hours(24 * 90);
    CaseFacts {
        case: c.case.clone(),
        customer: c.customer.clone(),
        bucket: c.bucket,
        dpd: c.dpd,
        overdue_fen: c.overdue_fen,
        propensity: None,
        dials: u32::try_from(dials.len()).unwrap_or(u32::MAX),
        conversations: u32::try_from(conversations).unwrap_or(u32::MAX),
        promises_kept: c.promises.iter().filter(|p| p.kept).count() as u32,
        promises_broken: c.promises.iter().filter(|p| p.broken).count() as u32,
        promises: c.promises.len() as u32,
        payments_90d: c.payments.iter().filter(|p| p.0 >= cutoff).count() as u32,
        hardship: c.hardship || heard(Outcome::Hardship),
        abusive: c.abusive || heard(Outcome::Abusive),
        anxious: c.anxious,
    }
}

/// Days between the case's last contact on the step's channel (to the step's recipient) and
/// the planned date, in the debtor's zone.
fn days_since(c: &PlanCase, zone: &TimeZone, step: &Step, date: Date) -> Option<u32> {
    let last = c
        .contacts
        .iter()
        .filter(|a| Move::Contact(a.channel) == step.action && a.recipient == step.recipient)
        .map(|a| a.at)
        .max()?;
    let day = last.to_zoned(zone.clone()).date();
    let days = (date - day).get_days();
    u32::try_from(days).ok()
}

fn weight(c: &PlanCase) -> f64 {
    let yuan = c.overdue_fen.max(0) as f64 / 100.0;
    (1.0 + yuan).ln() * (1.0 + c.bucket.rank() as f64 / 7.0)
}

fn pick_point(c: &PlanCase, channel: Channel, recipient: Recipient) -> Option<String> {
    let kind = match channel {
        Channel::Call | Channel::RobotCall | Channel::Sms => ContactKind::Phone,
        Channel::Email => ContactKind::Email,
        Channel::Letter | Channel::Visit => ContactKind::Address,
    };
    let reached = |id: &str| {
        c.contacts
            .iter()
            .any(|a| a.contact_point.as_deref() == Some(id) && a.outcome == Some(Outcome::Conversation))
    };
    c.points
        .iter()
        .filter(|p| {
            p.recipient == recipient
                && p.kind == kind
                && !matches!(p.status, ContactStatus::Invalid | ContactStatus::Suspended)
        })
        .min_by_key(|p| (!reached(&p.id), p.status != ContactStatus::Valid, p.id.clone()))
        .map(|p| p.id.clone())
}

/// The compliance request for a contact of case `c` on `date`, built from the case's facts by
/// [`daylight_compliance::request_for`], the function the gate builds its own with. The
/// request's `at` is left for the caller (each slot of the day is put to the pack).
pub fn request_of(
    c: &PlanCase,
    channel: Channel,
    recipient: Recipient,
    point: &str,
    date: Date,
) -> Result<Request, PlanError> {
    let bad = |e: daylight_compliance::FactsError| perr("PLAN_INPUT", format!("case {}: {e}", c.case));
    let zone =
        TimeZone::get(&c.zone).map_err(|_| bad(daylight_compliance::FactsError::Zone(c.zone.clone())))?;
    let noon = date.at(12, 0, 0, 0).to_zoned(zone).map_err(|e| perr("PLAN_INPUT", e.to_string()))?;
    let points: Vec<PointFacts<'_>> = c.points.iter().map(point_facts).collect();
    let debts: Vec<DebtFacts<'_>> = match (&c.account, c.statement_day) {
        (Some(id), Some(day)) => vec![DebtFacts { id, days_past_due: i64::from(c.dpd), statement_day: day }],
        _ => Vec::new(),
    };
    daylight_compliance::request_for(ContactFacts {
        at: noon.timestamp(),
        channel,
        recipient,
        debtor_zone: &c.zone,
        points: &points,
        point: Some(point),
        debts: &debts,
        debt: None,
        flags: daylight_compliance::Flags {
            cease: c.cease,
            opt_out: c.opt_out.iter().copied().collect(),
            consented_hours: c.consented_hours,
        },
        // A plan never proposes a third party; the gate reads a confirmation when one is called.
        third_party_confirmed: false,
        case_closed: false,
        same_number: Vec::new(),
    })
    .map_err(bad)
}

/// A contact point as the request needs it.
fn point_facts(p: &Point) -> PointFacts<'_> {
    let status = match (p.status, p.status_since) {
        (ContactStatus::Invalid | ContactStatus::Suspended, since) => {
            Some(PointStatus { status: p.status, since: since.unwrap_or(Timestamp::UNIX_EPOCH) })
        }
        (ContactStatus::PoweredOff, Some(since)) => Some(PointStatus { status: p.status, since }),
        _ => None,
    };
    PointFacts { id: &p.id, recipient: p.recipient, kind: p.kind, zone: p.zone.as_deref(), status }
}

/// An earlier contact as the compliance engine counts it.
pub fn contact_of(a: &PastContact) -> Contact {
    Contact {
        at: a.at,
        channel: a.channel,
        recipient: a.recipient,
        contact_point: a.contact_point.clone(),
        debt: a.debt.clone(),
        outcome: a.outcome,
    }
}

fn history_of(c: &PlanCase, zone: &TimeZone) -> DebtorHistory {
    let mut h = DebtorHistory {
        case: c.case.clone(),
        zone: zone.clone(),
        birth_date: c.birth_date,
        credit_limit: c.credit_limit_fen,
        accounts: vec![AccountPath { now: c.bucket, moves: Vec::new() }],
        attempts: c
            .contacts
            .iter()
            .filter_map(|a| {
                Some(AttemptFact {
                    at: a.at,
                    channel: a.channel,
                    recipient: a.recipient,
                    outcome: a.outcome?,
                    duration_secs: a.duration_secs,
                })
            })
            .collect(),
        payments: c.payments.iter().map(|(at, amount)| PaymentFact { at: *at, amount: *amount }).collect(),
        promises: c
            .promises
            .iter()
            .map(|p| PromiseFact {
                created_at: p.created_at,
                settled_at: p.settled_at,
                kept: p.kept,
                broken: p.broken,
            })
            .collect(),
    };
    h.sort();
    h
}

/// The shrinkage estimator over the input's own histories (what `best-time` falls back to).
fn shrinkage(histories: &[DebtorHistory], until: Timestamp) -> Result<Contactability, PlanError> {
    let priors = Priors::estimate(
        histories,
        until,
        daylight_scoring::features::DEBTOR_STRENGTH,
        daylight_scoring::features::SEGMENT_STRENGTH,
    );
    Contactability::new(ProductModel {
        format: product::FORMAT.to_owned(),
        kind: product::Kind::Contactability,
        features_version: daylight_scoring::features::VERSION,
        features: Vec::new(),
        created_at: String::new(),
        from: Timestamp::UNIX_EPOCH,
        until,
        priors,
        examples: 0,
        positives: 0,
        gbdt: None,
    })
    .map_err(|e| perr(e.code, e.message))
}

/// The debtor's user vector: their features and their related people's.
pub fn user_vector(c: &PlanCase, s: &Segment, date: Date) -> [f64; select::USER_DIM] {
    let f = facts(c, TimeZone::UTC, date);
    let rate = if f.dials == 0 { 0.5 } else { f64::from(f.conversations) / f64::from(f.dials) };
    let promises = f64::from(f.promises.max(1));
    let debtor = [
        c.bucket.rank() as f64 / 7.0,
        ((1.0 + c.overdue_fen.max(0) as f64 / 100.0).ln() / 12.0).min(1.0),
        rate,
        f64::from(f.promises_broken) / promises,
        f64::from(f.promises_kept) / promises,
        if s.quadrant == crate::segment::Quadrant::WillingAble { 1.0 } else { 0.0 },
        if s.hardship { 1.0 } else { 0.0 },
        if s.abusive { 1.0 } else { 0.0 },
    ];
    let related: Vec<[f64; select::RELATED_FEATURES]> = c
        .points
        .iter()
        .filter(|p| p.recipient != Recipient::Debtor && p.kind == ContactKind::Phone)
        .map(|p| {
            let talks = c
                .contacts
                .iter()
                .filter(|a| {
                    a.contact_point.as_deref() == Some(&p.id) && a.outcome == Some(Outcome::Conversation)
                })
                .count();
            [
                if p.recipient == Recipient::Guarantor { 1.0 } else { 0.0 },
                if p.status == ContactStatus::Valid { 1.0 } else { 0.0 },
                if talks > 0 { 1.0 } else { 0.0 },
                (talks as f64 / 5.0).min(1.0),
            ]
        })
        .collect();
    select::user_vector(&debtor, &related)
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

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(p.actions.iter().all(|a| a.channel == "call"), "{:?}", p.actions);
            let skipped: u64 = p.skipped.values().sum();
            assert_eq!(p.actions.len() as u64 + skipped, p.considered, "tranche {tranche}: {:?}", p.skipped);
            assert_eq!((p.considered, &p.skipped), (whole.considered, &whole.skipped), "tranche {tranche}");
        }
        assert_eq!(whole.skipped.get("CAPACITY"), Some(&8));
    }
}
