//! A predictive campaign on today's plan, over real SIP on 127.0.0.1: the loopback phones answer
//! for the collectors and, as the trunk's far end, for the debtors (about seven numbers in ten
//! answer, the others are busy, ring out or are 空号). Every dial passes the gate's start; an
//! answered call nobody takes within 2 s hears the bank's message and is `abandoned`, after
//! which the pack keeps unattended calls off the number for 72 hours.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use daylight_server::settings::CallSettings;
use daylight_store::Store;
use daylight_store::model::Assignment;
use serde_json::{Value, json};

use crate::fixture::*;

/// Today's plan under `strategy` (TOML), stored as `daylight plan` stores it.
pub(crate) async fn plan_today(store: &dyn Store, strategy: &str) {
    use daylight_strategy::plan::{PlanInput, plan};
    let input = PlanInput {
        date: jiff::civil::date(2026, 3, 3),
        as_of: now(),
        strategy: strategy.to_owned(),
        pack: store.pack_source().await.unwrap(),
        experiment: None,
        contactability: None,
        propensity: None,
        selector: None,
        arm_strategies: Default::default(),
        cases: store.plan_cases(now()).await.unwrap(),
    };
    let made = plan(&input).unwrap();
    let json = daylight_store::model::PlanInputJson::of(&input, input.date, &input.strategy).unwrap();
    let doc = daylight_store::model::PlanJson::of(
        &made,
        made.date,
        &made.strategy,
        made.actions.len(),
        &made.skipped,
    )
    .unwrap();
    store
        .save_plan(&daylight_store::model::NewPlan { input: &json, plan: &doc }, "test", now())
        .await
        .unwrap();
}

