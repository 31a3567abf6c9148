//! Gradient-boosted trees: train and serve with hessboost; read XGBoost JSON and LightGBM text
//! models as they are.
//!
//! Our model file is one JSON document ([`ModelFile`]): the feature list with its preprocessing
//! (numbers as they are, categories coded by a stored vocabulary), metadata (the time given by
//! the caller, the training data's SHA-256, held-out metrics, parameters), and the trees as an
//! XGBoost JSON document embedded whole — any XGBoost 2.x can load that part too.

use std::collections::BTreeMap;

use hessboost::prelude::*;
use serde::{Deserialize, Serialize};

use crate::binning::Column;
use crate::stats;

/// What went wrong, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    /// `MODEL_FORMAT`, `MODEL_FEATURES`, `MODEL_PARAMS` or `MODEL_TRAIN`.
    pub code: &'static str,
    /// What was expected.
    pub message: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ModelError {}

pub(crate) fn err(code: &'static str, message: impl Into<String>) -> ModelError {
    ModelError { code, message: message.into() }
}

fn train_err(e: HessboostError) -> ModelError {
    err("MODEL_TRAIN", e.to_string())
}

/// How a feature becomes a number for the trees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Encoding {
    /// The number as read; missing stays missing.
    Numeric,
    /// The category's index in `categories` (sorted); an unseen category is missing.
    Categorical {
        /// The categories seen in training.
        categories: Vec<String>,
    },
}

/// A feature of a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    /// Its column name.
    pub name: String,
    /// How it is encoded.
    #[serde(flatten)]
    pub encoding: Encoding,
}

/// Training parameters (XGBoost's names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Boosting rounds.
    pub rounds: usize,
    /// Tree depth.
    pub max_depth: usize,
    /// Learning rate.
    pub eta: f64,
    /// Row subsample ratio.
    pub subsample: f64,
    /// Column subsample ratio per tree.
    pub colsample_bytree: f64,
    /// Minimum child hessian.
    pub min_child_weight: f64,
    /// L2 regularisation.
    pub lambda: f64,
    /// Histogram bins.
    pub max_bin: usize,
    /// Share of rows held out to measure the model.
    pub test_share: f64,
    /// Threads (0: all cores).
    pub threads: usize,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            rounds: 300,
            max_depth: 6,
            eta: 0.05,
            subsample: 0.8,
            colsample_bytree: 0.8,
            min_child_weight: 1.0,
            lambda: 1.0,
            max_bin: 256,
            test_share: 0.2,
            threads: 0,
        }
    }
}

impl Params {
    /// Applies `key=value` pairs (`rounds`, `max_depth`, `eta`, `subsample`, `colsample_bytree`,
    /// `min_child_weight`, `lambda`, `max_bin`, `test_share`, `threads`).
    pub fn apply(mut self, pairs: &[String]) -> Result<Params, ModelError> {
        for pair in pairs {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| err("MODEL_PARAMS", format!("{pair:?}: expected key=value")))?;
            let bad = |what: &str| err("MODEL_PARAMS", format!("{k}={v}: expected {what}"));
            let int = || v.parse::<usize>().map_err(|_| bad("a whole number"));
            let num = || v.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| bad("a number"));
            match k {
                "rounds" | "num_boost_round" | "n_estimators" => self.rounds = int()?.clamp(1, 100_000),
                "max_depth" => self.max_depth = int()?.clamp(1, 32),
                "eta" | "learning_rate" => self.eta = num()?,
                "subsample" => self.subsample = num()?,
                "colsample_bytree" => self.colsample_bytree = num()?,
                "min_child_weight" => self.min_child_weight = num()?,
                "lambda" | "reg_lambda" => self.lambda = num()?,
                "max_bin" => self.max_bin = int()?.clamp(2, 65_535),
                "test_share" => self.test_share = num()?,
                "threads" | "nthread" => self.threads = int()?,
                _ => {
                    return Err(err(
                        "MODEL_PARAMS",
                        format!(
                            "unknown parameter {k:?}; expected rounds, max_depth, eta, subsample, colsample_bytree, min_child_weight, lambda, max_bin, test_share or threads"
                        ),
                    ));
                }
            }
        }
        for (name, x) in
            [("eta", self.eta), ("subsample", self.subsample), ("colsample_bytree", self.colsample_bytree)]
        {
            if !(x > 0.0 && x <= 1.0) {
                return Err(err("MODEL_PARAMS", format!("{name}={x}: expected more than 0 and at most 1")));
            }
        }
        if !(0.05..=0.5).contains(&self.test_share) {
            return Err(err("MODEL_PARAMS", format!("test_share={}: expected 0.05 to 0.5", self.test_share)));
        }
        if self.min_child_weight < 0.0 || self.lambda < 0.0 {
            return Err(err("MODEL_PARAMS", "min_child_weight and lambda cannot be negative"));
        }
        Ok(self)
    }

    fn training(&self, seed: u64) -> Result<TrainingParams, ModelError> {
        let mut b = TrainingParams::builder()
            .objective(Objective::BinaryLogistic(RegLoss::default()))
            .tree_method(TreeMethod::Hist)
            .max_depth(self.max_depth)
            .eta(self.eta)
            .subsample(self.subsample)
            .colsample_bytree(self.colsample_bytree)
            .min_child_weight(self.min_child_weight)
            .lambda(self.lambda)
            .max_bin(self.max_bin)
            .seed(seed);
        if self.threads > 0 {
            b = b.nthread(self.threads);
        }
        b.build().map_err(train_err)
    }
}

