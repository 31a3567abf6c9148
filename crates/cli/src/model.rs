//! `daylight model`: scorecard statistics of a data file.

use std::path::Path;

use anyhow::{Context, Result, bail};
use daylight_scoring::{BinOptions, Column, FeatureBins, bin_feature};
use serde_json::json;

use crate::Outcome;
use crate::args::{IvArgs, ModelCommand};
use crate::output::Table;

pub async fn run(url: &daylight_store::DbUrl, actor: &str, command: ModelCommand) -> Result<Outcome> {
    match command {
        ModelCommand::Iv(a) => iv(&a)?,
        ModelCommand::Train(a) => train(&a)?,
        ModelCommand::Tune(a) => tune(url, actor, &a).await?,
        ModelCommand::Predict(a) => predict(&a)?,
        ModelCommand::Eval(a) => eval(&a)?,
        ModelCommand::BenchPredict(a) => bench_predict(&a)?,
        ModelCommand::Dataset(a) => crate::product::dataset(url, &a).await?,
        ModelCommand::Fit(a) => crate::product::fit(url, actor, &a).await?,
        ModelCommand::BestTime(a) => crate::product::best_time(url, &a).await?,
        ModelCommand::Score(a) => crate::product::score(url, &a).await?,
        ModelCommand::Register(a) => registry(url, actor, Registry::Register(a)).await?,
        ModelCommand::List(a) => registry(url, actor, Registry::List(a)).await?,
        ModelCommand::Promote(a) => registry(url, actor, Registry::Promote(a)).await?,
    }
    Ok(Outcome::Done)
}

/// A data file read into named columns, and the target.
pub struct Data {
    /// Feature columns, in file order.
    pub columns: Vec<(String, Column)>,
    /// The target: true = bad.
    pub target: Vec<bool>,
    /// The first column's name and cells as written (the row ids scores are written with).
    pub first: (String, Vec<String>),
}

/// Reads `path`: the target must be 0 or 1 on every row; a column is numeric when every
/// non-empty cell is a number, unless it is listed in `categorical`.
pub fn read_data(path: &Path, target: &str, categorical: &[String], exclude: &[String]) -> Result<Data> {
    read_table(path, Some(target), categorical, exclude)
}

impl crate::args::LabelledData {
    /// Reads the file with its target (see [`read_data`]).
    pub fn read(&self) -> Result<Data> {
        read_data(&self.data, &self.target, &self.categorical, &self.exclude)
    }
}

/// Reads `path` with or without a target column (without: every target is false).
pub fn read_table(
    path: &Path,
    target: Option<&str>,
    categorical: &[String],
    exclude: &[String],
) -> Result<Data> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(std::io::BufReader::new(file));
    let headers = reader.headers().with_context(|| format!("{}: no header row", path.display()))?.clone();
    let t = match target {
        Some(target) => match headers.iter().position(|h| h == target) {
            Some(t) => Some(t),
            None => bail!(
                "{}: no column {target:?}; the columns are {}",
                path.display(),
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        },
        None => None,
    };
    for name in categorical.iter().chain(exclude) {
        if !headers.iter().any(|h| h == name) {
            bail!("{}: no column {name:?} (named in --categorical or --exclude)", path.display());
        }
    }
    let keep: Vec<usize> =
        (0..headers.len()).filter(|i| Some(*i) != t && !exclude.iter().any(|e| e == &headers[*i])).collect();
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); keep.len()];
    let mut labels = Vec::new();
    let mut first = (headers.get(0).unwrap_or("row").to_owned(), Vec::new());
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: line {}", path.display(), n + 2))?;
        labels.push(match t.map(|t| record[t].trim()) {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => bail!(
                "{}:{}: column {:?}: {other:?}; expected 1 (bad) or 0 (good)",
                path.display(),
                n + 2,
                target.unwrap_or_default()
            ),
        });
        first.1.push(record.get(0).unwrap_or_default().to_owned());
        for (k, i) in keep.iter().enumerate() {
            cells[k].push(record[*i].trim().to_owned());
        }
    }
    if labels.is_empty() {
        bail!("{}: no rows", path.display());
    }
    let columns = keep
        .iter()
        .zip(cells)
        .map(|(i, values)| {
            let name = headers[*i].to_owned();
            let numeric = !categorical.contains(&name)
                && values.iter().all(|v| v.is_empty() || v.parse::<f64>().is_ok_and(f64::is_finite));
            let column = if numeric {
                Column::Numeric(values.iter().map(|v| v.parse::<f64>().ok()).collect())
            } else {
                Column::Text(values.into_iter().map(|v| (!v.is_empty()).then_some(v)).collect())
            };
            (name, column)
        })
        .collect();
    Ok(Data { columns, target: labels, first })
}

