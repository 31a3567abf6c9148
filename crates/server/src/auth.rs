//! Signing in and staying signed in: argon2id passwords, session cookies, CSRF tokens, lockout.
//!
//! - A session cookie holds 256 random bits; the store keeps only their SHA-256. It is
//!   `HttpOnly`, `SameSite=Strict`, and `Secure` with TLS (or when configured behind a proxy).
//! - Every session has its own CSRF token. Every unsafe request of a session (POST, PUT, PATCH,
//!   DELETE) must carry it, in the `X-CSRF-Token` header (htmx and API clients) or a `csrf`
//!   form field (plain forms); [`csrf_guard`] refuses the rest with `CSRF`.
//! - Failed sign-ins are slowed by growing delays per login and source, never locked
//!   ([`crate::throttle`]). A wrong login and a wrong password take the same time and answer
//!   alike.
//! - A session ends `session_ttl` after login, or `idle_timeout` after its last use.
//! - A one-time password (set by an admin) lets its user do nothing but change it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use daylight_store::access::{NewSession, Scope, User};
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::roles::{Permission, allows};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "daylight_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How often a session's last use is written (at most): a busy collector does not write the
/// database on every click.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane; OWASP's
/// minimum) and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the password could not be stored")
    })
}

/// [`hash_password`] on a blocking thread: argon2 takes tens of milliseconds of CPU on purpose,
/// which must not stall the server's other requests.
pub async fn hash_off_thread(password: &str) -> Result<String, ApiError> {
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&pw)).await.map_err(|_| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "the password could not be stored")
    })?
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// 256 random bits, hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system's random source");
    hex::encode(b)
}

/// A password an admin hands over once: 12 characters from an alphabet without look-alikes.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).expect("the operating system's random source");
    // 256 % 54 leaves a bias of under 0.4 % per character: immaterial for a password that must
    // be changed at first use.
    b.iter().map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char).collect()
}

/// SHA-256 of a session token, hex: what the store keeps.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks a new password against the settings; the error names the field.
pub fn check_new_password(password: &str, min_chars: usize, login: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < min_chars {
        return Err(ApiError::field(
            "new_password",
            "PASSWORD_WEAK",
            format!("at least {min_chars} characters"),
        ));
    }
    if n > 256 {
        return Err(ApiError::field("new_password", "PASSWORD_WEAK", "at most 256 characters"));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|x| **x).count() < 3 {
        return Err(ApiError::field(
            "new_password",
            "PASSWORD_WEAK",
            "use at least three of: lower case, upper case, digits, other characters",
        ));
    }
    if password.to_lowercase().contains(&login.to_lowercase()) {
        return Err(ApiError::field("new_password", "PASSWORD_WEAK", "a password may not contain the login"));
    }
    Ok(())
}

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user as stored now.
    pub user: User,
    /// The cases they may see.
    pub scope: Scope,
    /// The session's CSRF token (for forms the console renders).
    pub csrf: String,
    /// The session's token digest.
    pub session: String,
    /// What the person must do before anything else, if anything.
    pub hold: Hold,
}

/// What a signed-in person must do before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Nothing: the session is whole.
    None,
    /// Give the second factor's code (the password was right).
    SecondFactor,
    /// Change a one-time password.
    ChangePassword,
    /// Change a password older than the policy allows.
    PasswordExpired,
    /// Enrol a second factor (the policy requires one of the role).
    Enrol,
}

impl Hold {
    /// The refusal of anything else while the hold lasts.
    pub fn refusal(self) -> Option<ApiError> {
        let (status, code, message) = match self {
            Hold::None => return None,
            Hold::SecondFactor => (
                StatusCode::UNAUTHORIZED,
                "SECOND_FACTOR_REQUIRED",
                "give the code of your authenticator app first (POST /api/login/second-factor)",
            ),
            Hold::ChangePassword => (
                StatusCode::FORBIDDEN,
                "PASSWORD_CHANGE_REQUIRED",
                "this is a one-time password: change it first (POST /api/password)",
            ),
            Hold::PasswordExpired => (
                StatusCode::FORBIDDEN,
                "PASSWORD_EXPIRED",
                "the password is older than the policy allows: change it first (POST /api/password)",
            ),
            Hold::Enrol => (
                StatusCode::FORBIDDEN,
                "SECOND_FACTOR_ENROLMENT_REQUIRED",
                "your role signs in with a second factor: enrol one first (POST /api/me/second-factor)",
            ),
        };
        Some(ApiError::new(status, code, message))
    }

