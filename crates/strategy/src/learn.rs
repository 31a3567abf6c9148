//! The script-and-channel scorer learns from what happened after earlier plans.
//!
//! Each contact a stored plan proposed is one example: the debtor's user vector on the plan's
//! day, the script's word vector and the channel's vector, all rebuilt from the plan's stored
//! input (so a later change to the script library does not rewrite history), and whether the
//! case received a payment within `window_days` after the plan's day. Every proposed contact
//! counts, made or not (intention to treat): the scorer learns what proposing a script and
//! channel leads to, which is what the planner decides.
//!
//! The result is a [`Selector`] document (`daylight-selector/1`) that the model registry keeps
//! under the name `selector`; `daylight plan` uses the champion.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::document::Strategy;
use crate::plan::{Plan, PlanError, PlanInput, user_vector};
use crate::select::{self, Example, Item, Scorer, ScriptVectors};

/// The selector document's format.
pub const FORMAT: &str = "daylight-selector/1";

/// A trained scorer with what it learnt from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selector {
    /// [`FORMAT`].
    pub format: String,
    /// Days after a plan's day a payment counts.
    pub window_days: i64,
    /// Plans learnt from: their days.
    pub plans: Vec<Date>,
    /// Examples (proposed contacts).
    pub examples: usize,
    /// Of them followed by a payment.
    pub positives: usize,
    /// The posterior.
    pub scorer: Scorer,
}

/// The examples of one stored plan; `paid(case, after, until)` says whether the case received
/// a payment in `(after, until]`.
pub fn examples(
    input: &PlanInput,
    plan: &Plan,
    window_days: i64,
    paid: &dyn Fn(&str, Timestamp, Timestamp) -> bool,
    vectors: &ScriptVectors,
) -> Result<Vec<Example>, PlanError> {
    let strategy = Strategy::from_toml(&input.strategy, "stored strategy")
        .map_err(|e| PlanError { code: e.code, message: e.to_string() })?;
    let by_case: BTreeMap<&str, &crate::plan::PlanCase> =
        input.cases.iter().map(|c| (c.case.as_str(), c)).collect();
    let segments = crate::plan::segments(input, &strategy)?;
    let day_start = |zone: &str| -> Option<Timestamp> {
        let tz = jiff::tz::TimeZone::get(zone).ok()?;
        plan.date.to_zoned(tz).ok().map(|z| z.timestamp())
    };
    let mut out = Vec::new();
    for a in &plan.actions {
        let Some(script) = a.script.as_deref() else { continue };
        let m = a.channel;
        let (Some(c), Some(s), Some(segment)) =
            (by_case.get(a.case.as_str()), strategy.script(script), segments.get(&a.case))
        else {
            continue;
        };
        let Some(from) = day_start(&c.zone) else { continue };
        let until = from + jiff::SignedDuration::from_hours(24 * (window_days + 1));
        out.push(Example {
            user: user_vector(c, segment, input.date),
            item: Item { script: vectors.vector(&s.text), channel: select::channel_vector(m) },
            paid: paid(&c.case, from, until),
        });
    }
    Ok(out)
}

/// Trains a selector from the prior on every plan's examples, oldest plan first.
pub fn train(batches: Vec<(Date, Vec<Example>)>, window_days: i64) -> Selector {
    let mut scorer = Scorer::prior(1.0);
    let mut plans = Vec::new();
    let (mut examples, mut positives) = (0, 0);
    for (day, batch) in batches {
        examples += batch.len();
        positives += batch.iter().filter(|e| e.paid).count();
        scorer.update(&batch, 25);
        plans.push(day);
    }
    Selector { format: FORMAT.to_owned(), window_days, plans, examples, positives, scorer }
}
