//! Bins of a feature, with the counts, WoE and IV behind each.
//!
//! - Text columns are **categorical**: one bin per category.
//! - Numeric columns with few distinct values (at most [`BinOptions::discrete_max`], and at most
//!   half as many as rows) are **discrete**: one bin per value. This is toad's rule.
//! - Other numeric columns are cut by [`Method`]: a **tree** (CART with Gini impurity grown best
//!   first to at most `max_bins` leaves — scikit-learn's `DecisionTreeClassifier(max_leaf_nodes=
//!   n)` as toad's default merge uses it, reproduced split for split, so IVs equal toad's),
//!   **quantile** (equal frequency) or **monotonic** (a tree whose leaves hold at least
//!   `min_share` of the rows, adjacent bins then merged until the WoE rises or falls throughout).
//! - Missing values are always a bin of their own.

use serde::Serialize;

use crate::stats::{iv_part, woe};

/// A feature's values, as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; `None` is missing.
    Numeric(Vec<Option<f64>>),
    /// Text; `None` is missing.
    Text(Vec<Option<String>>),
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How numeric features with many values are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// CART, Gini impurity, best first (toad's default).
    Tree,
    /// Equal frequency.
    Quantile,
    /// Tree with a minimum bin share, merged until the WoE is monotonic.
    Monotonic,
}

impl std::str::FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Method, String> {
        match s {
            "tree" => Ok(Method::Tree),
            "quantile" => Ok(Method::Quantile),
            "monotonic" => Ok(Method::Monotonic),
            other => Err(format!("binning method {other:?}; expected tree, quantile or monotonic")),
        }
    }
}

/// Binning options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinOptions {
    /// How numeric features with many values are cut.
    pub method: Method,
    /// At most this many bins (missing values aside).
    pub max_bins: usize,
    /// For [`Method::Monotonic`]: each bin holds at least this share of the non-missing rows.
    pub min_share: f64,
    /// Numeric features with at most this many distinct values get a bin per value.
    pub discrete_max: usize,
}

impl Default for BinOptions {
    fn default() -> BinOptions {
        BinOptions { method: Method::Tree, max_bins: 10, min_share: 0.05, discrete_max: 10 }
    }
}

/// What a bin holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BinKind {
    /// Missing values.
    Missing,
    /// One category.
    Category {
        /// The category.
        value: String,
    },
    /// One value of a discrete numeric feature.
    Value {
        /// The value.
        value: f64,
    },
    /// Numbers in `[lo, hi)`; an open end is `None`.
    Range {
        /// Lower bound, inclusive.
        lo: Option<f64>,
        /// Upper bound, exclusive.
        hi: Option<f64>,
    },
}

/// One bin with its counts, WoE and part of the IV.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bin {
    /// What it holds.
    #[serde(flatten)]
    pub kind: BinKind,
    /// `[lo, hi)`, a category, a value or `missing`.
    pub label: String,
    /// Goods.
    pub good: u64,
    /// Bads.
    pub bad: u64,
    /// ln(bad share / good share).
    pub woe: f64,
    /// (bad share − good share) · WoE.
    pub iv: f64,
}

/// A feature's bins and IV.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureBins {
    /// The feature.
    pub name: String,
    /// `categorical`, `discrete`, `tree`, `quantile` or `monotonic`.
    pub binning: &'static str,
    /// Σ of the bins' IV.
    pub iv: f64,
    /// The bins, in order (missing last).
    pub bins: Vec<Bin>,
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.0}") } else { format!("{x}") }
}

fn label(kind: &BinKind) -> String {
    match kind {
        BinKind::Missing => "missing".to_owned(),
        BinKind::Category { value } => value.clone(),
        BinKind::Value { value } => number(*value),
        BinKind::Range { lo, hi } => {
            format!("[{}, {})", lo.map_or("-inf".to_owned(), number), hi.map_or("+inf".to_owned(), number))
        }
    }
}