/// Held-out measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Rows trained on.
    pub train_rows: usize,
    /// Rows held out.
    pub test_rows: usize,
    /// AUC on the held-out rows.
    pub auc: f64,
    /// KS on the held-out rows.
    pub ks: f64,
    /// Gini (2·AUC − 1) on the held-out rows.
    pub gini: f64,
}

/// Our model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// `daylight-gbdt/1`.
    pub format: String,
    /// The target column it was trained for.
    pub target: String,
    /// The features, in the order the trees number them.
    pub features: Vec<Feature>,
    /// When it was made (given by the caller).
    pub created_at: String,
    /// SHA-256 of the training file.
    pub training_data_sha256: String,
    /// The seed of the split and of sampling.
    pub seed: u64,
    /// Parameters.
    pub params: Params,
    /// Held-out measures.
    pub metrics: Metrics,
    /// The trees, as an XGBoost JSON model.
    pub booster: serde_json::Value,
}

/// This format's name.
pub const FORMAT: &str = "daylight-gbdt/1";

/// Encodes columns into a row-major matrix (missing = NaN) by `features`.
pub fn encode(
    features: &[Feature],
    columns: &BTreeMap<String, &Column>,
    rows: usize,
) -> Result<Vec<f32>, ModelError> {
    let n = features.len();
    let mut out = vec![f32::NAN; rows * n];
    for (j, f) in features.iter().enumerate() {
        let col = columns.get(&f.name).ok_or_else(|| {
            err("MODEL_FEATURES", format!("the data has no column {:?}, which the model needs", f.name))
        })?;
        match (&f.encoding, col) {
            (Encoding::Numeric, Column::Numeric(v)) => {
                for (i, x) in v.iter().enumerate() {
                    out[i * n + j] = x.map_or(f32::NAN, |x| x as f32);
                }
            }
            (Encoding::Numeric, Column::Text(_)) => {
                return Err(err(
                    "MODEL_FEATURES",
                    format!("column {:?} holds text; the model expects numbers", f.name),
                ));
            }
            (Encoding::Categorical { categories }, col) => {
                let text: Vec<Option<String>> = match col {
                    Column::Text(v) => v.clone(),
                    Column::Numeric(v) => v.iter().map(|x| x.map(|x| x.to_string())).collect(),
                };
                for (i, x) in text.iter().enumerate() {
                    out[i * n + j] = x
                        .as_ref()
                        .and_then(|x| categories.binary_search(x).ok())
                        .map_or(f32::NAN, |k| k as f32);
                }
            }
        }
    }
    Ok(out)
}

/// The features of a training set: numeric columns as they are, text columns coded.
pub fn features_of(columns: &[(String, Column)]) -> Vec<Feature> {
    columns
        .iter()
        .map(|(name, col)| Feature {
            name: name.clone(),
            encoding: match col {
                Column::Numeric(_) => Encoding::Numeric,
                Column::Text(v) => {
                    let mut categories: Vec<String> = v.iter().flatten().cloned().collect();
                    categories.sort();
                    categories.dedup();
                    Encoding::Categorical { categories }
                }
            },
        })
        .collect()
}

/// A seeded shuffle of `0..n` (SplitMix64): the held-out rows are the first `test` of it.
pub(crate) fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut idx: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        idx.swap(i, j);
    }
    idx
}

