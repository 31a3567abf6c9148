//! The models the product uses, trained on the store's history with the features of
//! [`crate::features`]:
//!
//! - **contactability**: P(right-party connect | debtor, time of the dial). One example per dial
//!   to the debtor; its features are those at the dial's time. From it, [`best_times`]: a
//!   debtor's 15-minute slots of a day ranked by P(connect) among those the compliance pack
//!   allows.
//! - **propensity**: P(a payment within 30 days | the case's state on a day). One example per
//!   delinquent case and week, labelled by the 30 days after it.
//!
//! Without enough history a contactability model is the shrinkage estimator alone
//! ([`ProductModel::shrinkage`]): the debtor's hour rate shrunk toward their segment's.
//! Examples are split by time: the latest share is held out, so the metrics say how the model
//! does on weeks it has not seen.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::binning::Column;
use crate::features::{self, DebtorHistory, NAMES, Priors};
use crate::gbdt::{self, Model, ModelError, ModelFile, Params, err};

/// The format name of a product model file.
pub const FORMAT: &str = "daylight-product/1";

/// Days after a snapshot in which a payment makes a propensity example positive.
pub const PAY_WINDOW_DAYS: i64 = 30;
/// Days between a case's propensity snapshots.
pub const SNAPSHOT_EVERY_DAYS: i64 = 7;

/// Which product model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// P(right-party connect) of a dial at a time.
    Contactability,
    /// P(payment within 30 days).
    Propensity,
}

impl Kind {
    /// Its name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Contactability => "contactability",
            Kind::Propensity => "propensity",
        }
    }

    /// The features it uses: propensity leaves out those of the hour of day.
    pub fn columns(self) -> Vec<usize> {
        const HOURLY: [&str; 7] = [
            "hour",
            "weekday",
            "hour_dials_180d",
            "hour_connects_180d",
            "hour_rate_shrunk",
            "segment_hour_rate",
            "dials_today",
        ];
        (0..NAMES.len()).filter(|i| self == Kind::Contactability || !HOURLY.contains(&NAMES[*i])).collect()
    }
}

impl std::str::FromStr for Kind {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Kind, ModelError> {
        match s {
            "contactability" => Ok(Kind::Contactability),
            "propensity" => Ok(Kind::Propensity),
            _ => Err(err("MODEL_PARAMS", format!("model kind {s:?}; expected contactability or propensity"))),
        }
    }
}

/// One labelled row.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The case.
    pub case: String,
    /// The time the features describe.
    pub at: Timestamp,
    /// Every feature ([`NAMES`]).
    pub x: [f32; NAMES.len()],
    /// Connected (contactability) or paid within 30 days (propensity).
    pub label: bool,
}

/// The examples of `kind` in `[from, until)`, in time order (then case).
///
/// Contactability: every dial to a debtor in the window. Propensity: each delinquent case every
/// [`SNAPSHOT_EVERY_DAYS`] from `from`, while the [`PAY_WINDOW_DAYS`] after the snapshot end by
/// `until`.
pub fn examples(
    kind: Kind,
    histories: &[DebtorHistory],
    priors: &Priors,
    from: Timestamp,
    until: Timestamp,
) -> Vec<Example> {
    let mut out = Vec::new();
    for h in histories {
        match kind {
            Kind::Contactability => {
                for a in h.attempts.iter().filter(|a| a.is_dial() && a.at >= from && a.at < until) {
                    out.push(Example {
                        case: h.case.clone(),
                        at: a.at,
                        x: features::features(h, priors, a.at),
                        label: a.is_rpc(),
                    });
                }
            }
            Kind::Propensity => {
                let window = SignedDuration::from_hours(24 * PAY_WINDOW_DAYS);
                let mut t = from;
                while t + window <= until {
                    if h.bucket_at(t) > daylight_domain::bucket::Bucket::M0 {
                        let paid = h.payments.iter().any(|p| p.at > t && p.at <= t + window);
                        out.push(Example {
                            case: h.case.clone(),
                            at: t,
                            x: features::features(h, priors, t),
                            label: paid,
                        });
                    }
                    t += SignedDuration::from_hours(24 * SNAPSHOT_EVERY_DAYS);
                }
            }
        }
    }
    out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.case.cmp(&b.case)));
    out
}

/// A product model file: what it predicts, the shrinkage priors, and the trees (none for the
/// shrinkage estimator alone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductModel {
    /// [`FORMAT`].
    pub format: String,
    /// What it predicts.
    pub kind: Kind,
    /// [`features::VERSION`] at training.
    pub features_version: u32,
    /// The features the trees read, in order.
    pub features: Vec<String>,
    /// When it was made (given by the caller).
    pub created_at: String,
    /// The history window it learnt from.
    pub from: Timestamp,
    /// End of that window.
    pub until: Timestamp,
    /// Connect rates by hour, shrunk.
    pub priors: Priors,
    /// Examples trained on.
    pub examples: usize,
    /// Of them positive.
    pub positives: usize,
    /// The trees with their held-out metrics; `None`: the shrinkage estimator alone.
    pub gbdt: Option<ModelFile>,
}

