//! `daylight experiment`: create, assign (stable), size, list.

use crate::support::{TestDb, daylight, expect};

fn assign(db: &TestDb, ids: &std::path::Path) -> String {
    expect(db, &["experiment", "assign", "--name", "timing", "--ids", ids.to_str().unwrap()], 0)
}

crate::both! {
    /// An experiment is stored once; every customer's arm is the same on every run.
    fn experiments_assign_customers_stably(db) {
        expect(db, &["init"], 0);
        let out = expect(db, &["experiment", "create", "--name", "timing", "--arms", "champion:45,challenger:45,holdout:10", "--salt", "daylight-2026"], 0);
        assert!(out.contains("champion 45.0 %, challenger 45.0 %, holdout 10.0 %"), "{out}");
        let dir = tempfile::tempdir().unwrap();
        let ids = dir.path().join("ids.csv");
        std::fs::write(&ids, "id\nC0001\nC0008\nC0037\n\n客户甲,extra\n").unwrap();
        let first = assign(db, &ids);
        // The arms follow SHA-256 of salt ‖ 0 ‖ id, checked against Python's hashlib.
        assert_eq!(first, "id,arm\nC0001,challenger\nC0008,champion\nC0037,holdout\n客户甲,champion\n");
        assert_eq!(assign(db, &ids), first);

        // The arms and salt never change.
        let out = daylight(db, &["experiment", "create", "--name", "timing", "--arms", "a:1,b:1"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("error[EXISTS]"));
        assert_eq!(assign(db, &ids), first);
        let out = daylight(db, &["experiment", "create", "--name", "x", "--arms", "champion:45"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("error[EXPERIMENT_ARMS]"));
        let out = daylight(db, &["experiment", "assign", "--name", "nope", "--ids", ids.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("error[NOT_FOUND]"));

        let list: serde_json::Value = serde_json::from_str(&expect(db, &["experiment", "list", "--json"], 0)).unwrap();
        assert_eq!(list[0]["salt"], "daylight-2026");
        let ledger = expect(db, &["ledger", "list", "--json"], 0);
        assert_eq!(ledger.lines().filter(|l| l.contains("experiment.created")).count(), 1);
    }
}

#[test]
fn experiment_size_explains_itself() {
    let bin = env!("CARGO_BIN_EXE_daylight");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let out = run(&["experiment", "size", "--sigma", "0.18", "--delta", "0.05", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["per_arm"], 204);
    let out = run(&["experiment", "size", "--sigma", "1", "--delta", "0.5"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("63 units per arm"), "{text}");
    assert!(text.contains("z₁₋α/₂ = 1.9600") && text.contains("z₁₋β = 0.8416"), "{text}");
    let out = run(&["experiment", "size", "--sigma", "1", "--delta", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[EXPERIMENT_SIZE]: --delta 0"));
}

crate::both! {
    /// The report counts every customer in their arm and warns when arms are too small.
    fn the_report_covers_every_customer(db) {
        crate::support::load_examples(db);
        expect(db, &["experiment", "create", "--name", "t", "--arms", "champion:45,challenger:45,holdout:10"], 0);
        let r: serde_json::Value = serde_json::from_str(&expect(db, &["experiment", "report", "t", "--from", "2020-01-01T00:00:00Z", "--json"], 0)).unwrap();
        let arms = r["arms"].as_array().unwrap();
        assert_eq!(arms.iter().map(|a| a["arm"].as_str().unwrap()).collect::<Vec<_>>(), ["champion", "challenger", "holdout"]);
        let cases = crate::support::stats(db)["tables"]["cases"].as_u64().unwrap();
        let customers: u64 = arms.iter().map(|a| a["customers"].as_u64().unwrap()).sum();
        assert_eq!(customers, cases, "every case's customer is in an arm: {r}");
        assert_eq!(r["sample_size"]["per_arm"], 204);
        assert_eq!(r["warnings"].as_array().unwrap().len(), 3, "{r}");
        assert!(arms[0]["contact_rate"]["p_value"].is_null());
        let text = expect(db, &["experiment", "report", "t"], 0);
        assert!(text.contains("T+1 contact") && text.contains("warning: arm holdout"), "{text}");
    }
}
