//! The twin's world, one day at a time. Each day the real planner plans the open cases from
//! what the product could know (records, contact history, payments, promises — never the
//! hidden traits); each planned contact is put to the real compliance engine at its window's
//! start with the history the gate would count; allowed contacts are answered by the
//! debtors' hidden behaviour; then every account moves a day. A day's contacts are audited
//! afterwards against the pack, each with the full history before it: a contact the pack
//! would deny is a violation (there must be none).

use std::collections::BTreeMap;

use daylight_compliance::Pack;
use daylight_domain::attempt::{Agent, Attempt, Channel, Outcome};
use daylight_domain::bucket::{Bucket, BucketScheme};
use daylight_domain::customer::{ContactKind, ContactStatus, Recipient};
use daylight_domain::id::{AccountId, CaseId, ContactId};
use daylight_scoring::product::ProductModel;
use daylight_strategy::document::{Move, Strategy};
use daylight_strategy::experiment::Proportion;
use daylight_strategy::plan::{
    Action, ExperimentInput, PastContact, PastPromise, Plan, PlanCase, PlanInput, Point, contact_of, plan,
    request_of,
};
use daylight_strategy::report::UNIT_COST_FEN;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::behaviour::{self, Contact};
use crate::dynamics::{self, Nudges, Promise};
use crate::files::TIME_ZONE;
use crate::population::{self, Account, Debtor};
use crate::rng::{Stream, uniform};

/// A world that cannot be simulated: stable code and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    /// `SIM_INPUT`, or the planner's own code.
    pub code: &'static str,
    /// What, and where.
    pub message: String,
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SimError {}

/// Days a promise runs before it falls due.
pub const PROMISE_DAYS: u32 = 3;

/// A debtor's day so far.
#[derive(Debug, Clone, Copy, Default)]
struct Touched {
    /// Contacts made.
    made: u32,
    /// Dialled on their own number.
    dialed: bool,
    /// Someone picked up their number.
    connected: bool,
    /// Spoken to.
    spoke: bool,
    /// An SMS delivered or a robot call heard.
    reminded: bool,
}

/// A day being simulated: its counts and records so far, and whom it touched.
struct Today<'p> {
    day: u32,
    date: Date,
    /// The open cases as planned, by case id.
    cases: BTreeMap<&'p str, &'p PlanCase>,
    report: DayReport,
    log: DayLog,
    /// Each debtor's day so far.
    touched: BTreeMap<usize, Touched>,
    /// The contacts made today: (debtor, index into their contacts).
    made: Vec<(usize, usize)>,
}

/// A planned contact: debtor `i` (population index), their case, the action and its channel.
struct Planned<'a> {
    i: usize,
    c: &'a PlanCase,
    a: &'a Action,
    channel: Channel,
}

/// The plan's actions in the order they happen: by window start, then case.
fn in_time_order(made: &Plan) -> Vec<usize> {
    let mut order: Vec<usize> = (0..made.actions.len()).collect();
    order.sort_by(|a, b| {
        let (x, y) = (&made.actions[*a], &made.actions[*b]);
        x.window_start.cmp(&y.window_start).then(x.case.cmp(&y.case))
    });
    order
}

/// What a contact's outcome shows of the debtor's day: dialled on their own number, picked up,
/// spoken to, reminded (an SMS delivered or a robot call heard).
/// The promise a debtor makes on day `day` (the twin's side of it): half of what is overdue,
/// at least the minimum payment, at most what is overdue, due `PROMISE_DAYS` later.
fn promise_of(a: &Account, day: u32) -> Promise {
    let amount = a.overdue().min((a.overdue() / 2).max(a.balance * dynamics::MINIMUM_PERCENT / 100));
    Promise { due_day: day + PROMISE_DAYS, amount }
}

fn touch(entry: &mut Touched, p: &Planned<'_>, o: Outcome) {
    let spoke = o.class() == daylight_domain::attempt::OutcomeClass::Conversation;
    if p.channel.is_call() && p.a.recipient == Recipient::Debtor {
        entry.dialed = true;
        entry.connected |= spoke || o == Outcome::ThirdPartyAnswered;
        entry.spoke |= spoke;
    }
    if p.channel == Channel::Sms && o == Outcome::Delivered || p.channel == Channel::RobotCall && spoke {
        entry.reminded = true;
    }
}

/// What the product knows of a debtor, as the twin keeps it.
#[derive(Debug, Clone, Default)]
struct Known {
    contacts: Vec<PastContact>,
    payments: Vec<(Timestamp, i64)>,
    promises: Vec<PastPromise>,
    /// The promise the debtor will keep or break (the twin's side of the last one).
    pending: Option<Promise>,
    cease: bool,
    /// Handed to the legal team: no longer an open case.
    legal: bool,
    /// The agency the case was placed with.
    agency: Option<String>,
    /// What outcomes showed of the points used (`valid`, `invalid`, `powered_off`), as the
    /// store records it; a point not here is `unknown`.
    statuses: Vec<(String, ContactStatus)>,
}

impl Known {
    fn status(&self, point: &str) -> ContactStatus {
        self.statuses.iter().find(|(p, _)| p == point).map_or(ContactStatus::Unknown, |(_, s)| *s)
    }
}

/// One simulated day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayReport {
    /// The date.
    pub date: Date,
    /// Actions the planner planned.
    pub planned: u64,
    /// Planned contacts the gate refused at their time.
    pub denials: u64,
    /// Contacts made that the pack would deny (must be 0).
    pub violations: u64,
    /// What happened to the whole portfolio.
    #[serde(flatten)]
    pub all: Counts,
    /// Accounts per bucket at the end of the day (M0 … M6+).
    pub buckets: [u64; 8],
    /// The same counts, per arm of the experiment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub arms: BTreeMap<String, Counts>,
}