/// What a training run is told.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Which model.
    pub kind: Kind,
    /// Start of the history window.
    pub from: Timestamp,
    /// Its end: nothing at or after it is read.
    pub until: Timestamp,
    /// Tree parameters (`test_share` is the latest share of examples held out).
    pub params: Params,
    /// Seed.
    pub seed: u64,
    /// When (RFC 3339), recorded in the model.
    pub created_at: String,
    /// `m` of the shrinkage.
    pub debtor_strength: f64,
    /// `M` of the shrinkage.
    pub segment_strength: f64,
}

/// Fewest examples (and of each class) to train trees on.
pub const MIN_EXAMPLES: usize = 200;

fn columns_of(examples: &[Example], cols: &[usize]) -> Vec<(String, Column)> {
    cols.iter()
        .map(|&j| {
            let v = examples.iter().map(|e| Some(e.x[j]).filter(|x| !x.is_nan()).map(f64::from)).collect();
            (NAMES[j].to_owned(), Column::Numeric(v))
        })
        .collect()
}

/// Writes examples as CSV: `case`, `at`, every feature of `kind`, `label` (0/1).
pub fn write_examples(
    kind: Kind,
    examples: &[Example],
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let cols = kind.columns();
    let mut head = vec!["case", "at"];
    head.extend(cols.iter().map(|j| NAMES[*j]));
    head.push("label");
    writeln!(out, "{}", head.join(","))?;
    for e in examples {
        write!(out, "{},{}", e.case, e.at)?;
        for j in &cols {
            if e.x[*j].is_nan() {
                write!(out, ",")?;
            } else {
                write!(out, ",{}", e.x[*j])?;
            }
        }
        writeln!(out, ",{}", u8::from(e.label))?;
    }
    Ok(())
}

impl ProductModel {
    /// The shrinkage estimator alone (contactability for a portfolio without enough history to
    /// train on: the cold start).
    pub fn shrinkage(histories: &[DebtorHistory], opts: &FitOptions) -> ProductModel {
        let priors = Priors::estimate(histories, opts.until, opts.debtor_strength, opts.segment_strength);
        ProductModel {
            format: FORMAT.to_owned(),
            kind: Kind::Contactability,
            features_version: features::VERSION,
            features: vec!["hour_rate_shrunk".to_owned()],
            created_at: opts.created_at.clone(),
            from: opts.from,
            until: opts.until,
            examples: priors.dials as usize,
            positives: priors.connects as usize,
            priors,
            gbdt: None,
        }
    }

