//! Champion / challenger experiments with a randomised holdout.
//!
//! A unit (a customer) goes to an arm by a stable hash of the experiment's salt and the unit's
//! id ([`unit_hash`]: SHA-256, so the same on every host and in every release), cut into the
//! arms' shares ([`Arms::assign`]). The hash does not depend on the order units arrive in or on
//! which other units exist, so a customer keeps their arm from one plan to the next and an
//! auditor can recompute it.
//!
//! [`sample_size`] answers how many units each arm needs to detect a difference of means `δ`
//! with a two-sided test at level `α` and power `1 − β`, for outcomes of standard deviation `σ`:
//!
//! ```text
//! n = 2 σ² (z₁₋α/₂ + z₁₋β)² / δ²     (rounded up)
//! ```
//!
//! The report's comparisons ([`Proportion`], [`Mean`]) use normal approximations: Wilson
//! intervals for rates, the pooled two-proportion z test, and Welch's z for means.

use sha2::{Digest, Sha256};
use std::fmt;

/// An experiment's error: a stable code and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentError {
    /// `EXPERIMENT_ARMS`, `EXPERIMENT_NAME` or `EXPERIMENT_SIZE`.
    pub code: &'static str,
    /// What was wrong, and what was expected.
    pub message: String,
}

impl fmt::Display for ExperimentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExperimentError {}

fn error(code: &'static str, message: impl Into<String>) -> ExperimentError {
    ExperimentError { code, message: message.into() }
}

/// The name of the arm that gets no model-driven treatment, by convention.
pub const HOLDOUT: &str = "holdout";

/// One arm and its share (weights are relative: `45,45,10` is 45 %, 45 %, 10 %).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arm {
    /// Lower-case letters, digits, `-` and `_`.
    pub name: String,
    /// Its weight, at least 1.
    pub weight: u32,
}

/// An experiment's arms, in the order given (which fixes the cut points).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arms {
    arms: Vec<Arm>,
    total: u64,
}

/// Checks an experiment or arm name: 1–64 lower-case letters, digits, `-` and `_`.
pub fn check_name(what: &str, name: &str) -> Result<(), ExperimentError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(error(
            "EXPERIMENT_NAME",
            format!("{what} {name:?}: expected 1–64 lower-case letters, digits, - and _"),
        ))
    }
}

impl Arms {
    /// Parses `name:weight,name:weight,…` (at least two arms, names unique, weights 1–1,000,000).
    pub fn parse(spec: &str) -> Result<Arms, ExperimentError> {
        let mut arms = Vec::new();
        for (i, part) in spec.split(',').enumerate() {
            let part = part.trim();
            let (name, weight) = part.split_once(':').ok_or_else(|| {
                error(
                    "EXPERIMENT_ARMS",
                    format!("arm {} {part:?}: expected name:weight, e.g. champion:45", i + 1),
                )
            })?;
            check_name("arm", name.trim()).map_err(|e| error("EXPERIMENT_ARMS", e.message))?;
            let weight: u32 =
                weight.trim().parse().ok().filter(|w| (1..=1_000_000).contains(w)).ok_or_else(|| {
                    error(
                        "EXPERIMENT_ARMS",
                        format!(
                            "arm {:?}: weight {:?}; expected a whole number from 1 to 1000000",
                            name.trim(),
                            weight.trim()
                        ),
                    )
                })?;
            arms.push(Arm { name: name.trim().to_owned(), weight });
        }
        Arms::new(arms)
    }

    /// Arms from their parts, checked as [`Arms::parse`] checks them.
    pub fn new(arms: Vec<Arm>) -> Result<Arms, ExperimentError> {
        if arms.len() < 2 {
            return Err(error("EXPERIMENT_ARMS", "an experiment needs at least two arms"));
        }
        for (i, a) in arms.iter().enumerate() {
            check_name("arm", &a.name).map_err(|e| error("EXPERIMENT_ARMS", e.message))?;
            if a.weight == 0 {
                return Err(error("EXPERIMENT_ARMS", format!("arm {:?} has weight 0", a.name)));
            }
            if arms[..i].iter().any(|b| b.name == a.name) {
                return Err(error("EXPERIMENT_ARMS", format!("arm {:?} is named twice", a.name)));
            }
        }
        let total = arms.iter().map(|a| u64::from(a.weight)).sum();
        Ok(Arms { arms, total })
    }

    /// The arms, in order.
    pub fn arms(&self) -> &[Arm] {
        &self.arms
    }

    /// Each arm's share of units (0–1).
    pub fn share(&self, arm: &Arm) -> f64 {
        f64::from(arm.weight) / self.total as f64
    }

    /// The arm of a unit: the hash's place in [0, 1) mapped onto the arms' cumulative shares.
    pub fn assign(&self, salt: &str, unit: &str) -> &Arm {
        self.arm_at(unit_hash(salt, unit))
    }

