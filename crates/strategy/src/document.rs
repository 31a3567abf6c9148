//! A strategy is a TOML document a strategy analyst writes: segmentation thresholds, the tones
//! each quadrant may hear, the channel ladders per bucket and segment, the team's capacity, the
//! script library and the exploration share. [`Strategy::from_toml`] reads it raw (unknown keys
//! refused, with line and column) and then checks it (every reference resolved, every value in
//! range, the error naming the field). docs/strategy.md annotates an example.

use std::collections::BTreeSet;
use std::fmt;

use daylight_domain::attempt::Channel;
use daylight_domain::bucket::Bucket;
use daylight_domain::customer::Recipient;
use serde::{Deserialize, Serialize};

use crate::segment::{Quadrant, Segment, Segmentation};

/// A strategy that cannot be used: stable code, where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyError {
    /// `STRATEGY_TOML` (not TOML, or a key or value the format does not have) or
    /// `STRATEGY_INVALID` (a value out of range, or a reference to nothing).
    pub code: &'static str,
    /// `FILE:LINE:COLUMN` or `FILE: field`.
    pub place: String,
    /// The line and column (from 1) when the error has them (a console shows the text there).
    pub at: Option<(usize, usize)>,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for StrategyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

impl std::error::Error for StrategyError {}

/// How a script speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// A polite reminder.
    Reminder,
    /// Calming, for the anxious and the hardship cases.
    Soothing,
    /// Firm: consequences stated plainly (pressure).
    Firm,
    /// Credit education: what delinquency does to a credit report.
    Education,
    /// Instalments, restructuring, waivers.
    Negotiation,
    /// A legal notice (pressure).
    LegalNotice,
}

impl Tone {
    /// Every tone.
    pub const ALL: [Tone; 6] =
        [Tone::Reminder, Tone::Soothing, Tone::Firm, Tone::Education, Tone::Negotiation, Tone::LegalNotice];

    /// The stable word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tone::Reminder => "reminder",
            Tone::Soothing => "soothing",
            Tone::Firm => "firm",
            Tone::Education => "education",
            Tone::Negotiation => "negotiation",
            Tone::LegalNotice => "legal_notice",
        }
    }

    /// Pressure tones, paused for hardship cases.
    pub const fn is_pressure(self) -> bool {
        matches!(self, Tone::Firm | Tone::LegalNotice)
    }
}

/// What a ladder step does: contact someone, or refer the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Move {
    /// A contact on a channel (passes the compliance gate).
    Contact(Channel),
    /// Refer to the legal team.
    Legal,
    /// Place with an outside agency (委案).
    Agency,
}

impl Move {
    /// The word plans print.
    pub const fn as_str(self) -> &'static str {
        match self {
            Move::Contact(c) => c.as_str(),
            Move::Legal => "legal",
            Move::Agency => "agency",
        }
    }
}