async fn campaign(c: &mut Client, id: i64) -> Value {
    let (s, v) = c.get(&format!("/api/campaigns/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// A server over a seeded SQLite store with today's plan, team T1 working the open cases of
/// customers 1 to 10 (E001 and E002 in turn), and loopback phones for E001, E002 and the
/// debtors (who talk `talk_secs`); `None` without espeak-ng (a failure under `CI=true`).
struct Rig {
    app: axum::Router,
    store: Arc<dyn Store>,
    settings: daylight_server::settings::Settings,
    _phones: daylight_calls::loopback::LoopbackPhones,
    _vault: tempfile::TempDir,
    _db: daylight_testdb::TestDb,
}

async fn rig(talk_secs: u64) -> Option<Rig> {
    rig_with(talk_secs, daylight_strategy::document::DEFAULT).await
}

/// [`rig`] with today's plan made under `strategy`.
async fn rig_with(talk_secs: u64, strategy: &str) -> Option<Rig> {
    let espeak =
        std::process::Command::new("espeak-ng").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(espeak || std::env::var("CI").as_deref() != Ok("true"), "espeak-ng is required under CI=true");
    if !espeak {
        return None;
    }
    let db = daylight_testdb::TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    for n in 1..=10 {
        let case = daylight_domain::id::CaseId::parse(&format!("CASE-C{n:04}")).unwrap();
        let to = Assignment {
            team: Some("T1".into()),
            collector: Some((if n % 2 == 0 { "E002" } else { "E001" }).into()),
            agency: None,
        };
        match store.assign_case(&case, &to, "test", now()).await {
            Ok(()) | Err(daylight_store::StoreError::NotFound { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    plan_today(&*store, strategy).await;
    let phones =
        daylight_calls::loopback::LoopbackPhones::start(Duration::from_secs(talk_secs)).await.unwrap();
    let vault = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let mut s = settings(db.url().expose());
    s.calls = Some(CallSettings {
        sip_bind: "127.0.0.1:0".parse().unwrap(),
        trunk: daylight_calls::Trunk { uri_template: phones.trunk(), username: None, password: None },
        caller_ids: vec!["02160000000".into()],
        vault: vault.path().join("recordings"),
        vault_recipient: key.to_public().to_string(),
        vault_identity: None,
        max_calls: 8,
        ring_secs: 15,
        max_call_secs: 60,
        queue_secs: 4,
        bank: "示例银行".into(),
        hotline: "95555".into(),
        phones: [("E001".to_owned(), phones.uri("e001")), ("E002".to_owned(), phones.uri("e002"))]
            .into_iter()
            .collect(),
        node: "test".into(),
        recognizer: None,
    });
    let state =
        daylight_server::AppState::new(store.clone(), s.clone()).start_calls().await.expect("switch starts");
    Some(Rig {
        app: daylight_server::router(state),
        store,
        settings: s,
        _phones: phones,
        _vault: vault,
        _db: db,
    })
}

/// The `attempt.recorded` events, each with its case.
async fn recorded(store: &dyn Store) -> Vec<Value> {
    store
        .ledger_rows(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "attempt.recorded")
        .map(|e| {
            let mut v: Value = serde_json::from_str(&e.payload).unwrap();
            v["case"] = json!(e.subject);
            v
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_progressive_campaign_rings_a_ready_collector_first_and_abandons_nothing() {
    let Some(r) = rig(3).await else { return };
    let (app, store) = (r.app.clone(), r.store.clone());
    let mut lead = Client::signed_in(&app, "L001").await;
    let mut e1 = Client::signed_in(&app, "E001").await;
    let (s, v) = lead.post("/api/campaigns", json!({"team": "T1", "mode": "progressive"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    // Nobody ready: nothing is dialled.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(campaign(&mut lead, id).await["placed"], 0);
    // E001 ready: one call at a time, E001's phone first; E001 wraps each up.
    let mut v = Value::Null;
    for _ in 0..240 {
        let state = e1.get("/api/me/state").await.1["state"].clone();
        if state != "ready" && state != "ringing" && state != "talking" {
            let (s, r) = e1.post("/api/me/state", json!({"state": "ready"})).await;
            assert_eq!(s, StatusCode::OK, "{r}");
        }
        v = campaign(&mut lead, id).await;
        assert!(v["in_flight"].as_u64() <= Some(1), "one call per ready collector: {v}");
        if v["placed"].as_u64() >= Some(3) && v["in_flight"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(v["placed"].as_u64() >= Some(3) && v["abandoned"] == 0, "{v}");
    let (s, v) = lead.post(&format!("/api/campaigns/{id}/status"), json!({"status": "paused"})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("paused")), "{v}");
    let calls = recorded(&*store).await;
    assert!(!calls.is_empty());
    for a in &calls {
        assert_eq!(
            (a["agent"].as_str(), a["channel"].as_str()),
            (Some("collector:E001"), Some("call")),
            "{a}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_predictive_campaign_keeps_the_caps_and_every_abandoned_call_hears_the_message() {
    let Some(r) = rig(14).await else { return };
    let (app, store) = (r.app.clone(), r.store.clone());
    let mut lead = Client::signed_in(&app, "L001").await;
    let mut e1 = Client::signed_in(&app, "E001").await;
    let (s, v) = e1.post("/api/me/state", json!({"state": "ready"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A team lead runs campaigns for their own team only, and a robot campaign needs a flow.
    let (s, v) = lead.post("/api/campaigns", json!({"team": "T2", "mode": "predictive"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("FORBIDDEN")), "{v}");
    let (s, v) = lead.post("/api/campaigns", json!({"team": "T1", "mode": "robot"})).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("flow")), "{v}");

    let (s, v) = lead.post("/api/campaigns", json!({"team": "T1", "mode": "predictive"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert!(v["hopper"].as_u64().unwrap() > 0, "the hopper holds today's allowed calls: {v}");
    assert_eq!((v["limit_percent"].as_f64(), v["window_hours"].as_i64()), (Some(3.0), Some(24)), "{v}");
    // While a call is out, the only collector pauses: an answered call finds nobody and is
    // abandoned (a number that does not answer is simply tried again with the next).
    for _ in 0..240 {
        let v = campaign(&mut lead, id).await;
        if v["abandoned"].as_u64() > Some(0) {
            break;
        }
        let state = e1.get("/api/me/state").await.1["state"].clone();
        if v["ringing"].as_u64() > Some(0) && state == "ready" {
            e1.post("/api/me/state", json!({"state": "paused", "reason": "break"})).await;
        } else if v["in_flight"] == 0 && state != "ready" {
            e1.post("/api/me/state", json!({"state": "ready"})).await;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Both collectors come back and work through the hopper, wrapping each call up at once.
    let mut e2 = Client::signed_in(&app, "E002").await;
    let mut v = Value::Null;
    for _ in 0..300 {
        for c in [&mut e1, &mut e2] {
            let state = c.get("/api/me/state").await.1["state"].clone();
            if state == "paused" || state == "wrap_up" {
                let (s, r) = c.post("/api/me/state", json!({"state": "ready"})).await;
                assert_eq!(s, StatusCode::OK, "{r}");
            }
        }
        v = campaign(&mut lead, id).await;
        if v["hopper"] == 0 && v["in_flight"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        (v["hopper"].as_u64(), v["in_flight"].as_u64()),
        (Some(0), Some(0)),
        "the campaign's calls ended: {v}"
    );
    let v2 = campaign(&mut lead, id).await;
    assert!(v2["abandoned"].as_u64().unwrap() >= 1, "an answered call found nobody: {v2} (before: {v})");
    assert!(
        v2["abandonment_percent"].as_f64().unwrap() > 3.0 && v2["braking"] == true,
        "past the limit it brakes: {v2}"
    );
    assert!(v2["connected"].as_u64().unwrap() >= 1, "answered calls went to the collectors: {v2}");
    let (s, list) = lead.get("/api/campaigns").await;
    assert_eq!((s, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{list}");

    // Every attempt was allowed by the gate and no debtor passed the daily cap (3 calls).
    let recorded = recorded(&*store).await;
    assert!(!recorded.is_empty());
    let mut per_case: HashMap<String, u32> = HashMap::new();
    for a in &recorded {
        *per_case.entry(a["case"].as_str().unwrap().to_owned()).or_default() += 1;
        assert_eq!(a["agent"].as_str(), Some(format!("robot:campaign:{id}").as_str()), "{a}");
    }
    assert!(per_case.values().all(|n| *n <= 3), "{per_case:?}");
    // Every abandoned call heard the bank's message (the robot's note says so).
    let abandoned: Vec<&Value> = recorded.iter().filter(|a| a["outcome"] == "abandoned").collect();
    assert_eq!(abandoned.len() as u64, v2["abandoned"].as_u64().unwrap(), "{v2}");
    let mut case_abandoned = None;
    for a in &abandoned {
        let case = a["case"].as_str().unwrap();
        let (_, detail) = lead.get(&format!("/api/cases/{case}")).await;
        assert!(detail.to_string().contains("已播放呼损提示"), "{case}: {detail}");
        case_abandoned = Some((case.to_owned(), a["contact_point"].as_str().unwrap().to_owned()));
    }

    // The number abandoned: a robot may not call it for 72 hours; a collector may.
    let (case, point) = case_abandoned.unwrap();
    let (s, v) = lead
        .post(&format!("/api/cases/{case}/robot-calls"), json!({"contact_point": point, "flow": "reminder"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["allowed"], false, "{v}");
    assert!(v["rules"].as_array().unwrap().iter().any(|r| r == "ABANDONED_REDIAL"), "{v}");
    // The hopper holds only what the gate allows now: a new predictive campaign leaves the
    // abandoned number out (a robot's call), though a collector may call it.
    // (Nobody ready: it dials nothing meanwhile.)
    for c in [&mut e1, &mut e2] {
        let (s, r) = c.post("/api/me/state", json!({"state": "paused", "reason": "break"})).await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    let (s, fresh) = lead.post("/api/campaigns", json!({"team": "T1", "mode": "predictive"})).await;
    assert_eq!(s, StatusCode::CREATED, "{fresh}");
    let fresh = fresh["id"].as_i64().unwrap();
    let (s, hopper) = lead.get(&format!("/api/campaigns/{fresh}/hopper")).await;
    assert_eq!(s, StatusCode::OK, "{hopper}");
    let held: Vec<(String, String)> = hopper
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["case"].as_str().unwrap().to_owned(), e["contact_point"].as_str().unwrap().to_owned()))
        .collect();
    assert!(!held.is_empty() && !held.contains(&(case.clone(), point.clone())), "{held:?}");
    let (_, detail) = lead.get(&format!("/api/cases/{case}")).await;
    let gate =
        detail["contacts"].as_array().unwrap().iter().find(|p| p["id"] == point.as_str()).unwrap()["gate"]
            .clone();
    assert_eq!(gate["allowed"], true, "a collector's call is allowed: {gate}");
    for (c, p) in &held {
        let (_, d) = lead.get(&format!("/api/cases/{c}")).await;
        let g = &d["contacts"].as_array().unwrap().iter().find(|x| x["id"] == p.as_str()).unwrap()["gate"];
        assert_eq!(g["allowed"], true, "{c} {p}: {g}");
    }
    let (s, _) = lead.post(&format!("/api/campaigns/{fresh}/status"), json!({"status": "stopped"})).await;
    assert_eq!(s, StatusCode::OK);
    // The lead's console shows the campaign with its counts; stopping it there stops it.
    let (s, html) = lead.page("/campaigns").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("data-campaign=\"{id}\""))
            && html.contains("预测式")
            && html.contains("呼损率"),
        "{html}"
    );
    let (s, v) = lead.post(&format!("/api/campaigns/{id}/status"), json!({"status": "stopped"})).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("stopped")), "{v}");
    let (s, v) = lead.post(&format!("/api/campaigns/{id}/status"), json!({"status": "running"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("CAMPAIGN_STOPPED")), "{v}");

    // A preview campaign hands E001 the next contact the gate allows; the console opens the case.
    let (s, v) = lead.post("/api/campaigns", json!({"team": "T1", "mode": "preview"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let preview = v["id"].as_i64().unwrap();
    let (s, next) = e1.post(&format!("/api/campaigns/{preview}/next"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{next}");
    let case = next["case"].as_str().unwrap_or_else(|| panic!("{next} {v}")).to_owned();
    let (_, detail) = e1.get(&format!("/api/cases/{case}")).await;
    let point =
        detail["contacts"].as_array().unwrap().iter().find(|p| p["id"] == next["contact_point"]).cloned();
    assert_eq!(point.map(|p| p["gate"]["allowed"].clone()), Some(json!(true)), "{detail}");
    let (s, html) = e1.page("/campaigns").await;
    assert!(s == StatusCode::OK && html.contains(&format!("/campaigns/{preview}/next")), "{html}");
    let (s, v) = e1.post(&format!("/api/campaigns/{id}/next"), json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("CAMPAIGN_NOT_PREVIEW")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_campaign_calls_the_plans_robot_contacts_on_its_lines() {
    // The default strategy with M1's agent calls from day 50: its robot step has M1's cases.
    let strategy = daylight_strategy::document::DEFAULT.replace(
        r#"{ channel = "call", from_day = 5, every_days = 2 }"#,
        r#"{ channel = "call", from_day = 50, every_days = 2 }"#,
    );
    assert_ne!(strategy, daylight_strategy::document::DEFAULT);
    let Some(r) = rig_with(8, &strategy).await else { return };
    let (app, store) = (r.app.clone(), r.store.clone());
    let mut lead = Client::signed_in(&app, "L001").await;
    let (s, v) = lead
        .post("/api/campaigns", json!({"team": "T1", "mode": "robot", "flow": "reminder", "lines": 9}))
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lines")), "{v}");
    let (s, v) = lead.post("/api/campaigns", json!({"team": "T1", "mode": "robot", "flow": "nope"})).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("flow")), "{v}");
    let (s, v) = lead
        .post("/api/campaigns", json!({"team": "T1", "mode": "robot", "flow": "reminder", "lines": 1}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let planned = v["hopper"].as_u64().unwrap();
    assert!(planned > 0, "today's plan has robot calls for T1's M1 cases: {v}");
    let mut v = Value::Null;
    for _ in 0..240 {
        v = campaign(&mut lead, id).await;
        assert!(v["in_flight"].as_u64() <= Some(1), "one line: {v}");
        if v["hopper"] == 0 && v["in_flight"] == 0 && v["placed"].as_u64() > Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        (v["hopper"].as_u64(), v["in_flight"].as_u64(), v["placed"].as_u64()),
        (Some(0), Some(0), Some(planned)),
        "{v}"
    );
    let calls = recorded(&*store).await;
    assert_eq!(calls.len() as u64, planned, "{calls:?}");
    for a in &calls {
        assert_eq!(
            (a["channel"].as_str(), a["agent"].as_str()),
            (Some("robot_call"), Some("robot:flow:reminder")),
            "{a}"
        );
    }
    // The robot spoke to those who answered: its account is in their timelines.
    for a in calls.iter().filter(|a| a["duration_secs"].as_u64() > Some(0)) {
        let (_, detail) = lead.get(&format!("/api/cases/{}", a["case"].as_str().unwrap())).await;
        assert!(detail.to_string().contains("机器人外呼（流程 reminder）"), "{detail}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_lead_starts_and_pauses_a_campaign_in_a_real_browser() {
    use crate::browser::{browser_bins, click, shot, sign_in, start_browser, until_text, wait_for};
    let Some((driver_bin, chrome_bin)) = browser_bins() else { return };
    let Some(r) = rig(14).await else { return };
    let mut s = r.settings.clone();
    if let Some(calls) = s.calls.as_mut() {
        calls.node = "browser".into();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(daylight_server::serve(s, r.store.clone(), listener, async {
        let _ = stopped.await;
    }));
    let (driver, c) = start_browser(&driver_bin, &chrome_bin).await;
    let run = async {
        sign_in(&c, &base, "L001", PASSWORD).await?;
        click(&c, "#nav-campaigns").await?;
        wait_for(&c, "#campaign-form").await?;
        // Predictive is the first mode; the pacer Daylight's.
        click(&c, "#campaign-start").await?;
        wait_for(&c, "article.campaign[data-status='running']").await?;
        let text =
            until_text(&c, "article.campaign", |t| t.contains("预测式") && t.contains("待拨池")).await?;
        if !text.contains("Daylight 呼损约束") {
            return Err(format!("the pacer's words: {text}"));
        }
        click(&c, "button[data-action='pause']").await?;
        wait_for(&c, "article.campaign[data-status='paused']").await?;
        click(&c, "button[data-action='stop']").await?;
        wait_for(&c, "article.campaign[data-status='stopped']").await?;
        Ok::<(), String>(())
    };
    let result = run.await;
    if result.is_err() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
        shot(&c, &dir, "a_team_lead_starts_and_pauses_a_campaign_in_a_real_browser").await;
    }
    let _ = c.close().await;
    drop(driver);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    result.expect("the campaign in the browser (screenshot: target/e2e/a_team_lead_starts_and_pauses_a_campaign_in_a_real_browser.png)");
}