/// What happened on a day as a store records it: the contacts made (in time order, each with
/// its note), the promises made and settled, the payments, and the accounts that moved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayLog {
    /// The contacts the gate allowed, in the order they were made.
    pub attempts: Vec<Attempt>,
    /// Promises made in those contacts.
    pub promises: Vec<MadePromise>,
    /// Promises that fell due today: the case and whether it was kept.
    pub settled: Vec<(CaseId, bool)>,
    /// Payments received today.
    pub payments: Vec<Payment>,
    /// Debtors (population indices) whose account moved today: overdue, cured or paid.
    pub moved: Vec<usize>,
    /// Cases the plan referred today, at the referral's time.
    pub referrals: Vec<(CaseId, Timestamp, Referral)>,
}

/// A referral the plan made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Referral {
    /// Handed to the legal team (the case's status becomes `legal`).
    Legal,
    /// Placed with this outside agency (委案).
    Agency(String),
}

/// The agency the twin's placements go to.
pub const AGENCY: &str = "AG01";

/// A promise made in a contact.
#[derive(Debug, Clone, PartialEq)]
pub struct MadePromise {
    /// Its contact: an index into [`DayLog::attempts`].
    pub attempt: usize,
    /// The amount promised, fen.
    pub amount_fen: i64,
    /// When it falls due.
    pub due_at: Timestamp,
}

/// A payment received.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    /// A stable id (`TY<debtor>D<day>`).
    pub id: String,
    /// The account paid.
    pub account: String,
    /// When.
    pub at: Timestamp,
    /// How much, fen.
    pub amount_fen: i64,
}

/// One simulated day: what was counted, the plan, and what a store would record.
#[derive(Debug, Clone)]
pub struct Day {
    /// The day's counts.
    pub report: DayReport,
    /// The planner's plan for it.
    pub plan: Plan,
    /// What happened, as records.
    pub log: DayLog,
}

/// The collectors of the twin's team (`E001` … `E020`): a debtor's calls are made by one of them.
pub const COLLECTORS: u64 = 20;

/// Who makes a contact on `channel` for debtor `i`: the bank's robots and collectors, or the
/// agency's collectors once the case is placed with one.
fn agent_for(channel: Channel, i: usize, agency: Option<&str>) -> Agent {
    match (channel, agency) {
        (Channel::RobotCall, _) => Agent::Robot("R1".into()),
        (Channel::Sms | Channel::Email, _) => Agent::Robot("SMS1".into()),
        (_, Some(agency)) => {
            Agent::Agency { agency: agency.to_owned(), collector: format!("A{:03}", 1 + i as u64 % 10) }
        }
        _ => Agent::Collector(format!("E{:03}", 1 + i as u64 % COLLECTORS)),
    }
}

/// The collector's note (催记) for a conversation.
fn note_for(outcome: Outcome, amount_fen: i64, due: Date) -> Option<String> {
    let yuan = |f: i64| format!("{}.{:02}", f / 100, f % 100);
    Some(match outcome {
        Outcome::PromiseToPay => {
            format!("本人接听，承诺{}月{}日前还款{}元", due.month(), due.day(), yuan(amount_fen))
        }
        Outcome::Conversation => "本人接听，告知欠款金额及还款方式".to_owned(),
        Outcome::Refused => "本人接听，拒绝还款".to_owned(),
        Outcome::Hardship => "本人接听，称失业或生病，暂无还款能力".to_owned(),
        Outcome::Dispute => "本人接听，对欠款金额有异议，需核实账单".to_owned(),
        Outcome::Abusive => "本人接听，情绪激动并辱骂，已安抚后结束通话".to_owned(),
        Outcome::CeaseRequest => "本人接听，要求停止催收联系".to_owned(),
        Outcome::ThirdPartyAnswered => "他人接听，未透露欠款信息".to_owned(),
        _ => return None,
    })
}

/// What happened to a set of debtors (the portfolio, or an arm) on a day, or over days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Open (delinquent) cases at the start of the day.
    pub open: u64,
    /// Contacts made (allowed by the gate).
    pub contacts: u64,
    /// Debtors dialled on their own number (calls and robot calls).
    pub dialed: u64,
    /// Of those, debtors whose phone someone picked up.
    pub connected: u64,
    /// Of those, debtors spoken to (a right-party contact).
    pub rpc: u64,
    /// Promises to pay made.
    pub ptp: u64,
    /// Promises that fell due and were kept.
    pub kept: u64,
    /// Promises that fell due and were broken.
    pub broken: u64,
    /// Paid, fen.
    pub paid_fen: i64,
    /// Complaints made about the contacts.
    pub complaints: u64,
    /// What the contacts cost, fen ([`UNIT_COST_FEN`]).
    pub cost_fen: i64,
    /// Cases handed to the legal team.
    pub legal: u64,
    /// Cases placed with an agency.
    pub placed: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.open += o.open;
        self.contacts += o.contacts;
        self.dialed += o.dialed;
        self.connected += o.connected;
        self.rpc += o.rpc;
        self.ptp += o.ptp;
        self.kept += o.kept;
        self.broken += o.broken;
        self.paid_fen += o.paid_fen;
        self.complaints += o.complaints;
        self.cost_fen += o.cost_fen;
        self.legal += o.legal;
        self.placed += o.placed;
    }
}

impl std::iter::Sum for Counts {
    fn sum<I: Iterator<Item = Counts>>(iter: I) -> Counts {
        let mut total = Counts::default();
        for c in iter {
            total += c;
        }
        total
    }
}