/// Named columns and their target.
pub type Labelled<'a> = (&'a [(String, Column)], &'a [bool]);

/// What the caller says about a training run.
#[derive(Debug, Clone)]
pub struct TrainInput<'a> {
    /// The target column's name.
    pub target: &'a str,
    /// The feature columns.
    pub columns: &'a [(String, Column)],
    /// The target (true = bad).
    pub labels: &'a [bool],
    /// Parameters.
    pub params: Params,
    /// Seed of the split and of sampling.
    pub seed: u64,
    /// When (RFC 3339), recorded in the model.
    pub created_at: String,
    /// SHA-256 of the training file.
    pub training_data_sha256: String,
    /// Rows to measure on instead of a held-out share: columns by name, and the target.
    pub holdout: Option<Labelled<'a>>,
}

/// Trains on a seeded share of the rows and measures on the rest: [`prepare`], then
/// [`Prepared::fit`], then [`Prepared::finish`].
pub fn train(input: TrainInput<'_>) -> Result<(ModelFile, Model), ModelError> {
    let prepared = prepare(input)?;
    let model = prepared.fit()?;
    prepared.finish(model)
}

/// A training run with its rows encoded and split, ready to fit.
#[derive(Debug)]
pub struct Prepared<'a> {
    input: TrainInput<'a>,
    features: Vec<Feature>,
    train_rows: usize,
    xtr: Vec<f32>,
    ytr: Vec<f32>,
    xte: Vec<f32>,
    test_idx: Vec<usize>,
}

/// Encodes the features and splits the rows (seeded), so that [`Prepared::fit`] is the
/// boosting alone: what a benchmark against another library's `train` times.
pub fn prepare(input: TrainInput<'_>) -> Result<Prepared<'_>, ModelError> {
    let rows = input.labels.len();
    if rows < 20 {
        return Err(err("MODEL_TRAIN", format!("{rows} rows: too few to train and hold out")));
    }
    let features = features_of(input.columns);
    let by_name: BTreeMap<String, &Column> = input.columns.iter().map(|(n, c)| (n.clone(), c)).collect();
    let x = encode(&features, &by_name, rows)?;
    let n = features.len();
    let order = shuffled(rows, input.seed);
    let test =
        if input.holdout.is_some() { 0 } else { ((rows as f64) * input.params.test_share).round() as usize };
    let (test_idx, train_idx) = order.split_at(test);
    let take = |idx: &[usize]| -> (Vec<f32>, Vec<f32>) {
        let mut xs = Vec::with_capacity(idx.len() * n);
        let mut ys = Vec::with_capacity(idx.len());
        for &i in idx {
            xs.extend_from_slice(&x[i * n..(i + 1) * n]);
            ys.push(if input.labels[i] { 1.0 } else { 0.0 });
        }
        (xs, ys)
    };
    let (xtr, ytr) = take(train_idx);
    let (xte, _) = take(test_idx);
    Ok(Prepared { features, train_rows: train_idx.len(), xtr, ytr, xte, test_idx: test_idx.to_vec(), input })
}

impl Prepared<'_> {
    /// Boosts the trees on the training rows.
    pub fn fit(&self) -> Result<Model, ModelError> {
        fit_dense(self.features.clone(), self.xtr.clone(), &self.ytr, &self.input.params, self.input.seed)
    }

    /// Measures `model` on the held-out rows and writes it as our file.
    pub fn finish(self, model: Model) -> Result<(ModelFile, Model), ModelError> {
        let input = self.input;
        let (scores, truth) = match input.holdout {
            Some((cols, labels)) => (model.predict(cols, labels.len())?, labels.to_vec()),
            None => (
                model.predict_dense(&self.xte, self.test_idx.len())?,
                self.test_idx.iter().map(|i| input.labels[*i]).collect(),
            ),
        };
        let auc = stats::auc(&scores, &truth)
            .ok_or_else(|| err("MODEL_TRAIN", "the held-out rows have only one class"))?;
        let metrics = Metrics {
            train_rows: self.train_rows,
            test_rows: truth.len(),
            auc,
            ks: stats::ks(&scores, &truth).unwrap_or(0.0),
            gini: 2.0 * auc - 1.0,
        };
        let xgb = model.booster.encode(ModelFormat::XgboostJson).map_err(train_err)?;
        let file = ModelFile {
            format: FORMAT.to_owned(),
            target: input.target.to_owned(),
            features: self.features,
            created_at: input.created_at,
            training_data_sha256: input.training_data_sha256,
            seed: input.seed,
            params: input.params,
            metrics,
            booster: serde_json::from_slice(&xgb).map_err(|e| err("MODEL_FORMAT", e.to_string()))?,
        };
        Ok((file, model))
    }
}