impl fmt::Display for Move {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Move {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Move {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Move, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A move equals its word (`Move::Contact(Channel::Call) == "call"`).
impl PartialEq<str> for Move {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Move {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::str::FromStr for Move {
    type Err = String;
    fn from_str(s: &str) -> Result<Move, String> {
        match s {
            "legal" => Ok(Move::Legal),
            "agency" => Ok(Move::Agency),
            other => other.parse::<Channel>().map(Move::Contact).map_err(|_| {
                format!("channel {other:?}; expected one of {}, legal, agency", Channel::words())
            }),
        }
    }
}

/// The variables a script's text may use.
pub const VARIABLES: [&str; 8] =
    ["name", "card_last4", "amount", "dpd", "due_date", "bank", "agent", "hotline"];

// ----- raw -----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStrategy {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "yes")]
    models: bool,
    #[serde(default)]
    segmentation: Segmentation,
    #[serde(default)]
    tones: Option<RawTones>,
    capacity: RawCapacity,
    #[serde(default)]
    exploration: Exploration,
    #[serde(default)]
    script: Vec<RawScript>,
    #[serde(default)]
    ladder: Vec<RawLadder>,
    #[serde(default)]
    flow: Vec<crate::flow::RawFlow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTones {
    willing_able: Vec<Tone>,
    willing_unable: Vec<Tone>,
    able_unwilling: Vec<Tone>,
    unwilling_unable: Vec<Tone>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapacity {
    call: RawLines,
    robot_call: Option<RawLines>,
    #[serde(default)]
    sms_per_day: u32,
    #[serde(default)]
    email_per_day: u32,
    #[serde(default)]
    letter_per_day: u32,
    #[serde(default)]
    visit_per_day: u32,
    #[serde(default)]
    legal_per_day: u32,
    #[serde(default)]
    agency_per_day: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLines {
    /// Agents (or robot lines) working at once.
    lines: u32,
    minutes_per_call: u32,
    shifts: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    id: String,
    channels: Vec<String>,
    tone: Tone,
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLadder {
    name: String,
    #[serde(default)]
    buckets: Vec<Bucket>,
    #[serde(default)]
    quadrants: Vec<Quadrant>,
    #[serde(default)]
    route: Option<Route>,
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    channel: String,
    #[serde(default = "debtor")]
    recipient: Recipient,
    from_day: u32,
    until_day: Option<u32>,
    every_days: Option<u32>,
    #[serde(default)]
    tones: Vec<Tone>,
    flow: Option<toml::Spanned<String>>,
}

fn debtor() -> Recipient {
    Recipient::Debtor
}

// ----- validated -----

/// Which special cases a ladder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Hardship cases (the negotiation queue), whatever their bucket.
    Hardship,
    /// Abusive debtors, whatever their bucket.
    Abusive,
}

/// Exploration of the script-and-channel scorer (`[exploration]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Exploration {
    /// Share of selections made by Thompson sampling instead of the posterior mean (0–1).
    pub share: f64,
    /// Seed mixed with the plan date, so a day's draws are reproducible.
    pub seed: u64,
}

impl Default for Exploration {
    fn default() -> Self {
        Exploration { share: 0.1, seed: 20_260_101 }
    }
}

/// Agents or robot lines over the day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lines {
    /// Working at once.
    pub lines: u32,
    /// Minutes one call takes with its wrap-up.
    pub minutes_per_call: u32,
    /// Working hours, as minutes of the day `[from, until)`, on 15-minute boundaries.
    pub shifts: Vec<(u32, u32)>,
}

impl Lines {
    /// Calls the lines can make in the 15-minute slot starting at `minute` of the day.
    pub fn per_slot(&self, minute: u32) -> u32 {
        if self.shifts.iter().any(|(a, b)| *a <= minute && minute < *b) {
            self.lines * 15 / self.minutes_per_call
        } else {
            0
        }
    }
}

/// The team's capacity per day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capacity {
    /// Collectors' calls.
    pub call: Lines,
    /// Robot calls (none when absent).
    pub robot_call: Option<Lines>,
    /// Per-day limits of the other moves, in [`Move`] order of `sms, email, letter, visit,
    /// legal, agency`.
    pub per_day: [(Move, u32); 6],
}

impl Capacity {
    /// The per-day limit of a move without time slots (`None` for calls and robot calls).
    pub fn per_day(&self, m: Move) -> Option<u32> {
        self.per_day.iter().find(|(k, _)| *k == m).map(|(_, n)| *n)
    }
}

/// A script: words for one tone on some channels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Script {
    /// Its id, unique in the strategy.
    pub id: String,
    /// Channels it is written for.
    pub channels: Vec<Move>,
    /// Its tone.
    pub tone: Tone,
    /// Its template, `{variable}` for [`VARIABLES`].
    pub text: String,
}

/// A rung of a ladder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// What it does.
    pub action: Move,
    /// To whom (contacts only).
    pub recipient: Recipient,
    /// First day past due it applies on.
    pub from_day: u32,
    /// Last day past due it applies on (none: no end).
    pub until_day: Option<u32>,
    /// Days between repeats (none: once while it applies).
    pub every_days: Option<u32>,
    /// Tones it may use (empty: those of the debtor's quadrant).
    pub tones: Vec<Tone>,
    /// The robot flow a robot call of this step follows (robot calls only; none: the
    /// strategy's first flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
}

impl Step {
    /// Whether the step is due at `dpd` days past due, given how many days ago the case last
    /// had this move (`None`: never): it applies at `dpd`, and nothing was done since it began
    /// to apply or, when it repeats, within `every_days`.
    pub fn due(&self, dpd: u32, days_since_last: Option<u32>) -> bool {
        if dpd < self.from_day || self.until_day.is_some_and(|u| dpd > u) {
            return false;
        }
        let Some(ago) = days_since_last else { return true };
        match self.every_days {
            Some(n) => ago >= n,
            // Once: not done since the step began to apply.
            None => ago > dpd - self.from_day,
        }
    }
}

/// A channel ladder for some buckets and quadrants, or for a route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ladder {
    /// Its name (shown in plan reasons).
    pub name: String,
    /// Buckets it serves (empty: all).
    pub buckets: Vec<Bucket>,
    /// Quadrants it serves (empty: all).
    pub quadrants: Vec<Quadrant>,
    /// The special cases it serves instead.
    pub route: Option<Route>,
    /// Its steps.
    pub steps: Vec<Step>,
}

/// A checked strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strategy {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Whether the models drive it (`models = false`: the scorer does not pick scripts and
    /// channels and no model times calls, for every case, as for the holdout arm: a baseline).
    pub models: bool,
    /// Segmentation thresholds.
    pub segmentation: Segmentation,
    /// Tones per quadrant, in [`Quadrant::ALL`] order.
    pub tones: [Vec<Tone>; 4],
    /// Capacity.
    pub capacity: Capacity,
    /// Exploration.
    pub exploration: Exploration,
    /// The script library.
    pub scripts: Vec<Script>,
    /// The ladders, in the order they are tried.
    pub ladders: Vec<Ladder>,
    /// The robot flows (`[[flow]]`), by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<crate::flow::Flow>,
}