/// Adds `f` to the day's counts and to those of `arm`.
fn tally(r: &mut DayReport, arm: Option<&String>, f: impl Fn(&mut Counts)) {
    f(&mut r.all);
    if let Some(counts) = arm.and_then(|a| r.arms.get_mut(a)) {
        f(counts);
    }
}

/// Debtor `i`'s arm, when there is an experiment.
fn arm_of<'a>(names: &'a [String], arm_of: &[usize], i: usize) -> Option<&'a String> {
    names.get(*arm_of.get(i)?)
}

/// The twin's portfolio and what the product has learnt of it.
pub struct World {
    seed: u64,
    start: Date,
    zone: TimeZone,
    scheme: BucketScheme,
    strategy_source: String,
    strategy: Strategy,
    pack_source: String,
    pack: Pack,
    experiment: Option<ExperimentInput>,
    arm_strategies: BTreeMap<String, String>,
    contactability: Option<ProductModel>,
    propensity: Option<ProductModel>,
    /// The experiment's arms, and each debtor's (index into `arm_names`).
    arm_names: Vec<String>,
    arm_of: Vec<usize>,
    /// The debtors, with their hidden traits.
    pub debtors: Vec<Debtor>,
    known: Vec<Known>,
    /// What was overdue when the simulation began, fen.
    pub overdue_at_start: i64,
    /// Each debtor's bucket when the simulation began.
    pub start_buckets: Vec<Bucket>,
    /// What each debtor owed when the simulation began, fen.
    owed_at_start: Vec<i64>,
}

impl World {
    /// `accounts` debtors of the population `seed`, on `start`, treated with the strategy and
    /// pack sources (TOML).
    pub fn new(seed: u64, accounts: u64, start: Date, strategy: &str, pack: &str) -> Result<World, SimError> {
        let parsed = Strategy::from_toml(strategy, "strategy")
            .map_err(|e| SimError { code: e.code, message: e.to_string() })?;
        let pack_parsed =
            Pack::from_toml(pack, "pack").map_err(|e| SimError { code: e.code, message: e.to_string() })?;
        let zone =
            TimeZone::get(TIME_ZONE).map_err(|e| SimError { code: "SIM_INPUT", message: e.to_string() })?;
        let debtors = population::population(seed, accounts, start);
        let scheme = BucketScheme::default();
        let overdue_at_start = debtors.iter().map(|d| d.account.overdue()).sum();
        let start_buckets = debtors.iter().map(|d| scheme.bucket(d.account.dpd)).collect();
        let owed_at_start = debtors.iter().map(|d| d.account.overdue()).collect();
        let known = vec![Known::default(); debtors.len()];
        Ok(World {
            seed,
            start,
            zone,
            scheme,
            strategy_source: strategy.to_owned(),
            strategy: parsed,
            pack_source: pack.to_owned(),
            pack: pack_parsed,
            experiment: None,
            arm_strategies: BTreeMap::new(),
            contactability: None,
            propensity: None,
            arm_names: Vec::new(),
            arm_of: Vec::new(),
            debtors,
            known,
            overdue_at_start,
            start_buckets,
            owed_at_start,
        })
    }

    /// Runs `experiment` on the population: each debtor's arm by the stable hash of the salt
    /// and their customer id; an arm named in `arm_strategies` follows that strategy (TOML),
    /// the others the world's. The team is shared.
    pub fn with_experiment(
        mut self,
        experiment: ExperimentInput,
        arm_strategies: BTreeMap<String, String>,
    ) -> Result<World, SimError> {
        let arms = daylight_strategy::experiment::Arms::parse(&experiment.arms)
            .map_err(|e| SimError { code: e.code, message: e.message })?;
        self.arm_names = arms.arms().iter().map(|a| a.name.clone()).collect();
        self.arm_of = self
            .debtors
            .iter()
            .map(|d| {
                let name = &arms.assign(&experiment.salt, &d.customer_id).name;
                self.arm_names.iter().position(|n| n == name).unwrap_or(0)
            })
            .collect();
        self.experiment = Some(experiment);
        self.arm_strategies = arm_strategies;
        Ok(self)
    }

    /// Treats the world with another strategy (TOML) from now on: its team, and the cases of
    /// arms without their own strategy.
    pub fn with_strategy(mut self, strategy: &str) -> Result<World, SimError> {
        self.strategy = Strategy::from_toml(strategy, "strategy")
            .map_err(|e| SimError { code: e.code, message: e.to_string() })?;
        self.strategy_source = strategy.to_owned();
        Ok(self)
    }

    /// Gives the planner these models (champions trained on the world's history): a strategy
    /// that uses models times calls by contactability and rates risk by propensity.
    pub fn with_models(
        mut self,
        contactability: Option<ProductModel>,
        propensity: Option<ProductModel>,
    ) -> World {
        self.contactability = contactability;
        self.propensity = propensity;
        self
    }

    /// The population's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The name of the strategy the world is treated with.
    pub fn strategy_name(&self) -> &str {
        &self.strategy.name
    }

    /// Day `day`'s date.
    pub fn date(&self, day: u32) -> Date {
        day_date(self.start, day)
    }

    /// The instant `hour:minute` on day `day`, in the twin's zone (day 0's midnight is when its
    /// plan is made; contacts end by 21:00; payments land at 20:00).
    pub fn local(&self, day: u32, hour: i8, minute: i8) -> Result<Timestamp, SimError> {
        Ok(self
            .date(day)
            .at(hour, minute, 0, 0)
            .to_zoned(self.zone.clone())
            .map_err(|e| SimError { code: "SIM_INPUT", message: e.to_string() })?
            .timestamp())
    }