fn iv(a: &IvArgs) -> Result<()> {
    if !(0.0..0.5).contains(&a.min_share) {
        bail!("--min-share {}: expected at least 0 and below 0.5", a.min_share);
    }
    let data = a.input.read()?;
    let opts = BinOptions {
        method: a.method,
        max_bins: usize::from(a.bins),
        min_share: a.min_share,
        ..BinOptions::default()
    };
    let mut features: Vec<FeatureBins> =
        data.columns.iter().map(|(name, col)| bin_feature(name, col, &data.target, &opts)).collect();
    features.sort_by(|x, y| y.iv.total_cmp(&x.iv));
    if a.json {
        println!("{}", serde_json::to_string_pretty(&json!({"features": features}))?);
        return Ok(());
    }
    let bads = data.target.iter().filter(|t| **t).count();
    println!(
        "{} rows, {} bad ({:.2} %), {} features\n",
        data.target.len(),
        bads,
        100.0 * bads as f64 / data.target.len() as f64,
        features.len()
    );
    let mut t = Table::new(&["feature", ">IV", "strength", "binning", ">bins"]);
    for f in &features {
        t.row(vec![
            f.name.clone(),
            format!("{:.4}", f.iv),
            strength(f.iv).to_owned(),
            f.binning.to_owned(),
            f.bins.len().to_string(),
        ]);
    }
    print!("{}", t.render());
    for f in &features {
        println!("\n{} (IV {:.4}, {})", f.name, f.iv, f.binning);
        let mut t = Table::new(&["bin", ">good", ">bad", ">bad rate", ">WoE", ">IV"]);
        for b in &f.bins {
            t.row(vec![
                b.label.clone(),
                b.good.to_string(),
                b.bad.to_string(),
                format!("{:.2} %", 100.0 * b.bad as f64 / (b.good + b.bad).max(1) as f64),
                format!("{:.4}", b.woe),
                format!("{:.4}", b.iv),
            ]);
        }
        print!("{}", t.render());
    }
    Ok(())
}

/// The usual reading of an IV.
fn strength(iv: f64) -> &'static str {
    match iv {
        x if x < 0.02 => "useless",
        x if x < 0.1 => "weak",
        x if x < 0.3 => "medium",
        x if x < 0.5 => "strong",
        _ => "suspicious (check for leakage)",
    }
}

fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest as _;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(sha2::Sha256::digest(&bytes)))
}

fn train(a: &crate::args::TrainArgs) -> Result<()> {
    let params = daylight_scoring::gbdt::Params::default().apply(&a.params)?;
    let data = a.input.read()?;
    let holdout = match &a.holdout {
        Some(p) => Some(read_data(p, &a.input.target, &a.input.categorical, &a.input.exclude)?),
        None => None,
    };
    let started = crate::commands::stopwatch();
    let prepared = daylight_scoring::gbdt::prepare(daylight_scoring::gbdt::TrainInput {
        target: &a.input.target,
        columns: &data.columns,
        labels: &data.target,
        params,
        seed: a.seed,
        created_at: crate::now().to_string(),
        training_data_sha256: sha256_file(&a.input.data)?,
        holdout: holdout.as_ref().map(|h| (h.columns.as_slice(), h.target.as_slice())),
    })?;
    let boosting = crate::commands::stopwatch();
    let model = prepared.fit()?;
    let fit_secs = boosting.elapsed().as_secs_f64();
    let (file, _) = prepared.finish(model)?;
    let secs = started.elapsed().as_secs_f64();
    let text = serde_json::to_string_pretty(&file)?;
    std::fs::write(&a.out, text).with_context(|| format!("cannot write {}", a.out.display()))?;
    let m = &file.metrics;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"model": a.out, "metrics": m, "seconds": secs, "fit_seconds": fit_secs})
            )?
        );
    } else {
        println!(
            "trained {} rounds on {} rows, {} features in {secs:.2} s ({fit_secs:.2} s boosting); held out {} rows\nAUC  {:.4}\nKS   {:.4}\nGini {:.4}\nmodel written to {}",
            file.params.rounds,
            m.train_rows,
            file.features.len(),
            m.test_rows,
            m.auc,
            m.ks,
            m.gini,
            a.out.display()
        );
    }
    Ok(())
}

