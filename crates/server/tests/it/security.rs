//! Attacks on the server (issue 22): hostile text, non-JSON errors, missing security headers,
//! formula injection in exports.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use daylight_store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::fixture::*;

/// Sends `body` with `content_type` and the client's session; returns status, headers, JSON.
async fn send_raw(
    c: &Client,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(ck) = &c.cookie {
        req = req.header(header::COOKIE, ck);
    }
    if let Some(t) = &c.csrf {
        req = req.header("x-csrf-token", t);
    }
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let resp = c.app.clone().oneshot(req.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let kind = parts.headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
    assert!(
        parts.status.is_success() || kind.as_deref() == Some("application/json"),
        "{method} {path}: an error answered as {kind:?}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, v)
}

fn code(v: &Value) -> (&str, &str) {
    (v["error"]["code"].as_str().unwrap_or("-"), v["error"]["field"].as_str().unwrap_or("-"))
}

both! {
    text_with_nul_bidi_or_zero_width_characters_is_refused_naming_the_field(app, store) {
        let anon = Client::new(&app);
        // No sign-in needed to reach the login's text.
        let (s, _, v) = send_raw(&anon, "POST", "/api/login", Some("application/json"),
            r#"{"login":"E0\u000001","password":"x"}"#).await;
        assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ("TEXT_CHARACTER", "login")), "{v}");

        let mut e = Client::signed_in(&app, "E001").await;
        let (s, v) = e.post("/api/cases/CASE-C0008/notes", json!({"text": "promised\u{0}tomorrow"})).await;
        assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ("TEXT_CHARACTER", "text")), "{v}");
        let (s, v) = e.post("/api/cases/CASE-C0008/notes", json!({"text": "ok\u{202E}gnp.exe"})).await;
        assert_eq!(code(&v), ("TEXT_CHARACTER", "text"), "{s} {v}");
        let (s, _) = e.post("/api/cases/CASE-C0008/notes", json!({"text": "答应明天还款\n第二行"})).await;
        assert_eq!(s, StatusCode::CREATED);

        let mut admin = Client::signed_in(&app, "A1").await;
        for (name, team) in [("新\u{200B}人", "T1"), ("新人", "T\u{0}"), ("新人", "T\u{202E}1")] {
            let (s, v) = admin
                .post("/api/users", json!({"login": "E100", "name": name, "role": "collector", "team": team}))
                .await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name:?} {team:?}: {v}");
            assert_eq!(code(&v).0, "TEXT_CHARACTER", "{v}");
        }
        let (_, users) = admin.get("/api/users").await;
        assert!(!users.to_string().contains("E100"), "nothing was stored: {users}");
        // A path and a query are text too.
        let (s, _, v) = send_raw(&e, "GET", "/api/cases/CASE-C0008%00", None, "").await;
        assert_eq!(code(&v).0, "TEXT_CHARACTER", "{s} {v}");
        // The console's forms too, the team lead's bulk close among them.
        let mut lead = Client::signed_in(&app, "L001").await;
        let csrf = lead.csrf.clone().unwrap();
        let (s, page) = lead
            .post_form("/team", &[("csrf", &csrf), ("action", "close"), ("case", "CASE-C0008"), ("reason", "settled"), ("note", "结清\u{0}")])
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("含有不允许的控制或隐藏字符"), "{page}");
        let (_, case) = lead.get("/api/cases/CASE-C0008").await;
        assert_eq!(case["status"], "open", "nothing was closed");
    }

    an_id_outside_the_callers_scope_is_not_found_like_one_that_does_not_exist(app, store) {
        let mut e2 = Client::signed_in(&app, "E002").await;
        let (s, made) = e2
            .post("/api/cases/CASE-C0011/contacts", json!({"contact_point": "C0011:mobile", "outcome": "no_answer"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{made}");
        let theirs = made["attempt"].as_i64().unwrap_or_else(|| panic!("{made}"));
        let mut e1 = Client::signed_in(&app, "E001").await;
        let promise = |attempt: i64| json!({"amount": "100", "date": "2026-03-10", "attempt": attempt});
        let (s1, b1) = e1.post("/api/cases/CASE-C0008/promises", promise(theirs)).await;
        let (s2, b2) = e1.post("/api/cases/CASE-C0008/promises", promise(987_654)).await;
        assert_eq!((s1, code(&b1).0), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{b1}");
        assert_eq!((s2, code(&b2).0), (StatusCode::NOT_FOUND, "NOT_FOUND"), "{b2}");
        assert!(!b1.to_string().contains("another"), "{b1}");
    }

    every_error_is_json_in_the_one_shape(app, store) {
        let mut e = Client::signed_in(&app, "E001").await;
        let (s, _, v) = send_raw(&e, "GET", "/api/no-such-route", None, "").await;
        assert_eq!((s, code(&v).0), (StatusCode::NOT_FOUND, "NOT_FOUND"));
        let (s, _, v) = send_raw(&e, "DELETE", "/api/me", None, "").await;
        assert_eq!((s, code(&v).0), (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"));
        let (s, _, v) = send_raw(&e, "POST", "/api/cases/CASE-C0008/notes", Some("text/plain"), "hi").await;
        assert_eq!((s, code(&v).0), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"));
        let (s, _, v) = send_raw(&e, "POST", "/api/cases/CASE-C0008/notes", Some("application/json"), "{\"text\":").await;
        assert_eq!((s, code(&v).0), (StatusCode::BAD_REQUEST, "MALFORMED_JSON"));
        assert!(v["error"]["message"].as_str().unwrap().contains("line 1, column"), "{v}");
        let (s, _, v) = send_raw(&e, "POST", "/api/cases/CASE-C0008/notes", Some("application/json"), "{\"text\":5}").await;
        assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, ("INVALID_FIELD", "text")));
        let big = format!("{{\"text\":\"{}\"}}", "x".repeat(3 << 20));
        let (s, _, v) = send_raw(&e, "POST", "/api/cases/CASE-C0008/notes", Some("application/json"), &big).await;
        assert_eq!((s, code(&v).0), (StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE"));
        let (s, _, v) = send_raw(&e, "GET", "/api/cases?limit=many", None, "").await;
        assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, ("BAD_QUERY", "limit")), "{v}");
        e.get("/api/me").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let db = daylight_testdb::TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let app = app(store.clone(), settings(db.url().expose()));
    let mut e = Client::signed_in(&app, "E001").await;
    for path in ["/login", "/workbench", "/api/me", "/api/no-such-route", "/cases/CASE-C0008"] {
        let (_, h, _) = e.raw("GET", path, None).await;
        let get =
            |n: header::HeaderName| h.get(n).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let csp = get(header::CONTENT_SECURITY_POLICY);
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(get(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(get(header::REFERRER_POLICY), "same-origin", "{path}");
        assert_eq!(get(header::X_FRAME_OPTIONS), "DENY", "{path}");
        assert_eq!(get(header::CACHE_CONTROL), "no-store", "{path}: pages carry personal data");
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "no HSTS over plain HTTP");
    }
    // A case framed by the side-by-side view may be framed by the console itself.
    let (_, h, _) = e.raw("GET", "/cases/CASE-C0008?embed=1", None).await;
    assert!(h[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors 'self'"));
    let (_, h, _) = e.raw("GET", "/static/app.css", None).await;
    assert!(h[header::CACHE_CONTROL].to_str().unwrap().starts_with("public"), "assets are cached");
    // Behind TLS: HSTS.
    let mut s = settings(db.url().expose());
    s.secure_cookies = true;
    let tls = crate::fixture::app(store.clone(), s);
    let (_, h, _) = Client::new(&tls).raw("GET", "/login", None).await;
    assert_eq!(h[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000");
    store.close().await;
    drop(store);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiver_reason_is_exported_as_text_not_a_formula() {
    let db = daylight_testdb::TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let app = app(store.clone(), settings(db.url().expose()));
    let mut e = Client::signed_in(&app, "E001").await;
    let (s, v) = e
        .post(
            "/api/cases/CASE-C0008/waivers",
            json!({"component": "late_fees", "amount": "10", "reason": "=cmd|' /C calc'!A0"}),
        )
        .await;
    assert!(s.is_success(), "{s} {v}");
    let mut l = Client::signed_in(&app, "L001").await;
    let (s, _, body) = l.raw("GET", "/export/waivers.csv", None).await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("'=cmd|"), "{text}");
    assert!(!text.contains(",=cmd") && !text.contains("\"=cmd"), "{text}");
    store.close().await;
    drop(store);
    db.finish().await;
}

/// The Content-Security-Policy runs no inline script or style: no template may carry one.
#[test]
fn no_template_has_an_inline_script_handler_or_style() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    // ` onclick=`, ` onchange=` …: " on", letters, "=".
    let inline_handler = |line: &str| {
        line.match_indices(" on").any(|(i, _)| {
            let rest = &line[i + 3..];
            let letters = rest.chars().take_while(char::is_ascii_lowercase).count();
            letters > 0 && rest[letters..].starts_with('=')
        })
    };
    let bad = |line: &str| {
        inline_handler(line)
            || line.contains(" style=")
            || line.contains("<script>")
            || line.contains("javascript:")
            || line.contains("hx-on")
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            if bad(line) {
                found.push(format!("{}:{}: {line}", path.display(), i + 1));
            }
        }
    }
    assert!(found.is_empty(), "inline script or style:\n{}", found.join("\n"));
}

both! {
    a_case_is_found_by_a_full_mobile_though_the_number_is_sealed(app, store) {
        let mut officer = Client::signed_in(&app, "C1").await;
        let (s, found) = officer.get("/api/cases?q=13528765433").await;
        assert_eq!(s, StatusCode::OK, "{found}");
        let ids: Vec<&str> = found.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["CASE-C0003"]);
        assert_eq!(found[0]["name"], "李*", "masked");
        // By the resident ID, and within the caller's scope only.
        let (_, by_id) = officer.get("/api/cases?q=440305198802031148").await;
        assert_eq!(by_id[0]["id"], "CASE-C0003");
        let mut e2 = Client::signed_in(&app, "E002").await;
        let (_, theirs) = e2.get("/api/cases?q=13528765433").await;
        assert_eq!(theirs, json!([]), "a case outside the collector's scope is not found by its number");
    }

    failed_sign_ins_slow_the_guesser_but_never_lock_the_owner(app, store) {
        // Behind a trusted proxy (the tests' peer is 0.0.0.0): X-Forwarded-For names the client.
        let mut s = settings("unused");
        s.trusted_proxies = vec!["0.0.0.0/32".parse().unwrap()];
        let app = crate::fixture::app(store.clone(), s);
        let anon = Client::new(&app);
        let login = |who: &'static str, pw: &'static str, from: &'static str| {
            let app = app.clone();
            async move {
                let req = Request::builder()
                    .method("POST")
                    .uri("/api/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("x-forwarded-for", format!("198.51.100.7, {from}"))
                    .body(Body::from(json!({"login": who, "password": pw}).to_string()))
                    .unwrap();
                let resp = app.oneshot(req).await.unwrap();
                let retry = resp.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
                let status = resp.status();
                let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                (status, v["error"]["code"].as_str().unwrap_or("-").to_owned(), retry)
            }
        };
        for who in ["A1", "NOBODY"] {
            for _ in 0..5 {
                let (s, c, _) = login(who, "wrong-password", "203.0.113.9").await;
                assert_eq!((s, c.as_str()), (StatusCode::UNAUTHORIZED, "BAD_CREDENTIALS"), "{who}");
            }
            // The guesser now waits, with the right password too; known and unknown alike.
            let (s, c, retry) = login(who, PASSWORD, "203.0.113.9").await;
            assert_eq!((s, c.as_str(), retry.as_deref()), (StatusCode::TOO_MANY_REQUESTS, "LOGIN_DELAYED", Some("1")), "{who}");
        }
        // The admin, from their own desk, is not locked out by the attack.
        let (s, c, _) = login("A1", PASSWORD, "10.1.1.1").await;
        assert_eq!((s, c.as_str()), (StatusCode::OK, "-"));
        // A forged X-Forwarded-For from a peer that is not a trusted proxy is ignored: the
        // default settings trust none, so the tries above would all have come from 0.0.0.0.
        assert!(settings("x").trusted_proxies.is_empty());
        drop(anon);
    }
}

/// `GET /healthz` on a new connection: the status line.
async fn healthz(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).lines().next().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_are_closed_and_healthz_keeps_answering() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = daylight_testdb::TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let mut s = settings(db.url().expose());
    s.header_read_timeout = jiff::SignedDuration::from_secs(1);
    s.max_connections = 64;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(daylight_server::serve(s, store.clone(), listener, async {
        let _ = stopped.await;
    }));
    assert!(healthz(addr).await.contains("200"));
    // 300 connections (more than the server serves at once) that send a request's headers a
    // line at a time and never finish them.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.push(c);
    }
    let trickle = tokio::spawn(async move {
        for _ in 0..10 {
            for c in &mut slow {
                let _ = c.write_all(b"X-Slow: 1\r\n").await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        slow
    });
    // Meanwhile the health check answers, each time within a few header timeouts.
    for _ in 0..6 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(8), healthz(addr))
            .await
            .expect("/healthz answers during the attack");
        assert!(line.contains("200"), "{line}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // Every slow connection was closed by the server.
    let slow = trickle.await.unwrap();
    for mut c in slow {
        let mut buf = Vec::new();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), c.read_to_end(&mut buf)).await;
        assert!(ended.is_ok(), "a slow connection still open");
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    store.close().await;
    drop(store);
    db.finish().await;
}

/// The code of `secret` at the server's `clock` shifted by `steps` steps.
fn code_at(secret: &str, clock: &daylight_server::settings::Clock, steps: i64) -> String {
    daylight_server::mfa::code_at(secret, clock.now() + jiff::SignedDuration::from_secs(30 * steps)).unwrap()
}

both! {
    a_second_factor_is_enrolled_then_asked_for_at_every_sign_in(app, store) {
        // The policy as shipped: admins sign in with a second factor.
        let st = daylight_server::settings::Settings { second_factor_roles: vec![daylight_store::access::Role::Admin], ..settings("x") };
        let clock = st.clock;
        let app = crate::fixture::app(store.clone(), st);
        let mut a = Client::signed_in(&app, "A1").await;
        let (s, b) = a.get("/api/users").await;
        assert_eq!((s, code(&b).0), (StatusCode::FORBIDDEN, "SECOND_FACTOR_ENROLMENT_REQUIRED"));
        let (s, en) = a.post("/api/me/second-factor", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{en}");
        let secret = en["secret"].as_str().unwrap().to_owned();
        assert!(en["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/Daylight:A1?secret="));
        assert!(en["qr_svg"].as_str().unwrap().contains("<svg"));
        let (s, b) = a.post("/api/me/second-factor/confirm", json!({"code": "000000"})).await;
        assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, ("SECOND_FACTOR_CODE", "code")), "{b}");
        let (s, done) = a.post("/api/me/second-factor/confirm", json!({"code": code_at(&secret, &clock, 0)})).await;
        assert_eq!(s, StatusCode::OK, "{done}");
        let recovery: Vec<String> =
            done["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        assert_eq!(recovery.len(), 10);
        assert_eq!(a.get("/api/users").await.0, StatusCode::OK, "enrolled: the session is whole");

        // Next sign-in: the password opens a session that waits for the code.
        let mut b2 = Client::new(&app);
        let (s, body) = b2.login("A1", PASSWORD).await;
        assert_eq!((s, body["second_factor_required"].as_bool()), (StatusCode::OK, Some(true)));
        let (s, b) = b2.get("/api/users").await;
        assert_eq!((s, code(&b).0), (StatusCode::UNAUTHORIZED, "SECOND_FACTOR_REQUIRED"));
        assert_eq!(b2.get("/metrics").await.0, StatusCode::UNAUTHORIZED, "a password alone is not a sign-in");
        let (s, b) = b2.post("/api/password", json!({"current_password": PASSWORD, "new_password": "Another-Pass-77"})).await;
        assert_eq!((s, code(&b).0), (StatusCode::UNAUTHORIZED, "SECOND_FACTOR_REQUIRED"), "no password change before the code");
        // The code used to enrol cannot be used again (its step is spent); the next one can.
        let (s, b) = b2.post("/api/login/second-factor", json!({"code": code_at(&secret, &clock, 0)})).await;
        assert_eq!((s, code(&b).0), (StatusCode::UNPROCESSABLE_ENTITY, "SECOND_FACTOR_CODE"), "a replayed code");
        let pending_cookie = b2.cookie.clone();
        let (s, body) = b2.post("/api/login/second-factor", json!({"code": code_at(&secret, &clock, 1)})).await;
        assert_eq!((s, body["second_factor_required"].as_bool()), (StatusCode::OK, Some(false)), "{body}");
        assert_ne!(b2.cookie, pending_cookie, "a new session replaces the waiting one");
        b2.csrf = body["csrf"].as_str().map(str::to_owned);
        assert_eq!(b2.get("/api/users").await.0, StatusCode::OK);

        // One step, with a recovery code: once.
        let mut c = Client::new(&app);
        let one_step = json!({"login": "A1", "password": PASSWORD, "code": recovery[0]});
        let (s, body) = c.post("/api/login", one_step.clone()).await;
        assert_eq!((s, body["second_factor_required"].as_bool()), (StatusCode::OK, Some(false)), "{body}");
        let (s, b) = Client::new(&app).post("/api/login", one_step).await;
        assert_eq!((s, code(&b).0), (StatusCode::UNPROCESSABLE_ENTITY, "SECOND_FACTOR_CODE"));

        // An admin resets another user's factor (a lost phone): they sign in with the password alone.
        let mut l = Client::signed_in(&app, "L001").await;
        let (_, en) = l.post("/api/me/second-factor", json!({})).await;
        let l_secret = en["secret"].as_str().unwrap().to_owned();
        assert_eq!(l.post("/api/me/second-factor/confirm", json!({"code": code_at(&l_secret, &clock, 0)})).await.0, StatusCode::OK);
        assert_eq!(Client::new(&app).login("L001", PASSWORD).await.1["second_factor_required"], true);
        let (s, _) = b2.post("/api/users/L001/second-factor-reset", json!({})).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(l.get("/api/me").await.0, StatusCode::UNAUTHORIZED, "the reset ended their sessions");
        assert_eq!(Client::new(&app).login("L001", PASSWORD).await.1["second_factor_required"], false);
        let (s, _) = l.post("/api/users/A1/second-factor-reset", json!({})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let kinds = store.ledger_rows(0, 10_000).await.unwrap();
        let factor: Vec<_> = kinds.iter().filter(|r| r.kind == "user.second_factor").collect();
        assert_eq!(factor.len(), 4, "A1 and L001 enrolled, a recovery code used, L001 reset");
    }

    passwords_expire_and_may_not_come_back(app, store) {
        // 100 days after the fixture's users set their passwords: past the 90-day policy.
        let st = daylight_server::settings::Settings {
            clock: daylight_server::settings::Clock::starting_at(now() + jiff::SignedDuration::from_hours(24 * 100)),
            password_max_age: Some(jiff::SignedDuration::from_hours(24 * 90)),
            ..settings("x")
        };
        let app = crate::fixture::app(store.clone(), st);
        let mut e = Client::signed_in(&app, "E001").await;
        let (s, b) = e.get("/api/queue").await;
        assert_eq!((s, code(&b).0), (StatusCode::FORBIDDEN, "PASSWORD_EXPIRED"));
        let change = |from: &str, to: &str| json!({"current_password": from, "new_password": to});
        assert_eq!(e.post("/api/password", change(PASSWORD, "Second-Pass-2026")).await.0, StatusCode::NO_CONTENT);
        assert_eq!(e.get("/api/queue").await.0, StatusCode::OK);
        let (s, b) = e.post("/api/password", change("Second-Pass-2026", PASSWORD)).await;
        assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, ("PASSWORD_REUSED", "new_password")), "{b}");
        assert_eq!(e.post("/api/password", change("Second-Pass-2026", "Third-Pass-2026")).await.0, StatusCode::NO_CONTENT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_enrols_and_signs_in_with_a_second_factor_in_a_real_browser() {
    use crate::browser::{
        browser_bins, click, fill, path_of, shot, sign_in, start_browser, text_of, wait_for,
    };
    let Some((driver_bin, chrome_bin)) = browser_bins() else { return };
    let db = daylight_testdb::TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let st = daylight_server::settings::Settings {
        second_factor_roles: vec![daylight_store::access::Role::Admin],
        ..settings(db.url().expose())
    };
    let clock = st.clock;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(daylight_server::serve(st, store.clone(), listener, async {
        let _ = stopped.await;
    }));
    let (driver, c) = start_browser(&driver_bin, &chrome_bin).await;
    let run = async {
        // The admin has no second factor yet: the console sends them to enrol one first.
        sign_in(&c, &base, "A1", PASSWORD).await?;
        wait_for(&c, "#enrol-required").await?;
        if path_of(&c).await? != "/security" {
            return Err(format!("not sent to enrol: {}", path_of(&c).await?));
        }
        click(&c, "#begin-enrolment").await?;
        wait_for(&c, "#qr svg").await?;
        let secret = text_of(&c, "#totp-secret").await?;
        fill(&c, "#confirm-code", &code_at(&secret, &clock, 0)).await?;
        click(&c, "#confirm-enrolment").await?;
        wait_for(&c, "#recovery-codes").await?;
        let codes = text_of(&c, "#recovery-codes").await?;
        if codes.lines().filter(|l| l.trim().len() == 11).count() != 10 {
            return Err(format!("recovery codes: {codes:?}"));
        }
        click(&c, "#continue").await?;
        wait_for(&c, "#nav-users").await?;
        // Signing in again: the password, then the code.
        sign_in(&c, &base, "A1", PASSWORD).await?;
        wait_for(&c, "#code").await?;
        fill(&c, "#code", "000000").await?;
        click(&c, "#verify-code").await?;
        wait_for(&c, "#code-error").await?;
        fill(&c, "#code", &code_at(&secret, &clock, 1)).await?;
        click(&c, "#verify-code").await?;
        wait_for(&c, "#nav-users").await?;
        Ok::<(), String>(())
    };
    let result = run.await;
    if result.is_err() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
        shot(&c, &dir, "an_admin_enrols_and_signs_in_with_a_second_factor").await;
    }
    let _ = c.close().await;
    drop(driver);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    store.close().await;
    result.expect("the second factor in the browser (screenshot: target/e2e/an_admin_enrols_and_signs_in_with_a_second_factor.png)");
}

both! {
    transcripts_and_employers_are_masked_and_shown_in_clear_only_on_an_audited_reveal(app, store) {
        let mut e2 = Client::signed_in(&app, "E002").await;
        let (_, made) = e2.post("/api/cases/CASE-C0011/contacts", json!({"contact_point": "C0011:mobile", "outcome": "conversation"})).await;
        let attempt = made["attempt"].as_i64().unwrap();
        let turn = |speaker: &str, start: u64, text: &str| json!({"speaker": speaker, "start_ms": start, "end_ms": start + 2000, "text": text});
        let transcript = json!({
            "call_id": "c-pii", "started_at": "2026-03-03T10:00:00+08:00", "language": "zh-CN",
            "turns": [
                turn("agent", 0, "您好，请问是徐强先生吗？请核对身份证650102198908241716。"),
                turn("debtor", 2500, "是我，你别找我妹妹徐燕，她的电话13910110407。"),
            ],
        });
        let (s, b) = e2.post(&format!("/api/cases/CASE-C0011/attempts/{attempt}/transcript"), transcript).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let pii_views = |rows: &[daylight_ledger::Row]| rows.iter().filter(|r| r.kind == "pii.viewed").count();
        let before = pii_views(&store.ledger_rows(0, 100_000).await.unwrap());
        for who in ["S1", "U1", "L001"] {
            let mut c = Client::signed_in(&app, who).await;
            let (s, d) = c.get(&format!("/api/qc/calls/{attempt}")).await;
            assert_eq!(s, StatusCode::OK, "{who}: {d}");
            let text = d.to_string();
            for clear in ["徐强", "徐燕", "650102198908241716", "13910110407", "6501021989"] {
                assert!(!text.contains(clear), "{who} sees {clear} without a reveal: {text}");
            }
            assert!(text.contains("徐*") && text.contains("139****0407") && text.contains("1716"), "{text}");
            let (_, list) = c.get("/api/qc/calls").await;
            assert!(!list.to_string().contains("徐强"), "{who}: the list's words are masked too");
        }
        assert_eq!(pii_views(&store.ledger_rows(0, 100_000).await.unwrap()), before, "no reveal, no view recorded");
        // A role that may unmask sees it in clear, and the view is recorded; others may not.
        let mut analyst = Client::signed_in(&app, "S1").await;
        let (s, _) = analyst.post(&format!("/api/qc/calls/{attempt}/reveal"), json!({"purpose": "想看"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let mut lead = Client::signed_in(&app, "L001").await;
        let (s, d) = lead.post(&format!("/api/qc/calls/{attempt}/reveal"), json!({"purpose": "投诉核查"})).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert!(d.to_string().contains("徐强") && d.to_string().contains("650102198908241716"));
        let rows = store.ledger_rows(0, 100_000).await.unwrap();
        assert_eq!(pii_views(&rows), before + 1);
        let seen = rows.iter().rev().find(|r| r.kind == "pii.viewed").unwrap();
        assert!(seen.payload.contains(&format!("transcript:{attempt}")) && seen.payload.contains("投诉核查"), "{}", seen.payload);
        // The console page: masked, with a reveal form for the team lead.
        let (_, page) = lead.page(&format!("/qc/{attempt}")).await;
        assert!(!page.contains("徐强") && page.contains("id=\"reveal-transcript\""));
        // The employer is masked for collectors and agency staff alike.
        let (_, case) = e2.get("/api/cases/CASE-C0011").await;
        assert_eq!(case["employer"], "乌鲁****", "{}", case["employer"]);
    }
}
