//! QC of calls through the API and the console: a transcript submitted with its attempt, what it
//! changes (tags, the lead's review), the lists and the call page, complaints linked to
//! findings, script lint; on SQLite and PostgreSQL.

use std::sync::Arc;

use axum::http::StatusCode;
use daylight_store::Store;
use serde_json::json;

use crate::fixture::*;

/// A call in which the agent claims to be the police, and the debtor lost their job and is
/// scared, then promises 2,000 by Wednesday 15:00 (the call is on Tuesday 3 March 2026).
pub(crate) fn transcript(call_id: &str) -> serde_json::Value {
    let turn = |speaker: &str, start: u64, text: &str| json!({"speaker": speaker, "start_ms": start, "end_ms": start + 2000, "text": text});
    json!({
        "call_id": call_id,
        "started_at": "2026-03-03T10:00:00+08:00",
        "language": "zh-CN",
        "turns": [
            turn("agent", 0, "您好，我是中信银行信用卡中心的催收专员小刘，工号2231。请问是赵先生本人吗？"),
            turn("debtor", 2500, "是我。"),
            turn("agent", 5000, "您的信用卡欠款8000元已经逾期40天了。"),
            turn("agent", 7500, "我跟你说，我们这边是刑侦大队的，你再不还就麻烦了。"),
            turn("debtor", 10000, "我上个月失业了，现在真的很害怕，电话号码13812345678一直有人打。"),
            turn("agent", 12500, "那您看什么时候能还一部分？"),
            turn("debtor", 15000, "我周三下午3点前先还2000。"),
        ],
    })
}

