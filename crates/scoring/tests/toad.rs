//! IV equal to toad's (0.1.7, with scikit-learn 1.9) on the UCI credit-card data and on a
//! categorical sample. The expected numbers come from `bench/check_iv.py`, which runs toad.
#![allow(missing_docs)]

use std::path::PathBuf;

use daylight_scoring::{BinOptions, Column, bin_feature};

/// `../shared/data/uci_credit_card_default.csv`, found from `DAYLIGHT_DATA_DIR`, next to the
/// repository, or at the project machine's shared folder. Under `CI=true` it must be there.
fn uci() -> Option<PathBuf> {
    let mut places: Vec<PathBuf> = Vec::new();
    if let Ok(dir) = std::env::var("DAYLIGHT_DATA_DIR") {
        places.push(PathBuf::from(dir));
    }
    places.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    places.push(PathBuf::from("/work/shared/data"));
    let found = places.into_iter().map(|p| p.join("uci_credit_card_default.csv")).find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "uci_credit_card_default.csv not found: set DAYLIGHT_DATA_DIR (CI must not skip this)"
        );
        eprintln!("skipped: uci_credit_card_default.csv not found (set DAYLIGHT_DATA_DIR)");
    }
    found
}

/// toad.stats.IV(df[c], df["Y"]) for each column.
const TOAD_IV: [(&str, f64); 23] = [
    ("X1", 0.18352180104876048),
    ("X2", 0.009179578460677327),
    ("X3", 0.03829513275268457),
    ("X4", 0.007234911824404286),
    ("X5", 0.024609749365051854),
    ("X6", 0.8771486115554279),
    ("X7", 0.5489520243865186),
    ("X8", 0.41604520842138026),
    ("X9", 0.3672651876803823),
    ("X10", 0.34032940326519634),
    ("X11", 0.29381407667760434),
    ("X12", 0.02359731298130752),
    ("X13", 0.02920803562667961),
    ("X14", 0.019943173044019134),
    ("X15", 0.045962046944704876),
    ("X16", 0.0479688762015221),
    ("X17", 0.02718576880866391),
    ("X18", 0.19355328111787676),
    ("X19", 0.17361939153245784),
    ("X20", 0.1393720988840317),
    ("X21", 0.12030146230173813),
    ("X22", 0.10177283065756859),
    ("X23", 0.10407365490173062),
];

#[test]
fn iv_on_the_uci_data_equals_toads() {
    let Some(path) = uci() else { return };
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let target: Vec<bool> = rows.iter().map(|r| &r[col("Y")] == "1").collect();
    for (name, want) in TOAD_IV {
        let values =
            Column::Numeric(rows.iter().map(|r| Some(r[col(name)].parse::<f64>().unwrap())).collect());
        let f = bin_feature(name, &values, &target, &BinOptions::default());
        assert!(
            (f.iv - want).abs() < 1e-12,
            "{name}: ours {} toad {want} ({} bins, {})",
            f.iv,
            f.bins.len(),
            f.binning
        );
    }
}

#[test]
fn iv_on_a_categorical_sample_equals_toads() {
    // Occupation × default, with an empty cell (no bads among students): toad counts it as one.
    let mut values = Vec::new();
    let mut target = Vec::new();
    for (cat, good, bad) in
        [("个体户", 120, 40), ("学生", 30, 0), ("工薪", 600, 90), ("自由职业", 80, 35), ("退休", 50, 5)]
    {
        for i in 0..good + bad {
            values.push(Some(cat.to_owned()));
            target.push(i < bad);
        }
    }
    let f = bin_feature("job", &Column::Text(values), &target, &BinOptions::default());
    // toad.stats.IV(pd.Series(values), pd.Series(target)) — see bench/check_iv.py.
    assert!((f.iv - TOAD_CATEGORICAL_IV).abs() < 1e-12, "ours {} toad {TOAD_CATEGORICAL_IV}", f.iv);
}

const TOAD_CATEGORICAL_IV: f64 = 0.2541208743997223;