    /// What a session of `user` must do first, under the settings, at `now`.
    pub fn of(user: &User, second_factor_pending: bool, s: &crate::Settings, now: Timestamp) -> Hold {
        if second_factor_pending {
            Hold::SecondFactor
        } else if user.must_change {
            Hold::ChangePassword
        } else if s.password_max_age.is_some_and(|max| now.duration_since(user.password_set_at) > max) {
            Hold::PasswordExpired
        } else if s.second_factor_roles.contains(&user.role) && !user.second_factor {
            Hold::Enrol
        } else {
            Hold::None
        }
    }
}

impl Caller {
    /// `Ok` if the caller's role has `p`, else 403 naming `what`.
    pub fn require(&self, p: Permission, what: &str) -> Result<(), ApiError> {
        if allows(self.user.role, p) { Ok(()) } else { Err(ApiError::forbidden(what)) }
    }

    /// Whether the caller's role has `p`.
    pub fn can(&self, p: Permission) -> bool {
        allows(self.user.role, p)
    }
}

/// The session, if any, resolved once per request by [`resolve_session`].
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

/// The value of the cookie `name` in a request's headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value that opens a session.
pub fn session_cookie(token: &str, max_age: SignedDuration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.as_secs()
    );
    HeaderValue::from_str(&v).expect("a cookie of hex and ASCII")
}

/// The `Set-Cookie` value that ends it in the browser.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"))
        .expect("ASCII")
}

/// Middleware: finds the request's session (ending it when idle too long) and puts
/// [`MaybeCaller`] into the request's extensions.
pub async fn resolve_session(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let token = cookie(req.headers(), SESSION_COOKIE).map(token_digest);
    let mut caller = None;
    if let Some(digest) = token {
        match lookup(&app, &digest).await {
            Ok(c) => caller = c,
            Err(e) => return e.into_response(),
        }
    }
    let login = caller.as_ref().map(|c| c.user.login.clone());
    req.extensions_mut().insert(MaybeCaller(caller));
    let mut resp = next.run(req).await;
    if let Some(l) = login {
        resp.extensions_mut().insert(crate::ops::LoggedIn(l));
    }
    resp
}

async fn lookup(app: &AppState, digest: &str) -> Result<Option<Caller>, ApiError> {
    let now = app.now();
    if let Some(c) = app.sessions.get(digest, now) {
        return Ok(Some(c));
    }
    let Some(s) = app.store.session(digest, now).await? else { return Ok(None) };
    if now.duration_since(s.last_seen) > app.settings.idle_timeout {
        app.store.close_session(digest).await?;
        return Ok(None);
    }
    if now.duration_since(s.last_seen) > TOUCH_EVERY {
        app.store.touch_session(digest, now, s.expires_at).await?;
    }
    let scope = Scope::of(&s.user);
    let hold = Hold::of(&s.user, s.second_factor_pending, &app.settings, now);
    let caller = Caller { user: s.user, scope, csrf: s.csrf, session: digest.to_owned(), hold };
    app.sessions.put(digest, now, s.expires_at, &caller);
    Ok(Some(caller))
}

/// How long a session read from the store is used without reading it again. A session ended
/// by another server process (a logout, a password reset, a disabled user) ends here within
/// this; one ended by this process ends at once.
pub const SESSION_CACHE_FOR: SignedDuration = SignedDuration::from_secs(5);
/// The most sessions kept in memory (the cache is emptied when it would hold more).
const SESSION_CACHE_MAX: usize = 50_000;

