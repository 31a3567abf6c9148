//! Click to dial through the gate, over real SIP on 127.0.0.1: baresip plays the collector's
//! phone and the debtor's, Daylight's switch rings one then the other, bridges and records; the
//! call's end is the attempt's outcome and the recording is in the vault, audited when played.
//!
//! Under `CI=true` a missing baresip fails these tests; elsewhere they skip with a reason.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use daylight_calls::peer::{self, Answer, Peer, PeerConfig};
use daylight_server::settings::CallSettings;
use daylight_store::Store;
use serde_json::{Value, json};

use crate::fixture::*;

struct Rig {
    app: axum::Router,
    store: Arc<dyn Store>,
    agent: Peer,
    debtor: Peer,
    /// The team lead L001's phone (auto-answering), for supervision.
    lead: Peer,
    /// The switch's SIP address (for calls in).
    sip: std::net::SocketAddr,
    _vault: tempfile::TempDir,
    _db: daylight_testdb::TestDb,
}

/// A server over a seeded SQLite store with a switch: E002's phone and the debtor's are baresip
/// peers (the debtor's answering as `debtor`), the clock at `at`.
async fn rig(debtor: Answer, at: jiff::Timestamp) -> Rig {
    rig_with(debtor, at, None).await
}

/// [`rig`] with the bank's recogniser at `recognizer` (URL, token).
async fn rig_with(debtor: Answer, at: jiff::Timestamp, recognizer: Option<(String, Option<String>)>) -> Rig {
    let db = daylight_testdb::TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let (agent, debtor) = phones(&*store, debtor).await;
    let lead = Peer::spawn(PeerConfig::new("l001", 0)).await.expect("baresip starts");
    let vault = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let identity = vault.path().join("vault.key");
    std::fs::write(&identity, format!("{}\n", secrecy_free(&key))).unwrap();
    let mut s = settings(db.url().expose());
    s.clock = daylight_server::settings::Clock::starting_at(at);
    s.calls = Some(CallSettings {
        sip_bind: "127.0.0.1:0".parse().unwrap(),
        trunk: daylight_calls::Trunk {
            uri_template: format!("sip:{{number}}@127.0.0.1:{}", debtor.port()),
            username: None,
            password: None,
        },
        caller_ids: vec!["02160000000".into(), "01060000000".into()],
        vault: vault.path().join("recordings"),
        vault_recipient: key.to_public().to_string(),
        vault_identity: Some(identity),
        max_calls: 4,
        ring_secs: 15,
        max_call_secs: 60,
        queue_secs: 4,
        bank: "示例银行".into(),
        hotline: "95555".into(),
        phones: [("E002".to_owned(), agent.uri().to_owned()), ("L001".to_owned(), lead.uri().to_owned())]
            .into_iter()
            .collect(),
        node: "test".into(),
        recognizer: recognizer.map(|(url, token)| (url, token, 30)),
    });
    let state = daylight_server::AppState::new(store.clone(), s).start_calls().await.expect("switch starts");
    let sip = state.calls.as_ref().expect("calls").sip_addr();
    Rig { app: daylight_server::router(state), store, agent, debtor, lead, sip, _vault: vault, _db: db }
}

/// E002's phone (answering) and CASE-C0011's debtor's phone (answering as `debtor` says). The
/// trunk's far end answers the number dialled: the debtor peer's account is that number.
async fn phones(store: &dyn Store, debtor: Answer) -> (Peer, Peer) {
    let mut agent_cfg = PeerConfig::new("e002", 0);
    agent_cfg.answer = Answer::Auto;
    let agent = Peer::spawn(agent_cfg).await.expect("baresip starts");
    let case = daylight_domain::id::CaseId::parse("CASE-C0011").unwrap();
    let point = daylight_domain::id::ContactId::parse("C0011:mobile").unwrap();
    let number = store.dial_number(&case, &point).await.unwrap();
    let mut debtor_cfg = PeerConfig::new(&number, 0);
    debtor_cfg.answer = debtor;
    let debtor = Peer::spawn(debtor_cfg).await.expect("baresip starts");
    (agent, debtor)
}

fn secrecy_free(key: &age::x25519::Identity) -> String {
    use age::secrecy::ExposeSecret;
    key.to_string().expose_secret().to_owned()
}