async fn tune(url: &daylight_store::DbUrl, actor: &str, a: &crate::args::TuneArgs) -> Result<()> {
    use daylight_scoring::tune;
    let base = daylight_scoring::gbdt::Params::default().apply(&a.params)?;
    let data = a.input.read()?;
    let started = crate::commands::stopwatch();
    let mut log = match &a.trials_out {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => None,
    };
    let mut best_so_far = f64::NEG_INFINITY;
    let mut io_error = None;
    let trials = tune::tune(
        &tune::TuneInput {
            columns: &data.columns,
            labels: &data.target,
            base,
            trials: a.trials,
            startup: a.startup,
            folds: a.folds,
            seed: a.seed,
        },
        |t| {
            best_so_far = best_so_far.max(t.auc);
            let values: Vec<String> = t.values.iter().map(|(k, v)| format!("{k}={}", short(*v))).collect();
            eprintln!(
                "trial {:>3} ({:<6}) CV AUC {:.4}  best {:.4}  {}",
                t.number,
                t.sampler,
                t.auc,
                best_so_far,
                values.join(" ")
            );
            if let Some(w) = log.as_mut() {
                use std::io::Write as _;
                let line = serde_json::to_string(t).map_err(std::io::Error::other);
                if let Err(e) = line.and_then(|l| writeln!(w, "{l}")) {
                    io_error.get_or_insert(e);
                }
            }
        },
    )?;
    if let Some(e) = io_error {
        return Err(e).context("cannot write the trials");
    }
    if let Some(mut w) = log {
        use std::io::Write as _;
        w.flush().context("cannot write the trials")?;
    }
    let best = tune::best(&trials).context("no trial ran")?;
    let (file, _) = daylight_scoring::gbdt::train(daylight_scoring::gbdt::TrainInput {
        target: &a.input.target,
        columns: &data.columns,
        labels: &data.target,
        params: best.params.clone(),
        seed: a.seed,
        created_at: crate::now().to_string(),
        training_data_sha256: sha256_file(&a.input.data)?,
        holdout: None,
    })?;
    let secs = started.elapsed().as_secs_f64();
    let text = serde_json::to_string_pretty(&file)?;
    std::fs::write(&a.out, &text).with_context(|| format!("cannot write {}", a.out.display()))?;
    let registered = match &a.register {
        Some(name) => {
            let store = crate::open(url, false).await?;
            let new = daylight_store::model::NewModel {
                name: name.clone(),
                source: "daylight".to_owned(),
                metrics: serde_json::to_string(&json!({
                    "cv_auc": best.auc, "folds": a.folds, "trials": trials.len(), "holdout": file.metrics,
                }))?,
                document: text,
            };
            let v = store.register_model(&new, actor, crate::now()).await;
            store.close().await;
            Some(v?)
        }
        None => None,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "best": best, "model": a.out, "holdout": file.metrics, "seconds": secs,
                "registered": registered,
            }))?
        );
    } else {
        let values: Vec<String> = best.values.iter().map(|(k, v)| format!("{k}={}", short(*v))).collect();
        println!(
            "{} trials, {} folds in {secs:.1} s\nbest: trial {} CV AUC {:.4} ({})\nheld-out AUC {:.4}  KS {:.4}  Gini {:.4}\nmodel written to {}",
            trials.len(),
            a.folds,
            best.number,
            best.auc,
            values.join(", "),
            file.metrics.auc,
            file.metrics.ks,
            file.metrics.gini,
            a.out.display()
        );
        if let Some(v) = registered {
            println!(
                "registered {} version {} (challenger); promote it with `daylight model promote {} {}`",
                v.name, v.version, v.name, v.version
            );
        }
    }
    Ok(())
}

/// A parameter value as people write it: whole numbers without decimals, others to 4 digits.
fn short(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.4}") }
}

/// Loads a model file of any kind; imported models without feature names read the data's
/// columns after the first.
fn load_model(path: &Path, data: &Data) -> Result<daylight_scoring::gbdt::Model> {
    let positional: Vec<String> = data.columns.iter().skip(1).map(|(n, _)| n.clone()).collect();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (model, _, _) = daylight_scoring::gbdt::load(&bytes, &positional)
        .with_context(|| format!("model {}", path.display()))?;
    Ok(model)
}

fn predict(a: &crate::args::PredictArgs) -> Result<()> {
    let data = read_table(&a.data, None, &[], &[])?;
    let model = load_model(&a.model, &data)?;
    let scores = model.predict(&data.columns, data.target.len())?;
    let (id, ids) = &data.first;
    let out: Box<dyn std::io::Write> = match &a.out {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(out));
    w.write_record([id.as_str(), "score"])?;
    for (i, s) in ids.iter().zip(&scores) {
        w.write_record([i.as_str(), &format!("{s}")])?;
    }
    w.flush()?;
    if let Some(p) = &a.out {
        eprintln!("{} rows scored into {}", scores.len(), p.display());
    }
    Ok(())
}

