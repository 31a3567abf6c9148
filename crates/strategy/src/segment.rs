//! Segmentation: bucket and amount band, risk rating, the reason for delinquency and the
//! willingness × ability quadrant, extreme contact groups, hardship and abuse.
//!
//! Every rule reads [`CaseFacts`] (what the store knows of a case, summed up) and the
//! strategy's [`Segmentation`] thresholds, and writes its reason into [`Segment::reasons`] so a
//! plan can say why a debtor is treated as they are.
//!
//! | rule | result |
//! |---|---|
//! | hardship flag (QC or a collector's note) | ability low; negotiation ladder; pressure tones paused |
//! | propensity to pay below `propensity_low` | ability low |
//! | `broken_promises_unwilling` or more broken promises | willingness low |
//! | `conversations_unwilling` or more right-party contacts, no promise and no payment in 90 days | willingness low |
//! | willing and able | reason *forgot*: reminders only |
//! | willing but unable | reason *unable*: negotiation (instalments, restructuring) |
//! | able but unwilling | reason *unwilling*: firm scripts and credit education |
//! | neither | reason *unwilling*, quadrant `unwilling_unable`: firm and negotiation |
//! | at least `extreme_min_dials` dials and a contact rate below `extreme_low` or above `extreme_high` | extreme: exempt from model-driven timing |
//! | bucket at or past `risk_high_from`, propensity below `propensity_low`, or neither willing nor able | risk high |
//! | bucket M0 or M1, no broken promise and (no score or propensity at least `propensity_high`) | risk low |
//! | otherwise | risk medium |

use daylight_domain::bucket::Bucket;
use serde::Serialize;

/// What the planner knows of one open case, summed up from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFacts {
    /// The case id.
    pub case: String,
    /// The debtor's customer id (the experiment unit).
    pub customer: String,
    /// The case's bucket.
    pub bucket: Bucket,
    /// Days past due.
    pub dpd: u32,
    /// Overdue amount in fen.
    pub overdue_fen: i64,
    /// Propensity to pay within 30 days, when a model scored the case.
    pub propensity: Option<f64>,
    /// Dials (calls and robot calls) to the debtor in the look-back.
    pub dials: u32,
    /// Right-party contacts among them.
    pub conversations: u32,
    /// Promises kept.
    pub promises_kept: u32,
    /// Promises broken.
    pub promises_broken: u32,
    /// Promises made at all.
    pub promises: u32,
    /// Payments in the last 90 days.
    pub payments_90d: u32,
    /// Hardship reported (QC finding or a collector's note).
    pub hardship: bool,
    /// Tagged abusive.
    pub abusive: bool,
    /// Anxious on a recent call (QC): soothing scripts where the step has one.
    pub anxious: bool,
}

/// Low, medium or high risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Likely to cure with a reminder.
    Low,
    /// In between.
    Medium,
    /// Late bucket, low propensity, or neither willing nor able.
    High,
}

/// Why the debtor has not paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Willing and able: a reminder is enough.
    Forgot,
    /// Willing but unable: negotiate.
    Unable,
    /// Able but unwilling (or neither): firmness and credit education.
    Unwilling,
}

/// Willingness × ability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quadrant {
    /// Willing and able.
    WillingAble,
    /// Willing but unable.
    WillingUnable,
    /// Able but unwilling.
    AbleUnwilling,
    /// Neither.
    UnwillingUnable,
}

impl Quadrant {
    /// The stable word.
    pub const fn as_str(self) -> &'static str {
        match self {
            Quadrant::WillingAble => "willing_able",
            Quadrant::WillingUnable => "willing_unable",
            Quadrant::AbleUnwilling => "able_unwilling",
            Quadrant::UnwillingUnable => "unwilling_unable",
        }
    }

    /// Every quadrant.
    pub const ALL: [Quadrant; 4] =
        [Quadrant::WillingAble, Quadrant::WillingUnable, Quadrant::AbleUnwilling, Quadrant::UnwillingUnable];
}

/// A debtor too rarely or too reliably reached for a timing model to help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Extreme {
    /// Contact rate below the low threshold.
    Low,
    /// Contact rate above the high threshold.
    High,
}

