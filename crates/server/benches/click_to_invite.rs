//! Click to INVITE: the time from a collector's dial request reaching the server (the gate
//! included: the debtor's facts read, judged and the start committed, the number read, the call
//! noted for recovery) to the first INVITE arriving at the collector's phone on 127.0.0.1.
//!
//! The phone is a UDP socket here that answers every INVITE `486 Busy Here`: the switch then
//! withdraws the start (nothing counts under the caps), so one debtor can be dialled again and
//! again. Each dial waits until the previous call has left the switch. SQLite, then PostgreSQL
//! (the `daylight-testdb` server: `DAYLIGHT_TEST_PG_URL`, or `initdb` into a temporary folder).
//!
//! `cargo bench -p daylight-server --bench click_to_invite [-- DIALS]` (default 300 dials each).
#![allow(missing_docs, clippy::print_stdout, clippy::disallowed_methods, clippy::unwrap_used)]

use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use daylight_import::{ImportOptions, import_file};
use daylight_server::settings::{CallSettings, Clock, Settings};
use daylight_store::Store;
use daylight_store::access::{NewUser, Role};
use daylight_store::model::{Assignment, ImportKind};
use daylight_testdb::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "Daylight-Bench-2026!";

fn now() -> jiff::Timestamp {
    // A Tuesday, 10:00 in Shanghai: within calling hours.
    "2026-03-03T02:00:00Z".parse().unwrap()
}

/// A phone that answers every INVITE 486 and reports when each arrived.
fn busy_phone() -> (u16, mpsc::Receiver<Instant>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { return };
            let at = Instant::now();
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !msg.starts_with("INVITE ") {
                continue;
            }
            // A retransmission is answered again but timed once: the first copy is the one.
            let mut out = String::from("SIP/2.0 486 Busy Here\r\n");
            for line in msg.lines() {
                let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
                match name.as_str() {
                    "via" | "v" | "from" | "f" | "call-id" | "i" | "cseq" => {
                        out.push_str(line);
                        out.push_str("\r\n");
                    }
                    "to" | "t" if !line.contains("tag=") => {
                        out.push_str(line);
                        out.push_str(";tag=bench\r\n");
                    }
                    "to" | "t" => {
                        out.push_str(line);
                        out.push_str("\r\n");
                    }
                    _ => {}
                }
            }
            out.push_str("Content-Length: 0\r\n\r\n");
            let _ = sock.send_to(out.as_bytes(), from);
            let _ = tx.send(at);
        }
    });
    (port, rx)
}

async fn seed(store: &dyn Store) {
    store.migrate("bench", now()).await.unwrap();
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/import");
    for (kind, file) in [
        (ImportKind::Customers, "customers.csv"),
        (ImportKind::Contacts, "contacts.csv"),
        (ImportKind::Accounts, "accounts.csv"),
    ] {
        let opts = ImportOptions {
            kind,
            path: examples.join(file),
            encoding: daylight_import::Encoding::Utf8,
            partial: false,
            check: false,
            actor: "bench".into(),
            at: now(),
            time_zone: "Asia/Shanghai".into(),
            chunk_rows: daylight_import::DEFAULT_CHUNK_ROWS,
        };
        import_file(store, &opts, &|_, _| {}).await.unwrap();
    }
    store.create_org_unit(daylight_store::access::UnitKind::Team, "T1", "T1", "bench", now()).await.unwrap();
    let user = NewUser {
        login: "E002".into(),
        name: "坐席".into(),
        mobile: None,
        role: Role::Collector,
        team: Some("T1".into()),
        agency: None,
        disabled: false,
        password_hash: daylight_server::auth::hash_password(PASSWORD).unwrap(),
        must_change: false,
    };
    store.create_user(&user, "bench", now()).await.unwrap();
    let to = Assignment { team: Some("T1".into()), collector: Some("E002".into()), agency: None };
    let case = daylight_domain::id::CaseId::parse("CASE-C0011").unwrap();
    store.assign_case(&case, &to, "bench", now()).await.unwrap();
}

async fn send(
    app: &Router,
    cookie: &str,
    csrf: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie)
        .header("x-csrf-token", csrf);
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), cookie)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn run(name: &str, db: &TestDb, dials: usize) {
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let (phone, invites) = busy_phone();
    let vault = tempfile::tempdir().unwrap();
    let mut s = Settings::for_db(db.url().expose());
    s.clock = Clock::starting_at(now());
    s.requests_per_second = 1_000_000;
    s.burst = 1_000_000;
    s.logins_per_minute = 1_000;
    s.calls = Some(CallSettings {
        sip_bind: "127.0.0.1:0".parse().unwrap(),
        trunk: daylight_calls::Trunk {
            uri_template: "sip:{number}@127.0.0.1:9".into(),
            username: None,
            password: None,
        },
        caller_ids: vec!["02160000000".into()],
        vault: vault.path().join("vault"),
        vault_recipient: age::x25519::Identity::generate().to_public().to_string(),
        vault_identity: None,
        max_calls: 10,
        ring_secs: 15,
        max_call_secs: 60,
        queue_secs: 60,
        bank: "示例银行".into(),
        hotline: "95555".into(),
        phones: [("E002".to_owned(), format!("sip:e002@127.0.0.1:{phone}"))].into_iter().collect(),
        node: format!("bench-{name}"),
        recognizer: None,
    });
    let state = daylight_server::AppState::new(store.clone(), s).start_calls().await.unwrap();
    let app = daylight_server::router(state);
    let (status, login, cookie) =
        send(&app, "", "", "POST", "/api/login", Some(json!({"login": "E002", "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let (cookie, csrf) = (cookie.unwrap(), login["csrf"].as_str().unwrap().to_owned());
    let mut lat = Vec::with_capacity(dials);
    let warmup = 10;
    for i in 0..dials + warmup {
        let t0 = Instant::now();
        let (s, v, _) = send(
            &app,
            &cookie,
            &csrf,
            "POST",
            "/api/cases/CASE-C0011/calls",
            Some(json!({"contact_point": "C0011:mobile"})),
        )
        .await;
        assert_eq!(s, StatusCode::ACCEPTED, "dial {i}: {v}");
        let at = invites.recv_timeout(Duration::from_secs(5)).expect("the INVITE reached the phone");
        if i >= warmup {
            lat.push(at.duration_since(t0).as_secs_f64() * 1000.0);
        }
        // Wait until the call is withdrawn and gone from the switch before the next dial.
        let call = v["call"]["call"].as_i64().unwrap();
        loop {
            let (_, c, _) = send(&app, &cookie, &csrf, "GET", &format!("/api/calls/{call}"), None).await;
            if c["phase"] == "ended" {
                assert!(c["attempt"].is_null(), "the busy phone's call is withdrawn: {c}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        while invites.try_recv().is_ok() {}
    }
    lat.sort_by(f64::total_cmp);
    let mean = lat.iter().sum::<f64>() / lat.len() as f64;
    println!(
        "{name:<10} dials={} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms mean={:.2}ms",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.90),
        percentile(&lat, 0.99),
        lat[lat.len() - 1],
        mean
    );
    assert!(store.started_attempts().await.unwrap().is_empty());
}

fn main() {
    let dials: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(300);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let sqlite = TestDb::sqlite();
        run("sqlite", &sqlite, dials).await;
        sqlite.finish().await;
        match TestDb::postgres().await {
            Some(pg) => {
                run("postgres", &pg, dials).await;
                pg.finish().await;
            }
            None => println!(
                "postgres   skipped: no PostgreSQL (install postgresql-15 or set DAYLIGHT_TEST_PG_URL)"
            ),
        }
    });
}
