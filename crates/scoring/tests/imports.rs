//! XGBoost JSON and LightGBM text models, trained in Python (`fixtures/make_fixtures.py`), scored
//! as their own libraries score them: within 1e-6 in probability, missing values included.
#![allow(missing_docs)]

use daylight_scoring::Column;
use daylight_scoring::gbdt::{Source, load};

const DATA: &str = include_str!("fixtures/data.csv");
const EXPECTED: &str = include_str!("fixtures/expected.csv");

fn columns() -> (Vec<(String, Column)>, usize) {
    let mut reader = csv::Reader::from_reader(DATA.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cols = ["limit", "dpd", "util"]
        .iter()
        .map(|name| {
            let i = headers.iter().position(|h| h == *name).unwrap();
            (name.to_string(), Column::Numeric(rows.iter().map(|r| r[i].parse::<f64>().ok()).collect()))
        })
        .collect();
    (cols, rows.len())
}

fn expected(which: &str) -> Vec<f64> {
    let mut reader = csv::Reader::from_reader(EXPECTED.as_bytes());
    let i = reader.headers().unwrap().iter().position(|h| h == which).unwrap();
    reader.records().map(|r| r.unwrap()[i].parse().unwrap()).collect()
}

fn check(bytes: &[u8], source: Source, which: &str) {
    let (cols, rows) = columns();
    let (model, got, _) = load(bytes, &[]).unwrap();
    assert_eq!(got, source);
    assert_eq!(model.features.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["limit", "dpd", "util"]);
    let ours = model.predict(&cols, rows).unwrap();
    let theirs = expected(which);
    assert!(
        cols.iter()
            .any(|(n, c)| n == "util" && matches!(c, Column::Numeric(v) if v.iter().any(Option::is_none)))
    );
    let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-6, "{which}: largest difference {worst:e}");
}

#[test]
fn xgboost_json_scores_as_xgboost() {
    check(include_bytes!("fixtures/xgb.json"), Source::Xgboost, "xgboost");
}

#[test]
fn lightgbm_text_scores_as_lightgbm() {
    check(include_bytes!("fixtures/lgb.txt"), Source::Lightgbm, "lightgbm");
}