/// Trains on row-major rows of `features` (`y`: 1.0 bad, 0.0 good).
pub(crate) fn fit_dense(
    features: Vec<Feature>,
    x: Vec<f32>,
    y: &[f32],
    params: &Params,
    seed: u64,
) -> Result<Model, ModelError> {
    let dtrain = DMatrix::from_dense_vec(x, y.len(), features.len())
        .and_then(|d| d.with_labels(y))
        .map_err(train_err)?;
    let booster =
        hessboost::training::train(&params.training(seed)?, &dtrain, params.rounds).map_err(train_err)?;
    Ok(Model { features, booster })
}

/// A model ready to score: ours, or one imported as it is.
#[derive(Debug)]
pub struct Model {
    /// The features in the trees' order.
    pub features: Vec<Feature>,
    booster: BoostedModel,
}

/// Where a loaded model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Our file.
    Daylight,
    /// An XGBoost JSON model.
    Xgboost,
    /// A LightGBM text model.
    Lightgbm,
}

impl Source {
    /// Its name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Daylight => "daylight",
            Source::Xgboost => "xgboost",
            Source::Lightgbm => "lightgbm",
        }
    }
}

/// Reads a model of any of the three kinds, told apart by content. An imported model's
/// features are the names it was saved with (all numeric), or `positional` when it has none.
pub fn load(bytes: &[u8], positional: &[String]) -> Result<(Model, Source, Option<ModelFile>), ModelError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| err("MODEL_FORMAT", "a model file is text (JSON or LightGBM text)"))?;
    let numeric = |names: Vec<String>| {
        names.into_iter().map(|name| Feature { name, encoding: Encoding::Numeric }).collect::<Vec<_>>()
    };
    if text.trim_start().starts_with('{') {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err("MODEL_FORMAT", format!("not JSON: {e}")))?;
        if doc.get("format").and_then(|f| f.as_str()) == Some(FORMAT) {
            let file: ModelFile =
                serde_json::from_value(doc).map_err(|e| err("MODEL_FORMAT", format!("{FORMAT}: {e}")))?;
            return Ok((Model::from_file(&file)?, Source::Daylight, Some(file)));
        }
        if doc.get("learner").is_some() {
            let booster = BoostedModel::decode(bytes, ModelFormat::XgboostJson)
                .map_err(|e| err("MODEL_FORMAT", format!("XGBoost JSON: {e}")))?;
            let names: Vec<String> = doc["learner"]["feature_names"]
                .as_array()
                .map(|a| a.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let names = if names.is_empty() { positional.to_vec() } else { names };
            return Ok((Model { features: numeric(names), booster }, Source::Xgboost, None));
        }
        return Err(err(
            "MODEL_FORMAT",
            "JSON that is neither a Daylight model nor an XGBoost model (no \"learner\")",
        ));
    }
    if text.trim_start().starts_with("tree") {
        let booster = BoostedModel::decode(bytes, ModelFormat::LightgbmText)
            .map_err(|e| err("MODEL_FORMAT", format!("LightGBM text: {e}")))?;
        let names: Vec<String> = text
            .lines()
            .find_map(|l| l.strip_prefix("feature_names="))
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        let names = if names.is_empty() { positional.to_vec() } else { names };
        return Ok((Model { features: numeric(names), booster }, Source::Lightgbm, None));
    }
    Err(err(
        "MODEL_FORMAT",
        "not a model: expected a Daylight or XGBoost JSON model, or a LightGBM text model",
    ))
}

impl Model {
    /// The model our file holds.
    pub fn from_file(file: &ModelFile) -> Result<Model, ModelError> {
        if file.format != FORMAT {
            return Err(err("MODEL_FORMAT", format!("format {:?}; expected {FORMAT:?}", file.format)));
        }
        let xgb = serde_json::to_vec(&file.booster).map_err(|e| err("MODEL_FORMAT", e.to_string()))?;
        let booster = BoostedModel::decode(&xgb, ModelFormat::XgboostJson)
            .map_err(|e| err("MODEL_FORMAT", e.to_string()))?;
        Ok(Model { features: file.features.clone(), booster })
    }