    /// The open cases as the store would give them to the planner.
    fn cases(&self) -> Vec<PlanCase> {
        self.debtors
            .iter()
            .zip(&self.known)
            .filter(|(d, k)| d.account.dpd > 0 && !k.legal)
            .map(|(d, k)| {
                let a = &d.account;
                let mobile = format!("{}:mobile", d.customer_id);
                let mut points = vec![Point {
                    status: k.status(&mobile),
                    status_since: None,
                    id: mobile,
                    recipient: Recipient::Debtor,
                    kind: ContactKind::Phone,
                    zone: None,
                }];
                points.extend(d.related.iter().map(|r| Point {
                    id: r.contact_id.clone(),
                    recipient: r.role.recipient(),
                    kind: ContactKind::Phone,
                    status: k.status(&r.contact_id),
                    status_since: None,
                    zone: None,
                }));
                PlanCase {
                    birth_date: Some(d.birth_date),
                    bucket: self.scheme.bucket(a.dpd),
                    dpd: a.dpd,
                    overdue_fen: a.overdue(),
                    credit_limit_fen: a.credit_limit,
                    account: Some(a.account_id.clone()),
                    statement_day: Some(a.statement_day),
                    points,
                    cease: k.cease,
                    agency: k.agency.clone(),
                    contacts: k.contacts.clone(),
                    payments: k.payments.clone(),
                    promises: k.promises.clone(),
                    ..PlanCase::new(
                        format!("CASE-{}", d.customer_id),
                        d.customer_id.clone(),
                        TIME_ZONE.into(),
                    )
                }
            })
            .collect()
    }

    /// The open cases, as the planner and the dialer's hopper read them.
    pub(crate) fn open_cases(&self) -> Vec<PlanCase> {
        self.cases()
    }

    /// What the product knows of debtor `i`'s contacts, as the gate counts them.
    pub(crate) fn contacts_of(&self, i: usize) -> &[PastContact] {
        self.known.get(i).map_or(&[], |k| &k.contacts)
    }

    /// The pack in force.
    pub(crate) fn pack(&self) -> &Pack {
        &self.pack
    }

    /// The planner's input for day `day`, planned at the day's start, with the open cases as
    /// the twin keeps them.
    pub fn plan_input(&self, day: u32) -> Result<PlanInput, SimError> {
        self.input_for(day, self.cases())
    }

    /// The planner's input for day `day` with `cases` (a store's, when the twin writes to one).
    pub fn input_for(&self, day: u32, cases: Vec<PlanCase>) -> Result<PlanInput, SimError> {
        let date = self.date(day);
        let as_of = self.local(day, 0, 0)?;
        Ok(PlanInput {
            date,
            as_of,
            strategy: self.strategy_source.clone(),
            pack: self.pack_source.clone(),
            experiment: self.experiment.clone(),
            contactability: self.contactability.clone(),
            propensity: self.propensity.clone(),
            selector: None,
            arm_strategies: self.arm_strategies.clone(),
            cases,
        })
    }

    /// Simulates day `day`: plan, contacts through the gate, answers, then the accounts.
    pub fn day(&mut self, day: u32) -> Result<Day, SimError> {
        let input = self.plan_input(day)?;
        self.run(day, &input)
    }

    /// Simulates day `day` from `input` (made by [`World::plan_input`] or
    /// [`World::input_for`]).
    pub fn run(&mut self, day: u32, input: &PlanInput) -> Result<Day, SimError> {
        let made = plan(input).map_err(|e| SimError { code: e.code, message: e.message })?;
        let mut t = self.open_day(day, input, &made);
        for k in in_time_order(&made) {
            let a = &made.actions[k];
            let Some(c) = t.cases.get(a.case.as_str()).copied() else { continue };
            let Some(i) = index_of(&c.customer) else { continue };
            match a.channel {
                Move::Contact(channel) => self.contact(&mut t, &Planned { i, c, a, channel })?,
                Move::Legal => self.refer(&mut t, i, c, a, Referral::Legal)?,
                Move::Agency => self.refer(&mut t, i, c, a, Referral::Agency(AGENCY.to_owned()))?,
            }
        }
        self.count_touched(&mut t);
        self.audit(&mut t)?;
        self.advance_accounts(&mut t)?;
        Ok(Day { report: t.report, plan: made, log: t.log })
    }

