//! A store with the example portfolio, one user per role, and a client that keeps cookies.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use daylight_import::{ImportOptions, import_file};
use daylight_server::settings::{Clock, Settings};
use daylight_server::{AppState, router};
use daylight_store::Store;
use daylight_store::access::{NewUser, Role};
use daylight_store::model::{Assignment, ImportKind};
use jiff::Timestamp;
use serde_json::Value;
use tower::ServiceExt;

/// Every user's password in the fixture.
pub const PASSWORD: &str = "Daylight-2026!";

/// Tuesday 3 March 2026, 10:00 in Beijing: a working day, within calling hours.
pub fn now() -> Timestamp {
    "2026-03-03T02:00:00Z".parse().unwrap()
}

/// One user per role: `(login, role, team, agency)`.
pub const USERS: [(&str, Role, Option<&str>, Option<&str>); 9] = [
    ("A1", Role::Admin, None, None),
    ("C1", Role::Compliance, None, None),
    ("S1", Role::Analyst, None, None),
    ("L001", Role::TeamLead, Some("T1"), None),
    ("E001", Role::Collector, Some("T1"), None),
    ("E002", Role::Collector, Some("T1"), None),
    ("M1", Role::AgencyManager, None, Some("AG01")),
    ("X1", Role::AgencyCollector, None, Some("AG01")),
    ("U1", Role::Auditor, None, None),
];

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/import").join(name)
}

/// Migrates `store`, imports the example portfolio (12 customers), adds [`USERS`] and assigns
/// CASE-C0008 to E001, CASE-C0011 to E002 (team T1), CASE-C0012 to X1 at agency AG01.
pub async fn seed(store: &dyn Store) {
    store.migrate("test", now()).await.unwrap();
    for (kind, file) in [
        (ImportKind::Customers, "customers.csv"),
        (ImportKind::Contacts, "contacts.csv"),
        (ImportKind::Accounts, "accounts.csv"),
    ] {
        let opts = ImportOptions {
            kind,
            path: example(file),
            encoding: daylight_import::Encoding::Utf8,
            partial: false,
            check: false,
            actor: "test".into(),
            at: now(),
            time_zone: "Asia/Shanghai".into(),
            chunk_rows: daylight_import::DEFAULT_CHUNK_ROWS,
        };
        import_file(store, &opts, &|_, _| {}).await.unwrap();
    }
    use daylight_store::access::UnitKind;
    store.create_org_unit(UnitKind::Team, "T1", "信用卡催收一组", "test", now()).await.unwrap();
    store.create_org_unit(UnitKind::Agency, "AG01", "华信资产管理", "test", now()).await.unwrap();
    let hash = daylight_server::auth::hash_password(PASSWORD).unwrap();
    for (login, role, team, agency) in USERS {
        let u = NewUser {
            login: login.into(),
            name: format!("用户{login}"),
            mobile: (login == "E002").then(|| "13900000002".to_owned()),
            role,
            team: team.map(Into::into),
            agency: agency.map(Into::into),
            disabled: false,
            password_hash: hash.clone(),
            must_change: false,
        };
        store.create_user(&u, "test", now()).await.unwrap();
    }
    let assign = |team: Option<&str>, collector: &str, agency: Option<&str>| Assignment {
        team: team.map(Into::into),
        collector: Some(collector.into()),
        agency: agency.map(Into::into),
    };
    let id = |s: &str| daylight_domain::id::CaseId::parse(s).unwrap();
    store.assign_case(&id("CASE-C0008"), &assign(Some("T1"), "E001", None), "test", now()).await.unwrap();
    store.assign_case(&id("CASE-C0011"), &assign(Some("T1"), "E002", None), "test", now()).await.unwrap();
    store.assign_case(&id("CASE-C0012"), &assign(None, "X1", Some("AG01")), "test", now()).await.unwrap();
}

/// Settings for tests: the clock at [`now`], limits out of the way unless a test sets them.
pub fn settings(db: &str) -> Settings {
    let mut s = Settings::for_db(db);
    s.clock = Clock::starting_at(now());
    s.requests_per_second = 100_000;
    s.burst = 100_000;
    s.logins_per_minute = 100_000;
    // The admin's second factor is the policy's everywhere but here: the tests of the policy
    // (security.rs: the API and the browser's sign-in) put it back.
    s.second_factor_roles.clear();
    // Tests that move the clock months on would find every fixture password expired; the
    // expiry's own test sets the policy.
    s.password_max_age = None;
    s
}

/// The router over `store`.
pub fn app(store: Arc<dyn Store>, settings: Settings) -> Router {
    router(AppState::new(store, settings))
}

/// A client of the router that keeps its session cookie and CSRF token.
pub struct Client {
    pub app: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Client {
    pub fn new(app: &Router) -> Client {
        Client { app: app.clone(), cookie: None, csrf: None }
    }

    /// Signs in as `login` with [`PASSWORD`]; panics unless it works.
    pub async fn signed_in(app: &Router, login: &str) -> Client {
        let mut c = Client::new(app);
        let (status, body) = c.login(login, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{login}: {body}");
        c
    }

    pub async fn login(&mut self, login: &str, password: &str) -> (StatusCode, Value) {
        let body = serde_json::json!({"login": login, "password": password});
        let (status, v) = self.send("POST", "/api/login", Some(body)).await;
        if status == StatusCode::OK {
            self.csrf = v["csrf"].as_str().map(str::to_owned);
        }
        (status, v)
    }

    /// Sends a request with the session's cookie and CSRF token; returns the status and the
    /// JSON body (Null when there is none).
    pub async fn send(&mut self, method: &str, path: &str, json: Option<Value>) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        let body = match json {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let resp = self.app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        if let Some(set) = resp.headers().get(header::SET_COOKIE) {
            let first = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = if first.ends_with('=') { None } else { Some(first) };
        }
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, v)
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, Value) {
        self.send("GET", path, None).await
    }

    /// A request's status, headers and body as bytes (a form when `form` is given).
    pub async fn raw(
        &mut self,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        let body = match form {
            Some(pairs) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(serde_urlencoded::to_string(pairs).unwrap())
            }
            None => Body::empty(),
        };
        let resp = self.app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, bytes.to_vec())
    }

    /// Posts a console form; returns the status and the page.
    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let (s, _, body) = self.raw("POST", path, Some(form)).await;
        (s, String::from_utf8(body).unwrap())
    }

    /// Gets a console page.
    pub async fn page(&mut self, path: &str) -> (StatusCode, String) {
        let (s, _, body) = self.raw("GET", path, None).await;
        (s, String::from_utf8_lossy(&body).into_owned())
    }

    pub async fn post(&mut self, path: &str, json: Value) -> (StatusCode, Value) {
        self.send("POST", path, Some(json)).await
    }
}

/// Runs each body against a seeded SQLite store and a seeded PostgreSQL store (under `CI=true`
/// a missing PostgreSQL fails).
macro_rules! both {
    ($($name:ident($app:ident, $store:ident) $body:block)+) => {$(
        mod $name {
            use super::*;

            #[allow(unused_variables)]
            async fn body($app: axum::Router, $store: Arc<dyn Store>) $body

            async fn run(db: daylight_testdb::TestDb) {
                let store: Arc<dyn Store> = Arc::from(db.open().await);
                seed(&*store).await;
                body(app(store.clone(), settings(db.url().expose())), store.clone()).await;
                store.close().await;
                drop(store);
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(daylight_testdb::TestDb::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = daylight_testdb::TestDb::postgres().await {
                    run(db).await;
                }
            }
        }
    )+};
}
pub(crate) use both;