/// Polls the call until it has ended.
async fn ended(c: &mut Client, call: i64) -> Value {
    for _ in 0..120 {
        let (s, v) = c.get(&format!("/api/calls/{call}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["phase"] == "ended" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("call {call} did not end");
}

async fn events_of(store: &dyn Store, kind: &str) -> Vec<Value> {
    store
        .ledger_rows(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str(&e.payload).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_dial_rings_the_collector_then_the_debtor_and_records_the_call() {
    if !peer::baresip_or_skip("dial") {
        return;
    }
    let r = rig(Answer::Auto, now()).await;
    let mut e2 = Client::signed_in(&r.app, "E002").await;
    let (s, v) = e2.post("/api/cases/CASE-C0011/calls", json!({"contact_point": "C0011:mobile"})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["allowed"], true);
    let call = v["call"]["call"].as_i64().unwrap();
    // The collector's phone is rung first; the debtor's only once it answered.
    let agent_in = r
        .agent
        .wait_for("CALL_LOCAL_SDP", Duration::from_secs(10))
        .await
        .expect("the collector's phone rang");
    let debtor_in =
        r.debtor.wait_for("CALL_ESTABLISHED", Duration::from_secs(10)).await.expect("the debtor answered");
    assert!(agent_in.at < debtor_in.at);
    // Talking: the console follows the call.
    for _ in 0..40 {
        if e2.get(&format!("/api/calls/{call}")).await.1["phase"] == "talking" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(e2.get(&format!("/api/calls/{call}")).await.1["phase"], "talking");
    // On a call: the state says so, and no click leaves it.
    assert_eq!(e2.get("/api/me/state").await.1["state"], "talking");
    let (s, v) = e2.post("/api/me/state", json!({"state": "paused", "reason": "break"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("TRANSITION")), "{v}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (s, _) = e2.post(&format!("/api/calls/{call}/hangup"), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let v = ended(&mut e2, call).await;
    assert_eq!(v["outcome"], "conversation", "{v}");
    let secs = v["duration_secs"].as_u64().unwrap();
    let me = e2.get("/api/me/state").await.1;
    assert_eq!((me["state"].as_str(), me["talk_secs_today"].as_u64()), (Some("wrap_up"), Some(secs)), "{me}");
    assert!((2..=4).contains(&secs), "talk time {secs}");
    let attempt = v["attempt"].as_i64().unwrap();
    // The attempt's ledger event carries the recording's hash; the start's event came first.
    let recorded = events_of(&*r.store, "attempt.recorded").await;
    let ev = recorded.iter().find(|e| e["attempt"] == attempt).expect("the attempt's event");
    assert_eq!(ev["started"], call);
    let sha = ev["recording"]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64);

    // Recordings: the collector may not list them; the team lead may listen, not download.
    assert_eq!(e2.get("/api/cases/CASE-C0011/recordings").await.0, StatusCode::FORBIDDEN);
    let mut lead = Client::signed_in(&r.app, "L001").await;
    let (s, list) = lead.get("/api/cases/CASE-C0011/recordings").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["sha256"], sha.as_str());
    let id = list[0]["id"].as_i64().unwrap();
    let (s, headers, wav) = lead.raw("GET", &format!("/api/recordings/{id}/audio"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers[axum::http::header::CONTENT_TYPE], "audio/wav");
    let wav = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
    assert_eq!(wav.spec().channels, 2);
    assert_eq!(wav.spec().sample_rate, 8000);
    let audio_secs = wav.duration() as f64 / 8000.0;
    assert!((audio_secs - secs as f64).abs() < 1.5, "{audio_secs} s of audio for {secs} s of talk");
    let (s, _, _) = lead.raw("GET", &format!("/api/recordings/{id}/audio?how=download"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let mut admin = Client::signed_in(&r.app, "A1").await;
    let (s, headers, _) = admin.raw("GET", &format!("/api/recordings/{id}/audio?how=download"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(headers[axum::http::header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
    // Each listen and download is evidence.
    let access = events_of(&*r.store, "recording.accessed").await;
    let hows: Vec<&str> = access.iter().map(|e| e["how"].as_str().unwrap()).collect();
    assert_eq!(hows, ["listen", "download"]);
    assert!(access.iter().all(|e| e["sha256"] == sha.as_str()));

    // Batch export: an admin's only (the download permission), within scope, a manifest of hashes.
    let body = json!({"cases": ["CASE-C0011"]});
    assert_eq!(post_bytes(&lead, "/api/recordings/export", &body).await.0, StatusCode::FORBIDDEN);
    let (s, zip) = post_bytes(&admin, "/api/recordings/export", &json!({"cases": ["CASE-NOPE1"]})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{}", String::from_utf8_lossy(&zip));
    let (s, zip) = post_bytes(&admin, "/api/recordings/export", &body).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&zip));
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut read = |name: &str| {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut z.by_name(name).unwrap(), &mut bytes).unwrap();
        bytes
    };
    let manifest: Value = serde_json::from_slice(&read("manifest.json")).unwrap();
    assert_eq!(manifest["exported_by"], "A1");
    assert_eq!(manifest["recordings"][0]["sha256"], sha.as_str());
    let cipher = read(manifest["recordings"][0]["path"].as_str().unwrap());
    assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&cipher)), sha);
    let contacts = String::from_utf8(read("CASE-C0011/contacts.csv")).unwrap();
    assert!(contacts.contains(",conversation,"), "{contacts}");
    let access = events_of(&*r.store, "recording.accessed").await;
    assert_eq!(access.last().unwrap()["how"], "export");

    // The wrap-up: the call box offers it, prefilled with the switch's outcome; the collector
    // refines it once.
    let (s, _, page) = e2.raw("GET", &format!("/calls/{call}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains("class=\"wrap-up\"") && page.contains("<option value=\"conversation\" selected>"),
        "{page}"
    );
    let (s, v) = lead.post(&format!("/api/calls/{call}/wrap-up"), json!({"outcome": "refused"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "only the call's collector: {v}");
    let (s, v) = e2.post(&format!("/api/calls/{call}/wrap-up"), json!({"outcome": "busy"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("ENUM")), "{v}");
    let (s, v) = e2
        .post(
            &format!("/api/calls/{call}/wrap-up"),
            json!({"outcome": "promise_to_pay", "note": "答应周五前还500元"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["outcome"].as_str(), v["wrapped_up"].as_bool()), (Some("promise_to_pay"), Some(true)));
    let (s, v) = e2.post(&format!("/api/calls/{call}/wrap-up"), json!({"outcome": "refused"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("NOT_WRAPPABLE")), "{v}");
    assert_eq!(e2.get("/api/me/state").await.1["state"], "ready", "the wrap-up ends wrap-up");
    let wrapped = events_of(&*r.store, "attempt.wrapped_up").await;
    assert_eq!((wrapped.len(), wrapped[0]["to"].as_str()), (1, Some("promise_to_pay")));
    let (_, _, page) = e2.raw("GET", &format!("/calls/{call}"), None).await;
    assert!(!String::from_utf8(page).unwrap().contains("class=\"wrap-up\""));
}

/// POSTs `body` as JSON with `c`'s session; the status and the raw body.
async fn post_bytes(c: &Client, path: &str, body: &Value) -> (StatusCode, Vec<u8>) {
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header(axum::http::header::COOKIE, c.cookie.clone().unwrap())
        .header("x-csrf-token", c.csrf.clone().unwrap())
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let resp = c.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    (status, axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_dial_sends_no_invite() {
    if !peer::baresip_or_skip("refused") {
        return;
    }
    // 23:00 in Beijing: outside calling hours.
    let night: jiff::Timestamp = "2026-03-03T15:00:00Z".parse().unwrap();
    let r = rig(Answer::Auto, night).await;
    let mut e2 = Client::signed_in(&r.app, "E002").await;
    let (s, v) = e2.post("/api/cases/CASE-C0011/calls", json!({"contact_point": "C0011:mobile"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["allowed"], false);
    assert!(v["rules"].as_array().unwrap().iter().any(|r| r == "HOURS"), "{v}");
    assert!(v["next_allowed_at"].as_str().is_some());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(r.agent.calls_received(), 0, "no INVITE to the collector's phone");
    assert_eq!(r.debtor.calls_received(), 0, "no INVITE to the debtor");
    assert!(events_of(&*r.store, "attempt.started").await.is_empty());
    assert_eq!(events_of(&*r.store, "attempt.denied").await.len(), 1);
    // A robot call is refused the same way: no INVITE.
    let (s, v) = e2
        .post(
            "/api/cases/CASE-C0011/robot-calls",
            json!({"contact_point": "C0011:mobile", "flow": "reminder"}),
        )
        .await;
    assert_eq!((s, v["allowed"].as_bool()), (StatusCode::OK, Some(false)), "{v}");
    assert!(v["rules"].as_array().unwrap().iter().any(|r| r == "HOURS"), "{v}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(r.debtor.calls_received(), 0, "no INVITE to the debtor");
    let (s, v) = e2
        .post("/api/cases/CASE-C0011/robot-calls", json!({"contact_point": "C0011:mobile", "flow": "nope"}))
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("NOT_FOUND")),
        "{v}"
    );
    // The case page offers the robot call for the debtor's phone, with the flows to follow;
    // its refusal shows as the dial's does.
    let (_, page) = e2.page("/cases/CASE-C0011").await;
    assert!(
        page.contains("class=\"inline robot-form\"") && page.contains("<option value=\"reminder\">"),
        "{page}"
    );
    let (s, page) = e2
        .post_form("/cases/CASE-C0011/robot-call", &[("contact_point", "C0011:mobile"), ("flow", "reminder")])
        .await;
    assert!(s == StatusCode::CONFLICT && page.contains("HOURS"), "{s} {page}");
    assert_eq!(r.debtor.calls_received(), 0, "no INVITE to the debtor");
}

/// A robot call through the gate: the robot dials the debtor (no collector first), says the
/// recording notice and the reminder flow's prompts (espeak-ng), hears the debtor press 1 and
/// 1, and bridges in E002 (ready) on the same call, with the screen pop; the attempt is the
/// robot's, on the robot_call channel, with the flow's outcome and the recording of the
/// whole call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_call_follows_its_flow_and_hands_the_debtor_to_a_ready_collector() {
    if !peer::baresip_or_skip("robot") {
        return;
    }
    let espeak =
        std::process::Command::new("espeak-ng").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(espeak || std::env::var("CI").as_deref() != Ok("true"), "espeak-ng is required under CI=true");
    if !espeak {
        return;
    }
    let r = rig(Answer::Auto, now()).await;
    let mut e2 = Client::signed_in(&r.app, "E002").await;
    let (s, v) = e2.post("/api/me/state", json!({"state": "ready"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut events = event_stream(&e2).await;
    let (s, v) = e2
        .post(
            "/api/cases/CASE-C0011/robot-calls",
            json!({"contact_point": "C0011:mobile", "flow": "reminder"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let call = v["call"]["call"].as_i64().unwrap();
    // The debtor answers; nobody else is rung. They press 1 (it is me), then 1 (a person,
    // please); keys during the notice are not taken, so keep pressing until E002 is rung.
    let mut pressed = 0;
    while r.agent.calls_received() == 0 && pressed < 40 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if r.debtor.calls_received() == 1 {
            r.debtor.command("sndcode", "1").await.unwrap();
            pressed += 1;
        }
    }
    assert_eq!(r.agent.calls_received(), 1, "E002 was rung after the keys");
    let n = next_event(&mut events, "talking").await;
    assert_eq!((n["call"].as_i64(), n["case"].as_str()), (Some(call), Some("CASE-C0011")), "screen pop: {n}");
    assert_eq!(e2.get("/api/me/state").await.1["state"], "talking");
    tokio::time::sleep(Duration::from_secs(2)).await;
    r.debtor.hangup().await.unwrap();
    let v = ended(&mut e2, call).await;
    assert_eq!(v["outcome"], "conversation", "the flow's outcome: {v}");
    let attempt = v["attempt"].as_i64().expect("recorded");
    // One attempt, the robot's, on the robot_call channel, with its recording.
    let recorded = events_of(&*r.store, "attempt.recorded").await;
    let ev = recorded.iter().find(|e| e["started"] == call).expect("the attempt's event");
    assert_eq!(
        (ev["channel"].as_str(), ev["agent"].as_str()),
        (Some("robot_call"), Some("robot:flow:reminder")),
        "{ev}"
    );
    assert_eq!(ev["recording"]["sha256"].as_str().map(str::len), Some(64), "{ev}");
    let mut lead = Client::signed_in(&r.app, "L001").await;
    let (_, recs) = lead.get("/api/cases/CASE-C0011/recordings").await;
    assert!(recs.as_array().unwrap().iter().any(|x| x["attempt"] == attempt), "{recs}");
    let me = e2.get("/api/me/state").await.1;
    assert_eq!((me["state"].as_str(), me["calls_today"].as_u64()), (Some("wrap_up"), Some(1)), "{me}");
    // The robot's account is the attempt's note, in the case's timeline.
    let (_, case) = e2.get("/api/cases/CASE-C0011").await;
    let text = case.to_string();
    assert!(
        text.contains("机器人外呼（流程 reminder）")
            && text.contains("identify → remind → agent")
            && text.contains("已转接 E002"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_debtor_is_recorded_as_busy() {
    if !peer::baresip_or_skip("busy") {
        return;
    }
    let r = rig(Answer::Reject, now()).await;
    let mut e2 = Client::signed_in(&r.app, "E002").await;
    // Agent states: never set is offline; the collector pauses with a reason, then is ready.
    assert_eq!(e2.get("/api/me/state").await.1["state"], "offline");
    let (s, v) = e2.post("/api/me/state", json!({"state": "paused", "reason": "meal"})).await;
    assert_eq!(
        (s, v["state"].as_str(), v["reason"].as_str()),
        (StatusCode::OK, Some("paused"), Some("meal")),
        "{v}"
    );
    let (s, v) = e2.post("/api/me/state", json!({"state": "paused", "reason": "nap"})).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{v}");
    let (s, v) = e2.post("/api/me/state", json!({"state": "talking"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("ENUM")), "{v}");
    assert_eq!(e2.post("/api/me/state", json!({"state": "ready"})).await.1["state"], "ready");
    let (s, v) = e2.post("/api/cases/CASE-C0011/calls", json!({"contact_point": "C0011:mobile"})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let call = v["call"]["call"].as_i64().unwrap();
    let v = ended(&mut e2, call).await;
    assert_eq!(v["outcome"], "busy", "{v}");
    // Not bridged: back to ready, one call counted.
    let me = e2.get("/api/me/state").await.1;
    assert_eq!((me["state"].as_str(), me["calls_today"].as_u64()), (Some("ready"), Some(1)), "{me}");
    // The team lead's board; a collector has none.
    assert_eq!(e2.get("/api/board").await.0, StatusCode::FORBIDDEN);
    let mut lead = Client::signed_in(&r.app, "L001").await;
    let (s, board) = lead.get("/api/board").await;
    assert_eq!(s, StatusCode::OK, "{board}");
    let row =
        board.as_array().unwrap().iter().find(|a| a["login"] == "E002").expect("E002 on the board").clone();
    assert_eq!((row["state"].as_str(), row["calls_today"].as_u64()), (Some("ready"), Some(1)), "{row}");
    assert_eq!(lead.get("/api/board?team=T9").await.0, StatusCode::NOT_FOUND, "another team's board");
    let (s, _, page) = lead.raw("GET", "/board", None).await;
    let page = String::from_utf8(page).unwrap();
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("data-login=\"E002\" data-state=\"ready\"") && page.contains("示闲"), "{page}");
    let (_, _, bench) = e2.raw("GET", "/workbench", None).await;
    assert!(String::from_utf8(bench).unwrap().contains("id=\"my-state\""));
    assert_eq!(v["sip_status"], 486);
    assert_eq!(v["duration_secs"], 0);
    assert!(
        r.store
            .recordings_of(&daylight_domain::id::CaseId::parse("CASE-C0011").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

/// A server over `store` whose switch (`node`) rings `agent` for E002 and sends the debtor leg
/// to `debtor`, recording into `vault`.
async fn switch_server(
    store: Arc<dyn Store>,
    db_url: &str,
    agent: &Peer,
    debtor: &Peer,
    vault: &std::path::Path,
    node: &str,
) -> axum::Router {
    let key = age::x25519::Identity::generate();
    let mut s = settings(db_url);
    s.calls = Some(CallSettings {
        sip_bind: "127.0.0.1:0".parse().unwrap(),
        trunk: daylight_calls::Trunk {
            uri_template: format!("sip:{{number}}@127.0.0.1:{}", debtor.port()),
            username: None,
            password: None,
        },
        caller_ids: vec!["02160000000".into()],
        vault: vault.join(node),
        vault_recipient: key.to_public().to_string(),
        vault_identity: None,
        max_calls: 20,
        ring_secs: 15,
        max_call_secs: 60,
        queue_secs: 10,
        bank: "示例银行".into(),
        hotline: "95555".into(),
        phones: [("E002".to_owned(), agent.uri().to_owned())].into_iter().collect(),
        node: node.to_owned(),
        recognizer: None,
    });
    let state = daylight_server::AppState::new(store, s).start_calls().await.expect("switch starts");
    daylight_server::router(state)
}

/// Twelve click-to-dials at once for one debtor, six on each of two servers over one
/// PostgreSQL: the daily cap (3 a day in cn-default) holds across both. Three are placed, nine
/// are refused with `DAILY_CAP`, and no more than three calls are ever recorded for the day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_cap_holds_for_twelve_dials_on_two_servers_over_one_postgres() {
    if !peer::baresip_or_skip("cap across servers") {
        return;
    }
    let Some(db) = daylight_testdb::TestDb::postgres().await else { return };
    let store_a: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store_a).await;
    let store_b: Arc<dyn Store> = Arc::from(db.open().await);
    let case = daylight_domain::id::CaseId::parse("CASE-C0011").unwrap();
    let (agent, debtor) = phones(&*store_a, Answer::Reject).await;
    let vault = tempfile::tempdir().unwrap();
    let url = db.url().expose().to_owned();
    let a = switch_server(store_a.clone(), &url, &agent, &debtor, vault.path(), "a").await;
    let b = switch_server(store_b, &url, &agent, &debtor, vault.path(), "b").await;
    let signed_a = Client::signed_in(&a, "E002").await;
    let signed_b = Client::signed_in(&b, "E002").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let from = if i % 2 == 0 { &signed_a } else { &signed_b };
        let mut c = Client { app: from.app.clone(), cookie: from.cookie.clone(), csrf: from.csrf.clone() };
        tasks.push(tokio::spawn(async move {
            let (s, v) =
                c.post("/api/cases/CASE-C0011/calls", json!({"contact_point": "C0011:mobile"})).await;
            (s, v, c)
        }));
    }
    let mut placed = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (s, v, c) = t.await.unwrap();
        match s {
            StatusCode::ACCEPTED => placed.push((v["call"]["call"].as_i64().unwrap(), c)),
            StatusCode::OK => {
                assert_eq!(v["allowed"], false, "{v}");
                assert!(v["rules"].as_array().unwrap().iter().any(|r| r == "DAILY_CAP"), "{v}");
                refused += 1;
            }
            other => panic!("dial answered {other}: {v}"),
        }
    }
    assert_eq!((placed.len(), refused), (3, 9));
    assert_eq!(events_of(&*store_a, "attempt.denied").await.len(), 9);
    // Each placed call ends (the debtor is busy) on the server that placed it.
    let mut recorded = 0;
    for (call, mut c) in placed {
        let v = ended(&mut c, call).await;
        if v["attempt"].is_i64() {
            assert_eq!(v["outcome"], "busy", "{v}");
            recorded += 1;
        }
    }
    let d = store_a.case_detail(&case).await.unwrap();
    assert_eq!(d.attempts.len(), recorded, "every recorded call is one of the three");
    assert!(store_a.started_attempts().await.unwrap().is_empty());
    assert!((1..=3).contains(&recorded), "{recorded}");
    assert!(debtor.calls_received() <= 3, "at most three INVITEs reached the debtor");
}

/// A bank's recogniser for the test: checks what it is sent and answers a fixture transcript.
async fn mock_recognizer(seen: Arc<std::sync::Mutex<Vec<(String, usize)>>>) -> String {
    use axum::http::HeaderMap;
    let fixture =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/data/qc/a-037.json"))
            .unwrap();
    let app = axum::Router::new().route(
        "/asr",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (seen, fixture) = (seen.clone(), fixture.clone());
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
                if auth != "Bearer t0k" {
                    return (StatusCode::UNAUTHORIZED, String::new());
                }
                let call =
                    headers.get("x-daylight-call").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let wav = hound::WavReader::new(std::io::Cursor::new(body.to_vec())).expect("a WAV");
                assert_eq!((wav.spec().channels, wav.spec().sample_rate), (2, 8000));
                seen.lock().unwrap().push((call, body.len()));
                (StatusCode::OK, fixture)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/asr")
}

/// QC from calls: a bridged call's recording is decrypted, sent to the bank's recogniser, and
/// its transcript analysed and stored with the attempt; the recording's use is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridged_call_is_transcribed_by_the_recogniser_and_analysed_by_qc() {
    if !peer::baresip_or_skip("recognizer") {
        return;
    }
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let url = mock_recognizer(seen.clone()).await;
    let r = rig_with(Answer::Auto, now(), Some((url, Some("t0k".into())))).await;
    let mut e2 = Client::signed_in(&r.app, "E002").await;
    // Screen pop: the collector's console listens to their calls; a lead's hears none of them.
    let mut pops = event_stream(&e2).await;
    let lead = Client::signed_in(&r.app, "L001").await;
    let mut lead_pops = event_stream(&lead).await;
    let (s, v) = e2.post("/api/cases/CASE-C0011/calls", json!({"contact_point": "C0011:mobile"})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let call = v["call"]["call"].as_i64().unwrap();
    for _ in 0..40 {
        if e2.get(&format!("/api/calls/{call}")).await.1["phase"] == "talking" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let popped = next_event(&mut pops, "talking").await;
    assert_eq!(
        (popped["call"].as_i64(), popped["case"].as_str()),
        (Some(call), Some("CASE-C0011")),
        "{popped}"
    );
    let (_, _, page) = e2.raw("GET", "/workbench", None).await;
    assert!(String::from_utf8(page).unwrap().contains("data-screen-pop=\"/events\""));
    tokio::time::sleep(Duration::from_secs(1)).await;
    e2.post(&format!("/api/calls/{call}/hangup"), json!({})).await;
    let v = ended(&mut e2, call).await;
    let attempt = v["attempt"].as_i64().expect("recorded");
    let mut analysed = Vec::new();
    for _ in 0..100 {
        analysed = events_of(&*r.store, "qc.analysed").await;
        if !analysed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(analysed.len(), 1, "the call was analysed");
    assert_eq!(analysed[0]["attempt"], attempt);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, call.to_string());
    let access = events_of(&*r.store, "recording.accessed").await;
    assert_eq!(access.iter().map(|e| e["how"].as_str().unwrap()).collect::<Vec<_>>(), ["recognize"]);
    let rows = r.store.ledger_rows(0, 10_000).await.unwrap();
    assert!(rows.iter().any(|e| e.kind == "qc.analysed" && e.actor == "daylight:recognizer"));
    let heard =
        tokio::time::timeout(Duration::from_millis(300), futures::StreamExt::next(&mut lead_pops)).await;
    assert!(heard.is_err(), "another user's console hears nothing: {heard:?}");
}

type Events = axum::body::BodyDataStream;

/// `c`'s stream of server-sent events (`GET /events`).
async fn event_stream(c: &Client) -> Events {
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri("/events")
        .header(axum::http::header::COOKIE, c.cookie.clone().unwrap())
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = c.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[axum::http::header::CONTENT_TYPE], "text/event-stream");
    resp.into_body().into_data_stream()
}

/// The next `call` event whose phase is `phase` (within 10 s).
async fn next_event(events: &mut Events, phase: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, futures::StreamExt::next(events))
            .await
            .expect("an event in time")
            .expect("the stream is open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let frame: String = text.drain(..end + 2).collect();
            if frame.contains("event: call")
                && let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: "))
            {
                let v: Value = serde_json::from_str(data).unwrap();
                if v["phase"] == phase {
                    return v;
                }
            }
        }
    }
}

/// End to end in a real headless Chromium: the collector clicks "拨打" on the case page, the call
/// box follows it to 通话中, they hang up and wrap the call up; the team lead then plays the
/// recording on the same case page (its audio is served, and the play is audited).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_a_real_browser() {
    use crate::browser::{browser_bins, click, fill, shot, sign_in, start_browser, until_text, wait_for};
    use fantoccini::Locator;
    if !peer::baresip_or_skip("browser call") {
        return;
    }
    let Some((driver_bin, chrome_bin)) = browser_bins() else { return };
    let db = daylight_testdb::TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let (agent, debtor) = phones(&*store, Answer::Auto).await;
    let vault = tempfile::tempdir().unwrap();
    let key = age::x25519::Identity::generate();
    let identity = vault.path().join("vault.key");
    std::fs::write(&identity, format!("{}\n", secrecy_free(&key))).unwrap();
    let mut s = settings(db.url().expose());
    s.calls = Some(CallSettings {
        sip_bind: "127.0.0.1:0".parse().unwrap(),
        trunk: daylight_calls::Trunk {
            uri_template: format!("sip:{{number}}@127.0.0.1:{}", debtor.port()),
            username: None,
            password: None,
        },
        caller_ids: vec!["02160000000".into()],
        vault: vault.path().join("recordings"),
        vault_recipient: key.to_public().to_string(),
        vault_identity: Some(identity),
        max_calls: 4,
        ring_secs: 15,
        max_call_secs: 60,
        queue_secs: 10,
        bank: "示例银行".into(),
        hotline: "95555".into(),
        phones: [("E002".to_owned(), agent.uri().to_owned())].into_iter().collect(),
        node: "browser".into(),
        recognizer: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(daylight_server::serve(s, store.clone(), listener, async {
        let _ = stopped.await;
    }));
    let (driver, c) = start_browser(&driver_bin, &chrome_bin).await;
    let run = async {
        sign_in(&c, &base, "E002", PASSWORD).await?;
        c.goto(&format!("{base}/cases/CASE-C0011")).await.map_err(|e| e.to_string())?;
        click(&c, "button.dial[data-point='C0011:mobile']").await?;
        wait_for(&c, "#call").await?;
        // The box replaces itself each second: read it by script, never through a held element.
        let js = |c: &fantoccini::Client, code: &'static str| {
            let c = c.clone();
            async move { c.execute(code, vec![]).await.map_err(|e| e.to_string()) }
        };
        let mut phase = Value::Null;
        for _ in 0..100 {
            phase = js(&c, "const b = document.querySelector('#call'); return b ? b.dataset.phase : null;")
                .await?;
            if phase == "talking" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if phase != "talking" {
            return Err(format!("the call box never showed talking (last {phase})"));
        }
        until_text(&c, "#call .phase", |t| t.contains("通话中")).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        js(&c, "document.querySelector('#call .hang-up').click(); return null;").await?;
        // The wrap-up opens prefilled; the collector says a promise was made.
        for _ in 0..100 {
            if c.find(Locator::Css("#call form.wrap-up")).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.find(Locator::Css("#call form.wrap-up select[name=outcome]"))
            .await
            .map_err(|e| e.to_string())?
            .select_by_value("promise_to_pay")
            .await
            .map_err(|e| e.to_string())?;
        fill(&c, "#call form.wrap-up textarea[name=note]", "周五前还500元").await?;
        click(&c, "#call form.wrap-up button[type=submit]").await?;
        until_text(&c, "#call", |t| t.contains("已小结") && t.contains("承诺还款")).await?;
        // The team lead plays the recording on the case page.
        sign_in(&c, &base, "L001", PASSWORD).await?;
        c.goto(&format!("{base}/cases/CASE-C0011")).await.map_err(|e| e.to_string())?;
        wait_for(&c, "#recordings audio.recording").await?;
        let status = c
            .execute_async(
                "const cb = arguments[arguments.length - 1]; \
                 const a = document.querySelector('#recordings audio.recording'); \
                 fetch(a.src).then(r => r.arrayBuffer().then(b => cb([r.status, r.headers.get('content-type'), b.byteLength])));",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        if status[0] != 200 || status[1] != "audio/wav" || status[2].as_u64().unwrap_or(0) < 44 {
            return Err(format!("the recording did not play: {status}"));
        }
        Ok::<(), String>(())
    };
    let result = run.await;
    if result.is_err() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
        shot(&c, &dir, "a_call_in_a_real_browser").await;
    }
    let _ = c.close().await;
    drop(driver);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    result.expect("the call in the browser (screenshot: target/e2e/a_call_in_a_real_browser.png)");
    let access = events_of(&*store, "recording.accessed").await;
    assert_eq!(access.iter().map(|e| e["how"].as_str().unwrap()).collect::<Vec<_>>(), ["listen"]);
    let wrapped = events_of(&*store, "attempt.wrapped_up").await;
    assert_eq!(wrapped[0]["to"], "promise_to_pay");
    drop((agent, debtor));
}

/// Polls call `call` (as `c`) until `field` is `want`.
async fn until_field(c: &mut Client, call: i64, field: &str, want: Value) -> Value {
    for _ in 0..80 {
        let (s, v) = c.get(&format!("/api/calls/{call}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v[field] == want {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("call {call}: {field} never became {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_lead_listens_whispers_barges_and_hangs_up_a_live_call() {
    if !peer::baresip_or_skip("supervise") {
        return;
    }
    let r = rig(Answer::Auto, now()).await;
    let mut e2 = Client::signed_in(&r.app, "E002").await;
    let (s, v) = e2.post("/api/cases/CASE-C0011/calls", json!({"contact_point": "C0011:mobile"})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let call = v["call"]["call"].as_i64().unwrap();
    until_field(&mut e2, call, "phase", json!("talking")).await;
    let path = format!("/api/calls/{call}/supervise");

    // Who may: not a collector (the permission), not an admin without a phone.
    let (s, v) = e2.post(&path, json!({"mode": "listen"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let mut admin = Client::signed_in(&r.app, "A1").await;
    let (s, v) = admin.post(&path, json!({"mode": "listen"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("CALL_NO_PHONE")), "{v}");
    let mut lead = Client::signed_in(&r.app, "L001").await;
    let (s, v) = lead.post(&path, json!({"mode": "shout"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("ENUM")), "{v}");
    let (s, v) = lead.post("/api/calls/999999/supervise", json!({"mode": "listen"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // Listen: the lead's phone rings and answers; the call says so.
    let (s, v) = lead.post(&path, json!({"mode": "listen"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["supervisor"], "L001");
    r.lead.wait_for("CALL_ESTABLISHED", Duration::from_secs(10)).await.expect("the lead's phone answered");
    until_field(&mut lead, call, "supervision", json!("listen")).await;
    // The live board shows it, with the buttons to change how.
    let (s, board) = lead.get("/api/board").await;
    assert_eq!(s, StatusCode::OK);
    let row = board.as_array().unwrap().iter().find(|a| a["login"] == "E002").unwrap().clone();
    assert_eq!((row["call"].as_i64(), row["supervision"].as_str()), (Some(call), Some("listen")), "{row}");
    let (_, page) = lead.page("/board").await;
    assert!(
        page.contains(&format!("data-call=\"{call}\"")) && page.contains("data-mode=\"whisper\""),
        "{page}"
    );
    assert!(page.contains("强拆"), "{page}");

    // Whisper through the API, barge through the board's button.
    let (s, v) = lead.post(&path, json!({"mode": "whisper"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    until_field(&mut lead, call, "supervision", json!("whisper")).await;
    let csrf = lead.csrf.clone().unwrap();
    let (s, _) =
        lead.post_form(&format!("/calls/{call}/supervise"), &[("csrf", &csrf), ("mode", "barge")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    until_field(&mut lead, call, "supervision", json!("barge")).await;

    // Leave: the lead's phone is hung up, the call goes on.
    let (s, v) = lead.post(&path, json!({"mode": "end"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    r.lead.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.expect("the lead's phone hung up");
    let v = until_field(&mut lead, call, "supervision", Value::Null).await;
    assert_eq!((v["phase"].as_str(), v["supervisor"].as_str()), (Some("talking"), None), "{v}");
    let (s, v) = lead.post(&path, json!({"mode": "end"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("NOT_SUPERVISING")), "{v}");

    // 强拆: the lead hangs the call up; it is recorded as any call.
    let (s, v) = lead.post(&format!("/api/calls/{call}/hangup"), json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let v = ended(&mut e2, call).await;
    assert_eq!(v["outcome"], "conversation", "{v}");
    r.agent.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.expect("the collector's phone hung up");

    // Each use is evidence: who did what to whose call.
    let uses = events_of(&*r.store, "call.supervised").await;
    let actions: Vec<&str> = uses.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["listen", "whisper", "barge", "end", "hangup"]);
    assert!(uses.iter().all(|e| e["call"] == call && e["collector"] == "E002"), "{uses:?}");
    let rows = r.store.ledger_rows(0, 10_000).await.unwrap();
    assert!(rows.iter().filter(|e| e.kind == "call.supervised").all(|e| e.actor == "L001"));
}

/// The calls in of CASE-C0011 once the latest has ended.
async fn calls_in_ended(c: &mut Client, n: usize) -> Value {
    for _ in 0..100 {
        let (s, v) = c.get("/api/cases/CASE-C0011/calls-in").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v.as_array().unwrap().len() == n && !v[0]["outcome"].is_null() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no ended call in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_debtor_calling_back_reaches_their_ready_collector_and_is_recorded_but_not_counted() {
    if !peer::baresip_or_skip("inbound") {
        return;
    }
    let r = rig(Answer::Auto, now()).await;
    let mut e2 = Client::signed_in(&r.app, "E002").await;
    let attempts_before = e2.get("/api/cases/CASE-C0011").await.1["timeline"].as_array().unwrap().len();
    let (s, v) = e2.post("/api/me/state", json!({"state": "ready"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut events = event_stream(&e2).await;

    // The debtor calls back the caller ID: E002's phone rings, then the debtor is answered.
    let dialled = format!("sip:02160000000@{}", r.sip);
    r.debtor.command("dial", &dialled).await.unwrap();
    r.debtor.wait_for("CALL_ESTABLISHED", Duration::from_secs(15)).await.expect("the debtor was answered");
    assert_eq!(r.agent.calls_received(), 1, "the collector's phone took it");
    // Screen pop: the collector's console is told to open the case.
    let n = next_event(&mut events, "talking").await;
    assert_eq!((n["case"].as_str(), n["inbound"].as_bool()), (Some("CASE-C0011"), Some(true)), "{n}");
    assert_eq!(e2.get("/api/me/state").await.1["state"], "talking");
    tokio::time::sleep(Duration::from_secs(2)).await;
    r.debtor.hangup().await.unwrap();

    let list = calls_in_ended(&mut e2, 1).await;
    let call = &list[0];
    assert_eq!(
        (call["outcome"].as_str(), call["collector"].as_str()),
        (Some("answered"), Some("E002")),
        "{call}"
    );
    assert!((1..=4).contains(&call["talk_secs"].as_u64().unwrap()), "{call}");
    assert!(call["number"].as_str().unwrap().starts_with("*******"), "masked: {call}");
    assert_eq!(call["dialled"], "02160000000");
    // Logged with the recording's hash; the recording is in the vault.
    let ev = events_of(&*r.store, "call.inbound").await;
    assert_eq!(ev.len(), 1);
    let sha = ev[0]["recording"]["sha256"].as_str().unwrap();
    assert_eq!(call["sha256"], sha);
    let path = r._vault.path().join("recordings").join(ev[0]["recording"]["path"].as_str().unwrap());
    let cipher = std::fs::read(&path).unwrap();
    assert_eq!(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&cipher)), sha);
    // Not a contact: no attempt, nothing under the caps; the collector wraps up.
    let attempts_after = e2.get("/api/cases/CASE-C0011").await.1["timeline"].as_array().unwrap().len();
    assert_eq!(attempts_after, attempts_before);
    assert!(events_of(&*r.store, "attempt.started").await.is_empty());
    let me = e2.get("/api/me/state").await.1;
    assert_eq!((me["state"].as_str(), me["calls_today"].as_u64()), (Some("wrap_up"), Some(1)), "{me}");

    // Nobody ready in the team (E002 paused; E001 has no phone): the caller waits, ringing, in
    // the team's queue, and E002 takes the call as soon as they are ready again.
    let (s, v) = e2.post("/api/me/state", json!({"state": "paused", "reason": "meal"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(r.debtor.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());
    let closed = |p: &Peer| p.history().iter().filter(|e| e.kind == "CALL_CLOSED").count();
    let closed_before = closed(&r.debtor);
    r.debtor.command("dial", &dialled).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(r.agent.calls_received(), 1, "nobody is rung while nobody is ready");
    assert_eq!(closed(&r.debtor), closed_before, "the caller still waits");
    let (s, v) = e2.post("/api/me/state", json!({"state": "ready"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    r.debtor.wait_for("CALL_ESTABLISHED", Duration::from_secs(15)).await.expect("taken from the queue");
    assert_eq!(r.agent.calls_received(), 2, "E002's phone took it");
    tokio::time::sleep(Duration::from_secs(1)).await;
    r.debtor.hangup().await.unwrap();
    assert!(r.debtor.wait_for("CALL_CLOSED", Duration::from_secs(5)).await.is_some());
    let list = calls_in_ended(&mut e2, 2).await;
    assert_eq!(
        (list[0]["outcome"].as_str(), list[0]["collector"].as_str()),
        (Some("answered"), Some("E002")),
        "{list}"
    );

    // Calls in are in the vault with the dialled calls: the lead lists and plays them, the
    // collector may not; an admin's export carries them with their hashes.
    let recording = list[0]["recording"].as_i64().expect("recorded");
    assert_eq!(e2.get("/api/cases/CASE-C0011/recordings").await.0, StatusCode::FORBIDDEN);
    let mut lead = Client::signed_in(&r.app, "L001").await;
    let (s, recs) = lead.get("/api/cases/CASE-C0011/recordings").await;
    assert_eq!(s, StatusCode::OK, "{recs}");
    let rec = recs.as_array().unwrap().iter().find(|x| x["id"] == recording).expect("listed").clone();
    assert_eq!(
        (rec["inbound"].clone(), rec["attempt"].clone(), rec["sha256"].clone()),
        (list[0]["id"].clone(), Value::Null, list[0]["sha256"].clone())
    );
    let (s, _, wav) = lead.raw("GET", &format!("/api/recordings/{recording}/audio"), None).await;
    assert_eq!(s, StatusCode::OK);
    let wav = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
    assert_eq!(wav.spec().channels, 2);
    let mut admin = Client::signed_in(&r.app, "A1").await;
    let (s, zip) = post_bytes(&admin, "/api/recordings/export", &json!({"cases": ["CASE-C0011"]})).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&zip));
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let manifest: Value = serde_json::from_reader(z.by_name("manifest.json").unwrap()).unwrap();
    let exported = manifest["recordings"].as_array().unwrap();
    assert_eq!(exported.len(), 2, "both calls in: {manifest}");
    assert!(exported.iter().any(|x| x["recording"] == recording
        && x["inbound"] == list[0]["id"]
        && x["sha256"] == rec["sha256"]));
    let hows: Vec<Value> =
        events_of(&*r.store, "recording.accessed").await.iter().map(|e| e["how"].clone()).collect();
    assert_eq!(hows, [json!("listen"), json!("export"), json!("export")]);
    let (_, page) = admin.page("/cases/CASE-C0011").await;
    assert!(page.contains(&format!("id=\"rec-{recording}\"")) && page.contains("来电 #"), "{page}");

    // Nobody ready for the queue's whole time: the debtor hears 480, logged missed.
    let (s, v) = e2.post("/api/me/state", json!({"state": "paused", "reason": "meal"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    r.debtor.command("dial", &dialled).await.unwrap();
    let closed = r.debtor.wait_for("CALL_CLOSED", Duration::from_secs(15)).await.expect("refused");
    assert!(closed.param.contains("480"), "{closed:?}");
    let list = calls_in_ended(&mut e2, 3).await;
    assert_eq!(
        (list[0]["outcome"].as_str(), list[0]["collector"].as_str()),
        (Some("missed"), None),
        "{list}"
    );
    assert_eq!(r.agent.calls_received(), 2, "nobody was rung");
    // The case page lists both.
    let (_, page) = e2.page("/cases/CASE-C0011").await;
    assert!(page.contains("id=\"calls-in\"") && page.contains("未接") && page.contains("已接听"), "{page}");
}