/// The strategy `daylight plan` uses without `--strategy` (docs/strategy.md annotates it).
pub const DEFAULT: &str = include_str!("../strategies/default.toml");

/// The baseline strategy: the default ladders and team, calls at fixed hours (09:00–12:00 and
/// 14:00–18:00) and no models — what a champion/challenger test and the digital twin compare
/// against.
pub const BASELINE: &str = include_str!("../strategies/baseline.toml");

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

impl Strategy {
    /// Reads and checks a strategy; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Strategy, StrategyError> {
        let at = |span: Option<std::ops::Range<usize>>| {
            span.map(|span| {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (line, column)
            })
        };
        let error = |code: &'static str, span: Option<std::ops::Range<usize>>, message: String| {
            let at = at(span);
            let place = match at {
                Some((line, column)) => format!("{origin}:{line}:{column}"),
                None => origin.to_owned(),
            };
            StrategyError { code, place, at, message }
        };
        let mut raw: RawStrategy = toml::from_str(text)
            .map_err(|e| error("STRATEGY_TOML", e.span(), e.message().trim().to_owned()))?;
        // Flows first: the ladders' steps name them, and their errors carry a line and column.
        let mut flows: Vec<crate::flow::Flow> = Vec::new();
        for f in std::mem::take(&mut raw.flow) {
            let flow =
                f.check(&flows).map_err(|(span, message)| error("STRATEGY_INVALID", Some(span), message))?;
            flows.push(flow);
        }
        let step_flows = raw
            .step_flows(&flows)
            .map_err(|(span, message)| error("STRATEGY_INVALID", Some(span), message))?;
        let invalid = |at: String, message: String| StrategyError {
            code: "STRATEGY_INVALID",
            place: format!("{origin}: {at}"),
            at: None,
            message,
        };
        let mut strategy = raw.check(invalid)?;
        for (l, ladder) in strategy.ladders.iter_mut().enumerate() {
            for (j, step) in ladder.steps.iter_mut().enumerate() {
                step.flow = step_flows.get(&(l, j)).cloned();
            }
        }
        strategy.flows = flows;
        Ok(strategy)
    }

    /// A robot flow by name.
    pub fn flow(&self, name: &str) -> Option<&crate::flow::Flow> {
        self.flows.iter().find(|f| f.name == name)
    }

    /// The tones a quadrant may hear.
    pub fn tones_for(&self, q: Quadrant) -> &[Tone] {
        let i = Quadrant::ALL.iter().position(|x| *x == q).unwrap_or(0);
        &self.tones[i]
    }

    /// The ladder a segment follows: the hardship route for hardship cases, the abusive route for
    /// abusive debtors (when the strategy has them), else the first ladder whose buckets and
    /// quadrants include the segment's.
    pub fn ladder_for(&self, s: &Segment) -> Option<&Ladder> {
        let routed = |r: Route| self.ladders.iter().find(|l| l.route == Some(r));
        if s.hardship
            && let Some(l) = routed(Route::Hardship)
        {
            return Some(l);
        }
        if s.abusive
            && let Some(l) = routed(Route::Abusive)
        {
            return Some(l);
        }
        self.ladders.iter().find(|l| {
            l.route.is_none()
                && (l.buckets.is_empty() || l.buckets.contains(&s.bucket))
                && (l.quadrants.is_empty() || l.quadrants.contains(&s.quadrant))
        })
    }

    /// The tones a step may use for a segment: the step's (all when it names none) that the
    /// quadrant may hear, less the pressure tones for a hardship case; for an anxious debtor,
    /// only the soothing tone when it is among them.
    pub fn tones_for_step(&self, step: &Step, s: &Segment) -> Vec<Tone> {
        let tones: Vec<Tone> = self
            .tones_for(s.quadrant)
            .iter()
            .copied()
            .filter(|t| step.tones.is_empty() || step.tones.contains(t))
            .filter(|t| !(s.hardship && t.is_pressure()))
            .collect();
        if s.anxious && tones.contains(&Tone::Soothing) {
            return vec![Tone::Soothing];
        }
        tones
    }

    /// The scripts a step may use for a segment, in library order.
    pub fn scripts_for_step(&self, step: &Step, s: &Segment) -> Vec<&Script> {
        let tones = self.tones_for_step(step, s);
        self.scripts
            .iter()
            .filter(|sc| sc.channels.contains(&step.action) && tones.contains(&sc.tone))
            .collect()
    }

    /// A script by id.
    pub fn script(&self, id: &str) -> Option<&Script> {
        self.scripts.iter().find(|s| s.id == id)
    }
}

