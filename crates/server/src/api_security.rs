//! The API of the second factor: the sign-in's second step, enrolment, an admin's reset.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::{opened_response, refused_response};
use crate::auth::{self, AnyCaller, Caller, ClientIp, PendingCaller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::mfa;
use crate::roles::Permission;

/// The API's second-factor routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(second_step))
        .routes(routes!(begin_enrolment))
        .routes(routes!(confirm_enrolment))
        .routes(routes!(reset_second_factor))
}

/// A second factor's code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    /// Six digits from the authenticator app, or a recovery code (`xxxxx-xxxxx`).
    pub code: String,
}

/// Gives the code a session waits for; the right code replaces the session with a whole one
/// (a new cookie).
#[utoipa::path(post, path = "/api/login/second-factor", tag = "auth", request_body = CodeInput,
    responses((status = 200, body = crate::api::LoginResponse), (status = 401, description = "UNAUTHENTICATED", body = ErrorBody),
        (status = 409, description = "NOT_PENDING: the session is whole already", body = ErrorBody),
        (status = 422, description = "SECOND_FACTOR_CODE", body = ErrorBody),
        (status = 429, description = "LOGIN_DELAYED", body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn second_step(
    State(app): State<AppState>,
    PendingCaller(c): PendingCaller,
    ClientIp(ip): ClientIp,
    Json(req): Json<CodeInput>,
) -> ApiResult<Response> {
    Ok(match auth::second_factor(&app, &c, &req.code, ip).await? {
        Err(refused) => refused_response(&app, refused),
        Ok(o) => opened_response(&app, o),
    })
}

/// An enrolment under way: what the authenticator app needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    /// The secret, base32 (to type in when the QR code cannot be scanned).
    pub secret: String,
    /// The `otpauth://` URI.
    pub otpauth_uri: String,
    /// The URI as a QR code, SVG.
    pub qr_svg: String,
}

/// The issuer an authenticator app shows.
pub const ISSUER: &str = "Daylight";

/// Starts an enrolment of the caller's second factor (a new secret; the factor in force, if
/// any, stays until the new one is confirmed).
pub async fn begin(app: &AppState, c: &Caller) -> ApiResult<Enrolment> {
    let secret = mfa::new_secret();
    app.store.begin_second_factor(&c.user.login, &secret).await?;
    let uri = mfa::otpauth_uri(ISSUER, &c.user.login, &secret);
    Ok(Enrolment { qr_svg: mfa::qr_svg(&uri), otpauth_uri: uri, secret })
}

/// Confirms the enrolment under way with its first code; returns the recovery codes (shown
/// once).
pub async fn confirm(app: &AppState, c: &Caller, code: &str) -> ApiResult<Vec<String>> {
    let now = app.now();
    let factor = app.store.second_factor(&c.user.login).await?;
    let Some(pending) = factor.pending else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "NOT_PENDING",
            "no enrolment under way: start one first",
        ));
    };
    let Some(step) = mfa::verify(&pending, code, now) else {
        return Err(ApiError::field("code", "SECOND_FACTOR_CODE", "the code is not the app's current one"));
    };
    let codes = mfa::recovery_codes();
    let digests: Vec<String> = codes.iter().map(|c| mfa::recovery_digest(c)).collect();
    app.store.confirm_second_factor(&c.user.login, step, &digests, now).await?;
    app.sessions.forget_user(&c.user.login);
    Ok(codes)
}

/// Starts enrolling a second factor (TOTP) for the signed-in person.
#[utoipa::path(post, path = "/api/me/second-factor", tag = "auth",
    responses((status = 200, body = Enrolment), (status = 401, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn begin_enrolment(State(app): State<AppState>, AnyCaller(c): AnyCaller) -> ApiResult<Json<Enrolment>> {
    begin(&app, &c).await.map(Json)
}

/// The recovery codes of a confirmed enrolment: each signs in once in place of a code.
#[derive(Debug, Serialize, ToSchema)]
pub struct Confirmed {
    /// Ten one-time codes, shown this once.
    pub recovery_codes: Vec<String>,
}

/// Confirms the enrolment with the app's current code.
#[utoipa::path(post, path = "/api/me/second-factor/confirm", tag = "auth", request_body = CodeInput,
    responses((status = 200, body = Confirmed), (status = 409, description = "NOT_PENDING", body = ErrorBody),
        (status = 422, description = "SECOND_FACTOR_CODE", body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn confirm_enrolment(
    State(app): State<AppState>,
    AnyCaller(c): AnyCaller,
    Json(req): Json<CodeInput>,
) -> ApiResult<Json<Confirmed>> {
    confirm(&app, &c, &req.code).await.map(|recovery_codes| Json(Confirmed { recovery_codes }))
}

/// Removes a user's second factor (a lost phone) and ends their sessions; they enrol again at
/// their next sign-in. Admins only; recorded.
#[utoipa::path(post, path = "/api/users/{login}/second-factor-reset", tag = "users", params(("login" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn reset_second_factor(
    State(app): State<AppState>,
    c: Caller,
    Path(login): Path<String>,
) -> ApiResult<StatusCode> {
    c.require(Permission::ManageUsers, "reset a second factor")?;
    app.store.reset_second_factor(&login, &c.user.login, app.now()).await?;
    app.sessions.forget_user(&login);
    Ok(StatusCode::NO_CONTENT)
}
