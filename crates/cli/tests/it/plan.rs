//! `daylight plan`, `daylight strategy`, `daylight contact tag`: the daily plan from the store,
//! stored as versions and replayed; holidays; strategy errors with their place.

use crate::support::{daylight, expect, load_examples};

const AS_OF: &str = "2026-03-02T16:00:00Z"; // Tuesday 3 March 2026, 00:00 in Shanghai

fn plan_json(db: &crate::support::TestDb, day: &str) -> serde_json::Value {
    serde_json::from_str(&expect(db, &["plan", "--date", day, "--as-of", AS_OF, "--json"], 0)).unwrap()
}

crate::both! {
    /// A working day's plan: actions in the shape, pre-checked, stored, replayed.
    fn the_daily_plan_is_stored_and_replays(db) {
        load_examples(db);
        let plan = plan_json(db, "2026-03-04");
        let actions = plan["actions"].as_array().unwrap();
        assert!(!actions.is_empty(), "{plan}");
        for a in actions {
            for key in ["case", "channel", "recipient", "contact_point", "script", "window_start", "window_end", "priority", "arm", "reasons"] {
                assert!(a.get(key).is_some(), "{key} missing from {a}");
            }
            let start: jiff::Timestamp = a["window_start"].as_str().unwrap().parse().unwrap();
            let end: jiff::Timestamp = a["window_end"].as_str().unwrap().parse().unwrap();
            assert!(start < end);
        }
        assert_eq!(plan["date"], "2026-03-04");
        assert!(plan["skipped"].is_object());
        // Each contact is allowed by the gate at its window: ask the engine through the CLI.
        let call = actions.iter().find(|a| a["channel"] == "call").expect("a call");
        assert!(call["reasons"].as_array().unwrap().iter().any(|r| r.as_str().unwrap().starts_with("SEGMENT: ")));

        // Stored as version 1; a second run is version 2; each replays identically.
        plan_json(db, "2026-03-04");
        let out = expect(db, &["plan", "--date", "2026-03-04", "--replay", "--plan-version", "1"], 0);
        assert!(out.contains("version 1 rebuilt from its stored input: identical"), "{out}");
        let out = expect(db, &["plan", "--date", "2026-03-04", "--replay"], 0);
        assert!(out.contains("version 2"), "{out}");
        let ledger = expect(db, &["ledger", "list", "--json"], 0);
        assert_eq!(ledger.lines().filter(|l| l.contains("plan.saved")).count(), 2);
        let out = daylight(db, &["plan", "--date", "2026-03-09", "--replay"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("error[NOT_FOUND]"));

        // The CSV has every action.
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("plan.csv");
        expect(db, &["plan", "--date", "2026-03-04", "--as-of", AS_OF, "--out", csv.to_str().unwrap()], 0);
        let text = std::fs::read_to_string(&csv).unwrap();
        assert!(text.starts_with("case,channel,recipient,contact_point,script,window_start,window_end,priority,arm,reasons\n"));
        assert_eq!(text.lines().count(), actions.len() + 1);

        // A past day is refused.
        let out = daylight(db, &["plan", "--date", "2026-02-01", "--as-of", AS_OF]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("error[PLAN_DATE]"));
    }

    /// A strategy saved (here, or in the console) is the one plans use when none is named;
    /// every version is kept, and a flagged one is never saved.
    fn a_saved_strategy_is_the_one_plans_use(db) {
        load_examples(db);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        let default = daylight_strategy::document::DEFAULT;
        let out = expect(db, &["strategy", "history"], 0);
        assert!(out.contains("no strategy saved"), "{out}");
        std::fs::write(&file, default.replacen("如已还款请忽略。", "不还钱就让你坐牢。", 1)).unwrap();
        let out = daylight(db, &["strategy", "save", file.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("QC_LINT"), "{out:?}");
        let renamed = default.replacen("name = \"", "name = \"m1-gentle-", 1);
        std::fs::write(&file, &renamed).unwrap();
        let out = expect(db, &["strategy", "save", file.to_str().unwrap(), "--note", "gentler"], 0);
        assert!(out.contains("version 1"), "{out}");
        let out = expect(db, &["strategy", "history"], 0);
        assert!(out.contains("m1-gentle-") && out.contains("gentler"), "{out}");
        assert_eq!(expect(db, &["strategy", "show"], 0), renamed);
        let out = expect(db, &["plan", "--date", "2026-03-04", "--as-of", AS_OF], 0);
        assert!(out.contains("strategy: saved strategy m1-gentle-") && out.contains("v1"), "{out}");
        let out = daylight(db, &["strategy", "show", "9"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("no strategy version 9"));
    }

    /// National Day under cn-default: no calls, SMS or visits; the summary says HOLIDAY.
    fn a_statutory_holiday_plans_no_calls_sms_or_visits(db) {
        load_examples(db);
        let plan = plan_json(db, "2026-10-01");
        for a in plan["actions"].as_array().unwrap() {
            assert!(!["call", "robot_call", "sms", "visit"].contains(&a["channel"].as_str().unwrap()), "{a}");
        }
        assert!(plan["skipped"]["HOLIDAY"].as_u64().unwrap() > 0, "{}", plan["skipped"]);
        let text = expect(db, &["plan", "--date", "2026-10-01", "--as-of", AS_OF], 0);
        assert!(text.contains("HOLIDAY"), "{text}");
    }

    /// Hardship tagged by a collector routes the debtor to negotiation the same day; experiments
    /// put arms on actions.
    fn tags_and_arms_change_the_plan(db) {
        load_examples(db);
        let before = plan_json(db, "2026-03-04");
        let case = before["actions"].as_array().unwrap().iter().find(|a| a["channel"] == "call").unwrap()["case"].as_str().unwrap().to_owned();
        let customer = case.trim_start_matches("CASE-").to_owned();
        expect(db, &["contact", "tag", "--customer", &customer, "--tag", "hardship", "--note", "住院治疗"], 0);
        let after = plan_json(db, "2026-03-04");
        let mine: Vec<&serde_json::Value> = after["actions"].as_array().unwrap().iter().filter(|a| a["case"] == case.as_str()).collect();
        assert!(!mine.is_empty());
        for a in &mine {
            let script = a["script"].as_str().unwrap_or("");
            assert!(!script.contains("firm") && !script.contains("legal"), "{a}");
            assert!(a["reasons"].to_string().contains("LADDER: hardship"), "{a}");
        }
        expect(db, &["contact", "tag", "--customer", &customer, "--tag", "hardship", "--clear"], 0);
        let out = daylight(db, &["contact", "tag", "--customer", &customer, "--tag", "grumpy", "--note", "x"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("error[ENUM]"));

        expect(db, &["experiment", "create", "--name", "timing", "--arms", "champion:45,challenger:45,holdout:10"], 0);
        let out: serde_json::Value = serde_json::from_str(&expect(db, &["plan", "--date", "2026-03-04", "--as-of", AS_OF, "--experiment", "timing", "--json"], 0)).unwrap();
        for a in out["actions"].as_array().unwrap() {
            assert!(["champion", "challenger", "holdout"].contains(&a["arm"].as_str().unwrap()), "{a}");
        }
    }
}

#[test]
fn strategy_files_are_checked_with_their_place() {
    let bin = env!("CARGO_BIN_EXE_daylight");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let default = run(&["strategy", "default"]).stdout;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("s.toml");
    std::fs::write(&good, &default).unwrap();
    let out = run(&["strategy", "check", good.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "m1 (M1): sms on day 1; robot_call from day 3 every 3 days; call from day 5 every 2 days"
        ),
        "{text}"
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        String::from_utf8(default).unwrap().replace("sms_per_day = 50000", "sms_per_dya = 50000"),
    )
    .unwrap();
    let out = run(&["strategy", "check", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("error[STRATEGY_TOML]") && err.contains("bad.toml:25:1") && err.contains("sms_per_dya"),
        "{err}"
    );
    assert!(text.contains("flow reminder: 6 nodes from \"identify\", transfers to a collector"), "{text}");
}

#[test]
fn a_robot_flow_is_walked_with_scripted_keys_and_checked_with_its_place() {
    let bin = env!("CARGO_BIN_EXE_daylight");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    // The person confirms, hears the amounts in words, asks for a collector, who answers.
    let out = run(&["strategy", "walk", "--flow", "reminder", "--keys", "11c", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["outcome"].as_str(), v["transferred"].as_bool(), v["keys"].as_str()),
        (Some("conversation"), Some(true), Some("11"))
    );
    let said: Vec<&str> = v["steps"].as_array().unwrap().iter().filter_map(|s| s["say"].as_str()).collect();
    assert!(said[0].contains("录音"), "the recording notice first: {said:?}");
    assert!(said[2].contains("五千二百三十元五角") && said[2].contains("三月五日"), "{said:?}");
    assert!(!said[1].contains("元"), "nothing of the debt before the person is confirmed: {said:?}");
    // Not them: a third party, told nothing.
    let out = run(&["strategy", "walk", "--flow", "reminder", "--keys", "2", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "third_party_answered");
    assert!(v["steps"].as_array().unwrap().iter().all(|s| !s["say"].as_str().unwrap_or("").contains("应还")));
    // A flow that names a node it lacks: the line and column of the name.
    let dir = tempfile::tempdir().unwrap();
    let default = String::from_utf8(run(&["strategy", "default"]).stdout).unwrap();
    let bad = dir.path().join("bad.toml");
    let broken = default.replacen("keys = { \"1\" = \"remind\"", "keys = { \"1\" = \"remindd\"", 1);
    std::fs::write(&bad, &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("remindd")).unwrap() + 1;
    let column = broken.lines().nth(line - 1).unwrap().find("\"remindd\"").unwrap() + 1;
    for args in [
        vec!["strategy", "check", bad.to_str().unwrap()],
        vec!["strategy", "walk", "--file", bad.to_str().unwrap(), "--flow", "reminder"],
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("error[STRATEGY_INVALID]")
                && err.contains(&format!("bad.toml:{line}:{column}"))
                && err.contains("no node \"remindd\""),
            "{err}"
        );
    }
    let out = run(&["strategy", "walk", "--flow", "nope"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected one of: reminder, screening, negotiation")
    );
    // Spoken: each prompt a WAV file at 8 kHz, as a call carries it (espeak-ng; required under CI).
    let espeak =
        std::process::Command::new("espeak-ng").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(espeak || std::env::var("CI").as_deref() != Ok("true"), "espeak-ng is required under CI=true");
    if espeak {
        let dir = tempfile::tempdir().unwrap();
        let spoken = dir.path().join("spoken");
        let out = run(&[
            "strategy",
            "walk",
            "--flow",
            "screening",
            "--keys",
            "1",
            "--json",
            "--speak",
            spoken.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let files: Vec<&str> =
            v["steps"].as_array().unwrap().iter().filter_map(|s| s["wav"].as_str()).collect();
        assert_eq!(files.len(), 3, "notice, identify, confirmed: {v}");
        assert!(files[0].ends_with("01-notice.wav") && files[2].ends_with("03-confirmed.wav"));
        for f in files {
            let bytes = std::fs::read(f).unwrap();
            assert_eq!(&bytes[..4], b"RIFF");
            assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 8000, "{f}: 8 kHz");
            assert!(bytes.len() > 16_000, "{f}: a second of speech at least");
        }
    }
}

crate::both! {
    /// The scorer learns from what followed stored plans, is registered and promoted, and the
    /// next plan selects by it.
    fn the_selector_learns_from_earlier_plans(db) {
        load_examples(db);
        plan_json(db, "2026-03-04");
        // Too early: the 7-day window of the 4 March plan has not closed on the 6th.
        let out = daylight(db, &["strategy", "learn", "--until", "2026-03-06T00:00:00Z"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to learn from yet"));
        // Payments on 6 March for half the debtors.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("payments.csv");
        std::fs::write(&file, "payment_id,account_id,paid_at,amount,currency,channel\n\
            Z1,A0005,2026-03-06T10:00:00+08:00,500.00,CNY,app\n\
            Z2,A0007,2026-03-06T11:00:00+08:00,800.00,CNY,app\n\
            Z3,A0009,2026-03-07T11:00:00+08:00,300.00,CNY,app\n").unwrap();
        expect(db, &["import", "payments", file.to_str().unwrap()], 0);
        let out: serde_json::Value = serde_json::from_str(&expect(db, &["strategy", "learn", "--until", "2026-03-20T00:00:00Z", "--register", "--json"], 0)).unwrap();
        assert!(out["metrics"]["examples"].as_u64().unwrap() > 0, "{out}");
        assert!(out["metrics"]["positives"].as_u64().unwrap() > 0, "{out}");
        assert_eq!(out["version"], 1);
        expect(db, &["model", "promote", "selector", "1"], 0);
        let next: serde_json::Value = serde_json::from_str(&expect(db, &["plan", "--date", "2026-03-21", "--as-of", "2026-03-20T00:00:00Z", "--json"], 0)).unwrap();
        let selected = next["actions"].as_array().unwrap().iter().filter(|a| a["script"].is_string()).all(|a| {
            a["reasons"].as_array().unwrap().iter().any(|r| {
                let r = r.as_str().unwrap();
                r.starts_with("SELECTION: highest expected repayment") || r.starts_with("SELECTION: explored")
            })
        });
        assert!(selected, "{next}");
        // And the plan that used it replays.
        let out = expect(db, &["plan", "--date", "2026-03-21", "--replay"], 0);
        assert!(out.contains("identical"), "{out}");
    }
}