/// Sessions recently read from the store: one database read per session every few seconds
/// instead of one per request.
#[derive(Default)]
pub struct SessionCache {
    inner: std::sync::Mutex<std::collections::HashMap<String, (Timestamp, Timestamp, Caller)>>,
}

impl SessionCache {
    fn get(&self, digest: &str, now: Timestamp) -> Option<Caller> {
        let map = self.inner.lock().expect("not poisoned");
        let (read_at, expires_at, c) = map.get(digest)?;
        (now.duration_since(*read_at) < SESSION_CACHE_FOR && now < *expires_at).then(|| c.clone())
    }

    fn put(&self, digest: &str, now: Timestamp, expires_at: Timestamp, c: &Caller) {
        let mut map = self.inner.lock().expect("not poisoned");
        if map.len() >= SESSION_CACHE_MAX {
            map.clear();
        }
        map.insert(digest.to_owned(), (now, expires_at, c.clone()));
    }

    /// Forgets one session (signed out).
    pub fn forget(&self, digest: &str) {
        self.inner.lock().expect("not poisoned").remove(digest);
    }

    /// Forgets every session of a user (password set, user changed).
    pub fn forget_user(&self, login: &str) {
        self.inner.lock().expect("not poisoned").retain(|_, (_, _, c)| c.user.login != login);
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    /// A signed-in caller with nothing to do first ([`Hold::None`]).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, ApiError> {
        let c = any_caller(parts)?;
        match c.hold.refusal() {
            Some(e) => Err(e),
            None => Ok(c),
        }
    }
}

/// A caller who has passed the second factor but may still have to change the password or
/// enrol one (for doing that, and reading who they are).
#[derive(Debug, Clone)]
pub struct AnyCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for AnyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<AnyCaller, ApiError> {
        let c = any_caller(parts)?;
        if c.hold == Hold::SecondFactor {
            return Err(Hold::SecondFactor.refusal().expect("a refusal"));
        }
        Ok(AnyCaller(c))
    }
}

/// Any session, one waiting for its second factor too (for giving it, and signing out).
#[derive(Debug, Clone)]
pub struct PendingCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for PendingCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<PendingCaller, ApiError> {
        any_caller(parts).map(PendingCaller)
    }
}

fn any_caller(parts: &Parts) -> Result<Caller, ApiError> {
    parts.extensions.get::<MaybeCaller>().and_then(|m| m.0.clone()).ok_or_else(ApiError::unauthenticated)
}

/// The client's address (for rate limits and sign-in delays): the peer's, or 0.0.0.0 when the
/// server runs without one (tests). When the peer is one of the `trusted` proxies, the
/// rightmost address of `X-Forwarded-For` that is not a trusted proxy (a client cannot forge
/// the entries a trusted proxy appends; an unparsable entry stops the walk).
pub fn client_ip(ext: &axum::http::Extensions, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let peer = ext
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(a)| a.ip());
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// The client's address as [`client_ip`] gives it under the settings' trusted proxies.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<ClientIp, ApiError> {
        Ok(ClientIp(client_ip(&parts.extensions, &parts.headers, &app.settings.trusted_proxies)))
    }
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Paths an unsafe request may reach without a session's CSRF token: signing in has no
/// session yet (its forms are protected by `SameSite=Strict` and the login rate limit).
fn csrf_exempt(path: &str) -> bool {
    matches!(path, "/api/login" | "/login")
}

/// Middleware: refuses an unsafe request of a session that does not carry its CSRF token.
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    if !unsafe_method(req.method()) || csrf_exempt(req.uri().path()) {
        return next.run(req).await;
    }
    let Some(expected) =
        req.extensions().get::<MaybeCaller>().and_then(|m| m.0.as_ref()).map(|c| c.csrf.clone())
    else {
        // No session: the handler answers 401 (or the console sends the person to sign in).
        return next.run(req).await;
    };
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return if constant_eq(h.as_bytes(), expected.as_bytes()) {
            next.run(req).await
        } else {
            csrf_refused()
        };
    }
    if !crate::extract::is_form(req.headers()) {
        return csrf_refused();
    }
    // A plain form: read the body (already bounded by the body limit), find `csrf`, put it back.
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else { return csrf_refused() };
    let given = form_field(&bytes, "csrf");
    if !given.is_some_and(|g| constant_eq(g.as_bytes(), expected.as_bytes())) {
        return csrf_refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn csrf_refused() -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "CSRF",
        "the request did not carry this session's CSRF token (reload the page and try again)",
    )
    .into_response()
}