fn eval(a: &crate::args::EvalArgs) -> Result<()> {
    let data = read_data(&a.data, &a.target, &[], &[])?;
    let model = load_model(&a.model, &data)?;
    let scores = model.predict(&data.columns, data.target.len())?;
    let auc = daylight_scoring::auc(&scores, &data.target).context("the target has only one class")?;
    let ks = daylight_scoring::ks(&scores, &data.target).unwrap_or(0.0);
    if a.json {
        println!("{}", json!({"rows": scores.len(), "auc": auc, "ks": ks, "gini": 2.0 * auc - 1.0}));
    } else {
        println!("{} rows\nAUC  {auc:.4}\nKS   {ks:.4}\nGini {:.4}", scores.len(), 2.0 * auc - 1.0);
    }
    Ok(())
}

fn bench_predict(a: &crate::args::BenchPredictArgs) -> Result<()> {
    let data = read_table(&a.data, None, &[], &[])?;
    let model = load_model(&a.model, &data)?;
    let n = data.target.len();
    let one = model.encode(&data.columns, n)?;
    let width = model.features.len();
    let rows = a.rows.max(1);
    let mut x = Vec::with_capacity(rows * width);
    while x.len() < rows * width {
        let need = (rows * width - x.len()).min(one.len());
        x.extend_from_slice(&one[..need]);
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut results = Vec::new();
    for threads in [1, cores] {
        model.predict_dense_on(&x[..width * rows.min(1000)], rows.min(1000), threads)?; // warm up
        let started = crate::commands::stopwatch();
        let scores = model.predict_dense_on(&x, rows, threads)?;
        let secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(scores.len() == rows, "scored {} of {rows} rows", scores.len());
        results.push((threads, rows as f64 / secs, secs));
    }
    if a.json {
        let v: Vec<_> =
            results.iter().map(|(t, r, s)| json!({"threads": t, "rows_per_s": r, "seconds": s})).collect();
        println!("{}", serde_json::to_string_pretty(&json!({"rows": rows, "runs": v}))?);
    } else {
        for (t, r, s) in &results {
            println!("{t} thread(s): {rows} rows in {s:.3} s, {r:.0} rows/s");
        }
        println!("{:.0} rows/s", results[0].1);
    }
    Ok(())
}

enum Registry {
    Register(crate::args::RegisterArgs),
    List(crate::args::ModelListArgs),
    Promote(crate::args::PromoteArgs),
}

async fn registry(url: &daylight_store::DbUrl, actor: &str, what: Registry) -> Result<()> {
    let store = crate::open(url, false).await?;
    let result = registry_in(&*store, actor, what).await;
    store.close().await;
    result
}

async fn registry_in(store: &dyn daylight_store::Store, actor: &str, what: Registry) -> Result<()> {
    match what {
        Registry::Register(a) => {
            let bytes =
                std::fs::read(&a.model).with_context(|| format!("cannot read {}", a.model.display()))?;
            let is_product = serde_json::from_slice::<serde_json::Value>(&bytes)
                .is_ok_and(|v| v["format"] == daylight_scoring::product::FORMAT);
            let (source, metrics) = if is_product {
                let scorer = daylight_scoring::product::Scorer::load(&bytes)
                    .with_context(|| format!("model {}", a.model.display()))?;
                (
                    daylight_scoring::gbdt::Source::Daylight,
                    crate::product::product_metrics(&scorer.model).to_string(),
                )
            } else {
                let (_, source, file) = daylight_scoring::gbdt::load(&bytes, &[])
                    .with_context(|| format!("model {}", a.model.display()))?;
                let metrics = match &file {
                    Some(f) => serde_json::to_string(&f.metrics)?,
                    None => "{}".to_owned(),
                };
                (source, metrics)
            };
            let document = String::from_utf8(bytes).context("a model file is text")?;
            let new = daylight_store::model::NewModel {
                name: a.name.clone(),
                source: source.as_str().to_owned(),
                metrics,
                document,
            };
            let v = store.register_model(&new, actor, crate::now()).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "registered {} version {} ({}, challenger); promote it with `daylight model promote {} {}`",
                    v.name, v.version, v.source, v.name, v.version
                );
            }
        }
        Registry::List(a) => {
            let list = store.list_models(a.name.as_deref()).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                let mut t =
                    Table::new(&["name", ">version", "status", "source", "metrics", "registered", "by"]);
                for m in &list {
                    t.row(vec![
                        m.name.clone(),
                        m.version.to_string(),
                        m.status.clone(),
                        m.source.clone(),
                        m.metrics.clone(),
                        m.created_at.to_string(),
                        m.created_by.clone(),
                    ]);
                }
                print!("{}", t.render());
            }
        }
        Registry::Promote(a) => {
            let v = store.promote_model(&a.name, a.version, actor, crate::now()).await?;
            println!("{} version {} is the champion; the change is in the ledger", v.name, v.version);
        }
    }
    Ok(())
}
