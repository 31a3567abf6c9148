//! What the models give the plan: the shrinkage estimator over the input's own histories,
//! P(pay) per case, and the debtor's user vector for the script-and-channel scorer.

use daylight_domain::attempt::Outcome;
use daylight_domain::customer::{ContactKind, ContactStatus, Recipient};
use daylight_domain::history::DebtorHistory;
use daylight_scoring::features::Priors;
use daylight_scoring::product::{self, ProductModel, Scorer as Contactability};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rayon::prelude::*;

use super::facts::{facts, history_of};
use super::slots::Zones;
use super::{PlanCase, PlanError, PlanInput, perr};
use crate::segment::Segment;
use crate::select;

/// P(pay within 30 days) of every case at the plan's as-of instant, when the input has a
/// propensity model.
pub(super) fn propensities(
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

/// The shrinkage estimator over the input's own histories (what `best-time` falls back to).
pub(super) fn shrinkage(histories: &[DebtorHistory], until: Timestamp) -> Result<Contactability, PlanError> {
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