/// Bins `column` against `target` (true = bad).
pub fn bin_feature(name: &str, column: &Column, target: &[bool], opts: &BinOptions) -> FeatureBins {
    assert_eq!(column.len(), target.len(), "one target per row");
    let total_bad = target.iter().filter(|t| **t).count() as u64;
    let total_good = target.len() as u64 - total_bad;
    let mut groups: Vec<(BinKind, u64, u64)> = Vec::new(); // (kind, good, bad)
    let mut missing = (0u64, 0u64);
    let count = |m: &mut (u64, u64), bad: bool| if bad { m.1 += 1 } else { m.0 += 1 };
    let binning = match column {
        Column::Text(values) => {
            let mut by: std::collections::BTreeMap<&str, (u64, u64)> = std::collections::BTreeMap::new();
            for (v, t) in values.iter().zip(target) {
                match v {
                    Some(v) => count(by.entry(v.as_str()).or_default(), *t),
                    None => count(&mut missing, *t),
                }
            }
            groups
                .extend(by.into_iter().map(|(v, (g, b))| (BinKind::Category { value: v.to_owned() }, g, b)));
            "categorical"
        }
        Column::Numeric(values) => {
            let mut pairs: Vec<(f64, bool)> = Vec::with_capacity(values.len());
            for (v, t) in values.iter().zip(target) {
                match v {
                    Some(x) if !x.is_nan() => pairs.push((*x, *t)),
                    _ => count(&mut missing, *t),
                }
            }
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let distinct = distinct_counts(&pairs);
            let discrete = distinct.len() <= opts.discrete_max && distinct.len() * 2 <= values.len();
            if discrete {
                groups.extend(distinct.iter().map(|d| (BinKind::Value { value: d.value }, d.good, d.bad)));
                "discrete"
            } else {
                let (splits, name) = match opts.method {
                    Method::Tree => (tree_splits(&distinct, opts.max_bins, 1), "tree"),
                    Method::Quantile => (quantile_splits(&pairs, opts.max_bins), "quantile"),
                    Method::Monotonic => {
                        let min_leaf = ((opts.min_share * pairs.len() as f64).ceil() as u64).max(1);
                        let splits = tree_splits(&distinct, opts.max_bins, min_leaf);
                        (monotonic(&distinct, splits, total_bad, total_good), "monotonic")
                    }
                };
                groups.extend(ranges(&distinct, &splits));
                name
            }
        }
    };
    if missing != (0, 0) {
        groups.push((BinKind::Missing, missing.0, missing.1));
    }
    let bins: Vec<Bin> = groups
        .into_iter()
        .map(|(kind, good, bad)| Bin {
            label: label(&kind),
            kind,
            good,
            bad,
            woe: woe(bad, good, total_bad, total_good),
            iv: iv_part(bad, good, total_bad, total_good),
        })
        .collect();
    FeatureBins { name: name.to_owned(), binning, iv: bins.iter().map(|b| b.iv).sum(), bins }
}

/// A distinct value with its goods and bads.
#[derive(Debug, Clone, Copy)]
struct Distinct {
    value: f64,
    good: u64,
    bad: u64,
}

/// Values closer than this are one value (scikit-learn's `FEATURE_THRESHOLD`).
const FEATURE_THRESHOLD: f64 = 1e-7;

fn distinct_counts(sorted: &[(f64, bool)]) -> Vec<Distinct> {
    let mut out: Vec<Distinct> = Vec::new();
    for &(x, bad) in sorted {
        match out.last_mut() {
            Some(d) if x == d.value => {
                if bad {
                    d.bad += 1
                } else {
                    d.good += 1
                }
            }
            _ => out.push(Distinct { value: x, good: u64::from(!bad), bad: u64::from(bad) }),
        }
    }
    out
}

/// Bins `[lo, hi)` between consecutive splits, with their counts.
fn ranges(distinct: &[Distinct], splits: &[f64]) -> Vec<(BinKind, u64, u64)> {
    let mut bounds: Vec<Option<f64>> = vec![None];
    bounds.extend(splits.iter().map(|s| Some(*s)));
    bounds.push(None);
    bounds
        .windows(2)
        .map(|w| {
            let (lo, hi) = (w[0], w[1]);
            let inside = |x: f64| lo.is_none_or(|l| x >= l) && hi.is_none_or(|h| x < h);
            let (g, b) =
                distinct.iter().filter(|d| inside(d.value)).fold((0, 0), |(g, b), d| (g + d.good, b + d.bad));
            (BinKind::Range { lo, hi }, g, b)
        })
        .collect()
}

/// Gini impurity as scikit-learn computes it: 1 − Σ count² / n².
fn gini_impurity(good: f64, bad: f64) -> f64 {
    let n = good + bad;
    1.0 - (good * good + bad * bad) / (n * n)
}

/// A node of the tree: distinct values `lo..hi`, and its best split.
struct Node {
    lo: usize,
    hi: usize,
    /// Position of the first distinct value on the right, and the improvement.
    split: Option<(usize, f64)>,
}