    /// Trains trees on the examples of `opts.kind` in the window; the latest
    /// `params.test_share` of them (by time) is held out for the metrics.
    pub fn fit(histories: &[DebtorHistory], opts: &FitOptions) -> Result<ProductModel, ModelError> {
        let priors = Priors::estimate(histories, opts.until, opts.debtor_strength, opts.segment_strength);
        let examples = examples(opts.kind, histories, &priors, opts.from, opts.until);
        let positives = examples.iter().filter(|e| e.label).count();
        if examples.len() < MIN_EXAMPLES || positives < 20 || examples.len() - positives < 20 {
            return Err(err(
                "MODEL_TRAIN",
                format!(
                    "{} {} examples ({positives} positive) between {} and {}: at least {MIN_EXAMPLES}, and 20 of each class, are needed{}",
                    examples.len(),
                    opts.kind.as_str(),
                    opts.from,
                    opts.until,
                    if opts.kind == Kind::Contactability {
                        "; the shrinkage estimator alone works with any history"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let cols = opts.kind.columns();
        let held = ((examples.len() as f64) * opts.params.test_share).round() as usize;
        let (train, test) = examples.split_at(examples.len() - held.max(1));
        let (train_cols, test_cols) = (columns_of(train, &cols), columns_of(test, &cols));
        let labels: Vec<bool> = train.iter().map(|e| e.label).collect();
        let test_labels: Vec<bool> = test.iter().map(|e| e.label).collect();
        let (file, _) = gbdt::train(gbdt::TrainInput {
            target: "label",
            columns: &train_cols,
            labels: &labels,
            params: opts.params.clone(),
            seed: opts.seed,
            created_at: opts.created_at.clone(),
            training_data_sha256: digest(&examples),
            holdout: Some((&test_cols, &test_labels)),
        })?;
        Ok(ProductModel {
            format: FORMAT.to_owned(),
            kind: opts.kind,
            features_version: features::VERSION,
            features: cols.iter().map(|j| NAMES[*j].to_owned()).collect(),
            created_at: opts.created_at.clone(),
            from: opts.from,
            until: opts.until,
            priors,
            examples: examples.len(),
            positives,
            gbdt: Some(file),
        })
    }
}

/// SHA-256 of the examples as CSV: the model's record of what it learnt from.
fn digest(examples: &[Example]) -> String {
    use sha2::Digest as _;
    let mut buf = Vec::new();
    for e in examples {
        buf.extend_from_slice(e.case.as_bytes());
        buf.extend_from_slice(&e.at.as_second().to_le_bytes());
        for v in e.x {
            buf.extend_from_slice(&v.to_bits().to_le_bytes());
        }
        buf.push(u8::from(e.label));
    }
    hex::encode(sha2::Sha256::digest(&buf))
}

/// A product model ready to score.
#[derive(Debug)]
pub struct Scorer {
    /// The model file.
    pub model: ProductModel,
    trees: Option<Model>,
    cols: Vec<usize>,
}

impl Scorer {
    /// Checks the file and decodes its trees.
    pub fn new(model: ProductModel) -> Result<Scorer, ModelError> {
        if model.format != FORMAT {
            return Err(err("MODEL_FORMAT", format!("format {:?}; expected {FORMAT:?}", model.format)));
        }
        if model.features_version != features::VERSION {
            return Err(err(
                "MODEL_FEATURES",
                format!(
                    "the model was trained on features version {}; this Daylight computes version {}: train it again",
                    model.features_version,
                    features::VERSION
                ),
            ));
        }
        let cols = model
            .features
            .iter()
            .map(|n| {
                features::index(n).ok_or_else(|| err("MODEL_FEATURES", format!("unknown feature {n:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let trees = match &model.gbdt {
            Some(file) => Some(Model::from_file(file)?),
            None if model.kind == Kind::Contactability => None,
            None => return Err(err("MODEL_FORMAT", "a propensity model needs its trees")),
        };
        Ok(Scorer { model, trees, cols })
    }

    /// Reads a product model file.
    pub fn load(bytes: &[u8]) -> Result<Scorer, ModelError> {
        let model: ProductModel =
            serde_json::from_slice(bytes).map_err(|e| err("MODEL_FORMAT", format!("{FORMAT}: {e}")))?;
        Scorer::new(model)
    }

    /// The model's probability for each (debtor, time).
    pub fn score_many(&self, items: &[(&DebtorHistory, Timestamp)]) -> Result<Vec<f64>, ModelError> {
        match &self.trees {
            None => Ok(items.iter().map(|(h, t)| self.model.priors.debtor_rate(h, *t)).collect()),
            Some(trees) => {
                let mut x = Vec::with_capacity(items.len() * self.cols.len());
                for (h, t) in items {
                    let f = features::features(h, &self.model.priors, *t);
                    x.extend(self.cols.iter().map(|j| f[*j]));
                }
                trees.predict_dense(&x, items.len())
            }
        }
    }
}

/// One 15-minute slot a debtor may be called in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slot {
    /// Its start (the time scored and checked; now, for the slot under way).
    pub start: Timestamp,
    /// Its end.
    pub end: Timestamp,
    /// P(right-party connect).
    pub p_connect: f64,
}

/// A debtor's day: the allowed slots best first, and why the others are not allowed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestTimes {
    /// Allowed slots by P(connect), highest first (earlier first among equals).
    pub slots: Vec<Slot>,
    /// Slots the pack denies, by rule code (a slot counts under each rule it breaks).
    pub denied: BTreeMap<&'static str, usize>,
    /// Slots already over at `now`.
    pub past: usize,
}

/// Ranks `date`'s 15-minute slots (in the debtor's zone) for a call like `request` by
/// P(connect), keeping only those `pack` allows given `history` (what the gate would judge).
pub fn best_times(
    scorer: &Scorer,
    h: &DebtorHistory,
    pack: &daylight_compliance::Pack,
    request: &daylight_compliance::Request,
    history: &[daylight_compliance::Contact],
    date: Date,
    now: Timestamp,
) -> Result<BestTimes, ModelError> {
    let start = date
        .to_zoned(h.zone.clone())
        .map_err(|e| err("MODEL_PARAMS", format!("date {date}: {e}")))?
        .timestamp();
    let quarter = SignedDuration::from_mins(15);
    let mut candidates = Vec::new();
    let mut denied = BTreeMap::new();
    let mut past = 0;
    let mut t = start;
    while t.to_zoned(h.zone.clone()).date() == date {
        let end = t + quarter;
        if end <= now {
            past += 1;
        } else {
            let at = t.max(now);
            let mut req = request.clone();
            req.at = Some(at);
            let d = daylight_compliance::evaluate(pack, &req, history, at);
            if d.allowed {
                candidates.push((at, end));
            } else {
                for r in d.violations {
                    *denied.entry(r.code()).or_insert(0) += 1;
                }
            }
        }
        t = end;
    }
    let items: Vec<(&DebtorHistory, Timestamp)> = candidates.iter().map(|(at, _)| (h, *at)).collect();
    let p = scorer.score_many(&items)?;
    let mut slots: Vec<Slot> = candidates
        .iter()
        .zip(p)
        .map(|((start, end), p)| Slot { start: *start, end: *end, p_connect: p })
        .collect();
    slots.sort_by(|a, b| b.p_connect.total_cmp(&a.p_connect).then(a.start.cmp(&b.start)));
    Ok(BestTimes { slots, denied, past })
}