impl RawStrategy {
    /// The flows the ladders' steps name, by (ladder, step): each a flow of the strategy, on a
    /// robot-call step.
    #[allow(clippy::type_complexity)]
    fn step_flows(
        &self,
        flows: &[crate::flow::Flow],
    ) -> Result<std::collections::BTreeMap<(usize, usize), String>, crate::flow::FlowError> {
        let mut out = std::collections::BTreeMap::new();
        for (l, ladder) in self.ladder.iter().enumerate() {
            for (j, step) in ladder.steps.iter().enumerate() {
                let Some(f) = &step.flow else { continue };
                if step.channel != Channel::RobotCall.as_str() {
                    return Err((f.span(), format!("a flow is for a robot_call step, not {}", step.channel)));
                }
                if !flows.iter().any(|x| x.name == *f.get_ref()) {
                    let names: Vec<&str> = flows.iter().map(|x| x.name.as_str()).collect();
                    return Err((
                        f.span(),
                        format!("no flow {:?}; expected one of: {}", f.get_ref(), names.join(", ")),
                    ));
                }
                out.insert((l, j), f.get_ref().clone());
            }
        }
        Ok(out)
    }

    fn check(self, invalid: impl Fn(String, String) -> StrategyError) -> Result<Strategy, StrategyError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name".into(), "expected a name".into()));
        }
        self.segmentation.check().map_err(|(at, m)| invalid(at, m))?;
        let tones = match self.tones {
            None => [
                vec![Tone::Reminder],
                vec![Tone::Negotiation, Tone::Soothing],
                vec![Tone::Firm, Tone::Education, Tone::LegalNotice],
                vec![Tone::Firm, Tone::Negotiation],
            ],
            Some(t) => [t.willing_able, t.willing_unable, t.able_unwilling, t.unwilling_unable],
        };
        for (q, t) in Quadrant::ALL.iter().zip(&tones) {
            if t.is_empty() {
                return Err(invalid(format!("tones.{}", q.as_str()), "expected at least one tone".into()));
            }
        }
        if !(0.0..=1.0).contains(&self.exploration.share) {
            return Err(invalid("exploration.share".into(), "expected a share from 0 to 1".into()));
        }
        let lines = |at: &str, raw: RawLines| -> Result<Lines, StrategyError> {
            if raw.minutes_per_call == 0 || raw.minutes_per_call > 15 * 8 {
                return Err(invalid(
                    format!("capacity.{at}.minutes_per_call"),
                    "expected 1 to 120 minutes".into(),
                ));
            }
            let mut shifts = Vec::new();
            for (i, s) in raw.shifts.iter().enumerate() {
                let parsed =
                    s.split_once('-').and_then(|(a, b)| Some((parse_hhmm(a.trim())?, parse_hhmm(b.trim())?)));
                match parsed {
                    Some((a, b)) if a < b && a % 15 == 0 && b % 15 == 0 => shifts.push((a, b)),
                    _ => {
                        return Err(invalid(
                            format!("capacity.{at}.shifts[{i}]"),
                            format!("{s:?}; expected HH:MM-HH:MM on quarter hours, start before end"),
                        ));
                    }
                }
            }
            Ok(Lines { lines: raw.lines, minutes_per_call: raw.minutes_per_call, shifts })
        };
        let c = self.capacity;
        let capacity = Capacity {
            call: lines("call", c.call)?,
            robot_call: c.robot_call.map(|r| lines("robot_call", r)).transpose()?,
            per_day: [
                (Move::Contact(Channel::Sms), c.sms_per_day),
                (Move::Contact(Channel::Email), c.email_per_day),
                (Move::Contact(Channel::Letter), c.letter_per_day),
                (Move::Contact(Channel::Visit), c.visit_per_day),
                (Move::Legal, c.legal_per_day),
                (Move::Agency, c.agency_per_day),
            ],
        };

        let mut scripts: Vec<Script> = Vec::new();
        for (i, s) in self.script.into_iter().enumerate() {
            let at = |f: &str| format!("script[{i}].{f}");
            if s.id.trim().is_empty() || scripts.iter().any(|o| o.id == s.id) {
                return Err(invalid(at("id"), format!("{:?}: expected a unique, non-empty id", s.id)));
            }
            let mut channels = Vec::new();
            for (j, ch) in s.channels.iter().enumerate() {
                channels
                    .push(ch.parse::<Move>().map_err(|m| invalid(format!("script[{i}].channels[{j}]"), m))?);
            }
            if channels.is_empty() {
                return Err(invalid(at("channels"), "expected at least one channel".into()));
            }
            check_template(&s.text).map_err(|m| invalid(at("text"), m))?;
            scripts.push(Script { id: s.id, channels, tone: s.tone, text: s.text });
        }

        let mut ladders = Vec::new();
        let mut names = BTreeSet::new();
        for (i, l) in self.ladder.into_iter().enumerate() {
            if !names.insert(l.name.clone()) || l.name.trim().is_empty() {
                return Err(invalid(
                    format!("ladder[{i}].name"),
                    format!("{:?}: expected a unique, non-empty name", l.name),
                ));
            }
            if l.steps.is_empty() {
                return Err(invalid(format!("ladder[{i}].steps"), "expected at least one step".into()));
            }
            let mut steps = Vec::new();
            for (j, s) in l.steps.into_iter().enumerate() {
                let at = |f: &str| format!("ladder[{i}].steps[{j}].{f}");
                let action = s.channel.parse::<Move>().map_err(|m| invalid(at("channel"), m))?;
                if s.recipient == Recipient::ThirdParty {
                    return Err(invalid(
                        at("recipient"),
                        "third parties are never told of the debt; expected debtor or guarantor".into(),
                    ));
                }
                if s.until_day.is_some_and(|u| u < s.from_day) {
                    return Err(invalid(at("until_day"), "expected at least from_day".into()));
                }
                if s.every_days == Some(0) {
                    return Err(invalid(
                        at("every_days"),
                        "expected at least 1 (or leave it out: once)".into(),
                    ));
                }
                let tones_here: Vec<Tone> =
                    if s.tones.is_empty() { Tone::ALL.to_vec() } else { s.tones.clone() };
                if let Move::Contact(ch) = action
                    && !scripts
                        .iter()
                        .any(|sc| sc.channels.contains(&Move::Contact(ch)) && tones_here.contains(&sc.tone))
                {
                    return Err(invalid(
                        at("channel"),
                        format!("no script in the library is written for {ch} in the step's tones"),
                    ));
                }
                steps.push(Step {
                    action,
                    recipient: s.recipient,
                    from_day: s.from_day,
                    until_day: s.until_day,
                    every_days: s.every_days,
                    tones: s.tones,
                    flow: None,
                });
            }
            ladders.push(Ladder {
                name: l.name,
                buckets: l.buckets,
                quadrants: l.quadrants,
                route: l.route,
                steps,
            });
        }
        if ladders.is_empty() {
            return Err(invalid("ladder".into(), "expected at least one ladder".into()));
        }
        Ok(Strategy {
            name: self.name,
            description: self.description,
            models: self.models,
            segmentation: self.segmentation,
            tones,
            capacity,
            exploration: self.exploration,
            scripts,
            ladders,
            flows: Vec::new(),
        })
    }
}