    /// Probabilities for row-major rows of the model's features.
    pub fn predict_dense(&self, x: &[f32], rows: usize) -> Result<Vec<f64>, ModelError> {
        if rows == 0 {
            return Ok(Vec::new());
        }
        if x.len() != rows * self.features.len() {
            return Err(err(
                "MODEL_FEATURES",
                format!("{} values are not {rows} rows of {} features", x.len(), self.features.len()),
            ));
        }
        // Borrowed rows: no copy into a matrix.
        let p = self.booster.predict_rows(x, Iterations::Best).map_err(train_err)?;
        Ok(p.as_slice().iter().map(|v| f64::from(*v)).collect())
    }

    /// Probabilities for row-major rows on a pool of `threads` threads (0: all cores).
    pub fn predict_dense_on(&self, x: &[f32], rows: usize, threads: usize) -> Result<Vec<f64>, ModelError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| err("MODEL_TRAIN", e.to_string()))?;
        pool.install(|| self.predict_dense(x, rows))
    }

    /// The features' values of named columns, row-major, as the trees read them.
    pub fn encode(&self, columns: &[(String, Column)], rows: usize) -> Result<Vec<f32>, ModelError> {
        let by_name: BTreeMap<String, &Column> = columns.iter().map(|(n, c)| (n.clone(), c)).collect();
        encode(&self.features, &by_name, rows)
    }

    /// Probabilities for named columns.
    pub fn predict(&self, columns: &[(String, Column)], rows: usize) -> Result<Vec<f64>, ModelError> {
        let by_name: BTreeMap<String, &Column> = columns.iter().map(|(n, c)| (n.clone(), c)).collect();
        let x = encode(&self.features, &by_name, rows)?;
        self.predict_dense(&x, rows)
    }
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
            let job = ["工薪", "个体户", "学生"][i % 3];
            x1.push(Some(a));
            x2.push(Some(job.to_owned()));
            y.push(a > 60.0 || (job == "学生" && i % 2 == 0));
        }
        (vec![("x1".into(), Column::Numeric(x1)), ("job".into(), Column::Text(x2))], y)
    }

    #[test]
    fn trains_measures_and_round_trips_through_its_file() {
        let (cols, y) = data(600);
        let params = Params { rounds: 30, max_depth: 3, eta: 0.3, threads: 1, ..Params::default() };
        let (file, model) = train(TrainInput {
            target: "y",
            columns: &cols,
            labels: &y,
            params,
            seed: 7,
            created_at: "2026-11-22T00:00:00Z".into(),
            training_data_sha256: "0".repeat(64),
            holdout: None,
        })
        .unwrap();
        assert!(file.metrics.auc > 0.95, "{:?}", file.metrics);
        assert_eq!(file.metrics.test_rows + file.metrics.train_rows, 600);
        let text = serde_json::to_vec(&file).unwrap();
        let (loaded, source, back) = load(&text, &[]).unwrap();
        assert_eq!((source, back.as_ref()), (Source::Daylight, Some(&file)));
        let a = model.predict(&cols, 600).unwrap();
        let b = loaded.predict(&cols, 600).unwrap();
        assert_eq!(a, b, "the file scores exactly as the trained model");
        // The same seed gives the same model.
        let (again, _) = train(TrainInput {
            target: "y",
            columns: &cols,
            labels: &y,
            params: file.params.clone(),
            seed: 7,
            created_at: file.created_at.clone(),
            training_data_sha256: file.training_data_sha256.clone(),
            holdout: None,
        })
        .unwrap();
        assert_eq!(again, file);
    }

    #[test]
    fn bad_parameters_and_missing_columns_are_named() {
        let e = Params::default().apply(&["depth=3".into()]).unwrap_err();
        assert_eq!(e.code, "MODEL_PARAMS");
        assert!(e.message.contains("depth"));
        assert_eq!(Params::default().apply(&["eta=2".into()]).unwrap_err().code, "MODEL_PARAMS");
        assert_eq!(Params::default().apply(&["max_depth=4".into(), "eta=0.1".into()]).unwrap().max_depth, 4);
        let features = vec![Feature { name: "x9".into(), encoding: Encoding::Numeric }];
        let e = encode(&features, &BTreeMap::new(), 1).unwrap_err();
        assert_eq!(e.code, "MODEL_FEATURES");
        assert_eq!(load(b"hello", &[]).unwrap_err().code, "MODEL_FORMAT");
    }
}
