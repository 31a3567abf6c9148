//! `daylight simulate`: the digital twin, in memory and through a database.

use crate::support::*;

fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_daylight")).args(args).output().unwrap()
}

/// The same seed gives the same output, with no violations; the JSON says it is simulated and
/// holds the summary's rates and one entry per day.
#[test]
fn a_seeded_run_repeats_itself_and_breaks_no_rule() {
    let args = ["simulate", "--accounts", "1500", "--days", "4", "--seed", "7", "--json"];
    let first = run(&args);
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(first.stdout, run(&args).stdout);
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(v["simulated"], true);
    let s = &v["summary"];
    for key in
        ["contact_rate", "rpc_rate", "ptp_rate", "kept_rate", "recovery_rate", "complaints_per_10k", "cost"]
    {
        assert!(s[key].as_f64().is_some_and(|x| x >= 0.0), "{key}: {s}");
    }
    assert_eq!(s["violations"], 0);
    assert_eq!(v["days"].as_array().unwrap().len(), 4);
    assert_eq!(v["days"][0]["date"], "2026-03-02");
    let other = run(&["simulate", "--accounts", "1500", "--days", "4", "--seed", "8", "--json"]);
    assert_ne!(other.stdout, first.stdout);
}

/// The table labels its numbers as simulated; a bad strategy file is refused with its place.
#[test]
fn the_table_says_simulated_and_a_bad_strategy_is_refused() {
    let out = run(&["simulate", "--accounts", "800", "--days", "2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("SIMULATED") && text.contains("contact rate") && text.contains("violations"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("s.toml");
    std::fs::write(&bad, daylight_strategy_baseline().replace("models = false", "models = maybe")).unwrap();
    let out = run(&["simulate", "--accounts", "100", "--days", "1", "--strategy", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("error[STRATEGY_TOML]") && err.contains("strategy:7"), "{err}");
}

/// With arms, the JSON holds each arm's rates with intervals and the uplift over the first arm.
#[test]
fn an_experiment_reports_each_arm_with_its_interval() {
    let out = run(&[
        "simulate",
        "--accounts",
        "1500",
        "--days",
        "3",
        "--arms",
        "champion:45,challenger:45,holdout:10",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arms = v["arms"].as_object().unwrap();
    assert_eq!(arms.len(), 3);
    let c = &arms["challenger"];
    assert!(c["contact_rate"]["low"].as_f64().unwrap() <= c["contact_rate"]["rate"].as_f64().unwrap());
    assert!(c["contact_uplift"]["difference"].is_number());
    assert!(arms["champion"]["contact_uplift"].is_null());
    // Recovery per arm with its interval, and against the first arm.
    let r = &c["recovery"];
    assert!(
        r["low"].as_f64().unwrap() <= r["rate"].as_f64().unwrap()
            && r["rate"].as_f64().unwrap() <= r["high"].as_f64().unwrap(),
        "{r}"
    );
    assert!(c["recovery_uplift"]["difference"].is_number() && arms["champion"]["recovery_uplift"].is_null());
    assert!(v["days"][0]["arms"]["holdout"]["open"].as_u64().unwrap() > 0);
    let bad = run(&[
        "simulate",
        "--accounts",
        "100",
        "--days",
        "1",
        "--arms",
        "a:1,b:1",
        "--arm-strategy",
        "c=x.toml",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

/// The HTML report holds the three charts as SVG, one line per arm, and says it is simulated.
#[test]
fn the_report_draws_its_charts_in_svg() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let out = run(&[
        "simulate",
        "--accounts",
        "1200",
        "--days",
        "3",
        "--arms",
        "champion:50,challenger:50",
        "--report",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&path).unwrap();
    assert_eq!((html.matches("<svg").count(), html.matches("</svg>").count()), (3, 3));
    // Two arms: two lines in each of the two line charts; the bucket flow is stacked bars.
    assert_eq!(html.matches("<polyline").count(), 4);
    assert!(html.matches("<rect").count() > 3);
    assert!(html.contains("SIMULATED") && html.contains("challenger") && html.contains("可联率"));
    // It leads with recovery and cost: the headline comes before the summary, per arm.
    let headline = html.find("结论 Headline").expect("a headline");
    assert!(headline < html.find("汇总 Summary").unwrap());
    assert!(
        html.contains("回收最高 Recovered most")
            && html.contains("challenger 对 vs champion：回收率 recovery"),
        "{html}"
    );
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
}

crate::both! {
    /// Through a database the run is the same as in memory: the population is imported, each
    /// day is planned from the store, and every contact passes the store's gate (none denied
    /// that the twin allowed); notes, promises, payments and plans are stored, the ledger
    /// holds, and a database that already holds customers is refused.
    fn a_run_through_a_database_is_the_run_in_memory(db) {
        let args = ["simulate", "--accounts", "1200", "--days", "5", "--json"];
        let memory: serde_json::Value = serde_json::from_slice(&run(&args).stdout).unwrap();
        let stored: serde_json::Value = serde_json::from_str(&expect(db, &args, 0)).unwrap();
        assert_eq!(stored["summary"], memory["summary"]);
        assert_eq!(stored["days"], memory["days"]);
        let st = &stored["stored"];
        assert_eq!(st["gate_disagreements"], 0, "{st}");
        assert_eq!(st["plans"], 5);
        let contacts = memory["summary"]["contacts"].as_u64().unwrap();
        assert!(contacts > 500, "{contacts}");
        assert_eq!(st["attempts"].as_u64(), Some(contacts), "{st}");
        assert!(st["notes"].as_u64().unwrap() > 50 && st["promises"].as_u64().unwrap() > 10, "{st}");
        assert!(st["payments"].as_u64().unwrap() > 0, "{st}");
        let legal: u64 = memory["days"].as_array().unwrap().iter().map(|d| d["legal"].as_u64().unwrap()).sum();
        assert!(legal > 0 && st["legal"].as_u64() == Some(legal), "{st}");
        let cases = expect(db, &["cases", "list", "--status", "legal", "--limit", "1000", "--json"], 0);
        assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&cases).unwrap().len() as u64, legal);
        let tables: std::collections::BTreeMap<String, i64> =
            serde_json::from_value(stats(db)["tables"].clone()).unwrap();
        assert_eq!(tables["customers"], 1200);
        assert_eq!(tables["attempts"] as u64, contacts);
        assert_eq!(tables["notes"], st["notes"].as_i64().unwrap());
        assert_eq!(tables["promises"], st["promises"].as_i64().unwrap());
        assert!(expect(db, &["ledger", "verify"], 0).contains("ledger intact"));
        let plans = expect(db, &["plan", "--date", "2026-03-04", "--replay"], 0);
        assert!(plans.contains("identical"), "{plans}");
        let again = daylight(db, &["simulate", "--accounts", "100", "--days", "1"]);
        let err = String::from_utf8_lossy(&again.stderr);
        assert_eq!(again.status.code(), Some(2), "{err}");
        assert!(err.contains("error[SIM_DB_NOT_EMPTY]") && err.contains("holds 1200"), "{err}");
    }

    /// A stored experiment's arms and salt drive the run (`--experiment NAME` with `--db`).
    fn a_stored_experiment_drives_the_run(db) {
        expect(db, &["init"], 0);
        expect(db, &["experiment", "create", "--name", "rehearsal", "--arms", "champion:50,challenger:50", "--salt", "s1"], 0);
        let out: serde_json::Value = serde_json::from_str(&expect(
            db,
            &["simulate", "--accounts", "800", "--days", "2", "--experiment", "rehearsal", "--json"],
            0,
        ))
        .unwrap();
        let arms: Vec<&String> = out["arms"].as_object().unwrap().keys().collect();
        assert_eq!(arms, ["challenger", "champion"]);
        let memory = run(&["simulate", "--accounts", "800", "--days", "2", "--arms", "champion:50,challenger:50", "--salt", "s1", "--json"]);
        let memory: serde_json::Value = serde_json::from_slice(&memory.stdout).unwrap();
        assert_eq!(out["arms"], memory["arms"]);
    }
}

/// `--experiment` names a stored experiment, so it needs a database.
#[test]
fn a_stored_experiment_needs_a_database() {
    let out = run(&["simulate", "--accounts", "100", "--days", "1", "--experiment", "x"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("give --db URL"), "{err}");
}

fn daylight_strategy_baseline() -> String {
    String::from_utf8(run(&["strategy", "baseline"]).stdout).unwrap()
}