    /// The arm at hash `h` (multiply-shift: `⌊h · total / 2⁶⁴⌋` picks the weight unit).
    pub fn arm_at(&self, h: u64) -> &Arm {
        let point = ((u128::from(h) * u128::from(self.total)) >> 64) as u64;
        let mut edge = 0;
        for arm in &self.arms {
            edge += u64::from(arm.weight);
            if point < edge {
                return arm;
            }
        }
        // `point < total` always; the last arm closes the range.
        &self.arms[self.arms.len() - 1]
    }
}

impl fmt::Display for Arms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.arms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}:{}", a.name, a.weight)?;
        }
        Ok(())
    }
}

/// The first eight bytes (big-endian) of SHA-256(salt ‖ 0x00 ‖ unit): uniform, and the same
/// on every host.
pub fn unit_hash(salt: &str, unit: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(unit.as_bytes());
    let d = h.finalize();
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The standard normal distribution function Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// The standard normal quantile Φ⁻¹(p) for 0 < p < 1: Wichura's algorithm AS 241 (PPND16),
/// accurate to about 1 part in 10¹⁶.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 8] = [
        3.387_132_872_796_366_5,
        1.331_416_678_917_843_8e2,
        1.971_590_950_306_551_3e3,
        1.373_169_376_550_946e4,
        4.592_195_393_154_987e4,
        6.726_577_092_700_87e4,
        3.343_057_558_358_813e4,
        2.509_080_928_730_122_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091e1,
        6.871_870_074_920_579e2,
        5.394_196_021_424_751e3,
        2.121_379_430_158_659_7e4,
        3.930_789_580_009_271e4,
        2.872_908_573_572_194_3e4,
        5.226_495_278_852_545e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_5,
        4.630_337_846_156_546,
        5.769_497_221_460_691,
        3.647_848_324_763_204_5,
        1.270_458_252_452_368_4,
        2.417_807_251_774_506e-1,
        2.272_384_498_926_918_4e-2,
        7.745_450_142_783_414e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_759,
        1.676_384_830_183_803_8,
        6.897_673_349_851e-1,
        1.481_039_764_274_800_8e-1,
        1.519_866_656_361_645_7e-2,
        5.475_938_084_995_345e-4,
        1.050_750_071_644_416_9e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103,
        5.463_784_911_164_114,
        1.784_826_539_917_291_3,
        2.965_605_718_285_048_7e-1,
        2.653_218_952_657_612_4e-2,
        1.242_660_947_388_078_4e-3,
        2.711_555_568_743_487_6e-5,
        2.010_334_399_292_288_1e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_88e-1,
        1.369_298_809_227_358e-1,
        1.487_536_129_085_061_5e-2,
        7.868_691_311_456_133e-4,
        1.846_318_317_510_054_8e-5,
        1.421_511_758_316_446e-7,
        2.044_263_103_389_939_7e-15,
    ];
    fn poly(c: &[f64; 8], x: f64) -> f64 {
        c.iter().rev().fold(0.0, |acc, k| acc * x + k)
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 { -x } else { x }
}

/// How many units each arm needs, and the inputs behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SampleSize {
    /// Units per arm, rounded up.
    pub per_arm: u64,
    /// Standard deviation of the outcome.
    pub sigma: f64,
    /// The smallest difference of means worth detecting.
    pub delta: f64,
    /// Two-sided significance level.
    pub alpha: f64,
    /// Power, 1 − β.
    pub power: f64,
    /// z₁₋α/₂.
    pub z_alpha: f64,
    /// z₁₋β.
    pub z_beta: f64,
}

/// `n = 2σ²(z₁₋α/₂ + z₁₋β)²/δ²`, rounded up.
pub fn sample_size(sigma: f64, delta: f64, alpha: f64, power: f64) -> Result<SampleSize, ExperimentError> {
    let positive = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(error("EXPERIMENT_SIZE", format!("{name} {v}: expected a number above 0")))
        }
    };
    positive("--sigma", sigma)?;
    positive("--delta", delta)?;
    for (name, v) in [("--alpha", alpha), ("--power", power)] {
        if !(v > 0.0 && v < 1.0) {
            return Err(error("EXPERIMENT_SIZE", format!("{name} {v}: expected a number between 0 and 1")));
        }
    }
    let z_alpha = normal_quantile(1.0 - alpha / 2.0);
    let z_beta = normal_quantile(power);
    let n = 2.0 * sigma * sigma * (z_alpha + z_beta).powi(2) / (delta * delta);
    // A hair of tolerance so that an exact integer is not pushed up by rounding error.
    let per_arm = (n - 1e-9).ceil().max(1.0);
    if per_arm > 1e15 {
        return Err(error("EXPERIMENT_SIZE", format!("{n:.0} units per arm: δ is too small against σ")));
    }
    Ok(SampleSize { per_arm: per_arm as u64, sigma, delta, alpha, power, z_alpha, z_beta })
}

/// Successes out of trials (contacted out of dialled, paid out of promised, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Proportion {
    /// Trials with the outcome.
    pub successes: u64,
    /// Trials.
    pub trials: u64,
}

