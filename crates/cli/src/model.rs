//! `daylight model`: scorecard statistics of a data file.

use std::path::Path;

use anyhow::{Context, Result, bail};
use daylight_scoring::{BinOptions, Column, FeatureBins, bin_feature};
use serde_json::json;

use crate::Outcome;
use crate::args::{IvArgs, ModelCommand};
use crate::output::Table;

pub fn run(command: ModelCommand) -> Result<Outcome> {
    match command {
        ModelCommand::Iv(a) => iv(&a).map(|()| Outcome::Done),
    }
}

/// A data file read into named columns, and the target.
pub struct Data {
    /// Feature columns, in file order.
    pub columns: Vec<(String, Column)>,
    /// The target: true = bad.
    pub target: Vec<bool>,
}

/// Reads `path`: the target must be 0 or 1 on every row; a column is numeric when every
/// non-empty cell is a number, unless it is listed in `categorical`.
pub fn read_data(path: &Path, target: &str, categorical: &[String], exclude: &[String]) -> Result<Data> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(std::io::BufReader::new(file));
    let headers = reader.headers().with_context(|| format!("{}: no header row", path.display()))?.clone();
    let Some(t) = headers.iter().position(|h| h == target) else {
        bail!(
            "{}: no column {target:?}; the columns are {}",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    for name in categorical.iter().chain(exclude) {
        if !headers.iter().any(|h| h == name) {
            bail!("{}: no column {name:?} (named in --categorical or --exclude)", path.display());
        }
    }
    let keep: Vec<usize> =
        (0..headers.len()).filter(|i| *i != t && !exclude.iter().any(|e| e == &headers[*i])).collect();
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); keep.len()];
    let mut labels = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: line {}", path.display(), n + 2))?;
        labels.push(match record[t].trim() {
            "1" => true,
            "0" => false,
            other => bail!(
                "{}:{}: column {target:?}: {other:?}; expected 1 (bad) or 0 (good)",
                path.display(),
                n + 2
            ),
        });
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
    Ok(Data { columns, target: labels })
}

fn iv(a: &IvArgs) -> Result<()> {
    if !(0.0..0.5).contains(&a.min_share) {
        bail!("--min-share {}: expected at least 0 and below 0.5", a.min_share);
    }
    let data = read_data(&a.data, &a.target, &a.categorical, &a.exclude)?;
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
