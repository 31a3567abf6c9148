use std::process::Command;

#[allow(unused_imports)]
use crate::support::*;

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

#[test]
fn model_train_predict_and_eval() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(dir.path());
    let model = dir.path().join("m.json");
    let d = data.to_str().unwrap();
    let out = daylight(&[
        "model",
        "train",
        "--data",
        d,
        "--target",
        "bad",
        "--exclude",
        "id",
        "--params",
        "rounds=20,max_depth=3,eta=0.3,threads=1",
        "--seed",
        "7",
        "--out",
        model.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("AUC") && text.contains("KS") && text.contains("Gini"), "{text}");
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(file["format"], "daylight-gbdt/1");
    assert_eq!(file["training_data_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(file["features"].as_array().unwrap().len(), 3);
    assert_eq!(file["features"][1]["kind"], "categorical");
    assert_eq!(file["metrics"]["test_rows"], 80);
    // --json: the benchmark reads the boosting's own time, part of the whole run's.
    let out = daylight(&[
        "model",
        "train",
        "--data",
        d,
        "--target",
        "bad",
        "--exclude",
        "id",
        "--params",
        "rounds=20,max_depth=3,eta=0.3,threads=1",
        "--seed",
        "7",
        "--out",
        model.to_str().unwrap(),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (fit, whole) = (json["fit_seconds"].as_f64().unwrap(), json["seconds"].as_f64().unwrap());
    assert!(fit > 0.0 && fit <= whole, "{json}");
    assert_eq!(json["metrics"], file["metrics"], "the same seed gives the same held-out measures");

    let scores = daylight(&["model", "predict", "--model", model.to_str().unwrap(), "--data", d]);
    let scores = String::from_utf8(scores.stdout).unwrap();
    let lines: Vec<&str> = scores.lines().collect();
    assert_eq!(lines[0], "id,score");
    assert_eq!(lines.len(), 401);
    let p: f64 = lines[1].split(',').nth(1).unwrap().parse().unwrap();
    assert!((0.0..=1.0).contains(&p));

    let eval = daylight(&[
        "model",
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        d,
        "--target",
        "bad",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(v["rows"], 400);
    assert!(v["auc"].as_f64().unwrap() > 0.7, "{v}");

    // XGBoost and LightGBM models are told apart by content.
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../scoring/tests/fixtures");
    for m in ["xgb.json", "lgb.txt"] {
        let out = daylight(&[
            "model",
            "predict",
            "--model",
            &format!("{fixtures}/{m}"),
            "--data",
            &format!("{fixtures}/data.csv"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{m}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 401, "{m}");
    }

    let out = daylight(&[
        "model",
        "train",
        "--data",
        d,
        "--target",
        "bad",
        "--params",
        "depth=3",
        "--out",
        model.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[MODEL_PARAMS]"));
    let out = daylight(&["model", "predict", "--model", data.to_str().unwrap(), "--data", d]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[MODEL_FORMAT]"));
}

crate::both! {
    /// Models are registered as challengers and promoted to champion, in the ledger.
    fn the_registry_keeps_versions(db) {
        crate::support::expect(db, &["init"], 0);
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../scoring/tests/fixtures");
        let reg = |m: &str| crate::support::expect(db, &["model", "register", "--model", &format!("{fixtures}/{m}"), "--name", "propensity"], 0);
        assert!(reg("xgb.json").contains("propensity version 1 (xgboost, challenger)"));
        assert!(reg("lgb.txt").contains("propensity version 2 (lightgbm, challenger)"));
        crate::support::expect(db, &["model", "promote", "propensity", "2"], 0);
        let list: serde_json::Value = serde_json::from_str(&crate::support::expect(db, &["model", "list", "--json"], 0)).unwrap();
        let status: Vec<(i64, &str)> = list.as_array().unwrap().iter().map(|m| (m["version"].as_i64().unwrap(), m["status"].as_str().unwrap())).collect();
        assert_eq!(status, [(2, "champion"), (1, "challenger")]);
        let out = crate::support::daylight(db, &["model", "register", "--model", &format!("{fixtures}/data.csv"), "--name", "propensity"]);
        assert_eq!(out.status.code(), Some(2));
        let ledger = crate::support::expect(db, &["ledger", "list", "--json"], 0);
        assert_eq!(ledger.lines().filter(|l| l.contains("model.registered")).count(), 2);
        assert_eq!(ledger.lines().filter(|l| l.contains("model.promoted")).count(), 1);
        crate::support::expect(db, &["ledger", "verify"], 0);
    }
}

crate::both! {
    /// `model tune` searches, writes the best model, logs every trial and registers a challenger.
    fn tune_searches_and_registers_the_best(db) {
        expect(db, &["init"], 0);
        let dir = tempfile::tempdir().unwrap();
        let data = sample(dir.path());
        let (model, log) = (dir.path().join("best.json"), dir.path().join("trials.jsonl"));
        let out = expect(db, &[
            "model", "tune", "--data", data.to_str().unwrap(), "--target", "bad", "--exclude", "id",
            "--trials", "5", "--startup", "3", "--folds", "3", "--params", "threads=1",
            "--out", model.to_str().unwrap(), "--trials-out", log.to_str().unwrap(),
            "--register", "risk", "--json",
        ], 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let lines: Vec<serde_json::Value> =
            std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 5);
        let best = lines.iter().map(|t| t["auc"].as_f64().unwrap()).fold(f64::MIN, f64::max);
        assert_eq!(v["best"]["auc"].as_f64().unwrap(), best, "the best trial is reported");
        assert!(best > 0.6, "limit predicts the target: {best}");
        assert_eq!(lines.iter().filter(|t| t["sampler"] == "tpe").count(), 2);
        let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
        assert_eq!(file["format"], "daylight-gbdt/1");
        assert_eq!(file["params"]["max_depth"], v["best"]["params"]["max_depth"]);
        assert_eq!(v["registered"]["status"], "challenger");
        let list = expect(db, &["model", "list", "--name", "risk", "--json"], 0);
        assert!(list.contains("cv_auc"), "{list}");
        let bad = crate::support::daylight(db, &[
            "model", "tune", "--data", data.to_str().unwrap(), "--target", "bad", "--folds", "1",
            "--out", model.to_str().unwrap(),
        ]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("MODEL_PARAMS"));
    }
}

crate::both! {
    /// The product models on the database: rows to inspect, the shrinkage estimator registered
    /// and served as champion, best times within the pack, scores for open cases.
    fn product_models_learn_from_the_history_and_serve_best_times(db) {
        load_examples(db);
        let dir = tempfile::tempdir().unwrap();
        // Case C0005 answers in the morning and never in the afternoon, over four days.
        for day in 2..=5 {
            for (hour, outcome, secs) in [("09:30", "conversation", "90"), ("15:00", "no_answer", "0")] {
                let at = format!("2026-03-0{day}T{hour}:00+08:00");
                expect(db, &["contact", "record", "--case", "CASE-C0005", "--channel", "call", "--agent", "collector:E001",
                    "--outcome", outcome, "--duration", secs, "--at", &at], 0);
            }
        }
        let until = "2026-03-06T00:00:00+08:00";
        let rows = dir.path().join("rows.csv");
        let out = expect(db, &["model", "dataset", "--kind", "contactability", "--until", until, "--out", rows.to_str().unwrap()], 0);
        assert!(out.starts_with("8 contactability rows (4 positive)"), "{out}");
        let csv = std::fs::read_to_string(&rows).unwrap();
        assert!(csv.starts_with("case,at,hour,weekday,bucket,"), "{csv}");
        assert_eq!(csv.lines().count(), 9);
        // Too little history for trees: refused with the reason; the shrinkage estimator works.
        let model = dir.path().join("contact.json");
        let m = model.to_str().unwrap();
        let bad = crate::support::daylight(db, &["model", "fit", "--kind", "contactability", "--until", until, "--out", m]);
        assert_eq!(bad.status.code(), Some(2));
        let err = String::from_utf8_lossy(&bad.stderr);
        assert!(err.contains("MODEL_TRAIN") && err.contains("at least 200"), "{err}");
        let fit = expect(db, &["model", "fit", "--kind", "contactability", "--until", until, "--shrinkage-only",
            "--out", m, "--register", "contactability", "--json"], 0);
        let v: serde_json::Value = serde_json::from_str(&fit).unwrap();
        assert_eq!(v["registered"]["version"], 1);
        assert_eq!(v["metrics"]["examples"], 8);
        expect(db, &["model", "promote", "contactability", "1"], 0);
        // A working day: the morning beats the afternoon, nothing outside 08:00–20:00 (cn-default).
        let best = expect(db, &["model", "best-time", "--case", "CASE-C0005", "--date", "2026-03-10", "--as-of", until, "--top", "96", "--json"], 0);
        let b: serde_json::Value = serde_json::from_str(&best).unwrap();
        assert_eq!(b["model"], "contactability (champion)");
        assert_eq!(b["allowed_slots"], 48, "{best}");
        assert_eq!(b["denied"]["HOURS"], 48);
        let slots = b["slots"].as_array().unwrap();
        assert!(slots[0]["start"].as_str().unwrap().starts_with("2026-03-10T09:"), "{best}");
        let p = |prefix: &str| slots.iter().find(|s| s["start"].as_str().unwrap().starts_with(prefix)).unwrap()["p_connect"].as_f64().unwrap();
        assert!(p("2026-03-10T09:30") > p("2026-03-10T15:00"));
        // Labour Day: nothing is allowed.
        let text = expect(db, &["model", "best-time", "--case", "CASE-C0005", "--date", "2026-05-01", "--as-of", until], 0);
        assert!(text.contains("no slot is allowed that day") && text.contains("HOLIDAY"), "{text}");
        // Scores for every open case at a time.
        let scores = expect(db, &["model", "score", "--name", "contactability", "--at", "2026-03-10T09:30:00+08:00"], 0);
        assert!(scores.starts_with("case,score\n"));
        assert_eq!(scores.lines().count(), 1 + 11, "{scores}");
        // A propensity model needs trees.
        let bad = crate::support::daylight(db, &["model", "fit", "--kind", "propensity", "--shrinkage-only", "--out", m]);
        assert_eq!(bad.status.code(), Some(2));
        expect(db, &["ledger", "verify"], 0);
    }
}