both! {
    a_transcript_is_analysed_stored_and_acted_on(app, store) {
        let mut e2 = Client::signed_in(&app, "E002").await;
        let (s, b) = e2.post("/api/cases/CASE-C0011/contacts", json!({"contact_point": "C0011:mobile", "outcome": "conversation"})).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let attempt = b["attempt"].as_i64().unwrap();
        let path = format!("/api/cases/CASE-C0011/attempts/{attempt}/transcript");

        // Bad input names the field; nothing is stored.
        let mut bad = transcript("c-1");
        bad["turns"][1]["speaker"] = json!("caller");
        let (s, b) = e2.post(&path, bad).await;
        assert_eq!((s, b["error"]["field"].as_str(), b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("turns[1].speaker"), Some("QC_TRANSCRIPT")), "{b}");
        let mut x1 = Client::signed_in(&app, "X1").await;
        assert_eq!(x1.post(&path, transcript("c-1")).await.0, StatusCode::NOT_FOUND, "another agency's case");
        let mut auditor = Client::signed_in(&app, "U1").await;
        assert_eq!(auditor.post(&path, transcript("c-1")).await.0, StatusCode::FORBIDDEN);

        let (s, r) = e2.post(&path, transcript("c-1")).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let codes: Vec<&str> = r["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
        for c in ["AGENT_IMPERSONATION", "DEBTOR_HARDSHIP", "DEBTOR_ANXIOUS", "DEBTOR_INTENT_TO_PAY"] {
            assert!(codes.contains(&c), "{c} in {codes:?}");
        }
        assert!(!codes.contains(&"AGENT_NO_SELF_ID") && !codes.contains(&"AGENT_NO_IDENTITY_CHECK"), "{codes:?}");
        let imp = r["findings"].as_array().unwrap().iter().find(|f| f["code"] == "AGENT_IMPERSONATION").unwrap();
        assert_eq!((imp["turn"].as_i64(), imp["text"].as_str(), imp["severity"].as_str()), (Some(3), Some("刑侦大队"), Some("critical")));
        assert_eq!(r["promise"]["amount_fen"], 200_000);
        assert_eq!(r["promise"]["due"], "2026-03-04T07:00:00Z");
        assert_eq!(r["tags"], json!(["hardship", "anxious"]));
        let task = r["task"].as_i64().expect("a review for the agent's breach");
        assert_eq!(e2.post(&path, transcript("c-1")).await.0, StatusCode::CONFLICT, "once per attempt");

        // Collectors do not read QC; the team lead does, and has the review with the evidence.
        assert_eq!(e2.get("/api/qc/calls").await.0, StatusCode::FORBIDDEN);
        let mut lead = Client::signed_in(&app, "L001").await;
        let (_, tasks) = lead.get("/api/tasks").await;
        let t = tasks.as_array().unwrap().iter().find(|t| t["id"] == task).expect("the review is the lead's");
        assert_eq!((t["kind"].as_str(), t["attempt"].as_i64()), (Some("qc_review"), Some(attempt)));
        assert!(t["note"].as_str().unwrap().contains("AGENT_IMPERSONATION"));
        let (_, calls) = lead.get("/api/qc/calls?code=DEBTOR_HARDSHIP").await;
        assert_eq!(calls.as_array().unwrap().len(), 1);
        assert_eq!((calls[0]["worst"].as_str(), calls[0]["codes"][0].as_str()), (Some("critical"), Some("AGENT_IMPERSONATION")));
        let (_, none) = lead.get("/api/qc/calls?code=AGENT_EXTRA_FEE").await;
        assert!(none.as_array().unwrap().is_empty());
        let (s, detail) = lead.get(&format!("/api/qc/calls/{attempt}")).await;
        assert_eq!(s, StatusCode::OK);
        let marked: Vec<(&str, &str)> = detail["turns"][3]["pieces"].as_array().unwrap().iter().map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap())).collect();
        assert!(marked.contains(&("刑侦大队", "AGENT_IMPERSONATION")), "{marked:?}");
        let debtor: String = detail["turns"][4]["pieces"].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap()).collect();
        assert!(debtor.contains("138****5678") && !debtor.contains("13812345678"), "phone masked: {debtor}");

        // A complaint against the call is listed with the call's findings.
        let (s, _) = lead.post("/api/cases/CASE-C0011/complaints", json!({"attempt": attempt, "source": "debtor", "text": "催收员自称警察"})).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, page) = lead.page("/qc").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("催收员自称警察") && page.contains("AGENT_IMPERSONATION"), "the /qc page");
        let (_, call) = lead.page(&format!("/qc/{attempt}")).await;
        assert!(call.contains(r#"data-code="AGENT_IMPERSONATION">刑侦大队</mark>"#), "the call page marks the words: {call}");
        let (_, case) = lead.page("/cases/CASE-C0011").await;
        assert!(case.contains(r#"id="case-qc""#), "the case shows its analysed calls");
        let (_, approvals) = lead.page("/approvals").await;
        assert!(approvals.contains(&format!(r#"href="/qc/{attempt}" class="qc-review""#)), "the review in the lead's queue");

        // The review closes with an outcome: none, or upheld without a reason, is refused naming
        // the field; upheld with a reason sends the finding to the collector, who appeals;
        // compliance decides the appeal on /qc; the call's page shows every step.
        let done = format!("/api/tasks/{task}/done");
        let (s, b) = lead.post(&done, json!({})).await;
        assert_eq!((s, b["error"]["field"].as_str(), b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("outcome"), Some("REQUIRED")), "{b}");
        let (s, b) = lead.post(&done, json!({"outcome": "upheld"})).await;
        assert_eq!((s, b["error"]["field"].as_str(), b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"), Some("REQUIRED")), "{b}");
        let (s, b) = lead.post(&done, json!({"outcome": "kept"})).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("outcome")), "{b}");
        let (s, b) = lead.post(&done, json!({"outcome": "upheld", "reason": "第 3 句自称刑侦大队"})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let finding = b["next"].as_i64().expect("the collector's finding");
        let (_, mine) = e2.get("/api/tasks").await;
        let f = mine.as_array().unwrap().iter().find(|t| t["id"] == finding).expect("on the collector's list");
        assert_eq!((f["kind"].as_str(), f["note"].as_str()), (Some("qc_finding"), Some("第 3 句自称刑侦大队")));
        assert_eq!(f["outcomes"], json!(["accepted", "appealed"]));
        let (_, bench) = e2.page("/workbench").await;
        assert!(bench.contains("第 3 句自称刑侦大队") && bench.contains(r#"value="appealed""#) && bench.contains("质检结论待确认"), "the finding on the workbench");
        let (s, _) = e2.post_form(&format!("/tasks/{finding}/done"), &[("outcome", "appealed"), ("reason", "是客户先提到刑侦大队"), ("back", "/workbench")]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let mut officer = Client::signed_in(&app, "C1").await;
        let (_, qc) = officer.page("/qc").await;
        assert!(qc.contains(r#"id="appeals""#) && qc.contains("是客户先提到刑侦大队"), "the appeal on compliance's /qc");
        let appeal = officer.get("/api/tasks").await.1.as_array().unwrap().iter().find(|t| t["kind"] == "qc_appeal").unwrap()["id"].as_i64().unwrap();
        assert_eq!(lead.post(&format!("/api/tasks/{appeal}/done"), json!({"outcome": "granted"})).await.0, StatusCode::NOT_FOUND, "the lead does not decide appeals");
        let (s, b) = officer.post(&format!("/api/tasks/{appeal}/done"), json!({"outcome": "refused"})).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{b}");
        let (s, b) = officer.post(&format!("/api/tasks/{appeal}/done"), json!({"outcome": "refused", "reason": "录音第 2 句之前客户未提及"})).await;
        assert_eq!((s, b["next"].clone()), (StatusCode::OK, json!(null)));
        let (_, detail) = lead.get(&format!("/api/qc/calls/{attempt}")).await;
        let steps: Vec<(&str, &str)> = detail["review"].as_array().unwrap().iter().map(|s| (s["kind"].as_str().unwrap(), s["outcome"].as_str().unwrap())).collect();
        assert_eq!(steps, [("qc_review", "upheld"), ("qc_finding", "appealed"), ("qc_appeal", "refused")]);
        let (_, call) = lead.page(&format!("/qc/{attempt}")).await;
        assert!(call.contains(r#"id="qc-review""#) && call.contains("申诉驳回") && call.contains("录音第 2 句之前客户未提及"), "the steps on the call's page");

        // Lint, rules, and the ledger.
        let (_, lint) = lead.post("/api/qc/lint", json!({"text": "您好，请按时还款。\n不还钱就让你坐牢"})).await;
        assert_eq!((lint[0]["code"].as_str(), lint[0]["line"].as_i64()), (Some("AGENT_THREAT"), Some(2)), "{lint}");
        let (_, rules) = lead.get("/api/qc/rules").await;
        assert_eq!(rules["codes"].as_array().unwrap().len(), 16);
        let mut admin = Client::signed_in(&app, "A1").await;
        let (_, strategy) = admin.page("/admin/strategy").await;
        assert!(strategy.contains("✓ 通过") && !strategy.contains("badge sev-critical"), "the shipped scripts lint clean");
        let kinds: Vec<String> = store.ledger_rows(0, 10_000).await.unwrap().into_iter().map(|r| r.kind).collect();
        assert_eq!(kinds.iter().filter(|k| *k == "qc.analysed").count(), 1);
        assert_eq!(kinds.iter().filter(|k| *k == "debtor.tagged").count(), 2);
        assert_eq!(kinds.iter().filter(|k| *k == "task.done").count(), 3);
    }
}
