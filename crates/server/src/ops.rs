//! Running the server: `/healthz`, Prometheus metrics at `/metrics` (to a signed-in person or a
//! scraper with the ops token), one log line per request, rate limits per client address (all
//! requests, and sign-ins more strictly), security headers and the one JSON error shape.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use governor::{DefaultKeyedRateLimiter, Quota};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use crate::AppState;
use crate::auth::client_ip;
use crate::error::ApiError;

/// Rate limiters keyed by client address.
pub struct Limits {
    all: DefaultKeyedRateLimiter<IpAddr>,
    logins: DefaultKeyedRateLimiter<IpAddr>,
    /// Growing delays after failed sign-ins.
    pub sign_ins: crate::throttle::Throttle,
}

impl Limits {
    /// Limits as the settings give them.
    pub fn new(s: &crate::Settings) -> Limits {
        let nz = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
        Limits {
            all: governor::RateLimiter::keyed(
                Quota::per_second(nz(s.requests_per_second)).allow_burst(nz(s.burst)),
            ),
            logins: governor::RateLimiter::keyed(
                Quota::per_minute(nz(s.logins_per_minute)).allow_burst(nz(s.logins_per_minute)),
            ),
            sign_ins: crate::throttle::Throttle::new(s.lock_after, s.lock_for),
        }
    }
}

/// The routes of this module.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics_text))
}

/// Whether the server and its database answer.
async fn healthz(State(app): State<AppState>) -> Response {
    match app.store.schema().await {
        Ok(s) if s.applied == s.known => Json(json!({"status": "ok", "schema": s.applied})).into_response(),
        Ok(s) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "schema", "applied": s.applied, "known": s.known})),
        )
            .into_response(),
        Err(e) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "db", "code": e.code()}))).into_response()
        }
    }
}

/// The process's one metrics recorder (installed on first use; every server in the process
/// shares it).
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5])
            .expect("buckets are given")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed by an embedding program: then it records.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Whether a request may read the operations documents (`/metrics`, `/api/openapi.json`): a
/// signed-in person, or a scraper with `Authorization: Bearer <server.ops_token>`.
pub fn ops_allowed(app: &AppState, parts: &axum::http::request::Parts) -> bool {
    // A session that still waits for its second factor is not a sign-in.
    let signed_in = parts
        .extensions
        .get::<crate::auth::MaybeCaller>()
        .and_then(|m| m.0.as_ref())
        .is_some_and(|c| c.hold != crate::auth::Hold::SecondFactor);
    if signed_in {
        return true;
    }
    let given = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&app.settings.ops_token, given) {
        (Some(token), Some(given)) => crate::auth::constant_eq(token.as_bytes(), given.trim().as_bytes()),
        _ => false,
    }
}

async fn metrics_text(State(app): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if !ops_allowed(&app, &parts) {
        return ApiError::unauthenticated().into_response();
    }
    let body = prometheus().render();
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"))], body).into_response()
}

/// The time a request took, by the one monotonic clock reading the server allows itself.
#[allow(clippy::disallowed_methods)] // Measuring a request is IO-side: the engines never see it.
fn stopwatch() -> impl FnOnce() -> Duration {
    let start = std::time::Instant::now();
    move || start.elapsed()
}

/// Middleware: counts and times each request by route and status, and logs it.
pub async fn observe(req: Request, next: Next) -> Response {
    prometheus();
    let elapsed = stopwatch();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |m| m.as_str().to_owned());
    let resp = next.run(req).await;
    let took = elapsed();
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method.to_string()), ("route", route.clone()), ("status", status.clone())];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2]).record(took.as_secs_f64());
    tracing::info!(
        target: "daylight_server::request",
        method = %method,
        route = %route,
        status = resp.status().as_u16(),
        ms = took.as_secs_f64() * 1000.0,
        login = resp.extensions().get::<LoggedIn>().map_or("", |l| l.0.as_str()),
        "request"
    );
    resp
}

/// Put on a response by [`crate::auth::resolve_session`] so the request log names who made it.
#[derive(Debug, Clone)]
pub struct LoggedIn(pub String);

/// Middleware: refuses a client over its rate (429, `RATE_LIMITED`) and sign-ins over theirs.
pub async fn rate_limit(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(req.extensions(), req.headers(), &app.settings.trusted_proxies);
    let login =
        matches!(req.uri().path(), "/api/login" | "/login") && req.method() == axum::http::Method::POST;
    let limited = if login {
        app.limits.logins.check_key(&ip).is_err()
    } else {
        app.limits.all.check_key(&ip).is_err()
    };
    if limited {
        metrics::counter!("http_rate_limited_total").increment(1);
        let mut r =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "too many requests: slow down")
                .into_response();
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    next.run(req).await
}

/// The Content-Security-Policy of every response: scripts, styles, images and media from the
/// server only, no plugins, no `<base>`, forms to the server, no framing by another site.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// Middleware: the security headers of every response — a Content-Security-Policy,
/// `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, `X-Frame-Options: DENY`
/// (a page that may be framed by the console itself says `SAMEORIGIN`, and its policy
/// `frame-ancestors 'self'`), `Cache-Control: no-store` on everything but the static assets
/// (pages and answers carry personal data), and HSTS when the server speaks TLS or sits behind
/// a TLS proxy (`secure_cookies`).
pub async fn security_headers(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let same_origin =
        h.get(header::X_FRAME_OPTIONS).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"SAMEORIGIN"));
    let csp = if same_origin {
        HeaderValue::from_str(&CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'"))
            .expect("ASCII")
    } else {
        HeaderValue::from_static(CSP)
    };
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    if app.settings.tls.is_some() || app.settings.secure_cookies {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    resp
}

/// Middleware: an error answered by a layer or by routing rather than by a handler (no route,
/// wrong method, a body over the limit, a request over its time) in the one JSON error shape;
/// HTML error pages of the console and JSON errors pass as they are.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let kind = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if kind.starts_with("application/json") || kind.starts_with("text/html") {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("NOT_FOUND", "no such page or route"),
        StatusCode::METHOD_NOT_ALLOWED => ("METHOD_NOT_ALLOWED", "the route does not take this method"),
        StatusCode::PAYLOAD_TOO_LARGE => ("BODY_TOO_LARGE", "the body is over the server's limit"),
        StatusCode::REQUEST_TIMEOUT => ("TIMEOUT", "the request took longer than the server allows"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("UNSUPPORTED_MEDIA_TYPE", "the body's content type is not accepted")
        }
        StatusCode::URI_TOO_LONG => ("URI_TOO_LONG", "the address is too long"),
        s if s.is_server_error() => {
            ("INTERNAL", "the server could not complete the request; it has been logged")
        }
        _ => ("BAD_REQUEST", "the request could not be understood"),
    };
    let mut out = ApiError::new(status, code, message).into_response();
    for (name, value) in resp.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