    /// The day before anything happens: its counts start with what was planned and the open
    /// cases (per arm too).
    fn open_day<'p>(&self, day: u32, input: &'p PlanInput, made: &Plan) -> Today<'p> {
        let mut report = DayReport {
            date: input.date,
            planned: made.actions.len() as u64,
            denials: 0,
            violations: 0,
            all: Counts::default(),
            buckets: [0; 8],
            arms: self.arm_names.iter().map(|n| (n.clone(), Counts::default())).collect(),
        };
        for c in &input.cases {
            let arm = index_of(&c.customer).and_then(|i| arm_of(&self.arm_names, &self.arm_of, i));
            tally(&mut report, arm, |n| n.open += 1);
        }
        Today {
            day,
            date: input.date,
            cases: input.cases.iter().map(|c| (c.case.as_str(), c)).collect(),
            report,
            log: DayLog::default(),
            touched: BTreeMap::new(),
            made: Vec::new(),
        }
    }

    /// A referral: the legal team takes the case out of collection; an agency takes over its
    /// calls.
    fn refer(
        &mut self,
        t: &mut Today<'_>,
        i: usize,
        c: &PlanCase,
        a: &Action,
        referral: Referral,
    ) -> Result<(), SimError> {
        let k = &mut self.known[i];
        let arm = arm_of(&self.arm_names, &self.arm_of, i);
        match &referral {
            Referral::Legal => {
                k.legal = true;
                tally(&mut t.report, arm, |n| n.legal += 1);
            }
            Referral::Agency(name) => {
                k.agency = Some(name.clone());
                tally(&mut t.report, arm, |n| n.placed += 1);
            }
        }
        let case = CaseId::parse(&c.case).map_err(|e| SimError { code: "SIM_INPUT", message: e.message })?;
        t.log.referrals.push((case, a.window_start, referral));
        Ok(())
    }

    /// A planned contact at its window's start: put to the gate with the history it would
    /// count, answered by the debtor's hidden behaviour, and recorded as a store would.
    fn contact(&mut self, t: &mut Today<'_>, p: &Planned<'_>) -> Result<(), SimError> {
        if !self.gate_allows(t.date, p)? {
            t.report.denials += 1;
            return Ok(());
        }
        let answer = self.answer(t, p);
        let cost = UNIT_COST_FEN.iter().find(|(ch, _)| *ch == p.channel).map_or(0, |(_, c)| *c);
        let arm = arm_of(&self.arm_names, &self.arm_of, p.i);
        tally(&mut t.report, arm, |n| {
            n.contacts += 1;
            n.cost_fen += cost;
            n.complaints += u64::from(answer.complaint);
        });
        let o = answer.outcome;
        touch(t.touched.entry(p.i).or_default(), p, o);
        self.learn(t, p, o);
        let duration = if o.class() == daylight_domain::attempt::OutcomeClass::Conversation {
            60 + (uniform(self.seed, Stream::Answer, p.i as u64, u64::from(t.day) << 24 | 7) * 240.0) as u32
        } else {
            0
        };
        self.record_attempt(t, p, o, duration)?;
        self.remember_contact(t, p, o, duration);
        Ok(())
    }

    /// Whether the gate allows the contact at its window's start, with the history it would
    /// count.
    fn gate_allows(&self, date: Date, p: &Planned<'_>) -> Result<bool, SimError> {
        let point = p.a.contact_point.clone().unwrap_or_default();
        let mut request = request_of(p.c, p.channel, p.a.recipient, &point, date)
            .map_err(|e| SimError { code: e.code, message: e.message })?;
        let at = p.a.window_start;
        request.at = Some(at);
        let history: Vec<daylight_compliance::Contact> =
            self.known[p.i].contacts.iter().map(contact_of).collect();
        Ok(daylight_compliance::allowed_at(&self.pack, &request, &history, at))
    }

    /// The debtor's answer, by their hidden behaviour: the hour, the tone, the contacts
    /// earlier today and the conversations of the last 30 days.
    fn answer(&self, t: &mut Today<'_>, p: &Planned<'_>) -> behaviour::Answer {
        let at = p.a.window_start;
        let entry = t.touched.entry(p.i).or_default();
        let tone = p.a.script.as_deref().and_then(|s| self.strategy.script(s)).map(|s| s.tone);
        let since = at - SignedDuration::from_hours(24 * 30);
        let recent = self.known[p.i]
            .contacts
            .iter()
            .filter(|c| {
                c.at >= since
                    && c.outcome
                        .is_some_and(|o| o.class() == daylight_domain::attempt::OutcomeClass::Conversation)
            })
            .count() as u32;
        let local = at.to_zoned(self.zone.clone());
        let answer = behaviour::answer(
            self.seed,
            p.i as u64,
            &self.debtors[p.i],
            t.day,
            Contact {
                channel: p.channel,
                recipient: p.a.recipient,
                hour: u8::try_from(local.hour()).unwrap_or(0),
                tone,
                earlier_today: entry.made,
                recent_conversations: recent,
            },
        );
        entry.made += 1;
        answer
    }

    /// What the outcome tells the product of the debtor: the point's status, a cease request,
    /// a promise (with the twin's side of it: the amount and the day it falls due).
    fn learn(&mut self, t: &mut Today<'_>, p: &Planned<'_>, o: Outcome) {
        let arm = arm_of(&self.arm_names, &self.arm_of, p.i);
        let k = &mut self.known[p.i];
        // What the outcome says of the point, as the store records it.
        if let (Some(point), Some(status)) = (&p.a.contact_point, o.contact_status()) {
            match k.statuses.iter_mut().find(|(q, _)| q == point) {
                Some(entry) => entry.1 = status,
                None => k.statuses.push((point.clone(), status)),
            }
        }
        if o == Outcome::CeaseRequest {
            k.cease = true;
        }
        if o == Outcome::PromiseToPay {
            tally(&mut t.report, arm, |n| n.ptp += 1);
            k.pending = Some(promise_of(&self.debtors[p.i].account, t.day));
            k.promises.push(PastPromise {
                created_at: p.a.window_start,
                settled_at: None,
                kept: false,
                broken: false,
            });
        }
    }

    /// The attempt as a store records it (with its note), and the promise made in it.
    fn record_attempt(
        &self,
        t: &mut Today<'_>,
        p: &Planned<'_>,
        o: Outcome,
        duration: u32,
    ) -> Result<(), SimError> {
        let (c, a) = (p.c, p.a);
        let k = &self.known[p.i];
        let bad = |what: &str, e: daylight_domain::Invalid| SimError {
            code: "SIM_INPUT",
            message: format!("{what} of case {}: {}", c.case, e.message),
        };
        let promised = k.pending.filter(|_| o == Outcome::PromiseToPay);
        let due = promised.map_or(t.date, |p| day_date(self.start, p.due_day));
        t.log.attempts.push(Attempt {
            case: CaseId::parse(&c.case).map_err(|e| bad("the case id", e))?,
            account: c
                .account
                .as_deref()
                .map(AccountId::parse)
                .transpose()
                .map_err(|e| bad("the account", e))?,
            at: a.window_start,
            channel: p.channel,
            recipient: a.recipient,
            contact_point: a
                .contact_point
                .as_deref()
                .map(ContactId::parse)
                .transpose()
                .map_err(|e| bad("the contact point", e))?,
            agent: agent_for(p.channel, p.i, k.agency.as_deref()),
            outcome: o,
            duration_secs: duration,
            note: note_for(o, promised.map_or(0, |p| p.amount), due),
        });
        if let Some(promise) = promised {
            let due_at = due
                .at(20, 0, 0, 0)
                .to_zoned(self.zone.clone())
                .map_err(|e| SimError { code: "SIM_INPUT", message: e.to_string() })?
                .timestamp();
            t.log.promises.push(MadePromise {
                attempt: t.log.attempts.len() - 1,
                amount_fen: promise.amount,
                due_at,
            });
        }
        Ok(())
    }

    /// The contact in the debtor's history, as the planner and the gate will see it, and in
    /// today's contacts for the audit.
    fn remember_contact(&mut self, t: &mut Today<'_>, p: &Planned<'_>, o: Outcome, duration: u32) {
        let k = &mut self.known[p.i];
        k.contacts.push(PastContact {
            at: p.a.window_start,
            channel: p.channel,
            recipient: p.a.recipient,
            contact_point: p.a.contact_point.clone(),
            debt: p.c.account.clone(),
            outcome: Some(o),
            duration_secs: duration,
        });
        t.made.push((p.i, k.contacts.len() - 1));
    }

    /// Counts each debtor touched today once: dialled, connected, spoken to.
    fn count_touched(&self, t: &mut Today<'_>) {
        for (i, touched) in &t.touched {
            tally(&mut t.report, arm_of(&self.arm_names, &self.arm_of, *i), |n| {
                n.dialed += u64::from(touched.dialed);
                n.connected += u64::from(touched.connected);
                n.rpc += u64::from(touched.spoke);
            });
        }
    }

    /// The audit: each contact made today against the pack, with everything before it; a
    /// contact the pack would deny is a violation.
    fn audit(&self, t: &mut Today<'_>) -> Result<(), SimError> {
        for &(i, n) in &t.made {
            let c = &self.known[i].contacts[n];
            let Some(case) = t.cases.get(format!("CASE-{}", self.debtors[i].customer_id).as_str()) else {
                continue;
            };
            let mut request =
                request_of(case, c.channel, c.recipient, c.contact_point.as_deref().unwrap_or(""), t.date)
                    .map_err(|e| SimError { code: e.code, message: e.message })?;
            request.at = Some(c.at);
            let before: Vec<daylight_compliance::Contact> =
                self.known[i].contacts[..n].iter().map(contact_of).collect();
            if !daylight_compliance::allowed_at(&self.pack, &request, &before, c.at) {
                t.report.violations += 1;
            }
        }
        Ok(())
    }

    /// The accounts move a day; payments land in the evening, settling promises that fell due.
    fn advance_accounts(&mut self, t: &mut Today<'_>) -> Result<(), SimError> {
        let (day, date) = (t.day, t.date);
        let evening = date
            .at(20, 0, 0, 0)
            .to_zoned(self.zone.clone())
            .map_err(|e| SimError { code: "SIM_INPUT", message: e.to_string() })?
            .timestamp();
        for (i, d) in self.debtors.iter_mut().enumerate() {
            let k = &mut self.known[i];
            let Touched { spoke, reminded, .. } = t.touched.get(&i).copied().unwrap_or_default();
            let read = reminded
                && uniform(self.seed, Stream::Pay, i as u64, u64::from(day) << 8 | 99) < d.hidden.sms_reads;
            let was_open = d.account.dpd > 0;
            let moved = dynamics::advance(
                self.seed,
                i as u64,
                d,
                day,
                date,
                Nudges { promise: k.pending, reminded: read, talked: spoke },
            );
            tally(&mut t.report, arm_of(&self.arm_names, &self.arm_of, i), |n| {
                n.paid_fen += moved.paid;
                n.kept += u64::from(moved.promise_kept == Some(true));
                n.broken += u64::from(moved.promise_kept == Some(false));
            });
            if moved.paid > 0 {
                k.payments.push((evening, moved.paid));
                t.log.payments.push(Payment {
                    id: format!("TY{i:08}D{day:04}"),
                    account: d.account.account_id.clone(),
                    at: evening,
                    amount_fen: moved.paid,
                });
            }
            if was_open || moved.paid > 0 || d.account.dpd > 0 {
                t.log.moved.push(i);
            }
            if let Some(kept) = moved.promise_kept {
                if let Ok(case) = CaseId::parse(&format!("CASE-{}", d.customer_id)) {
                    t.log.settled.push((case, kept));
                }
                k.pending = None;
                if let Some(p) = k.promises.last_mut() {
                    p.settled_at = Some(evening);
                    p.kept = kept;
                    p.broken = !kept;
                }
            }
            if was_open && d.account.dpd == 0 {
                k.pending = None;
            }
            t.report.buckets
                [Bucket::ALL.iter().position(|b| *b == self.scheme.bucket(d.account.dpd)).unwrap_or(0)] += 1;
        }
        Ok(())
    }

    /// Closes dialling day `day` ([`World::dialing_day`]) with its calls a collector took
    /// (`talks`: the debtor and the outcome): a promise made is the debtor's to keep or break,
    /// a conversation nudges them, and every account moves one day as in the day loop. What
    /// the debtors paid that day, fen.
    pub fn close_dialing_day(&mut self, day: u32, talks: &[(usize, Outcome)]) -> Result<i64, SimError> {
        let date = self.date(day);
        let mut spoke = vec![false; self.debtors.len()];
        for &(i, o) in talks {
            let Some(d) = self.debtors.get(i) else { continue };
            if o.class() == daylight_domain::attempt::OutcomeClass::Conversation {
                spoke[i] = true;
            }
            if o == Outcome::PromiseToPay {
                self.known[i].pending = Some(promise_of(&d.account, day));
            }
        }
        let mut paid = 0;
        for (i, d) in self.debtors.iter_mut().enumerate() {
            let k = &mut self.known[i];
            let was_open = d.account.dpd > 0;
            let nudges = Nudges { promise: k.pending, reminded: false, talked: spoke[i] };
            let moved = dynamics::advance(self.seed, i as u64, d, day, date, nudges);
            paid += moved.paid;
            if moved.promise_kept.is_some() || (was_open && d.account.dpd == 0) {
                k.pending = None;
            }
        }
        Ok(paid)
    }

    /// Starts the run's measures again from today (what is owed, each debtor's bucket): for a
    /// run after a history, such as an experiment after the demo's sixty days.
    pub fn rebase(&mut self) {
        self.overdue_at_start = self.debtors.iter().map(|d| d.account.overdue()).sum();
        self.start_buckets = self.buckets();
        self.owed_at_start = self.debtors.iter().map(|d| d.account.overdue()).collect();
    }

    /// Each debtor's bucket now.
    pub fn buckets(&self) -> Vec<Bucket> {
        self.debtors.iter().map(|d| self.scheme.bucket(d.account.dpd)).collect()
    }
}

