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
//!
//! The code, by idea: `make` runs the tranches (the steps above in order); `judge` takes one
//! case through steps 1–5 (segment, ladder, selection, contact point, compliance); `room`
//! holds the day's capacity and places what cases want (step 6); `slots` finds the allowed
//! 15-minute slots of a day in a debtor's zone; `facts` turns a case's facts into what the
//! segmenter, the compliance engine and the models read; `model` holds the shrinkage
//! estimator, propensities and the user vector.

mod facts;
mod judge;
mod make;
mod model;
mod room;
mod slots;

use std::collections::BTreeMap;

use daylight_compliance::Rule;
use daylight_domain::customer::Recipient;
use daylight_scoring::product::ProductModel;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::document::{Move, Strategy};
use crate::segment::Segment;
use crate::select;

pub use daylight_domain::facts::{PastContact, PastPromise, PlanCase, Point};
pub use facts::{SIGNAL_DAYS, contact_of, request_of};
pub use model::user_vector;

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

/// A [`PlanError`] with `code`.
pub(super) fn perr(code: &'static str, message: impl Into<String>) -> PlanError {
    PlanError { code, message: message.into() }
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
    /// The move: a contact on a channel or a referral, serialised as its word (`call`,
    /// `robot_call`, `sms`, `email`, `letter`, `visit`, `legal` or `agency`).
    pub channel: Move,
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
    /// Skipped contacts by reason, keyed (and ordered) by the reason's code.
    pub skipped: BTreeMap<Skip, u64>,
}

/// Why a contact or referral considered was not planned: the keys of [`Plan::skipped`].
///
/// Written as its code (`CAPACITY`, `HOLIDAY`, …) wherever it is printed or serialised, and
/// ordered, compared and hashed as that code, so a map keyed by it reads (and serialises) in
/// the same order as one keyed by the code, and can be looked up by the code
/// (`plan.skipped.get("CAPACITY")`).
#[derive(Debug, Clone, Copy)]
pub enum Skip {
    /// `CAPACITY`: no room left today for anything the case could take.
    Capacity,
    /// `PAST`: the day's allowed slots are over.
    Past,
    /// `NO_LADDER`: no ladder of the strategy serves the case's segment.
    NoLadder,
    /// `NO_CONTACT_POINT`: a contact step is due but the recipient has no usable point.
    NoContactPoint,
    /// `NO_SCRIPT`: a contact step is due but no script of its tones fits the segment.
    NoScript,
    /// The compliance rule that denied most of the day's slots (its code: `HOLIDAY`,
    /// `DAILY_CAP`, …).
    Rule(Rule),
}

impl Skip {
    /// The planner's own reasons (every [`Skip`] but [`Skip::Rule`]).
    pub const OWN: [Skip; 5] =
        [Skip::Capacity, Skip::Past, Skip::NoLadder, Skip::NoContactPoint, Skip::NoScript];

    /// The stable code.
    pub const fn code(self) -> &'static str {
        match self {
            Skip::Capacity => "CAPACITY",
            Skip::Past => "PAST",
            Skip::NoLadder => "NO_LADDER",
            Skip::NoContactPoint => "NO_CONTACT_POINT",
            Skip::NoScript => "NO_SCRIPT",
            Skip::Rule(r) => r.code(),
        }
    }
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl PartialEq for Skip {
    fn eq(&self, other: &Skip) -> bool {
        self.code() == other.code()
    }
}

impl Eq for Skip {}

impl PartialOrd for Skip {
    fn partial_cmp(&self, other: &Skip) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By code, as the plan's JSON has always listed them.
impl Ord for Skip {
    fn cmp(&self, other: &Skip) -> std::cmp::Ordering {
        self.code().cmp(other.code())
    }
}

impl std::hash::Hash for Skip {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.code().hash(state);
    }
}

impl std::borrow::Borrow<str> for Skip {
    fn borrow(&self) -> &str {
        self.code()
    }
}

impl std::str::FromStr for Skip {
    type Err = String;

    fn from_str(s: &str) -> Result<Skip, String> {
        Skip::OWN
            .into_iter()
            .chain(Rule::ALL.map(Skip::Rule))
            .find(|k| k.code() == s)
            .ok_or_else(|| format!("skip reason {s:?}; expected a planner code (CAPACITY, PAST, NO_LADDER, NO_CONTACT_POINT, NO_SCRIPT) or a rule's code"))
    }
}

impl Serialize for Skip {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Plan {
    /// "412 of 9,800 skipped: 300 DAILY_CAP, 112 HOLIDAY".
    pub fn summary(&self) -> String {
        let total: u64 = self.skipped.values().sum();
        let reasons = self.skip_reasons();
        if reasons.is_empty() {
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
                reasons
            )
        }
    }

    /// Why cases were skipped, most first, by code: "300 DAILY_CAP, 112 HOLIDAY" (empty: none).
    pub fn skip_reasons(&self) -> String {
        let mut by: Vec<(&Skip, &u64)> = self.skipped.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        by.iter().map(|(k, v)| format!("{} {k}", thousands(**v))).collect::<Vec<_>>().join(", ")
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

/// Makes the plan.
pub fn plan(input: &PlanInput) -> Result<Plan, PlanError> {
    make::plan_in(input, TRANCHE)
}

/// Cases judged and placed at a time (see [`plan`]).
pub const TRANCHE: usize = 1 << 15;

/// Each case's segment as the plan made from `input` sees it (scores included), by case id.
pub fn segments(input: &PlanInput, strategy: &Strategy) -> Result<BTreeMap<String, Segment>, PlanError> {
    let mut cases: Vec<&PlanCase> = input.cases.iter().collect();
    cases.sort_by(|a, b| a.case.cmp(&b.case));
    let zones = slots::Zones::read(&cases)?;
    let propensity = model::propensities(input, &cases, &zones)?;
    let mut out = BTreeMap::new();
    for (ci, c) in cases.iter().enumerate() {
        let mut f = facts::facts(c, zones.of(ci).clone(), input.date);
        f.propensity = propensity.as_ref().map(|p| p[ci]);
        out.insert(c.case.clone(), strategy.segmentation.segment(&f));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skip reasons read and write as their codes, and a map keyed by them reads, writes and
    /// sorts as one keyed by the codes.
    #[test]
    fn skip_reasons_are_their_codes() {
        let all: Vec<Skip> = Skip::OWN.into_iter().chain(Rule::ALL.map(Skip::Rule)).collect();
        for k in &all {
            assert_eq!(k.code().parse::<Skip>(), Ok(*k));
            assert_eq!(serde_json::to_string(k).unwrap(), format!("\"{k}\""));
        }
        let by_skip: BTreeMap<Skip, u64> = all.iter().zip(1..).map(|(k, n)| (*k, n)).collect();
        let by_code: BTreeMap<String, u64> =
            all.iter().zip(1..).map(|(k, n)| (k.code().to_owned(), n)).collect();
        let json = serde_json::to_string(&by_skip).unwrap();
        assert_eq!(json, serde_json::to_string(&by_code).unwrap());
        assert_eq!(serde_json::from_str::<BTreeMap<Skip, u64>>(&json).unwrap(), by_skip);
        assert_eq!(by_skip.get("HOLIDAY"), by_code.get("HOLIDAY"));
        assert!("SOMETHING".parse::<Skip>().is_err());
    }
}
