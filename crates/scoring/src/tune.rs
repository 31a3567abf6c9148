//! Hyper-parameter search: TPE (tree-structured Parzen estimators, Bergstra et al. 2011) over
//! the mean AUC of stratified k-fold cross-validation.
//!
//! Each searched parameter has its own univariate TPE (the `tpe` crate, as hyperopt does):
//! the first trials are drawn uniformly (on a log scale for rates and weights), later ones from
//! the density of the best quarter of trials divided by the density of the rest. Every draw
//! comes from one seeded generator and folds come from the same seed, so a search is repeatable.

use std::collections::BTreeMap;

use rand::SeedableRng as _;
use rand::rngs::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::binning::Column;
use crate::gbdt::{self, ModelError, Params, err};
use crate::stats;

/// One searched parameter: its name, bounds and scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dimension {
    /// The parameter ([`Params::apply`]'s name).
    pub name: &'static str,
    /// Lowest value.
    pub low: f64,
    /// Highest value.
    pub high: f64,
    /// Searched on a log scale.
    pub log: bool,
    /// Whole numbers only.
    pub integer: bool,
}

/// The default search space: depth, rate, rounds, sampling and regularisation.
pub const SPACE: [Dimension; 7] = [
    Dimension { name: "max_depth", low: 2.0, high: 8.0, log: false, integer: true },
    Dimension { name: "eta", low: 0.01, high: 0.3, log: true, integer: false },
    Dimension { name: "rounds", low: 50.0, high: 600.0, log: true, integer: true },
    Dimension { name: "subsample", low: 0.5, high: 1.0, log: false, integer: false },
    Dimension { name: "colsample_bytree", low: 0.4, high: 1.0, log: false, integer: false },
    Dimension { name: "min_child_weight", low: 0.5, high: 50.0, log: true, integer: false },
    Dimension { name: "lambda", low: 0.01, high: 20.0, log: true, integer: false },
];

impl Dimension {
    /// The optimiser's interval for this dimension (integers: `[low, high + 1)`, floored).
    fn range(&self) -> (f64, f64) {
        let high = if self.integer { self.high + 1.0 } else { self.high };
        if self.log { (self.low.ln(), high.ln()) } else { (self.low, high) }
    }

    /// The parameter's value at the optimiser's point `u`.
    fn value(&self, u: f64) -> f64 {
        let v = if self.log { u.exp() } else { u };
        if self.integer { v.floor().clamp(self.low, self.high) } else { v.clamp(self.low, self.high) }
    }
}

/// What a search is given.
#[derive(Debug, Clone)]
pub struct TuneInput<'a> {
    /// Feature columns.
    pub columns: &'a [(String, Column)],
    /// The target (true = bad).
    pub labels: &'a [bool],
    /// Parameters not searched (threads, bins, …).
    pub base: Params,
    /// Trials in all.
    pub trials: usize,
    /// Trials drawn uniformly before TPE takes over.
    pub startup: usize,
    /// Folds of the cross-validation (at least 2).
    pub folds: usize,
    /// Seed of the draws, the folds and the trees.
    pub seed: u64,
}

/// One evaluated set of parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// 1, 2, …
    pub number: usize,
    /// How the point was drawn: `random` or `tpe`.
    pub sampler: String,
    /// The searched parameters' values.
    pub values: BTreeMap<String, f64>,
    /// The full parameters trained with.
    pub params: Params,
    /// Held-out AUC of each fold.
    pub fold_auc: Vec<f64>,
    /// Their mean: what the search maximises.
    pub auc: f64,
}

/// Stratified folds: rows of each class are shuffled and dealt round the folds in turn, so
/// every fold has the data's bad rate. Returns each row's fold.
pub fn stratified_folds(labels: &[bool], folds: usize, seed: u64) -> Vec<usize> {
    let mut fold = vec![0; labels.len()];
    for class in [true, false] {
        let rows: Vec<usize> = (0..labels.len()).filter(|i| labels[*i] == class).collect();
        for (k, j) in gbdt::shuffled(rows.len(), seed ^ u64::from(class)).into_iter().enumerate() {
            fold[rows[j]] = k % folds;
        }
    }
    fold
}

