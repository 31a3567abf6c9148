//! `daylight qc`: analyse, lint-script, rules, eval; and `daylight plan` refusing flagged scripts.

use std::path::PathBuf;
use std::process::Output;

fn daylight(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_daylight")).args(args).output().unwrap()
}

fn corpus(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/qc").join(name).display().to_string()
}

#[test]
fn analyze_prints_one_result_per_transcript() {
    let out = daylight(&["qc", "analyze", "--json", &corpus("a-010.json"), &corpus("b-004.json")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["call_id"], "a-010");
    let imp =
        lines[0]["findings"].as_array().unwrap().iter().find(|f| f["code"] == "AGENT_IMPERSONATION").unwrap();
    assert_eq!((imp["severity"].as_str(), imp["speaker"].as_str()), (Some("critical"), Some("agent")));
    assert!(imp["span"].as_array().unwrap().len() == 2 && imp["turn"].is_u64());
    assert_eq!(lines[1]["promise"]["amount_fen"], 326_000);

    // A directory is read whole; a bad file is named with its field and the exit code is 1.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(corpus("b-004.json"), dir.path().join("good.json")).unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"{"call_id":"x","started_at":"2026-03-03T10:00:00+08:00","turns":[{"speaker":"robot","start_ms":0,"end_ms":1,"text":"喂"}]}"#).unwrap();
    let out = daylight(&["qc", "analyze", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json: turns[0].speaker") && err.contains("QC_TRANSCRIPT"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("b-004: "), "the good file is still analysed");
}

#[test]
fn lint_rules_and_eval() {
    let strategy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../strategy/strategies/default.toml");
    let out = daylight(&["qc", "lint-script", strategy.to_str().unwrap()]);
    assert!(out.status.success(), "the shipped scripts are clean: {}", String::from_utf8_lossy(&out.stdout));

    let dir = tempfile::tempdir().unwrap();
    let sms = dir.path().join("sms.txt");
    std::fs::write(&sms, "【招商银行】您好，请按时还款。\n{name}您好，再不还款我们就去你单位找你领导。\n")
        .unwrap();
    let out = daylight(&["qc", "lint-script", sms.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sms.txt:2:") && text.contains("AGENT_THREAT"), "{text}");

    // A strategy whose script QC flags is refused by `strategy check`, naming the script.
    let bad =
        std::fs::read_to_string(&strategy).unwrap().replacen("text = \"", "text = \"不还钱就让你坐牢。", 1);
    let bad_file = dir.path().join("bad.toml");
    std::fs::write(&bad_file, bad).unwrap();
    let out = daylight(&["strategy", "check", bad_file.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("QC_LINT") && err.contains("AGENT_THREAT") && err.contains("script "), "{err}");

    // A robot flow's prompt is linted as a script is, named by flow and node.
    let bad = std::fs::read_to_string(&strategy).unwrap().replacen(
        "say = \"正在为您转接人工客服",
        "say = \"不还钱就让你坐牢。正在为您转接人工客服",
        1,
    );
    let bad_file = dir.path().join("bad-flow.toml");
    std::fs::write(&bad_file, bad).unwrap();
    let out = daylight(&["qc", "lint-script", bad_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("flow reminder/agent") && text.contains("AGENT_THREAT"), "{text}");

    let out = daylight(&["qc", "rules", "--json"]);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rules["codes"].as_array().unwrap().len(), 16);
    assert_eq!(rules["name"], "cn-default");

    let out = daylight(&[
        "qc",
        "eval",
        "--json",
        PathBuf::from(corpus("a-001.json")).parent().unwrap().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["calls"].as_u64().unwrap() >= 200);
    assert!(report["codes"]["AGENT_THREAT"]["true_positive"].as_u64().unwrap() >= 10);
}
