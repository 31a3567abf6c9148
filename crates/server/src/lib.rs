//! Daylight's HTTP server: the REST API, the server-rendered console, signing in and roles.
//! It is a library; `daylight serve` and the tests start it with [`serve`].
//!
//! - [`settings`]: settings from TOML and `DAYLIGHT_` variables, validated.
//! - [`auth`]: argon2id passwords, session cookies, CSRF, lockout; the [`auth::Caller`].
//! - [`roles`]: what each role may do. Which cases it sees is its scope, which the store
//!   applies in every case query (`daylight_store::access::Scope`).
//! - [`api`]: the REST API under `/api`, described by `/api/openapi.json`.
//! - [`console`]: the console's pages (minijinja templates, htmx, zh-CN and English).
//! - [`work`]: what the API and the console share: the queue, the case view, the gate status.
//! - [`desk`]: waivers and third-party contacts to approve, complaints, tasks, the promise sweep.
//! - [`kpi`]: the team lead's figures by collector, team, bucket and agency; [`charts`] draws
//!   them as SVG; [`export`] writes any table as CSV or xlsx.
//! - [`ops`]: `/healthz`, `/metrics`, request logs, body and rate limits.
//!
//! The server reads the clock in one place, [`settings::Clock`], and passes the time down.

pub mod agents;
pub mod api;
pub mod api_desk;
pub mod api_security;
pub mod auth;
pub mod calls;
pub mod campaign;
pub mod charts;
pub mod console;
pub mod desk;
pub mod error;
pub mod export;
pub mod extract;
pub mod inbound;
pub mod kpi;
pub mod mfa;
pub mod ops;
pub mod qc;
pub mod recognizer;
pub mod robot;
pub mod roles;
pub mod settings;
pub mod strategy;
pub mod throttle;
pub mod vault_export;
pub mod work;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use daylight_store::Store;
use jiff::Timestamp;
use tokio::net::TcpListener;

pub use settings::Settings;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The settings.
    pub settings: Arc<Settings>,
    /// The console's templates.
    pub templates: Arc<minijinja::Environment<'static>>,
    /// A hash verified when a login is unknown, so that it takes as long as a wrong password.
    pub dummy_hash: String,
    /// Request and login rate limits.
    pub limits: Arc<ops::Limits>,
    /// Today's plan, parsed once per version.
    pub plans: Arc<work::PlanCache>,
    /// Sessions read in the last few seconds.
    pub sessions: Arc<auth::SessionCache>,
    /// Each user's queue as last listed (for "next case").
    pub queues: Arc<work::QueueCache>,
    /// The QC analyser (compiled on first use).
    pub qc: Arc<qc::QcEngine>,
    /// Experiments' reports, kept until the data changes.
    pub reports: Arc<desk::ReportCache>,
    /// The last day the pack's holiday calendar covers, read at start, after a pack change and
    /// with each promise sweep: the console and `/metrics` warn from 60 days before it.
    pub calendar: Arc<desk::CalendarWatch>,
    /// Daylight's switch, when `[calls]` sets one up.
    pub calls: Option<Arc<calls::Calls>>,
    /// The dialler's campaigns on this server.
    pub campaigns: Arc<campaign::Campaigns>,
}

impl AppState {
    /// A state for `store` under `settings`.
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> AppState {
        let limits = Arc::new(ops::Limits::new(&settings));
        AppState {
            store,
            templates: Arc::new(console::templates()),
            dummy_hash: auth::hash_password("not a password of anyone").expect("hashing works"),
            limits,
            plans: Arc::new(work::PlanCache::default()),
            sessions: Arc::new(auth::SessionCache::default()),
            queues: Arc::new(work::QueueCache::default()),
            qc: Arc::new(qc::QcEngine::default()),
            reports: Arc::new(desk::ReportCache::default()),
            calendar: Arc::new(desk::CalendarWatch::default()),
            calls: None,
            campaigns: Arc::new(campaign::Campaigns::default()),
            settings: Arc::new(settings),
        }
    }

    /// Starts the switch the settings' `[calls]` set up, if any, after finishing as interrupted the
    /// calls this switch had placed when its process stopped.
    pub async fn start_calls(mut self) -> Result<AppState, daylight_calls::CallError> {
        if let Some(c) = self.settings.calls.clone() {
            calls::recover(&self, &c).await.map_err(|e| {
                daylight_calls::CallError::Config(format!("finishing interrupted calls: {e}"))
            })?;
            let calls = Arc::new(calls::Calls::start(&c).await?);
            self.calls = Some(calls.clone());
            // Calls from the trunk are routed from now on.
            tokio::spawn(inbound::serve(self.clone(), calls.clone(), calls.incoming()));
        }
        Ok(self)
    }