/// The thresholds of a best-first CART (Gini) with at most `max_leaves` leaves, each leaf at
/// least `min_leaf` rows: scikit-learn's `DecisionTreeClassifier(max_leaf_nodes, min_samples_leaf)`
/// on one feature. Thresholds are midpoints between neighbouring distinct values, sorted.
fn tree_splits(distinct: &[Distinct], max_leaves: usize, min_leaf: u64) -> Vec<f64> {
    let n = distinct.len();
    // Cumulative goods and bads before each distinct value.
    let mut cg = vec![0u64; n + 1];
    let mut cb = vec![0u64; n + 1];
    for (i, d) in distinct.iter().enumerate() {
        cg[i + 1] = cg[i] + d.good;
        cb[i + 1] = cb[i] + d.bad;
    }
    let total = (cg[n] + cb[n]) as f64;
    let best_split = |lo: usize, hi: usize| -> Option<(usize, f64)> {
        let (g, b) = ((cg[hi] - cg[lo]) as f64, (cb[hi] - cb[lo]) as f64);
        let node_n = g + b;
        let impurity = gini_impurity(g, b);
        if node_n < 2.0 || node_n < 2.0 * min_leaf as f64 || impurity <= f64::EPSILON {
            return None;
        }
        let mut best: Option<(usize, f64)> = None;
        let mut best_proxy = f64::NEG_INFINITY;
        for p in lo + 1..hi {
            // Values this close are not split between.
            if distinct[p].value <= distinct[p - 1].value + FEATURE_THRESHOLD {
                continue;
            }
            let (lg, lb) = ((cg[p] - cg[lo]) as f64, (cb[p] - cb[lo]) as f64);
            let (rg, rb) = (g - lg, b - lb);
            if ((lg + lb) as u64) < min_leaf || ((rg + rb) as u64) < min_leaf {
                continue;
            }
            let (nl, nr) = (lg + lb, rg + rb);
            let proxy = -nr * gini_impurity(rg, rb) - nl * gini_impurity(lg, lb);
            if proxy > best_proxy {
                best_proxy = proxy;
                best = Some((p, proxy));
            }
        }
        let (p, _) = best?;
        let (lg, lb) = ((cg[p] - cg[lo]) as f64, (cb[p] - cb[lo]) as f64);
        let (rg, rb) = (g - lg, b - lb);
        let (nl, nr) = (lg + lb, rg + rb);
        let improvement = (node_n / total)
            * (impurity - (nr / node_n * gini_impurity(rg, rb)) - (nl / node_n * gini_impurity(lg, lb)));
        if improvement + f64::EPSILON < 0.0 {
            return None;
        }
        Some((p, improvement))
    };
    if n < 2 {
        return Vec::new();
    }
    let mut frontier = vec![Node { lo: 0, hi: n, split: best_split(0, n) }];
    let mut splits_left = max_leaves.saturating_sub(1);
    let mut thresholds = Vec::new();
    while !frontier.is_empty() {
        // The node with the greatest improvement (leaves count as 0), as scikit-learn's heap.
        let i = (0..frontier.len())
            .max_by(|a, b| {
                let ia = frontier[*a].split.map_or(0.0, |s| s.1);
                let ib = frontier[*b].split.map_or(0.0, |s| s.1);
                ia.total_cmp(&ib).then(b.cmp(a))
            })
            .expect("a node");
        let node = frontier.swap_remove(i);
        let Some((p, _)) = node.split else { continue };
        if splits_left == 0 {
            continue;
        }
        splits_left -= 1;
        let (x0, x1) = (distinct[p - 1].value, distinct[p].value);
        let mut t = x0 / 2.0 + x1 / 2.0;
        if t == x1 || t.is_infinite() {
            t = x0;
        }
        thresholds.push(t);
        frontier.push(Node { lo: node.lo, hi: p, split: best_split(node.lo, p) });
        frontier.push(Node { lo: p, hi: node.hi, split: best_split(p, node.hi) });
    }
    thresholds.sort_by(f64::total_cmp);
    thresholds
}

/// Split points giving bins of about equal counts.
fn quantile_splits(sorted: &[(f64, bool)], bins: usize) -> Vec<f64> {
    let n = sorted.len();
    let mut out: Vec<f64> = Vec::new();
    for k in 1..bins.max(1) {
        let x = sorted[k * n / bins].0;
        if x > sorted[0].0 && out.last().is_none_or(|l| x > *l) {
            out.push(x);
        }
    }
    out
}