/// Compares without stopping at the first difference.
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a sign-in failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefused {
    /// Unknown login, wrong password, or a disabled user (answered alike).
    BadCredentials,
    /// Too many failures in a row for this login (from this address, or from anywhere): the
    /// next try is allowed then ([`crate::throttle`]).
    Delayed(Timestamp),
    /// The second factor's code is wrong, used already, or out of time.
    BadCode,
}

impl From<LoginRefused> for ApiError {
    fn from(r: LoginRefused) -> ApiError {
        match r {
            LoginRefused::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "BAD_CREDENTIALS", "wrong login or password")
            }
            LoginRefused::BadCode => ApiError::field(
                "code",
                "SECOND_FACTOR_CODE",
                "the code is wrong or used already: give the current code of your authenticator app, or a recovery code",
            ),
            LoginRefused::Delayed(until) => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "LOGIN_DELAYED",
                format!("too many failed sign-ins: try again after {until}"),
            ),
        }
    }
}

/// A session just opened: the cookie's token and the CSRF token.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The user.
    pub user: User,
    /// The cookie's token (sent once, kept by the store only as its digest).
    pub token: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session waits for the second factor's code.
    pub second_factor_pending: bool,
}

/// Checks a login (employee number or mobile) and password and opens a session.
///
/// A login that failed too often waits ([`crate::throttle`]): its tries are refused with
/// [`LoginRefused::Delayed`] before any password is checked. Known and unknown logins go the
/// same way and take the same time: one password verification, the failure counted in memory,
/// the user's failure count written to the store off the answer's path.
///
/// A user with a second factor gets a session that waits for its code, unless `code` is given
/// (the API's one step): then the code is checked too, and a wrong one is a failure like a
/// wrong password.
pub async fn sign_in(
    app: &AppState,
    who: &str,
    password: &str,
    code: Option<&str>,
    ip: IpAddr,
) -> Result<Result<Opened, LoginRefused>, ApiError> {
    let now = app.now();
    if let Some(until) = app.limits.sign_ins.wait_until(who, ip, now) {
        metrics::counter!("sign_in_delayed_total").increment(1);
        return Ok(Err(LoginRefused::Delayed(until)));
    }
    let found = app.store.credentials(who.trim()).await?;
    let hash = found.as_ref().map_or_else(|| app.dummy_hash.clone(), |(_, h)| h.clone());
    let pw = password.to_owned();
    // Verified on a blocking thread: argon2 takes tens of milliseconds of CPU on purpose.
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &pw)).await.unwrap_or(false);
    let user = match found {
        Some((user, _)) if ok && !user.disabled => user,
        found => {
            app.limits.sign_ins.failed(who, ip, now);
            if let Some((user, _)) = found {
                // Counted for the record, off the answer's path so that a known login takes
                // no longer to refuse than an unknown one.
                let store = app.store.clone();
                tokio::spawn(async move {
                    if let Err(e) = store.login_failed(&user.login, u32::MAX, now, now).await {
                        tracing::warn!(code = e.code(), "counting a failed sign-in failed");
                    }
                });
            }
            tracing::info!("sign-in refused");
            return Ok(Err(LoginRefused::BadCredentials));
        }
    };
    let pending = match (user.second_factor, code) {
        (false, _) => false,
        (true, None) => true,
        (true, Some(code)) => {
            if !second_factor_ok(app, &user.login, code, now).await? {
                app.limits.sign_ins.failed(who, ip, now);
                return Ok(Err(LoginRefused::BadCode));
            }
            false
        }
    };
    if !pending {
        app.limits.sign_ins.succeeded(who, ip);
    }
    open(app, user, pending, now).await.map(Ok)
}