fn yes() -> bool {
    true
}

/// Checks a template's `{variable}`s: known names, braces closed.
pub fn check_template(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("expected the script's words".into());
    }
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("a '}}' without its '{{' at {:?}", &rest[open..]));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| "a '{' without its '}'".to_owned())?;
        let name = &after[..close];
        if !VARIABLES.contains(&name) {
            return Err(format!("unknown variable {{{name}}}; expected one of {}", VARIABLES.join(", ")));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::CaseFacts;
    use crate::segment::tests::facts;

    #[test]
    fn the_default_strategy_reads() {
        let s = Strategy::from_toml(DEFAULT, "default.toml").unwrap();
        assert_eq!(s.name, "default");
        assert_eq!(s.ladders.len(), 5);
        assert_eq!(s.capacity.call.per_slot(9 * 60), 40 * 15 / 5);
        assert_eq!(s.capacity.call.per_slot(12 * 60), 0, "lunch");
        assert_eq!(s.capacity.per_day(Move::Contact(Channel::Sms)), Some(50_000));
    }

    #[test]
    fn segments_find_their_ladder() {
        let s = Strategy::from_toml(DEFAULT, "default.toml").unwrap();
        let seg = |f: CaseFacts| s.segmentation.segment(&f);
        assert_eq!(s.ladder_for(&seg(facts())).unwrap().name, "m1");
        assert_eq!(
            s.ladder_for(&seg(CaseFacts { bucket: Bucket::M3, dpd: 70, ..facts() })).unwrap().name,
            "m2-m3"
        );
        assert_eq!(
            s.ladder_for(&seg(CaseFacts { bucket: Bucket::M6Plus, dpd: 200, ..facts() })).unwrap().name,
            "m4-plus"
        );
        assert_eq!(s.ladder_for(&seg(CaseFacts { hardship: true, ..facts() })).unwrap().name, "hardship");
        assert_eq!(s.ladder_for(&seg(CaseFacts { abusive: true, ..facts() })).unwrap().name, "abusive");
        assert!(s.ladder_for(&seg(CaseFacts { bucket: Bucket::M0, dpd: 0, ..facts() })).is_none());
    }

    #[test]
    fn quadrants_choose_tones_and_hardship_pauses_pressure() {
        let s = Strategy::from_toml(DEFAULT, "default.toml").unwrap();
        let m4 = s.ladders.iter().find(|l| l.name == "m4-plus").unwrap();
        let call = &m4.steps[0];
        let forgot = s.segmentation.segment(&CaseFacts { bucket: Bucket::M4, dpd: 95, ..facts() });
        let ids =
            |seg: &Segment| s.scripts_for_step(call, seg).iter().map(|x| x.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids(&forgot), ["call-reminder"]);
        let unwilling = s.segmentation.segment(&CaseFacts {
            bucket: Bucket::M4,
            dpd: 95,
            promises: 2,
            promises_broken: 2,
            ..facts()
        });
        assert_eq!(ids(&unwilling), ["call-firm", "call-education"]);
        // Hardship and unwilling: firm is paused; negotiation stays.
        let both = s.segmentation.segment(&CaseFacts {
            bucket: Bucket::M4,
            dpd: 95,
            promises: 2,
            promises_broken: 2,
            hardship: true,
            ..facts()
        });
        assert_eq!(ids(&both), ["call-negotiation"]);
        // Anxious: the soothing script where the quadrant allows it, else the usual ones.
        let hardship = s.segmentation.segment(&CaseFacts { hardship: true, ..facts() });
        let anxious = s.segmentation.segment(&CaseFacts { hardship: true, anxious: true, ..facts() });
        assert!(ids(&hardship).contains(&"call-negotiation"), "{:?}", ids(&hardship));
        assert_eq!(ids(&anxious), ["call-soothing"]);
        assert_eq!(ids(&s.segmentation.segment(&CaseFacts { anxious: true, ..facts() })), ids(&forgot));
        // A visit names negotiation and firm: nothing for a debtor who only forgot.
        assert!(s.scripts_for_step(&m4.steps[1], &forgot).is_empty());
    }

    #[test]
    fn the_ladder_fires_on_its_days() {
        let s = Strategy::from_toml(DEFAULT, "default.toml").unwrap();
        let m1 = &s.ladders.iter().find(|l| l.name == "m1").unwrap().steps;
        let (sms, robot, call) = (&m1[0], &m1[1], &m1[2]);
        // Day 1: the SMS, once.
        assert!(!sms.due(0, None));
        assert!(sms.due(1, None));
        assert!(!sms.due(2, Some(1)), "sent yesterday, when the step began");
        assert!(sms.due(2, Some(5)), "the last SMS was before the step began");
        // Day 3: a robot call, every three days.
        assert!(!robot.due(2, None) && robot.due(3, None));
        assert!(!robot.due(5, Some(2)) && robot.due(6, Some(3)));
        // Day 5: agent calls every two days.
        assert!(!call.due(4, None) && call.due(5, None) && !call.due(6, Some(1)) && call.due(7, Some(2)));
        let m4 = &s.ladders.iter().find(|l| l.name == "m4-plus").unwrap().steps;
        assert!(m4[3].due(150, None) && !m4[3].due(149, None));
    }

    #[test]
    fn mistakes_are_named_with_their_place() {
        let bad = DEFAULT.replace("sms_per_day = 50000", "sms_per_day = 50000\nsms_per_week = 1");
        let e = Strategy::from_toml(&bad, "s.toml").unwrap_err();
        let line = bad.lines().position(|l| l.starts_with("sms_per_week")).unwrap() + 1;
        assert_eq!(e.code, "STRATEGY_TOML");
        assert!(e.place.starts_with(&format!("s.toml:{line}:")), "{e}");
        let e =
            Strategy::from_toml(&DEFAULT.replace("{dpd}天，应还", "{days}天，应还"), "s.toml").unwrap_err();
        assert_eq!((e.code, e.place.as_str()), ("STRATEGY_INVALID", "s.toml: script[0].text"));
        assert!(e.message.contains("unknown variable {days}"), "{e}");
        let e = Strategy::from_toml(
            &DEFAULT.replace("\"14:00-18:00\", \"19:00-20:00\"", "\"14:00-18:10\""),
            "s.toml",
        )
        .unwrap_err();
        assert_eq!(e.place, "s.toml: capacity.call.shifts[1]");
        let e = Strategy::from_toml(
            &DEFAULT.replace(
                "{ channel = \"agency\", from_day = 181 }",
                "{ channel = \"court\", from_day = 181 }",
            ),
            "s.toml",
        )
        .unwrap_err();
        assert_eq!(e.place, "s.toml: ladder[4].steps[4].channel");
        let e = Strategy::from_toml(
            &DEFAULT.replace(
                "{ channel = \"legal\", from_day = 150 }",
                "{ channel = \"call\", recipient = \"third_party\", from_day = 150 }",
            ),
            "s.toml",
        )
        .unwrap_err();
        assert_eq!(e.place, "s.toml: ladder[4].steps[3].recipient");
        let e = Strategy::from_toml(
            &DEFAULT.replace("channels = [\"letter\"]", "channels = [\"sms\"]"),
            "s.toml",
        )
        .unwrap_err();
        assert_eq!(e.place, "s.toml: ladder[1].steps[1].channel", "{e}");
    }
}