/// The date `day` days after `start`.
fn day_date(start: Date, day: u32) -> Date {
    start.checked_add(jiff::Span::new().days(i64::from(day))).unwrap_or(start)
}

/// The population index of a twin customer id (`T00000042` → 42).
pub fn index_of(customer: &str) -> Option<usize> {
    customer.strip_prefix('T')?.parse().ok()
}

/// A run's results (simulated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Connected debtors ÷ dialled debtors, over the days (each debtor counted once a day).
    pub contact_rate: f64,
    /// Debtors spoken to ÷ dialled debtors.
    pub rpc_rate: f64,
    /// Promises ÷ debtors spoken to.
    pub ptp_rate: f64,
    /// Promises kept ÷ promises that fell due.
    pub kept_rate: f64,
    /// Paid ÷ what was overdue when the run began.
    pub recovery_rate: f64,
    /// Of the accounts that began in each bucket (M0 … M6+), the share that ended in a worse
    /// one (`None`: none began there).
    pub roll_rates: [Option<f64>; 8],
    /// Complaints per 10,000 contacts.
    pub complaints_per_10k: f64,
    /// Planned contacts the gate refused at their time.
    pub denials: u64,
    /// Contacts made that the pack would deny.
    pub violations: u64,
    /// What the contacts cost, yuan.
    pub cost: f64,
    /// Contacts made.
    pub contacts: u64,
    /// Paid, yuan.
    pub paid: f64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl World {
    /// The summary of the days simulated so far.
    pub fn summary(&self, days: &[DayReport]) -> Summary {
        let t: Counts = days.iter().map(|d| d.all).sum();
        let paid = t.paid_fen;
        let now = self.buckets();
        let mut roll_rates = [None; 8];
        for (k, b) in Bucket::ALL.iter().enumerate() {
            let began: Vec<usize> = (0..now.len()).filter(|i| self.start_buckets[*i] == *b).collect();
            if !began.is_empty() {
                let worse = began.iter().filter(|i| now[**i] > *b).count();
                roll_rates[k] = Some(worse as f64 / began.len() as f64);
            }
        }
        Summary {
            contact_rate: ratio(t.connected, t.dialed),
            rpc_rate: ratio(t.rpc, t.dialed),
            ptp_rate: ratio(t.ptp, t.rpc),
            kept_rate: ratio(t.kept, t.kept + t.broken),
            recovery_rate: if self.overdue_at_start > 0 {
                paid as f64 / self.overdue_at_start as f64
            } else {
                0.0
            },
            roll_rates,
            complaints_per_10k: 10_000.0 * ratio(t.complaints, t.contacts),
            denials: days.iter().map(|d| d.denials).sum(),
            violations: days.iter().map(|d| d.violations).sum(),
            cost: t.cost_fen as f64 / 100.0,
            contacts: t.contacts,
            paid: paid as f64 / 100.0,
        }
    }
}

