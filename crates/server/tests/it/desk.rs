//! Waivers, third-party confirmations, complaints, tasks, the team's figures, exports and the
//! administration pages, on SQLite and PostgreSQL.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use daylight_store::Store;
use jiff::ToSpan;
use serde_json::json;

use crate::fixture::*;

/// The router over `store` with its clock at `at`.
fn app_at(store: &Arc<dyn Store>, at: jiff::Timestamp) -> axum::Router {
    let mut s = settings("test");
    s.clock = daylight_server::settings::Clock::starting_at(at);
    app(store.clone(), s)
}

fn point<'a>(case: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    case["contacts"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap()
}

both! {
    a_waiver_waits_for_the_team_lead(app, store) {
        let mut e2 = Client::signed_in(&app, "E002").await;
        let waiver = |component: &str, amount: &str| json!({"component": component, "amount": amount, "reason": "首次逾期，减免滞纳金"});
        let (s, b) = e2.post("/api/cases/CASE-C0011/waivers", waiver("late_fees", "60")).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["id"].as_i64().unwrap();
        let (_, b) = e2.post("/api/cases/CASE-C0011/waivers", waiver("late_fees", "80")).await;
        let over_half = b["id"].as_i64().unwrap();
        let (s, b) = e2.post("/api/cases/CASE-C0011/waivers", waiver("late_fees", "99999")).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")), "more than is owed: {b}");
        let (s, b) = e2.post("/api/cases/CASE-C0011/waivers", waiver("tips", "1")).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("component")));
        assert_eq!(e2.post("/api/cases/CASE-C0008/waivers", waiver("late_fees", "1")).await.0, StatusCode::NOT_FOUND);
        assert_eq!(e2.get("/api/waivers/pending").await.0, StatusCode::FORBIDDEN);
        let mut lead = Client::signed_in(&app, "L001").await;
        let (_, pending) = lead.get("/api/waivers/pending").await;
        assert_eq!((pending[0]["id"].as_i64(), pending[0]["amount"].as_str()), (Some(id), Some("60.00")));
        // The lead's own request waits for someone else.
        let (_, own) = lead.post("/api/cases/CASE-C0011/waivers", waiver("late_fees", "10")).await;
        let (s, b) = lead.post(&format!("/api/waivers/{}/decision", own["id"]), json!({"approve": true})).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("SELF_APPROVAL")));
        let (s, b) = lead.post(&format!("/api/waivers/{id}/decision"), json!({"approve": true})).await;
        assert_eq!((s, b["status"].as_str()), (StatusCode::OK, Some("approved")), "{b}");
        // 80 of the 150.00 overdue late fees is more than half: beyond a team lead's authority.
        let (s, b) = lead.post(&format!("/api/waivers/{over_half}/decision"), json!({"approve": true})).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("WAIVER_AUTHORITY")), "{b}");
        assert_eq!(lead.post(&format!("/api/waivers/{id}/decision"), json!({"approve": true})).await.0, StatusCode::NOT_FOUND);
        let decided = store.ledger_rows(0, 10_000).await.unwrap().into_iter().filter(|r| r.kind == "waiver.decided").count();
        assert_eq!(decided, 1);
    }

    a_collector_proposes_a_number_and_the_lead_confirms_it(app, store) {
        let mut e2 = Client::signed_in(&app, "E002").await;
        let number = |n: &str| json!({"role": "colleague", "number": n, "name": "王同事", "source": "field"});
        let (s, b) = e2.post("/api/cases/CASE-C0011/numbers", number("12345")).await;
        assert_eq!((s, b["error"]["field"].as_str(), b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("number"), Some("PHONE_FORMAT")));
        let (s, b) = e2.post("/api/cases/CASE-C0011/numbers", json!({"role": "colleague", "number": "13900001111", "source": "gossip"})).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("source")));
        let (s, b) = e2.post("/api/cases/CASE-C0011/numbers", number("010-12345678")).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["id"].as_i64().unwrap();
        assert_eq!(e2.get("/api/numbers/pending").await.0, StatusCode::FORBIDDEN);
        let mut lead = Client::signed_in(&app, "L001").await;
        let (_, pending) = lead.get("/api/numbers/pending").await;
        assert_eq!(pending[0]["id"].as_i64(), Some(id));
        assert!(!pending[0]["number"].as_str().unwrap().contains("12345678"), "masked: {pending}");
        let (s, b) = lead.post(&format!("/api/numbers/{id}/decision"), json!({"approve": true})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let point = b["contact_point"].as_str().unwrap().to_owned();
        let (_, case) = e2.get("/api/cases/CASE-C0011").await;
        assert!(case["contacts"].as_array().unwrap().iter().any(|p| p["id"] == point.as_str()), "{}", case["contacts"]);
        let kinds: Vec<String> = store.ledger_rows(0, 10_000).await.unwrap().into_iter().map(|r| r.kind).collect();
        assert!(kinds.iter().any(|k| k == "number.proposed") && kinds.iter().any(|k| k == "number.decided"));
    }

    a_third_party_is_called_only_once_confirmed_and_the_debtor_unreachable(app, store) {
        let mut e2 = Client::signed_in(&app, "E002").await;
        let (_, case) = e2.get("/api/cases/CASE-C0011").await;
        let ec = point(&case, "P0011-E1");
        assert_eq!((ec["third_party"].as_bool(), ec["gate"]["allowed"].as_bool()), (Some(true), Some(false)));
        assert_eq!(ec["gate"]["rules"][0], "THIRD_PARTY");
        let call = |p: &str| json!({"contact_point": p, "outcome": "no_answer"});
        let (s, b) = e2.post("/api/cases/CASE-C0011/contacts", call("P0011-E1")).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("THIRD_PARTY")));
        let ask = |p: &str| json!({"contact_point": p, "reason": "本人连续三次未接通"});
        let (s, b) = e2.post("/api/cases/CASE-C0011/third-party", ask("C0011:mobile")).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("contact_point")), "the debtor's own: {b}");
        let (s, b) = e2.post("/api/cases/CASE-C0011/third-party", ask("P0011-E1")).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["id"].as_i64().unwrap();
        let (_, case) = e2.get("/api/cases/CASE-C0011").await;
        assert_eq!(point(&case, "P0011-E1")["confirmation"], "requested");
        // Three failed calls to the debtor today (the day's cap).
        for _ in 0..3 {
            assert_eq!(e2.post("/api/cases/CASE-C0011/contacts", call("C0011:mobile")).await.0, StatusCode::CREATED);
        }
        // The next morning (10:10 in Beijing, 08:10 for the debtor in Urumqi) the lead confirms.
        let morning = app_at(&store, now() + 24.hours() + 10.minutes());
        let mut lead = Client::signed_in(&morning, "L001").await;
        let (_, pending) = lead.get("/api/third-party/pending").await;
        assert_eq!((pending[0]["id"].as_i64(), pending[0]["contact_point"].as_str()), (Some(id), Some("P0011-E1")));
        let mut e2 = Client::signed_in(&morning, "E002").await;
        assert_eq!(e2.post(&format!("/api/third-party/{id}/decision"), json!({"approve": true})).await.0, StatusCode::FORBIDDEN, "not the collector");
        assert_eq!(lead.post(&format!("/api/third-party/{id}/decision"), json!({"approve": true})).await.0, StatusCode::NO_CONTENT);
        let (_, case) = e2.get("/api/cases/CASE-C0011").await;
        let ec = point(&case, "P0011-E1");
        assert_eq!(ec["confirmation"], "approved");
        assert!(ec["confirmed_until"].as_str().unwrap().starts_with("2026-03-05 10:1"), "{ec}");
        assert_eq!(ec["gate"]["allowed"], true, "{ec}");
        let (s, page) = e2.page("/cases/CASE-C0011").await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.contains("已确认，有效至 2026-03-05 10:1"), "{page}");
        let (s, b) = e2.post("/api/cases/CASE-C0011/contacts", call("P0011-E1")).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = e2.post("/api/cases/CASE-C0011/contacts", call("P0011-E1")).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("THIRD_PARTY")), "once a day per point");
        // A day after the confirmation it has lapsed, and with it the permission.
        let day3 = app_at(&store, now() + 49.hours());
        let (_, case) = Client::signed_in(&day3, "E002").await.get("/api/cases/CASE-C0011").await;
        let ec = point(&case, "P0011-E1");
        assert_eq!((ec["confirmation"].as_str(), ec["gate"]["rules"][0].as_str()), (Some("expired"), Some("THIRD_PARTY")));
    }

    complaints_tasks_and_the_teams_figures(app, store) {
        let mut e2 = Client::signed_in(&app, "E002").await;
        let mut lead = Client::signed_in(&app, "L001").await;
        let (s, made) = e2.post("/api/cases/CASE-C0011/contacts", json!({"contact_point": "C0011:mobile", "outcome": "conversation", "duration_secs": 80})).await;
        assert_eq!(s, StatusCode::CREATED, "{made}");
        let attempt = made["attempt"].as_i64().unwrap();
        let complaint = |attempt: i64| json!({"attempt": attempt, "source": "debtor", "text": "催收员语气生硬"});
        assert_eq!(e2.post("/api/cases/CASE-C0011/complaints", complaint(attempt)).await.0, StatusCode::FORBIDDEN);
        let (s, b) = lead.post("/api/cases/CASE-C0008/complaints", complaint(attempt)).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")), "another case's call is not found");
        assert_eq!(lead.post("/api/cases/CASE-C0011/complaints", complaint(attempt)).await.0, StatusCode::CREATED);
        // A promise due tonight gets its reminder; one due in two days breaks unpaid.
        let promise = |date: &str, time: &str| json!({"amount": "1000", "date": date, "time": time});
        assert_eq!(e2.post("/api/cases/CASE-C0011/promises", promise("2026-03-03", "20:00")).await.0, StatusCode::CREATED);
        // One promise pending per account: the second is E001's, on CASE-C0008 (the same team).
        let (s, b) = e2.post("/api/cases/CASE-C0011/promises", promise("2026-03-05", "12:00")).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("PROMISE_PENDING")));
        let mut e1 = Client::signed_in(&app, "E001").await;
        assert_eq!(e1.post("/api/cases/CASE-C0008/promises", promise("2026-03-05", "12:00")).await.0, StatusCode::CREATED);
        let swept = store.sweep_promises("system", now()).await.unwrap();
        assert_eq!((swept.reminders, swept.broken), (1, 0));
        let (_, tasks) = e2.get("/api/tasks").await;
        assert_eq!((tasks.as_array().unwrap().len(), tasks[0]["kind"].as_str()), (1, Some("promise_reminder")));
        let task = tasks[0]["id"].as_i64().unwrap();
        let (_, lead_tasks) = lead.get("/api/tasks").await;
        assert!(lead_tasks.as_array().unwrap().is_empty(), "reminders are the collector's");
        assert_eq!(e2.post(&format!("/api/tasks/{task}/done"), json!({})).await, (StatusCode::OK, json!({"next": null})));
        assert_eq!(e2.post(&format!("/api/tasks/{task}/done"), json!({})).await.0, StatusCode::NOT_FOUND);
        let later = store.sweep_promises("system", now() + 96.hours()).await.unwrap();
        assert_eq!((later.reminders, later.broken), (0, 2), "both past due unpaid");
        let (_, lead_tasks) = lead.get("/api/tasks").await;
        let kinds: Vec<&str> = lead_tasks.as_array().unwrap().iter().map(|t| t["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["promise_broken", "promise_broken"]);
        // The figures: collectors see none; the lead sees the team by collector.
        assert_eq!(e2.get("/api/kpis").await.0, StatusCode::FORBIDDEN);
        let (s, k) = lead.get("/api/kpis?period=today").await;
        assert_eq!(s, StatusCode::OK, "{k}");
        assert_eq!(k["by"], "collector");
        let e2_line = k["lines"].as_array().unwrap().iter().find(|l| l["key"] == "E002").unwrap();
        assert_eq!((e2_line["attempts"].as_i64(), e2_line["rpc"].as_i64(), e2_line["promises"].as_i64()), (Some(1), Some(1), Some(1)));
        assert_eq!((e2_line["complaints"].as_i64(), e2_line["promised_fen"].as_i64()), (Some(1), Some(100_000)));
        assert_eq!(k["total"]["cases"].as_i64(), Some(2), "the team's two cases");
        let (_, by_bucket) = lead.get("/api/kpis?by=bucket&period=30d").await;
        assert_eq!(by_bucket["days"].as_array().unwrap().len(), 30);
        let (s, b) = lead.get("/api/kpis?by=planet").await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("by")));
        // The dashboard draws them; any table exports as xlsx or CSV.
        let (s, page) = lead.page("/dashboard?by=collector&period=today").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(page.matches("<svg").count(), 9, "two trends (counts, money) and seven bar charts");
        assert!(page.contains("data-key=\"E002\""));
        let (s, headers, xlsx) = lead.raw("GET", "/export/kpis.xlsx?period=today", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("kpis-by-collector-2026-03-03-2026-03-03.xlsx"));
        assert_eq!(&xlsx[..2], b"PK");
        for table in ["team-cases", "plans", "waivers", "third-party", "tasks"] {
            let (s, _, csv) = lead.raw("GET", &format!("/export/{table}.csv"), None).await;
            assert_eq!(s, StatusCode::OK, "{table}");
            assert!(csv.starts_with(b"\xEF\xBB\xBF"), "{table}");
        }
        let (_, _, tasks_csv) = lead.raw("GET", "/export/tasks.csv", None).await;
        assert_eq!(String::from_utf8(tasks_csv).unwrap().lines().count(), 3, "a header and the two escalations");
        assert_eq!(lead.raw("GET", "/export/ledger.csv", None).await.0, StatusCode::NOT_FOUND);
        assert_eq!(lead.raw("GET", "/export/users.csv", None).await.0, StatusCode::FORBIDDEN);
        assert_eq!(e2.raw("GET", "/export/team-cases.xlsx", None).await.0, StatusCode::FORBIDDEN);
    }

    administration_changes_the_pack_and_users_and_shows_the_strategy(app, store) {
        let mut admin = Client::signed_in(&app, "A1").await;
        let events = |kind: &'static str| {
            let store = store.clone();
            async move { store.ledger_rows(0, 100_000).await.unwrap().into_iter().filter(|r| r.kind == kind).count() }
        };
        let before = events("config.changed").await;
        let (s, page) = admin.post_form("/admin/policy", &[("action", "shipped"), ("shipped", "cn-cba-2026")]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("id=\"pack-name\">cn-cba-2026<"), "the pack in force");
        assert_eq!(store.policy_pack().await.unwrap().name, "cn-cba-2026");
        assert_eq!(events("config.changed").await, before + 1, "a ledger event");
        // A broken text names its line and changes nothing.
        let broken = daylight_compliance::pack::SHIPPED[0].1.replace("max = 3\n", "max = \"three\"\n");
        let (s, page) = admin.post_form("/admin/policy", &[("action", "source"), ("source", &broken)]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        // The pack's line 24 (`max = 3` under [daily_cap]), column and what was expected.
        assert!(page.contains("pack:24:"), "{}", &page[page.find("policy-error").unwrap_or(0)..][..300.min(page.len())]);
        assert_eq!(store.policy_pack().await.unwrap().name, "cn-cba-2026");
        assert_eq!(events("config.changed").await, before + 1);
        // The same through the API, for a compliance officer.
        let mut officer = Client::signed_in(&app, "C1").await;
        let (s, p) = officer.send("PUT", "/api/policy", Some(json!({"shipped": "cn-default"}))).await;
        assert_eq!((s, p["name"].as_str()), (StatusCode::OK, Some("cn-default")), "{p}");
        let (s, b) = officer.send("PUT", "/api/policy", Some(json!({"source": broken}))).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("source")));
        assert!(b["error"]["message"].as_str().unwrap().starts_with("pack:24:"), "{b}");
        let (s, _) = officer.send("PUT", "/api/policy", Some(json!({"shipped": "cn-default", "source": "x"}))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "one or the other");
        assert_eq!(officer.get("/api/policy").await.1["name"], "cn-default");
        assert_eq!(events("config.changed").await, before + 2);
        assert_eq!(Client::signed_in(&app, "L001").await.send("PUT", "/api/policy", Some(json!({"shipped": "us-reg-f"}))).await.0, StatusCode::FORBIDDEN);
        let (s, page) = officer.page("/admin/policy").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("data-year=\"2026\""), "the calendar's years");
        assert_eq!(Client::signed_in(&app, "L001").await.page("/admin/policy").await.0, StatusCode::FORBIDDEN);
        // The strategy page: the script library of the built-in strategy before any plan.
        let (s, page) = Client::signed_in(&app, "S1").await.page("/admin/strategy").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("id=\"scripts\"") && page.contains("data-script="));
        assert_eq!(Client::signed_in(&app, "E001").await.page("/admin/strategy").await.0, StatusCode::FORBIDDEN);
        // Analysts create experiments; the arms are checked and a name is used once.
        let mut analyst = Client::signed_in(&app, "S1").await;
        let experiment = |name: &str, arms: &str| json!({"name": name, "arms": arms});
        let (s, e) = analyst.post("/api/experiments", experiment("q3-models", "champion:45,challenger:45,holdout:10")).await;
        assert_eq!((s, e["salt"].as_str()), (StatusCode::CREATED, Some("q3-models")), "{e}");
        let (s, b) = analyst.post("/api/experiments", experiment("q3-models", "a:1,b:1")).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("EXISTS")));
        let (s, b) = analyst.post("/api/experiments", experiment("q4", "only:1")).await;
        assert_eq!((s, b["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("arms")));
        let (s, page) = analyst.post_form("/admin/experiments", &[("name", "q4-scripts"), ("arms", "a:50,b:50"), ("salt", "")]).await;
        assert_eq!(s, StatusCode::CREATED);
        assert!(page.contains("q4-scripts") && page.contains("q3-models"));
        assert_eq!(Client::signed_in(&app, "L001").await.post("/api/experiments", experiment("x", "a:1,b:1")).await.0, StatusCode::FORBIDDEN);
        // Its report: every customer in one arm, intervals per arm, in the API and on a page
        // linked from the strategy page (with the intervals drawn).
        let (s, r) = analyst.get("/api/experiments/q3-models/report").await;
        assert_eq!(s, StatusCode::OK, "{r}");
        let arms: Vec<&str> = r["arms"].as_array().unwrap().iter().map(|a| a["arm"].as_str().unwrap()).collect();
        assert_eq!(arms, ["champion", "challenger", "holdout"]);
        let customers: u64 = r["arms"].as_array().unwrap().iter().map(|a| a["customers"].as_u64().unwrap()).sum();
        assert_eq!(customers, store.count_cases(&daylight_store::model::CaseFilter::default()).await.unwrap());
        let ci = &r["arms"][0]["recovered_per_customer"]["ci"];
        assert!(ci[0].as_f64().unwrap() <= r["arms"][0]["recovered_per_customer"]["mean"].as_f64().unwrap() && r["arms"][0]["recovered_per_customer"]["p_value"].is_null(), "{r}");
        let (_, w) = analyst.get("/api/experiments/q3-models/report?from=2026-01-01T00:00:00Z&until=2026-03-01T00:00:00Z").await;
        assert_eq!((w["from"].as_str(), w["until"].as_str()), (Some("2026-01-01T00:00:00Z"), Some("2026-03-01T00:00:00Z")), "the window asked for");
        let (s, b) = analyst.get("/api/experiments/q3-models/report?from=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z").await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("DATE_RANGE")));
        assert_eq!(analyst.get("/api/experiments/nope/report").await.0, StatusCode::NOT_FOUND);
        assert_eq!(Client::signed_in(&app, "E001").await.get("/api/experiments/q3-models/report").await.0, StatusCode::FORBIDDEN);
        let (_, strategy) = analyst.page("/admin/strategy").await;
        assert!(strategy.contains(r#"href="/admin/experiments/q3-models" class="experiment-report""#));
        let (s, page) = analyst.page("/admin/experiments/q3-models").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains(r#"id="report""#) && page.contains(r#"data-arm="holdout""#) && page.contains("户均回款（元，95% 区间）"), "{page}");
        assert_eq!(page.matches(r#"class="estimate""#).count(), 3 + r["arms"].as_array().unwrap().iter().filter(|a| a["contact_rate"]["trials"].as_u64() > Some(0)).count(), "whiskers per arm");
        // Strategies are edited in the console: a check shows each problem where it is (the line
        // and its neighbours), keeps the text, saves nothing; a clean one is saved as a version.
        let default = daylight_strategy::document::DEFAULT;
        let broken = default.replacen("name = ", "name = = ", 1);
        let (s, page) = analyst.post_form("/admin/strategy/save", &[("text", &broken), ("note", "试试")]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let line = broken.lines().position(|l| l.contains("name = = ")).unwrap() + 1;
        assert!(page.contains(&format!(r#"data-code="STRATEGY_TOML" data-line="{line}""#)) && page.contains(r#"<span class="line bad">"#), "{page}");
        assert!(page.contains("name = = ") && page.contains("策略文档不是有效的 TOML"), "the text kept, the code in words");
        let threat = default.replacen("如已还款请忽略。", "不还钱就让你坐牢。", 1);
        let (s, b) = analyst.post("/api/strategy", json!({"text": threat})).await;
        assert_eq!((s, b["error"]["field"].as_str(), b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("text"), Some("QC_LINT")), "{b}");
        let (_, report) = analyst.post("/api/strategy/check", json!({"text": threat})).await;
        let p = report["problems"].as_array().unwrap().iter().find(|p| p["code"] == "AGENT_THREAT").expect("the threat found");
        assert!(threat.lines().nth(p["line"].as_u64().unwrap() as usize - 1).unwrap().contains("坐牢"), "{report}");
        assert!(analyst.get("/api/strategy").await.1["versions"].as_array().unwrap().is_empty(), "nothing saved");
        let calmer = default.replacen("如已还款请忽略。", "如已还款请忽略，谢谢。", 1);
        let (s, page) = analyst.post_form("/admin/strategy/save", &[("text", &calmer), ("note", "短信结尾致谢")]).await;
        assert_eq!(s, StatusCode::CREATED, "{page}");
        assert!(page.contains(r#"id="strategy-saved""#) && page.contains(r#"data-version="1""#) && page.contains("短信结尾致谢"));
        let (_, current) = analyst.get("/api/strategy").await;
        assert_eq!((current["version"]["version"].as_i64(), current["text"].as_str()), (Some(1), Some(calmer.as_str())));
        let (s, page) = Client::signed_in(&app, "U1").await.post_form("/admin/strategy/save", &[("text", &calmer)]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "the auditor reads, never saves: {page}");
        let (_, v1) = analyst.page("/admin/strategy?version=1").await;
        assert!(v1.contains("如已还款请忽略，谢谢。"));
        assert_eq!(events("strategy.saved").await, 1);
        // Users change role, team or status; an admin cannot lock themselves out. A team is a
        // record first (a typo is refused, not a new team).
        for (id, name) in [("T2", "信用卡催收二组"), ("T9", "九组")] {
            let (s, page) = admin.post_form("/admin/units", &[("kind", "team"), ("id", id), ("name", name)]).await;
            assert_eq!(s, StatusCode::OK, "{page}");
            assert!(page.contains(&format!("data-team=\"{id}\"")) && page.contains(name));
        }
        let (s, b) = admin.send("PUT", "/api/users/E002", Some(json!({"name": "用户E002", "role": "collector", "team": "T02"}))).await;
        assert_eq!((s, b["error"]["field"].as_str(), b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("team"), Some("UNKNOWN_RECORD")), "{b}");
        let (s, page) = admin.post_form("/admin/units", &[("kind", "team"), ("id", "T9"), ("name", "重名")]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("编号：已存在"), "{page}");
        let (s, page) = admin.post_form("/admin/units", &[("kind", "team"), ("id", "T9"), ("name", "催收九组"), ("rename", "1")]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("催收九组"));
        let mut e2 = Client::signed_in(&app, "E002").await;
        let change = |role: &str, disabled: bool| json!({"name": "用户E002", "role": role, "team": "T2", "disabled": disabled});
        let (s, u) = admin.send("PUT", "/api/users/E002", Some(change("team_lead", false))).await;
        assert_eq!((s, u["role"].as_str(), u["team"].as_str()), (StatusCode::OK, Some("team_lead"), Some("T2")), "{u}");
        let (s, b) = admin.send("PUT", "/api/users/A1", Some(json!({"name": "A", "role": "auditor"}))).await;
        assert_eq!((s, b["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("SELF_LOCKOUT")));
        assert_eq!(admin.send("PUT", "/api/users/E002", Some(change("collector", true))).await.0, StatusCode::OK);
        assert_eq!(e2.get("/api/queue").await.0, StatusCode::UNAUTHORIZED, "disabled: the session ends");
        let (s, page) = admin.page("/admin/users").await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("data-team=\"T1\""), "teams are listed");
        // The console's edit form: E001 moves to team T9.
        let form = [("name", "用户E001"), ("mobile", ""), ("role", "collector"), ("team", "T9"), ("agency", "")];
        let (s, page) = admin.post_form("/admin/users/E001", &form).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.contains("E001 · 已保存") && page.contains("data-team=\"T9\""));
        assert_eq!(store.user("E001").await.unwrap().team.as_deref(), Some("T9"));
        let (s, page) = admin.post_form("/admin/users/E001", &[("name", "x"), ("role", "collector")]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "a collector needs a team");
        assert!(page.contains("team"));
        let (s, _, xlsx) = admin.raw("GET", "/export/users.xlsx", None).await;
        assert_eq!((s, &xlsx[..2]), (StatusCode::OK, &b"PK"[..]));
        assert_eq!(Client::signed_in(&app, "L001").await.send("PUT", "/api/users/E001", Some(change("collector", false))).await.0, StatusCode::FORBIDDEN);
    }

    cases_open_side_by_side_in_frames_of_this_origin_only(app, store) {
        let mut e1 = Client::signed_in(&app, "E001").await;
        let (s, page) = e1.page("/side?c=CASE-C0008&c=CASE-C0011&c=CASE-C0001&c=CASE-C0002&c=CASE-C0003").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(page.matches("<iframe").count(), 4, "at most four");
        assert!(page.contains("id=\"side-dropped\"") && page.contains("href=\"/cases/CASE-C0003\""), "the fifth is named, not dropped silently");
        assert!(page.contains("src=\"/cases/CASE-C0008?embed=1\""));
        let (s, headers, body) = e1.raw("GET", "/cases/CASE-C0008?embed=1", None).await;
        assert_eq!((s, headers[header::X_FRAME_OPTIONS].to_str().unwrap()), (StatusCode::OK, "SAMEORIGIN"));
        let body = String::from_utf8(body).unwrap();
        assert!(body.contains("class=\"embed\"") && !body.contains("<header"), "no header in a frame");
        let (_, headers, _) = e1.raw("GET", "/workbench", None).await;
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        // Another collector's case in a frame reads as missing, as anywhere.
        assert_eq!(e1.raw("GET", "/cases/CASE-C0011?embed=1", None).await.0, StatusCode::NOT_FOUND);
    }
}

/// Defect: the calendar ended on 2026-12-31 with no warning, and the compliance officer had
/// no console path to enter the next year. From 2026-11-01 every page warns; the officer
/// checks the 2027 notice against the statutory days and puts it in force; a contact on
/// 2027-01-04 is then judged by it.
mod calendar_runway {
    use super::*;
    use daylight_server::settings::Clock;

    const NOTICE_2027: &str = "[[year]]\nyear = 2027\nsource = \"国务院办公厅关于2027年部分节假日安排的通知\"\n\n[[year.period]]\nname = \"元旦\"\nname_en = \"New Year's Day\"\noff = [[\"2027-01-01\", \"2027-01-01\"]]\nworkdays = []\n";

    fn at(store: &Arc<dyn Store>, when: &str) -> axum::Router {
        let mut s = settings("sqlite://unused.db");
        s.clock = Clock::starting_at(when.parse().unwrap());
        app(store.clone(), s)
    }

    async fn body(store: Arc<dyn Store>) {
        let october = at(&store, "2026-10-20T02:00:00Z");
        let (_, page) = Client::signed_in(&october, "E002").await.page("/workbench").await;
        assert!(!page.contains("calendar-warning"), "61 days and more before the end: no warning");
        let november = at(&store, "2026-11-01T02:00:00Z");
        let (_, page) = Client::signed_in(&november, "E002").await.page("/workbench").await;
        assert!(page.contains("id=\"calendar-warning\"") && page.contains("2026-12-29"), "{page}");
        let mut officer = Client::signed_in(&november, "C1").await;
        let (s, page) =
            officer.post_form("/admin/policy", &[("action", "year_check"), ("calendar", NOTICE_2027)]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            page.contains("id=\"year-check\"") && page.contains("2027-02-06"),
            "the Spring Festival side by side"
        );
        let (s, page) = officer
            .post_form("/admin/policy", &[("action", "year_add"), ("calendar", "[[year]]\nyear = 2027\n")])
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("id=\"year-error\""));
        let (s, page) =
            officer.post_form("/admin/policy", &[("action", "year_add"), ("calendar", NOTICE_2027)]).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(!page.contains("id=\"calendar-warning\""), "the calendar now runs to the end of 2027");
        // 4 January 2027: the collector's case screen judges a call by the 2027 notice.
        let january = at(&store, "2027-01-04T02:00:00Z");
        let mut e2 = Client::signed_in(&january, "E002").await;
        let (_, case) = e2.get("/api/cases/CASE-C0011").await;
        assert_eq!(case["contacts"][0]["gate"]["allowed"], true, "{}", case["contacts"][0]);
        let (s, _) = e2
            .post(
                "/api/cases/CASE-C0011/contacts",
                json!({"contact_point": "C0011:mobile", "outcome": "no_answer"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        let new_year = at(&store, "2027-01-01T02:00:00Z");
        let (_, case) = Client::signed_in(&new_year, "E002").await.get("/api/cases/CASE-C0011").await;
        assert_eq!(case["contacts"][0]["gate"]["rules"][0], "HOLIDAY");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let db = daylight_testdb::TestDb::sqlite();
        let store: Arc<dyn Store> = Arc::from(db.open().await);
        seed(&*store).await;
        body(store.clone()).await;
        store.close().await;
        drop(store);
        db.finish().await;
    }
}
