//! The QC engine against the labelled corpus (`tests/data/qc/`) and the issue's own examples.

use daylight_qc::eval::{Expect, Report};
use daylight_qc::{Analyzer, Rules, Transcript};

fn corpus() -> Vec<(Transcript, Expect)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/qc");
    let mut files: Vec<_> =
        std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "json"))
        .map(|f| {
            let origin = f.display().to_string();
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            (Transcript::from_value(&origin, &v).unwrap(), Expect::from_value(&origin, &v).unwrap())
        })
        .collect()
}

/// Every code the issue names reaches precision and recall of 0.9 on the corpus, which has at
/// least 200 calls and every code at least ten times; promises at least 0.85.
#[test]
fn the_corpus_scores_at_least_nine_tenths_per_code() {
    let calls = corpus();
    assert!(calls.len() >= 200, "{} calls", calls.len());
    let a = Analyzer::new(Rules::default_rules());
    let items: Vec<_> = calls.iter().map(|(t, e)| (a.analyze(t), e.clone())).collect();
    let r = Report::score(&items);
    for code in Rules::default_rules().codes() {
        let s = r.codes.get(&code.code).unwrap_or_else(|| panic!("{} is not in the corpus", code.code));
        assert!(s.labelled >= 10, "{}: only {} labelled calls", code.code, s.labelled);
        assert!(
            s.precision() >= 0.9 && s.recall() >= 0.9,
            "{}: precision {:.3}, recall {:.3}",
            code.code,
            s.precision(),
            s.recall()
        );
    }
    assert!(
        r.promise_precision() >= 0.85 && r.promise_recall() >= 0.85,
        "promises: {:.3} / {:.3}",
        r.promise_precision(),
        r.promise_recall()
    );
}

fn call(turns: &[(&str, &str)]) -> Transcript {
    let turns: Vec<serde_json::Value> = turns
        .iter()
        .enumerate()
        .map(|(i, (who, text))| serde_json::json!({"speaker": who, "start_ms": i * 3000, "end_ms": i * 3000 + 2500, "text": text}))
        .collect();
    let v = serde_json::json!({"call_id": "x", "started_at": "2026-03-03T10:00:00+08:00", "language": "zh-CN", "turns": turns});
    Transcript::from_value("x", &v).unwrap()
}

const OPENING: (&str, &str) = (
    "agent",
    "您好，我是招商银行信用卡中心的小王，工号3021，来电是关于您信用卡还款的事情，请问是李明先生本人吗？",
);

#[test]
fn the_issues_examples() {
    let a = Analyzer::new(Rules::default_rules());
    let codes = |t: &Transcript| a.analyze(t).findings.into_iter().map(|f| f.code).collect::<Vec<_>>();

    // Negation and questions.
    let t = call(&[
        OPENING,
        ("debtor", "是我。我没有失业，就是最近忘了。"),
        ("agent", "好的。"),
        ("debtor", "你是不是要起诉我？"),
    ]);
    let found = codes(&t);
    assert!(
        !found.contains(&"DEBTOR_HARDSHIP".to_owned()) && !found.iter().any(|c| c == "AGENT_THREAT"),
        "{found:?}"
    );
    let t = call(&[OPENING, ("debtor", "是我，我上个月失业了。")]);
    assert!(codes(&t).contains(&"DEBTOR_HARDSHIP".to_owned()));

    // Impersonation: code, severity, speaker, turn, span, words.
    let t = call(&[OPENING, ("debtor", "是我。"), ("agent", "我们是刑侦大队的，你再不还就麻烦了。")]);
    let f = a.analyze(&t).findings.into_iter().find(|f| f.code == "AGENT_IMPERSONATION").unwrap();
    assert_eq!(
        (f.turn, f.span, f.text.as_str(), f.severity.as_str(), f.speaker.as_str()),
        (2, [3, 7], "刑侦大队", "critical", "agent")
    );

    // Missing steps: no self-introduction, the debt before the identity check.
    let t = call(&[("agent", "喂，你那张卡欠的8000块什么时候还？"), ("debtor", "你谁啊？")]);
    let found = codes(&t);
    assert!(
        found.contains(&"AGENT_NO_SELF_ID".to_owned())
            && found.contains(&"AGENT_NO_IDENTITY_CHECK".to_owned()),
        "{found:?}"
    );

    // Promises relative to the call's start (Tuesday 3 March 2026, +08:00).
    let t = call(&[
        OPENING,
        ("debtor", "是我。"),
        ("agent", "您目前欠款8000元。"),
        ("debtor", "我周三下午3点前还2000。"),
    ]);
    let p = a.analyze(&t).promise.unwrap();
    assert_eq!(
        (p.amount_fen, p.local.as_str(), p.due.to_string()),
        (200_000, "2026-03-04T15:00", "2026-03-04T07:00:00Z".to_owned())
    );
    let t = call(&[
        OPENING,
        ("debtor", "是我。"),
        ("agent", "您目前欠款8000元。"),
        ("debtor", "下个月15号还一半吧。"),
    ]);
    let p = a.analyze(&t).promise.unwrap();
    assert_eq!((p.amount_fen, p.local.as_str()), (400_000, "2026-04-15"));
}

#[test]
fn scripts_and_sms_templates_are_linted() {
    let a = Analyzer::new(Rules::default_rules());
    let bad = a.lint("【招商银行】您好，请按时还款。\n{name}您好，不还钱就让你坐牢，我们会通知你单位领导。\n逾期会影响您的个人征信。");
    let codes: Vec<(&str, usize)> = bad.iter().map(|f| (f.code.as_str(), f.line)).collect();
    assert_eq!(codes, vec![("AGENT_THREAT", 2), ("AGENT_THREAT", 2)], "{bad:?}");
    assert_eq!(bad[0].column, 16, "1-based, in characters");
    let strategy = include_str!("../../strategy/strategies/default.toml");
    for line in strategy.lines().filter(|l| l.starts_with("text = ")) {
        assert!(a.lint(line).is_empty(), "the shipped script {line} is flagged: {:?}", a.lint(line));
    }
}