/// A rate with its 95 % interval (Wilson).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// The rate.
    pub rate: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
    /// Successes.
    pub n: u64,
    /// Trials.
    pub of: u64,
}

impl Rate {
    fn of(successes: u64, trials: u64) -> Rate {
        let p = Proportion { successes, trials };
        let (low, high) = p.wilson(0.95);
        Rate { rate: p.rate(), low, high, n: successes, of: trials }
    }
}

/// One arm over the run (simulated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmSummary {
    /// Debtors in the arm.
    pub debtors: u64,
    /// Connected ÷ dialled, debtor-days.
    pub contact_rate: Rate,
    /// Spoken to ÷ dialled.
    pub rpc_rate: Rate,
    /// Promises ÷ debtors spoken to.
    pub ptp_rate: Rate,
    /// Kept ÷ fallen due.
    pub kept_rate: Rate,
    /// Paid ÷ what the arm's debtors owed at the start.
    pub recovery_rate: f64,
    /// The recovery rate's 95 % interval, debtors as the unit (a ratio estimator: the delta
    /// method over each debtor's payments and what they owed).
    pub recovery: Interval,
    /// What the arm's debtors owed at the start, fen.
    pub owed_fen: i64,
    /// Cost per debtor, yuan.
    pub cost_per_debtor: f64,
    /// Complaints per 10,000 contacts.
    pub complaints_per_10k: f64,
    /// Against the first arm: the difference in contact rate with its 95 % interval (normal
    /// approximation) and the two-sided p-value (`None` for the first arm).
    pub contact_uplift: Option<Uplift>,
    /// Against the first arm: the difference in recovery rate with its 95 % interval and the
    /// two-sided p-value (`None` for the first arm).
    pub recovery_uplift: Option<Uplift>,
}