/// The segmentation thresholds of a strategy (`[segmentation]`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Segmentation {
    /// Amount bands by overdue amount: ascending upper bounds in fen (exclusive), one name more
    /// than bounds (the last band is open-ended).
    pub amount_bounds_fen: Vec<i64>,
    /// The bands' names.
    pub amount_bands: Vec<String>,
    /// Dials needed before the extreme-group rule applies.
    pub extreme_min_dials: u32,
    /// Contact rate below which a debtor is an extreme (low) case.
    pub extreme_low: f64,
    /// Contact rate above which a debtor is an extreme (high) case.
    pub extreme_high: f64,
    /// Buckets from this one on are high risk.
    pub risk_high_from: Bucket,
    /// Propensity below this: ability low, risk high.
    pub propensity_low: f64,
    /// Propensity at or above this (with M0–M1 and no broken promise): risk low.
    pub propensity_high: f64,
    /// Broken promises that make a debtor unwilling.
    pub broken_promises_unwilling: u32,
    /// Conversations without a promise or a payment in 90 days that make a debtor unwilling.
    pub conversations_unwilling: u32,
}

impl Default for Segmentation {
    fn default() -> Self {
        Segmentation {
            amount_bounds_fen: vec![200_000, 2_000_000],
            amount_bands: vec!["small".into(), "medium".into(), "large".into()],
            extreme_min_dials: 20,
            extreme_low: 0.05,
            extreme_high: 0.95,
            risk_high_from: Bucket::M4,
            propensity_low: 0.2,
            propensity_high: 0.6,
            broken_promises_unwilling: 2,
            conversations_unwilling: 3,
        }
    }
}

impl Segmentation {
    /// Checks the thresholds; the error names the field.
    pub fn check(&self) -> Result<(), (String, String)> {
        let bad = |field: &str, msg: &str| Err((format!("segmentation.{field}"), msg.to_owned()));
        if self.amount_bands.len() != self.amount_bounds_fen.len() + 1 {
            return bad("amount_bands", "expected one name more than amount_bounds_fen");
        }
        if self.amount_bounds_fen.windows(2).any(|w| w[0] >= w[1])
            || self.amount_bounds_fen.iter().any(|b| *b <= 0)
        {
            return bad("amount_bounds_fen", "expected positive bounds in fen, strictly rising");
        }
        for (field, v) in [
            ("extreme_low", self.extreme_low),
            ("extreme_high", self.extreme_high),
            ("propensity_low", self.propensity_low),
            ("propensity_high", self.propensity_high),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(field, "expected a share from 0 to 1");
            }
        }
        if self.extreme_low >= self.extreme_high {
            return bad("extreme_high", "expected above extreme_low");
        }
        if self.propensity_low > self.propensity_high {
            return bad("propensity_high", "expected at least propensity_low");
        }
        if self.broken_promises_unwilling == 0 {
            return bad("broken_promises_unwilling", "expected a count of at least 1");
        }
        if self.conversations_unwilling == 0 {
            return bad("conversations_unwilling", "expected a count of at least 1");
        }
        Ok(())
    }

    /// The segment of a case.
    pub fn segment(&self, f: &CaseFacts) -> Segment {
        let mut reasons = Vec::new();
        let band_at = self
            .amount_bounds_fen
            .iter()
            .position(|b| f.overdue_fen < *b)
            .unwrap_or(self.amount_bounds_fen.len());
        let amount_band = self.amount_bands[band_at].clone();

        let low_propensity = f.propensity.is_some_and(|p| p < self.propensity_low);
        let able = !(f.hardship || low_propensity);
        if f.hardship {
            reasons.push("HARDSHIP: negotiation queue, pressure scripts paused".to_owned());
        } else if let (true, Some(p)) = (low_propensity, f.propensity) {
            reasons.push(format!("ABILITY_LOW: propensity {p:.2} below {}", self.propensity_low));
        }
        let stonewalling =
            f.conversations >= self.conversations_unwilling && f.promises == 0 && f.payments_90d == 0;
        let willing = !(f.promises_broken >= self.broken_promises_unwilling || stonewalling);
        if f.promises_broken >= self.broken_promises_unwilling {
            reasons.push(format!("WILLINGNESS_LOW: {} broken promises", f.promises_broken));
        } else if stonewalling {
            reasons.push(format!(
                "WILLINGNESS_LOW: {} conversations, no promise, no payment in 90 days",
                f.conversations
            ));
        }
        let quadrant = match (willing, able) {
            (true, true) => Quadrant::WillingAble,
            (true, false) => Quadrant::WillingUnable,
            (false, true) => Quadrant::AbleUnwilling,
            (false, false) => Quadrant::UnwillingUnable,
        };
        let reason = match quadrant {
            Quadrant::WillingAble => Reason::Forgot,
            Quadrant::WillingUnable => Reason::Unable,
            Quadrant::AbleUnwilling | Quadrant::UnwillingUnable => Reason::Unwilling,
        };

        let extreme = if f.dials >= self.extreme_min_dials && f.dials > 0 {
            let rate = f64::from(f.conversations) / f64::from(f.dials);
            let which = if rate < self.extreme_low {
                Some(Extreme::Low)
            } else if rate > self.extreme_high {
                Some(Extreme::High)
            } else {
                None
            };
            if which.is_some() {
                reasons.push(format!(
                    "EXTREME_CONTACT_RATE: {:.0} % over {} dials; exempt from model-driven timing",
                    rate * 100.0,
                    f.dials
                ));
            }
            which
        } else {
            None
        };

        let risk =
            if f.bucket >= self.risk_high_from || low_propensity || quadrant == Quadrant::UnwillingUnable {
                Risk::High
            } else if f.bucket <= Bucket::M1
                && f.promises_broken == 0
                && f.propensity.is_none_or(|p| p >= self.propensity_high)
            {
                Risk::Low
            } else {
                Risk::Medium
            };
        let scored = f.propensity.map_or(String::new(), |p| format!(", propensity {p:.2}"));
        reasons.insert(
            0,
            format!(
                "SEGMENT: {} {amount_band}, {} risk, {}{scored}",
                f.bucket,
                match risk {
                    Risk::Low => "low",
                    Risk::Medium => "medium",
                    Risk::High => "high",
                },
                quadrant.as_str()
            ),
        );
        if f.abusive {
            reasons.push("ABUSIVE: abusive-debtor channel mix".to_owned());
        }
        if f.anxious {
            reasons.push("ANXIOUS: soothing scripts first".to_owned());
        }
        Segment {
            bucket: f.bucket,
            amount_band,
            risk,
            reason,
            quadrant,
            extreme,
            hardship: f.hardship,
            abusive: f.abusive,
            anxious: f.anxious,
            reasons,
        }
    }
}