    /// The time now, by the settings' clock.
    pub fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }
}

/// The whole application: API, console, operations routes and middleware.
pub fn router(app: AppState) -> Router {
    let (api, mut doc) = api::routes().split_for_parts();
    api::document_errors(&mut doc);
    api::document_formats(&mut doc);
    // The document is the same for the server's life: serialised once, served as it is.
    let doc: Arc<str> = doc.to_pretty_json().unwrap_or_default().into();
    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move |State(app): State<AppState>, req: axum::extract::Request| {
                let doc = doc.clone();
                async move {
                    let (parts, _) = req.into_parts();
                    if ops::ops_allowed(&app, &parts) {
                        api::openapi_json(doc).await
                    } else {
                        error::ApiError::unauthenticated().into_response()
                    }
                }
            }),
        )
        .merge(console::routes())
        .merge(ops::routes())
        .layer(axum::middleware::from_fn(auth::csrf_guard))
        .layer(axum::middleware::from_fn_with_state(app.clone(), auth::resolve_session))
        .layer(axum::middleware::from_fn_with_state(app.clone(), ops::rate_limit))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(app.settings.body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            app.settings.request_timeout.unsigned_abs(),
        ))
        .layer(axum::middleware::from_fn(ops::json_errors))
        // No page is framed by another site; the side-by-side view's frames say SAMEORIGIN.
        .layer(axum::middleware::from_fn_with_state(app.clone(), ops::security_headers))
        .layer(axum::middleware::from_fn(ops::observe))
        .with_state(app)
}

/// Serves `store` on `listener` until `shutdown` completes, then finishes the requests in
/// flight. With `settings.tls` the server speaks HTTPS only.
pub async fn serve(
    settings: Settings,
    store: Arc<dyn Store>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = settings.tls.clone();
    let state = AppState::new(store, settings).start_calls().await.map_err(|e| {
        std::io::Error::other(format!("the switch ([calls]) did not start: {}: {e}", e.code()))
    })?;
    if let Some(c) = &state.calls {
        tracing::info!(sip = %c.sip_addr(), "switch listening");
    }
    // Today's plan is read before the first request, so that no collector waits for it.
    if let Err(e) = state.plans.today(&state).await {
        tracing::warn!(code = %e.code, error = %e.message, "reading today's plan failed");
    }
    state.calendar.refresh(&state).await;
    // The QC analyser (jieba's dictionary) is compiled in the background now, not by the first
    // page that lints a script or a transcript (the strategy page's first load took 242 ms).
    let warm = state.clone();
    tokio::task::spawn_blocking(move || {
        let _ = qc::lint(&warm, "");
    });
    // Promises are swept (reminders, kept, broken) while the server runs.
    let sweeper = desk::spawn_sweeper(state.clone());
    let _stop = AbortOnDrop(sweeper);
    let (header_read, max_connections) =
        (state.settings.header_read_timeout.unsigned_abs(), state.settings.max_connections);
    match tls {
        None => serve_http(listener, router(state), header_read, max_connections, shutdown).await,
        Some((cert, key)) => {
            let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key).await.map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("TLS certificate {} or key {}: {e}", cert.display(), key.display()),
                    )
                })?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            let mut server = axum_server::from_tcp_rustls(listener.into_std()?, config)?.handle(handle);
            server
                .http_builder()
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_read);
            server.serve(app).await
        }
    }
}

/// Serves `app` over plain HTTP/1.1 on `listener`: a connection that has not sent a request's
/// headers within `header_read` of opening (or of its last answer) is closed, and at most
/// `max_connections` are served at once — the others wait in the listener's backlog — so that
/// half-open connections (slowloris) neither hold the server nor use up its descriptors. When
/// `shutdown` completes, no connection is accepted and those open finish their requests (at
/// most 10 s).
async fn serve_http(
    listener: TcpListener,
    app: Router,
    header_read: std::time::Duration,
    max_connections: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::extract::ConnectInfo;
    use tower::ServiceExt;

    let permits = Arc::new(tokio::sync::Semaphore::new(max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(header_read).keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before it was accepted: wait a
                    // moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = app.clone().map_request(move |mut r: axum::http::Request<hyper::body::Incoming>| {
            r.extensions_mut().insert(ConnectInfo(peer));
            r
        });
        let conn = http.serve_connection(
            hyper_util::rt::TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(svc),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            tracing::warn!("connections still open 10 s after the stop: closing them");
        }
    }
    Ok(())
}

/// Aborts a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
