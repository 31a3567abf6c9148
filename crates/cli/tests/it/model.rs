use std::process::Command;

fn daylight(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_daylight")).args(args).output().expect("run daylight")
}

/// A generated file: an id, a numeric feature that predicts the target, a text feature with a
/// missing cell, and a number-coded category.
fn sample(dir: &std::path::Path) -> std::path::PathBuf {
    let mut csv = String::from("id,limit,job,region,bad\n");
    for i in 0..400u32 {
        let bad = u32::from(i % 5 == 0 || (i > 300 && i % 2 == 0));
        let job = match i % 4 {
            0 => "工薪",
            1 => "个体户",
            2 => "",
            _ => "退休",
        };
        csv.push_str(&format!("{i},{},{job},{},{bad}\n", i * 100, 100 + i % 3));
    }
    let path = dir.join("sample.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn model_iv_ranks_features_with_their_bins() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(dir.path());
    let out = daylight(&[
        "model",
        "iv",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "bad",
        "--exclude",
        "id",
        "--categorical",
        "region",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let features = v["features"].as_array().unwrap();
    let names: Vec<&str> = features.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names[0], "limit", "the predictive feature first: {names:?}");
    assert_eq!(features.len(), 3);
    let ivs: Vec<f64> = features.iter().map(|f| f["iv"].as_f64().unwrap()).collect();
    assert!(ivs.windows(2).all(|w| w[0] >= w[1]));
    let job = features.iter().find(|f| f["name"] == "job").unwrap();
    assert_eq!(job["binning"], "categorical");
    assert!(
        job["bins"].as_array().unwrap().iter().any(
            |b| b["kind"] == "missing" && b["good"].as_u64().unwrap() + b["bad"].as_u64().unwrap() == 100
        )
    );
    let region = features.iter().find(|f| f["name"] == "region").unwrap();
    assert_eq!(region["binning"], "categorical");
    let limit = &features[0];
    let sum: f64 = limit["bins"].as_array().unwrap().iter().map(|b| b["iv"].as_f64().unwrap()).sum();
    assert!((sum - limit["iv"].as_f64().unwrap()).abs() < 1e-12);

    let text = daylight(&[
        "model",
        "iv",
        "--data",
        data.to_str().unwrap(),
        "--target",
        "bad",
        "--method",
        "monotonic",
    ]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("400 rows, ") && text.contains("WoE") && text.contains("monotonic"), "{text}");
}

#[test]
fn model_iv_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(dir.path());
    let out = daylight(&["model", "iv", "--data", data.to_str().unwrap(), "--target", "job"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sample.csv:2: column \"job\"") && err.contains("expected 1 (bad) or 0 (good)"),
        "{err}"
    );
    let out = daylight(&["model", "iv", "--data", data.to_str().unwrap(), "--target", "nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column \"nope\""));
}