/// Merges neighbouring bins of `splits` until the WoE rises (or falls) throughout, in whichever
/// direction keeps the more IV; each merge removes the split between the closest-WoE pair that
/// breaks the order.
fn monotonic(distinct: &[Distinct], splits: Vec<f64>, total_bad: u64, total_good: u64) -> Vec<f64> {
    let iv_of = |s: &[f64]| -> f64 {
        ranges(distinct, s).iter().map(|(_, g, b)| iv_part(*b, *g, total_bad, total_good)).sum()
    };
    let run = |rising: bool| -> Vec<f64> {
        let mut s = splits.clone();
        loop {
            let w: Vec<f64> =
                ranges(distinct, &s).iter().map(|(_, g, b)| woe(*b, *g, total_bad, total_good)).collect();
            let broken = (0..w.len().saturating_sub(1))
                .filter(|i| if rising { w[i + 1] < w[*i] } else { w[i + 1] > w[*i] })
                .min_by(|a, b| (w[a + 1] - w[*a]).abs().total_cmp(&(w[b + 1] - w[*b]).abs()));
            match broken {
                Some(i) => {
                    s.remove(i);
                }
                None => return s,
            }
        }
    };
    let (up, down) = (run(true), run(false));
    if iv_of(&up) >= iv_of(&down) { up } else { down }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bins(col: Column, target: &[bool], method: Method) -> FeatureBins {
        bin_feature("x", &col, target, &BinOptions { method, ..BinOptions::default() })
    }

    #[test]
    fn categories_get_a_bin_each_and_missing_its_own() {
        let col = Column::Text(vec![Some("a".into()), Some("b".into()), None, Some("a".into())]);
        let f = bins(col, &[true, false, false, false], Method::Tree);
        assert_eq!(f.binning, "categorical");
        let labels: Vec<&str> = f.bins.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["a", "b", "missing"]);
        assert_eq!((f.bins[0].good, f.bins[0].bad), (1, 1));
        assert!((f.iv - f.bins.iter().map(|b| b.iv).sum::<f64>()).abs() < 1e-15);
    }

    #[test]
    fn few_values_are_discrete_many_are_cut() {
        let t: Vec<bool> = (0..100).map(|i| i % 3 == 0).collect();
        let few = Column::Numeric((0..100).map(|i| Some(f64::from(i % 4))).collect());
        assert_eq!(bins(few, &t, Method::Tree).binning, "discrete");
        let many = Column::Numeric((0..100).map(|i| Some(f64::from(i))).collect());
        let f = bins(many.clone(), &t, Method::Tree);
        assert_eq!(f.binning, "tree");
        assert!(f.bins.len() <= 10 && f.bins.len() >= 2);
        assert_eq!(f.bins.iter().map(|b| b.good + b.bad).sum::<u64>(), 100);
        let q = bins(many, &t, Method::Quantile);
        assert_eq!(q.bins.len(), 10);
        assert!(q.bins.iter().all(|b| b.good + b.bad == 10));
    }

    #[test]
    fn a_clean_threshold_is_found() {
        // Bad exactly when x >= 50: one split at 49.5.
        let t: Vec<bool> = (0..100).map(|i| i >= 50).collect();
        let col = Column::Numeric((0..100).map(|i| Some(f64::from(i))).collect());
        let f = bins(col, &t, Method::Tree);
        assert_eq!(f.bins.len(), 2);
        assert_eq!(f.bins[0].kind, BinKind::Range { lo: None, hi: Some(49.5) });
        assert_eq!(f.bins[0].label, "[-inf, 49.5)");
    }

    #[test]
    fn monotonic_bins_have_monotonic_woe_and_a_minimum_share() {
        // A bad rate that goes up and down.
        let t: Vec<bool> = (0..1000).map(|i| (i * 7919 % 100) < (i / 10 % 50) + 10).collect();
        let col = Column::Numeric((0..1000).map(|i| Some(f64::from(i))).collect());
        let f = bins(col, &t, Method::Monotonic);
        let w: Vec<f64> = f.bins.iter().map(|b| b.woe).collect();
        assert!(w.windows(2).all(|p| p[1] >= p[0]) || w.windows(2).all(|p| p[1] <= p[0]), "{w:?}");
        assert!(f.bins.iter().all(|b| b.good + b.bad >= 50), "{:?}", f.bins);
    }
}