/// Opens a session of `user` (waiting for the second factor when `pending`).
async fn open(app: &AppState, user: User, pending: bool, now: Timestamp) -> Result<Opened, ApiError> {
    let token = random_token();
    let csrf = random_token();
    let session = NewSession {
        token_sha256: token_digest(&token),
        login: user.login.clone(),
        csrf: csrf.clone(),
        expires_at: now + if pending { SECOND_FACTOR_WAIT } else { app.settings.session_ttl },
        second_factor_pending: pending,
    };
    app.store.open_session(&session, now).await?;
    tracing::info!(login = %user.login, role = %user.role, pending, "signed in");
    Ok(Opened { user, token, csrf, second_factor_pending: pending })
}

/// How long a session waits for its second factor's code.
pub const SECOND_FACTOR_WAIT: SignedDuration = SignedDuration::from_mins(5);

/// Whether `code` is the user's current TOTP code (not used before) or one of their unused
/// recovery codes; using it marks it used.
async fn second_factor_ok(app: &AppState, login: &str, code: &str, now: Timestamp) -> Result<bool, ApiError> {
    if crate::mfa::is_recovery_code(code) {
        return Ok(app.store.use_recovery_code(login, &crate::mfa::recovery_digest(code), now).await?);
    }
    let factor = app.store.second_factor(login).await?;
    let Some(secret) = factor.secret else { return Ok(false) };
    match crate::mfa::verify(&secret, code, now) {
        Some(step) => Ok(app.store.use_totp_step(login, step).await?),
        None => Ok(false),
    }
}

/// The second step of a sign-in: the code of the session `c` waits for. The right code
/// replaces the session with a whole one (a new token); a wrong one counts as a failed
/// sign-in.
pub async fn second_factor(
    app: &AppState,
    c: &Caller,
    code: &str,
    ip: IpAddr,
) -> Result<Result<Opened, LoginRefused>, ApiError> {
    let now = app.now();
    let login = c.user.login.clone();
    if c.hold != Hold::SecondFactor {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "NOT_PENDING",
            "this session is not waiting for a code",
        ));
    }
    if let Some(until) = app.limits.sign_ins.wait_until(&login, ip, now) {
        return Ok(Err(LoginRefused::Delayed(until)));
    }
    if !second_factor_ok(app, &login, code, now).await? {
        app.limits.sign_ins.failed(&login, ip, now);
        return Ok(Err(LoginRefused::BadCode));
    }
    app.limits.sign_ins.succeeded(&login, ip);
    app.sessions.forget(&c.session);
    app.store.close_session(&c.session).await?;
    let user = app.store.user(&login).await?;
    open(app, user, false, now).await.map(Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("Correct horse 1").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password(&h, "Correct horse 1"));
        assert!(!verify_password(&h, "Correct horse 2"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        let min = 10;
        assert!(check_new_password("Abcdefgh12", min, "E001").is_ok());
        assert_eq!(
            check_new_password("Abc12", min, "E001").unwrap_err().field.as_deref(),
            Some("new_password")
        );
        assert!(check_new_password("abcdefghijkl", min, "E001").unwrap_err().message.contains("three"));
        assert!(check_new_password("xxE001xxAb1", min, "e001").unwrap_err().message.contains("login"));
    }

    #[test]
    fn cookies_forms_and_tokens() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("lang=en; daylight_session=abc"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(form_field(b"a=1&csrf=x%2By+z&b=", "csrf").as_deref(), Some("x+y z"));
        assert_eq!(random_token().len(), 64);
        assert_ne!(random_token(), random_token());
        let otp = one_time_password();
        assert_eq!(otp.chars().count(), 12);
        assert!(!otp.contains(['0', 'O', 'l', '1', 'I']));
        let c = session_cookie("t", SignedDuration::from_hours(12), true);
        assert_eq!(
            c.to_str().unwrap(),
            "daylight_session=t; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure"
        );
        assert!(constant_eq(b"ab", b"ab") && !constant_eq(b"ab", b"ac") && !constant_eq(b"ab", b"abc"));
    }
}