/// Mean held-out AUC of `params` over the folds in `fold` (per-fold AUCs too).
pub fn cross_validate(
    features: &[gbdt::Feature],
    x: &[f32],
    labels: &[bool],
    fold: &[usize],
    folds: usize,
    params: &Params,
    seed: u64,
) -> Result<Vec<f64>, ModelError> {
    let n = features.len();
    let mut aucs = Vec::with_capacity(folds);
    for k in 0..folds {
        let (mut xtr, mut ytr, mut xte, mut yte) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, f) in fold.iter().enumerate() {
            let row = &x[i * n..(i + 1) * n];
            if *f == k {
                xte.extend_from_slice(row);
                yte.push(labels[i]);
            } else {
                xtr.extend_from_slice(row);
                ytr.push(if labels[i] { 1.0 } else { 0.0 });
            }
        }
        let model = gbdt::fit_dense(features.to_vec(), xtr, &ytr, params, seed)?;
        let scores = model.predict_dense(&xte, yte.len())?;
        aucs.push(
            stats::auc(&scores, &yte)
                .ok_or_else(|| err("MODEL_TRAIN", format!("fold {} has only one class", k + 1)))?,
        );
    }
    Ok(aucs)
}

/// Searches [`SPACE`]; calls `on_trial` after each trial (for progress). Returns every trial in
/// order; the best is the one with the highest `auc` (the first of equals).
pub fn tune(input: &TuneInput<'_>, mut on_trial: impl FnMut(&Trial)) -> Result<Vec<Trial>, ModelError> {
    let rows = input.labels.len();
    if !(2..=20).contains(&input.folds) {
        return Err(err("MODEL_PARAMS", format!("folds={}: expected 2 to 20", input.folds)));
    }
    if input.trials == 0 {
        return Err(err("MODEL_PARAMS", "trials=0: expected at least 1"));
    }
    let bads = input.labels.iter().filter(|b| **b).count();
    if bads < input.folds || rows - bads < input.folds {
        return Err(err(
            "MODEL_TRAIN",
            format!("{bads} bad and {} good rows: too few for {} folds", rows - bads, input.folds),
        ));
    }
    let features = gbdt::features_of(input.columns);
    let by_name: BTreeMap<String, &Column> = input.columns.iter().map(|(n, c)| (n.clone(), c)).collect();
    let x = gbdt::encode(&features, &by_name, rows)?;
    let fold = stratified_folds(input.labels, input.folds, input.seed);

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(input.seed);
    let mut optimisers = SPACE
        .iter()
        .map(|d| {
            let (lo, hi) = d.range();
            tpe::range(lo, hi)
                .map(|r| tpe::TpeOptimizer::new(tpe::parzen_estimator(), r))
                .map_err(|e| err("MODEL_PARAMS", format!("{}: {e}", d.name)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut trials: Vec<Trial> = Vec::with_capacity(input.trials);
    for number in 1..=input.trials {
        let random = number <= input.startup.max(1);
        let mut points = Vec::with_capacity(SPACE.len());
        for (d, opt) in SPACE.iter().zip(&mut optimisers) {
            let (lo, hi) = d.range();
            let u = if random {
                use rand::RngExt as _;
                rng.random_range(lo..hi)
            } else {
                opt.ask(&mut rng).map_err(|e| err("MODEL_TRAIN", format!("TPE: {e}")))?
            };
            points.push(u);
        }
        let mut params = input.base.clone();
        let mut values = BTreeMap::new();
        for (d, u) in SPACE.iter().zip(&points) {
            let v = d.value(*u);
            values.insert(d.name.to_owned(), v);
            match d.name {
                "max_depth" => params.max_depth = v as usize,
                "eta" => params.eta = v,
                "rounds" => params.rounds = v as usize,
                "subsample" => params.subsample = v,
                "colsample_bytree" => params.colsample_bytree = v,
                "min_child_weight" => params.min_child_weight = v,
                _ => params.lambda = v,
            }
        }
        let fold_auc = cross_validate(&features, &x, input.labels, &fold, input.folds, &params, input.seed)?;
        let auc = fold_auc.iter().sum::<f64>() / fold_auc.len() as f64;
        for (opt, u) in optimisers.iter_mut().zip(&points) {
            // TPE minimises.
            opt.tell(*u, -auc).map_err(|e| err("MODEL_TRAIN", format!("TPE: {e}")))?;
        }
        let trial = Trial {
            number,
            sampler: if random { "random" } else { "tpe" }.to_owned(),
            values,
            params,
            fold_auc,
            auc,
        };
        on_trial(&trial);
        trials.push(trial);
    }
    Ok(trials)
}

/// The trial with the highest mean AUC (the earliest of equals).
pub fn best(trials: &[Trial]) -> Option<&Trial> {
    trials.iter().fold(None, |best: Option<&Trial>, t| match best {
        Some(b) if b.auc >= t.auc => Some(b),
        _ => Some(t),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> (Vec<(String, Column)>, Vec<bool>) {
        let mut x1 = Vec::new();
        let mut x2 = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let a = (i * 37 % 101) as f64;
            let b = (i * 53 % 97) as f64;
            x1.push(Some(a));
            x2.push(Some(b));
            // A noisy rule on both features.
            y.push((a + b > 100.0) ^ (i % 7 == 0));
        }
        (vec![("a".into(), Column::Numeric(x1)), ("b".into(), Column::Numeric(x2))], y)
    }

    #[test]
    fn folds_are_stratified_and_cover_every_row_once() {
        let y: Vec<bool> = (0..103).map(|i| i % 5 == 0).collect();
        let fold = stratified_folds(&y, 4, 9);
        for k in 0..4 {
            let bad = (0..103).filter(|i| fold[*i] == k && y[*i]).count();
            assert!((5..=6).contains(&bad), "fold {k} has {bad} of 21 bad rows");
        }
        assert_eq!(fold, stratified_folds(&y, 4, 9), "the same seed deals the same folds");
        assert_ne!(fold, stratified_folds(&y, 4, 10));
    }

    #[test]
    fn dimensions_map_the_optimiser_interval_onto_their_bounds() {
        for d in SPACE {
            let (lo, hi) = d.range();
            assert!((d.value(lo) - d.low).abs() < 1e-9, "{}", d.name);
            let top = d.value(hi - 1e-9);
            assert!((top - d.high).abs() < 1e-6, "{}: {top}", d.name);
            if d.integer {
                assert_eq!(d.value((lo + hi) / 2.0).fract(), 0.0);
            }
        }
    }

    #[test]
    fn search_is_repeatable_and_finds_the_rule() {
        let (cols, y) = data(800);
        let input = TuneInput {
            columns: &cols,
            labels: &y,
            base: Params { threads: 1, ..Params::default() },
            trials: 14,
            startup: 6,
            folds: 3,
            seed: 5,
        };
        let mut seen = 0;
        let trials = tune(&input, |_| seen += 1).unwrap();
        assert_eq!((seen, trials.len()), (14, 14));
        assert_eq!(trials.iter().filter(|t| t.sampler == "random").count(), 6);
        for t in &trials {
            assert_eq!(t.fold_auc.len(), 3);
            assert!(SPACE.iter().all(|d| (d.low..=d.high).contains(&t.values[d.name])));
        }
        let best = best(&trials).unwrap();
        assert!(best.auc > 0.8, "the rule is learnable: {}", best.auc);
        assert!(trials.iter().all(|t| t.auc <= best.auc));
        let again = tune(&input, |_| ()).unwrap();
        assert_eq!(again, trials, "same seed, same search");
        let e = tune(&TuneInput { folds: 1, ..input.clone() }, |_| ()).unwrap_err();
        assert_eq!(e.code, "MODEL_PARAMS");
    }
}
