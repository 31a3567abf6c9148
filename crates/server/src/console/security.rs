//! The console's second factor: the sign-in's second step, the person's security page
//! (enrolment with a QR code, recovery codes shown once) and an admin's reset.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::{Page, error_page, lang_of, page_ctx, render};
use crate::AppState;
use crate::auth::{self, Caller, ClientIp, Hold, LoginRefused, MaybeCaller};
use crate::extract::{Form, Path};

#[derive(Deserialize)]
pub(super) struct CodeForm {
    code: String,
}

fn pending(mc: MaybeCaller) -> Option<Caller> {
    mc.0.filter(|c| c.hold == Hold::SecondFactor)
}

/// The sign-in's second step: the code of the authenticator app (or a recovery code).
pub(super) async fn second_factor_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    axum::Extension(mc): axum::Extension<MaybeCaller>,
) -> Response {
    let Some(c) = pending(mc) else { return Redirect::to("/").into_response() };
    // The page shows no signed-in person (no menu) but its form carries the session's token.
    let ctx = context! { csrf => c.csrf, login => c.user.login, ..page_ctx(&app, lang_of(&headers), None) };
    render(&app, "second_factor.html", ctx)
}

pub(super) async fn second_factor_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    axum::Extension(mc): axum::Extension<MaybeCaller>,
    Form(f): Form<CodeForm>,
) -> Response {
    let lang = lang_of(&headers);
    let Some(c) = pending(mc) else { return Redirect::to("/login").into_response() };
    let refused = |key: &str, status: StatusCode| {
        let ctx = context! { csrf => c.csrf.clone(), login => c.user.login.clone(), error_key => key, ..page_ctx(&app, lang, None) };
        let mut r = render(&app, "second_factor.html", ctx);
        *r.status_mut() = status;
        r
    };
    match auth::second_factor(&app, &c, &f.code, ip).await {
        Err(e) => error_page(&app, lang, None, e),
        Ok(Err(LoginRefused::Delayed(_))) => refused("login_delayed", StatusCode::TOO_MANY_REQUESTS),
        Ok(Err(_)) => refused("bad_code", StatusCode::UNPROCESSABLE_ENTITY),
        Ok(Ok(o)) => {
            let cookie =
                auth::session_cookie(&o.token, app.settings.session_ttl, app.settings.secure_cookies);
            let to = if o.user.must_change { "/password" } else { "/" };
            ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
        }
    }
}

/// A person past the second factor, who may still have to enrol one; else where to send them.
fn enrolling(mc: MaybeCaller) -> Result<Caller, &'static str> {
    match mc.0 {
        None => Err("/login"),
        Some(c) if c.hold == Hold::SecondFactor => Err("/login/second-factor"),
        Some(c) if matches!(c.hold, Hold::ChangePassword | Hold::PasswordExpired) => Err("/password"),
        Some(c) => Ok(c),
    }
}

/// The person's security page: whether a second factor is in force, and enrolling one.
pub(super) async fn security_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    axum::Extension(mc): axum::Extension<MaybeCaller>,
) -> Response {
    let c = match enrolling(mc) {
        Ok(c) => c,
        Err(to) => return Redirect::to(to).into_response(),
    };
    let ctx = context! { ..page_ctx(&app, lang_of(&headers), Some(&c)), ..context! {
    enrolled => c.user.second_factor, required => c.hold == Hold::Enrol } };
    render(&app, "security.html", ctx)
}

pub(super) async fn begin_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    axum::Extension(mc): axum::Extension<MaybeCaller>,
) -> Response {
    let lang = lang_of(&headers);
    let c = match enrolling(mc) {
        Ok(c) => c,
        Err(to) => return Redirect::to(to).into_response(),
    };
    match crate::api_security::begin(&app, &c).await {
        Err(e) => error_page(&app, lang, Some(&c), e),
        Ok(en) => {
            let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
            enrolled => c.user.second_factor, required => c.hold == Hold::Enrol,
            secret => en.secret, qr_svg => minijinja::Value::from_safe_string(en.qr_svg) } };
            render(&app, "security.html", ctx)
        }
    }
}

pub(super) async fn confirm_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    axum::Extension(mc): axum::Extension<MaybeCaller>,
    Form(f): Form<CodeForm>,
) -> Response {
    let lang = lang_of(&headers);
    let c = match enrolling(mc) {
        Ok(c) => c,
        Err(to) => return Redirect::to(to).into_response(),
    };
    match crate::api_security::confirm(&app, &c, &f.code).await {
        Err(e) => {
            let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
            enrolled => c.user.second_factor, required => c.hold == Hold::Enrol, error => e.message.clone() } };
            let mut r = render(&app, "security.html", ctx);
            *r.status_mut() = e.status;
            r
        }
        Ok(codes) => {
            let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
            enrolled => true, recovery_codes => codes } };
            render(&app, "security.html", ctx)
        }
    }
}

/// An admin removes a user's second factor (a lost phone).
pub(super) async fn reset_submit(Page { app, lang, c }: Page, Path(login): Path<String>) -> Response {
    if let Err(e) = c.require(crate::roles::Permission::ManageUsers, "reset a second factor") {
        return error_page(&app, lang, Some(&c), e);
    }
    match app.store.reset_second_factor(&login, &c.user.login, app.now()).await {
        Err(e) => error_page(&app, lang, Some(&c), e.into()),
        Ok(()) => {
            app.sessions.forget_user(&login);
            Redirect::to("/admin/users").into_response()
        }
    }
}