/// Where a case falls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Its bucket.
    pub bucket: Bucket,
    /// Its amount band's name.
    pub amount_band: String,
    /// Its risk rating.
    pub risk: Risk,
    /// Why the debtor has not paid.
    pub reason: Reason,
    /// Willingness × ability.
    pub quadrant: Quadrant,
    /// An extreme contact group, exempt from model-driven timing.
    pub extreme: Option<Extreme>,
    /// Hardship: negotiation queue, pressure paused.
    pub hardship: bool,
    /// Abusive: the abusive channel mix.
    pub abusive: bool,
    /// Anxious: a soothing script where the step has one.
    pub anxious: bool,
    /// Why, one line per rule that fired (the first names the segment).
    pub reasons: Vec<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An M1 debtor five days late, dialled four times and reached once.
    pub(crate) fn facts() -> CaseFacts {
        CaseFacts {
            case: "CASE-1".into(),
            customer: "C1".into(),
            bucket: Bucket::M1,
            dpd: 5,
            overdue_fen: 350_000,
            propensity: None,
            dials: 4,
            conversations: 1,
            promises_kept: 0,
            promises_broken: 0,
            promises: 0,
            payments_90d: 0,
            hardship: false,
            abusive: false,
            anxious: false,
        }
    }

    #[test]
    fn a_fresh_early_debtor_forgot() {
        let s = Segmentation::default().segment(&facts());
        assert_eq!(
            (s.quadrant, s.reason, s.risk, s.amount_band.as_str()),
            (Quadrant::WillingAble, Reason::Forgot, Risk::Low, "medium")
        );
        assert_eq!(s.reasons, ["SEGMENT: M1 medium, low risk, willing_able"]);
    }

    #[test]
    fn amount_bands_split_at_their_bounds() {
        let seg = Segmentation::default();
        let band = |fen| seg.segment(&CaseFacts { overdue_fen: fen, ..facts() }).amount_band;
        assert_eq!(
            (band(199_999), band(200_000), band(1_999_999), band(2_000_000)),
            ("small".into(), "medium".into(), "medium".into(), "large".into())
        );
    }

    #[test]
    fn hardship_makes_a_debtor_unable() {
        let s = Segmentation::default().segment(&CaseFacts { hardship: true, ..facts() });
        assert_eq!((s.quadrant, s.reason), (Quadrant::WillingUnable, Reason::Unable));
        assert!(s.reasons[1].starts_with("HARDSHIP"));
        let s = Segmentation::default().segment(&CaseFacts { propensity: Some(0.1), ..facts() });
        assert_eq!((s.quadrant, s.risk), (Quadrant::WillingUnable, Risk::High));
    }

    #[test]
    fn broken_promises_and_stonewalling_make_a_debtor_unwilling() {
        let seg = Segmentation::default();
        let s = seg.segment(&CaseFacts { promises: 3, promises_broken: 2, ..facts() });
        assert_eq!(
            (s.quadrant, s.reason, s.risk),
            (Quadrant::AbleUnwilling, Reason::Unwilling, Risk::Medium)
        );
        let s = seg.segment(&CaseFacts { promises: 2, promises_broken: 1, ..facts() });
        assert_eq!(s.quadrant, Quadrant::WillingAble, "one broken promise is not yet a pattern");
        let s = seg.segment(&CaseFacts { conversations: 3, ..facts() });
        assert_eq!(s.quadrant, Quadrant::AbleUnwilling);
        let s = seg.segment(&CaseFacts { conversations: 3, payments_90d: 1, ..facts() });
        assert_eq!(s.quadrant, Quadrant::WillingAble, "a payment is willingness");
        let s = seg.segment(&CaseFacts { conversations: 3, hardship: true, ..facts() });
        assert_eq!((s.quadrant, s.risk), (Quadrant::UnwillingUnable, Risk::High));
    }

    #[test]
    fn extreme_groups_need_enough_dials() {
        let seg = Segmentation::default();
        let s = seg.segment(&CaseFacts { dials: 19, conversations: 0, ..facts() });
        assert_eq!(s.extreme, None, "19 dials are not enough to judge");
        let s = seg.segment(&CaseFacts { dials: 40, conversations: 1, ..facts() });
        assert_eq!(s.extreme, Some(Extreme::Low));
        assert!(
            s.reasons.iter().any(|r| r.starts_with("EXTREME_CONTACT_RATE: 2 % over 40 dials")),
            "{:?}",
            s.reasons
        );
        let s = seg.segment(&CaseFacts { dials: 40, conversations: 39, ..facts() });
        assert_eq!(s.extreme, Some(Extreme::High));
        let s = seg.segment(&CaseFacts { dials: 40, conversations: 20, ..facts() });
        assert_eq!(s.extreme, None);
    }

    #[test]
    fn late_buckets_are_high_risk() {
        let seg = Segmentation::default();
        assert_eq!(seg.segment(&CaseFacts { bucket: Bucket::M4, dpd: 100, ..facts() }).risk, Risk::High);
        assert_eq!(seg.segment(&CaseFacts { bucket: Bucket::M3, dpd: 70, ..facts() }).risk, Risk::Medium);
        assert_eq!(seg.segment(&CaseFacts { propensity: Some(0.4), ..facts() }).risk, Risk::Medium);
        assert_eq!(seg.segment(&CaseFacts { propensity: Some(0.7), ..facts() }).risk, Risk::Low);
    }

    #[test]
    fn thresholds_are_checked() {
        let mut s = Segmentation::default();
        s.amount_bands.pop();
        assert_eq!(s.check().unwrap_err().0, "segmentation.amount_bands");
        let s = Segmentation { extreme_low: 0.9, extreme_high: 0.5, ..Segmentation::default() };
        assert_eq!(s.check().unwrap_err().0, "segmentation.extreme_high");
        assert!(Segmentation::default().check().is_ok());
    }
}