impl Proportion {
    /// The rate (0 with no trials).
    pub fn rate(&self) -> f64 {
        if self.trials == 0 { 0.0 } else { self.successes as f64 / self.trials as f64 }
    }

    /// The Wilson score interval at `level` (e.g. 0.95); `(0, 1)` with no trials.
    pub fn wilson(&self, level: f64) -> (f64, f64) {
        if self.trials == 0 {
            return (0.0, 1.0);
        }
        let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
        let n = self.trials as f64;
        let p = self.rate();
        let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
        ((centre - half).max(0.0), (centre + half).min(1.0))
    }

    /// Two-sided p-value of the pooled two-proportion z test against `other`; `None` when
    /// either has no trials or the pooled rate is 0 or 1 (no variance to test against).
    pub fn p_value(&self, other: &Proportion) -> Option<f64> {
        if self.trials == 0 || other.trials == 0 {
            return None;
        }
        let (n1, n2) = (self.trials as f64, other.trials as f64);
        let pooled = (self.successes + other.successes) as f64 / (n1 + n2);
        let var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
        if var <= 0.0 {
            return None;
        }
        let z = (self.rate() - other.rate()) / var.sqrt();
        Some(2.0 * normal_cdf(-z.abs()))
    }
}

/// A mean over units (recovered fen per customer, cost per customer), kept as sums.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Mean {
    /// Units.
    pub n: u64,
    /// Σx.
    pub sum: f64,
    /// Σx².
    pub sum_sq: f64,
}

impl Mean {
    /// Adds one unit's value.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    /// The mean (0 with no units).
    pub fn mean(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.sum / self.n as f64 }
    }

    /// The sample variance (0 with fewer than two units).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = self.n as f64;
        ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
    }

    /// The normal-approximation interval of the mean at `level`.
    pub fn interval(&self, level: f64) -> (f64, f64) {
        let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
        let se = if self.n == 0 { 0.0 } else { (self.variance() / self.n as f64).sqrt() };
        (self.mean() - z * se, self.mean() + z * se)
    }

    /// Two-sided p-value of Welch's z against `other`; `None` without two units on each side or
    /// without variance.
    pub fn p_value(&self, other: &Mean) -> Option<f64> {
        if self.n < 2 || other.n < 2 {
            return None;
        }
        let se = (self.variance() / self.n as f64 + other.variance() / other.n as f64).sqrt();
        if se <= 0.0 {
            return None;
        }
        Some(2.0 * normal_cdf(-((self.mean() - other.mean()) / se).abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_the_tables() {
        for (p, z) in
            [(0.975, 1.959_963_984_540_054), (0.8, 0.841_621_233_572_914_3), (0.995, 2.575_829_303_548_900_4)]
        {
            assert!((normal_quantile(p) - z).abs() < 1e-14, "{p}: {}", normal_quantile(p));
            assert!((normal_cdf(z) - p).abs() < 1e-14, "{p}: {}", normal_cdf(z));
        }
        assert!((normal_quantile(1e-10) + 6.361_340_902_404_056).abs() < 1e-12);
        assert_eq!(normal_quantile(0.5), 0.0);
    }

    #[test]
    fn arms_are_checked() {
        let a = Arms::parse("champion:45, challenger:45,holdout:10").unwrap();
        assert_eq!(a.to_string(), "champion:45,challenger:45,holdout:10");
        for bad in ["champion:45", "a:1,a:2", "a:0,b:1", "a:x,b:1", "A:1,b:1", "a,b"] {
            assert_eq!(Arms::parse(bad).unwrap_err().code, "EXPERIMENT_ARMS", "{bad}");
        }
    }

    #[test]
    fn the_cut_points_follow_the_weights() {
        let a = Arms::parse("a:1,b:3").unwrap();
        assert_eq!(a.arm_at(0).name, "a");
        assert_eq!(a.arm_at(u64::MAX / 4 - 1).name, "a");
        assert_eq!(a.arm_at(u64::MAX / 4 + 1).name, "b");
        assert_eq!(a.arm_at(u64::MAX).name, "b");
    }

    #[test]
    fn proportions_and_means() {
        let a = Proportion { successes: 120, trials: 1000 };
        let b = Proportion { successes: 172, trials: 1000 };
        let (lo, hi) = a.wilson(0.95);
        assert!((lo - 0.1012).abs() < 1e-3 && (hi - 0.1416).abs() < 1e-3, "{lo} {hi}");
        // Pooled z = 3.293 → p = 0.000991 (Python's statistics.NormalDist agrees).
        let p = a.p_value(&b).unwrap();
        assert!((p - 0.000_991_478_626_967_468).abs() < 1e-12, "{p}");
        assert_eq!(Proportion::default().p_value(&a), None);
        let mut m = Mean::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            m.add(x);
        }
        assert_eq!(m.mean(), 5.0);
        assert!((m.variance() - 32.0 / 7.0).abs() < 1e-12);
        assert_eq!(m.p_value(&m), Some(1.0));
    }
}