/// An estimate and its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The estimate.
    pub rate: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
    /// Its standard error.
    pub se: f64,
}

impl Interval {
    /// Σ paid ÷ Σ owed over debtors, with the delta method's standard error:
    /// var(R) ≈ Σ (paidᵢ − R·owedᵢ)² ÷ (n (n − 1) · mean(owed)²).
    pub fn ratio(pairs: &[(f64, f64)]) -> Interval {
        let n = pairs.len() as f64;
        let (paid, owed): (f64, f64) = pairs.iter().fold((0.0, 0.0), |(p, o), (a, b)| (p + a, o + b));
        if owed <= 0.0 || n < 2.0 {
            return Interval { rate: 0.0, low: 0.0, high: 0.0, se: 0.0 };
        }
        let r = paid / owed;
        let mean_owed = owed / n;
        let ss: f64 = pairs.iter().map(|(a, b)| (a - r * b).powi(2)).sum();
        let se = (ss / (n * (n - 1.0))).sqrt() / mean_owed;
        let z = daylight_strategy::experiment::normal_quantile(0.975);
        Interval { rate: r, low: (r - z * se).max(0.0), high: r + z * se, se }
    }

    /// This estimate minus `base`, independent samples: the difference, its 95 % interval and
    /// the two-sided p-value.
    pub fn minus(&self, base: &Interval) -> Uplift {
        let se = (self.se.powi(2) + base.se.powi(2)).sqrt();
        let z = daylight_strategy::experiment::normal_quantile(0.975);
        let d = self.rate - base.rate;
        let p_value = (se > 0.0).then(|| {
            let t = (d / se).abs();
            2.0 * (1.0 - daylight_strategy::experiment::normal_cdf(t))
        });
        Uplift { difference: d, low: d - z * se, high: d + z * se, p_value }
    }
}

/// A difference of two rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Uplift {
    /// This arm's rate minus the first arm's.
    pub difference: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
    /// Two-sided p-value of no difference.
    pub p_value: Option<f64>,
}

impl World {
    /// Each arm's results over `days`, in the experiment's arm order (empty without an
    /// experiment). Debtor-days are counted as independent trials, which overstates the
    /// precision a little when a debtor is dialled on many days.
    pub fn arm_summaries(&self, days: &[DayReport]) -> Vec<(String, ArmSummary)> {
        let mut out: Vec<(String, ArmSummary)> = Vec::new();
        let mut first: Option<Proportion> = None;
        let mut first_recovery: Option<Interval> = None;
        // Each debtor's payments within the days reported (evenings of those dates).
        let dates: std::collections::BTreeSet<Date> = days.iter().map(|d| d.date).collect();
        let paid_in_days = |i: usize| -> i64 {
            self.known.get(i).map_or(0, |k| {
                k.payments
                    .iter()
                    .filter(|(at, _)| dates.contains(&at.to_zoned(self.zone.clone()).date()))
                    .map(|(_, fen)| *fen)
                    .sum()
            })
        };
        for (k, name) in self.arm_names.iter().enumerate() {
            let t: Counts = days.iter().filter_map(|d| d.arms.get(name)).copied().sum();
            let members: Vec<usize> = (0..self.debtors.len()).filter(|i| self.arm_of[*i] == k).collect();
            let owed: i64 = members.iter().map(|i| self.owed_at_start[*i]).sum();
            let contact = Proportion { successes: t.connected, trials: t.dialed };
            let uplift = first.map(|base| {
                let (p1, p0) = (contact.rate(), base.rate());
                let se = (p1 * (1.0 - p1) / contact.trials.max(1) as f64
                    + p0 * (1.0 - p0) / base.trials.max(1) as f64)
                    .sqrt();
                let z = daylight_strategy::experiment::normal_quantile(0.975);
                Uplift {
                    difference: p1 - p0,
                    low: p1 - p0 - z * se,
                    high: p1 - p0 + z * se,
                    p_value: contact.p_value(&base),
                }
            });
            first.get_or_insert(contact);
            let pairs: Vec<(f64, f64)> =
                members.iter().map(|i| (paid_in_days(*i) as f64, self.owed_at_start[*i] as f64)).collect();
            let recovery = Interval::ratio(&pairs);
            let recovery_uplift = first_recovery.map(|base| recovery.minus(&base));
            first_recovery.get_or_insert(recovery);
            out.push((
                name.clone(),
                ArmSummary {
                    debtors: members.len() as u64,
                    contact_rate: Rate::of(contact.successes, contact.trials),
                    rpc_rate: Rate::of(t.rpc, t.dialed),
                    ptp_rate: Rate::of(t.ptp, t.rpc),
                    kept_rate: Rate::of(t.kept, t.kept + t.broken),
                    recovery_rate: if owed > 0 { t.paid_fen as f64 / owed as f64 } else { 0.0 },
                    owed_fen: owed,
                    cost_per_debtor: if members.is_empty() {
                        0.0
                    } else {
                        t.cost_fen as f64 / 100.0 / members.len() as f64
                    },
                    complaints_per_10k: 10_000.0 * ratio(t.complaints, t.contacts),
                    contact_uplift: uplift,
                    recovery,
                    recovery_uplift,
                },
            ));
        }
        out
    }
}
