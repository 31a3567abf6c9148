//! The REST API under `/api`: JSON in and out, errors in one shape ([`crate::error::ErrorBody`])
//! with stable codes, described by the OpenAPI document served at `/api/openapi.json`.
//!
//! Signing in (`POST /api/login`) sets the session cookie and returns the session's CSRF token,
//! which every later POST, PUT and DELETE carries in `X-CSRF-Token`.

use crate::extract::Json;
use crate::extract::{Path, Query};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use daylight_domain::case::CaseStatus;
use daylight_domain::id::{CaseId, ContactId, CustomerId};
use daylight_store::access::{NewUser, Role, User};
use daylight_store::model::{Assignment, CaseFilter, PiiField};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, AnyCaller, Caller, ClientIp, LoginRefused, PendingCaller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::roles::Permission;
use crate::work::{
    self, CaseView, ContactRecorded, NewContact, NewPromiseInput, PendingPlan, PlanTerms, PromiseChangeInput,
    QueueItem, Quote,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Daylight API", description = "Credit-card collections: cases, contacts through the compliance gate, promises, users. Errors: {\"error\": {\"code\", \"message\", \"field\"}} with stable codes."),
    modifiers(&SessionCookie),
    tags((name = "auth", description = "Signing in and out"), (name = "cases", description = "Cases within the caller's scope"), (name = "users", description = "Administration"), (name = "desk", description = "Waivers, third-party contacts, complaints and tasks"), (name = "kpis", description = "The team's figures"), (name = "qc", description = "QC of calls: transcripts, findings, script lint"))
)]
struct ApiDoc;

struct SessionCookie;

impl utoipa::Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-CSRF-Token"))),
        );
    }
}

/// The API's routes with their OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(my_queue))
        .routes(routes!(my_queue_page))
        .routes(routes!(list_cases))
        .routes(routes!(get_case))
        .routes(routes!(record_contact))
        .routes(routes!(add_note))
        .routes(routes!(lock_promise))
        .routes(routes!(change_promise))
        .routes(routes!(reveal))
        .routes(routes!(close_cases))
        .routes(routes!(reopen_case))
        .routes(routes!(propose_plan))
        .routes(routes!(quote_plan))
        .routes(routes!(pending_plans))
        .routes(routes!(decide_plan))
        .routes(routes!(assign))
        .routes(routes!(list_users, create_user))
        .routes(routes!(reset_password))
        .routes(routes!(change_user))
        .merge(crate::api_desk::routes())
        .merge(crate::api_security::routes())
}

/// Adds to every operation of `doc` the errors any request may meet before or around its
/// handler, in the one error shape: 400 (a query, path or body that does not parse), 401 (no
/// session, for operations that need one), 404, 409 (a state refuses it), 408 (over the
/// request time), 413 (over the
/// body limit), 415 (a body not declared JSON), 422 (a field: `INVALID_FIELD`,
/// `TEXT_CHARACTER`, …), 429 (`RATE_LIMITED`), 503 (`DB_BUSY`, `DB_UNAVAILABLE`).
pub fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |what: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in ops.into_iter().flatten() {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let body = op.request_body.is_some();
            let mut add = |code: &str, what: &str| {
                op.responses.responses.entry(code.to_owned()).or_insert_with(|| error(what));
            };
            add("400", "BAD_QUERY, BAD_PATH, MALFORMED_JSON or BAD_FORM: the request does not parse");
            if secured {
                add("401", "UNAUTHENTICATED, SECOND_FACTOR_REQUIRED: sign in first");
                add(
                    "403",
                    "FORBIDDEN, CSRF, PASSWORD_CHANGE_REQUIRED, PASSWORD_EXPIRED, SECOND_FACTOR_ENROLMENT_REQUIRED",
                );
            }
            add("404", "NOT_FOUND: no such record within the caller's scope");
            add(
                "409",
                "a state refuses it: CASE_CLOSED, CALLS_OFF (no switch set up), a denial of the gate, …",
            );
            add("408", "TIMEOUT: the request took longer than the server allows");
            if body {
                add("413", "BODY_TOO_LARGE");
                add("415", "UNSUPPORTED_MEDIA_TYPE: send application/json");
            }
            add("422", "INVALID_FIELD, TEXT_CHARACTER or a domain check: the field is named");
            add("429", "RATE_LIMITED");
            add("503", "DB_BUSY or DB_UNAVAILABLE: try again");
        }
    }
}

/// Gives the request fields that take a closed vocabulary, a date, a time or an amount their
/// enum, format or pattern in `doc` (the server checks them all and names the field; the
/// document now says so too). The words come from the domain's vocabularies.
pub fn document_formats(doc: &mut utoipa::openapi::OpenApi) {
    use daylight_domain::account::Component;
    use daylight_domain::attempt::{Channel, Outcome};
    use daylight_store::access::Role;
    use daylight_store::desk::ComplaintSource;
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::{RefOr, Schema};

    let words =
        |w: Vec<&'static str>| ObjectBuilder::new().schema_type(Type::String).enum_values(Some(w)).build();
    let date = || {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .build()
    };
    let pattern = |p: &str, what: &str| {
        ObjectBuilder::new().schema_type(Type::String).pattern(Some(p)).description(Some(what)).build()
    };
    let roles = || words(Role::ALL.iter().map(|r| r.as_str()).collect());
    let amount = || pattern(r"^[0-9]{1,13}(\.[0-9]{1,2})?$", "yuan, at most two decimals");
    let fields: Vec<(&str, &str, Schema, bool)> = vec![
        ("UserInput", "role", Schema::Object(roles()), false),
        ("UserChange", "role", Schema::Object(roles()), false),
        (
            "NewContact",
            "outcome",
            Schema::Object(words(Outcome::ALL.iter().map(|o| o.as_str()).collect())),
            false,
        ),
        (
            "NewContact",
            "channel",
            Schema::Object(words(Channel::ALL.iter().map(|c| c.as_str()).collect())),
            true,
        ),
        (
            "WaiverInput",
            "component",
            Schema::Object(words(Component::ALL.iter().map(|c| c.as_str()).collect())),
            false,
        ),
        ("WaiverInput", "amount", Schema::Object(amount()), false),
        (
            "ComplaintInput",
            "source",
            Schema::Object(words(ComplaintSource::ALL.iter().map(|c| c.as_str()).collect())),
            false,
        ),
        ("NewPromiseInput", "amount", Schema::Object(amount()), false),
        ("NewPromiseInput", "date", Schema::Object(date()), false),
        ("NewPromiseInput", "time", Schema::Object(pattern("^[0-2][0-9]:[0-5][0-9]$", "HH:MM")), true),
        ("PlanTerms", "total", Schema::Object(amount()), false),
        ("PlanTerms", "first_due", Schema::Object(date()), false),
    ];
    let Some(components) = doc.components.as_mut() else { return };
    for (schema, field, refined, nullable) in fields {
        let Some(RefOr::T(Schema::Object(obj))) = components.schemas.get_mut(schema) else { continue };
        let Some(slot) = obj.properties.get_mut(field) else { continue };
        let mut refined = refined;
        if nullable && let Schema::Object(o) = &mut refined {
            o.schema_type = utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null]);
            if let Some(values) = o.enum_values.as_mut() {
                values.push(serde_json::Value::Null);
            }
        }
        // The field's own words (its doc comment) stay.
        if let (RefOr::T(Schema::Object(old)), Schema::Object(new)) = (&*slot, &mut refined)
            && new.description.is_none()
        {
            new.description.clone_from(&old.description);
        }
        *slot = RefOr::T(refined);
    }
}

/// The OpenAPI document, as [`fn@routes`] describes it (serialised once by [`crate::router`]).
pub async fn openapi_json(doc: std::sync::Arc<str>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.to_string()).into_response()
}

/// Who signs in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Employee number (E001) or mobile phone.
    pub login: String,
    /// The password.
    pub password: String,
    /// The second factor's code (six digits from the authenticator app, or a recovery code),
    /// for a user who has one: signing in in one step. Without it such a user gets a session
    /// that waits for the code (`POST /api/login/second-factor`).
    #[serde(default)]
    pub code: Option<String>,
}

/// A user as the API shows one.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Employee number.
    pub login: String,
    /// Name.
    pub name: String,
    /// Mobile, masked.
    pub mobile: Option<String>,
    /// Role.
    pub role: String,
    /// Team.
    pub team: Option<String>,
    /// Agency.
    pub agency: Option<String>,
    /// The password is one-time and must be changed.
    pub must_change_password: bool,
    /// Disabled.
    pub disabled: bool,
    /// Locked out until then (RFC 3339), if locked.
    pub locked_until: Option<String>,
    /// Signs in with a second factor (TOTP).
    pub second_factor: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            login: u.login.clone(),
            name: u.name.clone(),
            mobile: u.mobile.as_deref().map(daylight_domain::pii::mask_phone),
            role: u.role.as_str().to_owned(),
            team: u.team.clone(),
            agency: u.agency.clone(),
            must_change_password: u.must_change,
            second_factor: u.second_factor,
            disabled: u.disabled,
            locked_until: u.locked_until.map(|t| t.to_string()),
        }
    }
}

/// A session just opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Who signed in.
    pub user: UserView,
    /// The CSRF token to send as `X-CSRF-Token` with every POST, PUT and DELETE.
    pub csrf: String,
    /// The session waits for the second factor's code (`POST /api/login/second-factor`).
    pub second_factor_required: bool,
}

/// The answer to a sign-in that opened a session: the cookie and the body.
pub fn opened_response(app: &AppState, o: auth::Opened) -> Response {
    let cookie = auth::session_cookie(&o.token, app.settings.session_ttl, app.settings.secure_cookies);
    let body = LoginResponse {
        user: UserView::from(&o.user),
        csrf: o.csrf,
        second_factor_required: o.second_factor_pending,
    };
    ([(header::SET_COOKIE, cookie)], Json(body)).into_response()
}

/// A sign-in refused: the error, with `Retry-After` when the login must wait.
pub fn refused_response(app: &AppState, refused: LoginRefused) -> Response {
    let mut r = ApiError::from(refused).into_response();
    if let LoginRefused::Delayed(until) = refused {
        let secs = until.duration_since(app.now()).as_secs().max(1);
        r.headers_mut().insert(header::RETRY_AFTER, secs.into());
    }
    r
}

/// Signs in by employee number or mobile phone; sets the session cookie.
#[utoipa::path(post, path = "/api/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "BAD_CREDENTIALS", body = ErrorBody),
        (status = 422, description = "SECOND_FACTOR_CODE (a wrong code given with the password) or TEXT_CHARACTER", body = ErrorBody),
        (status = 429, description = "LOGIN_DELAYED (after failed sign-ins; Retry-After says when) or RATE_LIMITED", body = ErrorBody)))]
async fn login(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    Ok(match auth::sign_in(&app, &req.login, &req.password, req.code.as_deref(), ip).await? {
        Err(refused) => refused_response(&app, refused),
        Ok(o) => opened_response(&app, o),
    })
}

/// Signs out: ends the session.
#[utoipa::path(post, path = "/api/logout", tag = "auth", responses((status = 204)), security(("session" = []), ("csrf" = [])))]
async fn logout(State(app): State<AppState>, PendingCaller(c): PendingCaller) -> ApiResult<Response> {
    app.sessions.forget(&c.session);
    app.store.close_session(&c.session).await?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, auth::clear_cookie(app.settings.secure_cookies))])
        .into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "auth", responses((status = 200, body = UserView), (status = 401, body = ErrorBody)), security(("session" = [])))]
async fn me(AnyCaller(c): AnyCaller) -> Json<UserView> {
    Json(UserView::from(&c.user))
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now (the one-time password, after an admin set one).
    pub current_password: String,
    /// The new one: at least 10 characters (by default) of three kinds, without the login.
    pub new_password: String,
}

/// Changes the caller's own password; ends their other sessions.
#[utoipa::path(post, path = "/api/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204), (status = 422, description = "PASSWORD_WRONG or PASSWORD_WEAK", body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn change_password(
    State(app): State<AppState>,
    AnyCaller(c): AnyCaller,
    Json(req): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    set_own_password(&app, &c, &req.current_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the current password and sets a new one (shared with the console).
pub async fn set_own_password(app: &AppState, c: &Caller, current: &str, new: &str) -> ApiResult<()> {
    let Some((_, hash)) = app.store.credentials(&c.user.login).await? else {
        return Err(ApiError::unauthenticated());
    };
    let cur = current.to_owned();
    if !tokio::task::spawn_blocking(move || auth::verify_password(&hash, &cur)).await.unwrap_or(false) {
        return Err(ApiError::field(
            "current_password",
            "PASSWORD_WRONG",
            "the current password is not right",
        ));
    }
    auth::check_new_password(new, app.settings.min_password_chars, &c.user.login)?;
    if new == current {
        return Err(ApiError::field(
            "new_password",
            "PASSWORD_WEAK",
            "the new password must differ from the current one",
        ));
    }
    let n = app.settings.password_history;
    if n > 0 {
        let old = app.store.password_history(&c.user.login, n).await?;
        let candidate = new.to_owned();
        let reused =
            tokio::task::spawn_blocking(move || old.iter().any(|h| auth::verify_password(h, &candidate)))
                .await
                .unwrap_or(false);
        if reused {
            return Err(ApiError::field(
                "new_password",
                "PASSWORD_REUSED",
                format!("the new password may not be one of your last {n}"),
            ));
        }
    }
    let hash = auth::hash_off_thread(new).await?;
    app.store.set_password(&c.user.login, &hash, false, Some(&c.session), &c.user.login, app.now()).await?;
    app.sessions.forget_user(&c.user.login);
    Ok(())
}

/// The caller's open cases: today's plan first, in plan order.
#[utoipa::path(get, path = "/api/queue", tag = "cases", responses((status = 200, body = Vec<QueueItem>)), security(("session" = [])))]
async fn my_queue(State(app): State<AppState>, c: Caller) -> ApiResult<Json<Vec<QueueItem>>> {
    Ok(Json(work::queue(&app, &c).await?))
}

/// The caller's queue as the workbench lists it: narrowed (bucket, worked today, planned,
/// amount, promise due, callable now), sorted and paged, with the whole count; `q` searches
/// every case in scope instead.
#[utoipa::path(get, path = "/api/queue/page", tag = "cases", params(work::ListQuery),
    responses((status = 200, body = work::ListPage), (status = 422, body = ErrorBody)), security(("session" = [])))]
async fn my_queue_page(
    State(app): State<AppState>,
    c: Caller,
    Query(q): Query<work::ListQuery>,
) -> ApiResult<Json<work::ListPage>> {
    Ok(Json(work::queue_page(&app, &c, &q).await?))
}

/// Filters of the case list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    /// `open`, `closed`, `legal`, `written_off`.
    pub status: Option<String>,
    /// At most this many (default 100, at most 10,000).
    pub limit: Option<u32>,
    /// Skip this many.
    pub offset: Option<u32>,
    /// Find cases by a case id, the debtor's full name, resident ID or a full phone number
    /// (exact), or a card's last four digits. Personal values are matched by their blind
    /// indexes; the list shows them masked.
    pub q: Option<String>,
}

/// A case in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseLine {
    /// Case id.
    pub id: String,
    /// Debtor's name, masked.
    pub name: String,
    /// Status.
    pub status: String,
    /// Bucket.
    pub bucket: String,
    /// Days past due.
    pub dpd: u32,
    /// Overdue (CNY), yuan.
    pub overdue: String,
    /// Team.
    pub team: Option<String>,
    /// Collector.
    pub collector: Option<String>,
    /// Agency.
    pub agency: Option<String>,
}

/// Cases within the caller's scope, worst first.
#[utoipa::path(get, path = "/api/cases", tag = "cases", params(CaseQuery), responses((status = 200, body = Vec<CaseLine>), (status = 422, body = ErrorBody)), security(("session" = [])))]
async fn list_cases(
    State(app): State<AppState>,
    c: Caller,
    Query(q): Query<CaseQuery>,
) -> ApiResult<Json<Vec<CaseLine>>> {
    c.require(Permission::ViewCases, "view cases")?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => {
            Some(s.parse::<CaseStatus>().map_err(|e| ApiError::field("status", e.code.as_str(), e.message))?)
        }
    };
    let filter = CaseFilter {
        status,
        scope: c.scope.clone(),
        limit: q.limit.unwrap_or(100).min(CaseFilter::MAX_LIMIT),
        offset: q.offset.unwrap_or(0),
        search: q.q.clone(),
        ..CaseFilter::default()
    };
    let list = app.store.list_cases(&filter).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| CaseLine {
                id: s.case.id.as_str().to_owned(),
                name: s.customer_name.masked(),
                status: s.case.status.as_str().to_owned(),
                bucket: s.case.bucket.label().to_owned(),
                dpd: s.case.max_dpd,
                overdue: work::yuan(
                    s.overdue
                        .iter()
                        .filter(|m| m.currency == daylight_domain::Currency::Cny)
                        .map(|m| m.minor)
                        .sum(),
                ),
                team: s.case.team,
                collector: s.case.collector,
                agency: s.case.agency,
            })
            .collect(),
    ))
}

/// One case (masked), with the gate's status per contact point, today's plan and the timeline.
/// A case outside the caller's scope is 404, as one that does not exist.
#[utoipa::path(get, path = "/api/cases/{id}", tag = "cases", params(("id" = String, Path, description = "Case id")),
    responses((status = 200, body = CaseView), (status = 404, description = "NOT_FOUND (also outside the caller's scope)", body = ErrorBody)), security(("session" = [])))]
async fn get_case(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseView>> {
    Ok(Json(work::case_view(&app, &c, &id).await?))
}

/// Records a contact made now through the compliance gate.
#[utoipa::path(post, path = "/api/cases/{id}/contacts", tag = "cases", request_body = NewContact, params(("id" = String, Path)),
    responses((status = 201, body = ContactRecorded), (status = 409, description = "Denied by the gate: the rule's code (DAILY_CAP, HOURS, …)", body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn record_contact(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(req): Json<NewContact>,
) -> ApiResult<(StatusCode, Json<ContactRecorded>)> {
    Ok((StatusCode::CREATED, Json(work::record_contact(&app, &c, &id, &req).await?)))
}

/// A note (催记).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// The text (at most 4,000 characters).
    pub text: String,
}

/// A record's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// The new record's id.
    pub id: i64,
}

/// Adds a note to a case.
#[utoipa::path(post, path = "/api/cases/{id}/notes", tag = "cases", request_body = NoteInput, params(("id" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn add_note(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(req): Json<NoteInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    c.require(Permission::WorkCases, "add notes")?;
    let case = CaseId::parse(&id).map_err(|_| ApiError::not_found("case", &id))?;
    app.store.case_in_scope(&c.scope, &case).await?;
    let id = app.store.add_note(&case, &req.text, None, &c.user.login, app.now()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Locks a promise to pay.
#[utoipa::path(post, path = "/api/cases/{id}/promises", tag = "cases", request_body = NewPromiseInput, params(("id" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn lock_promise(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(req): Json<NewPromiseInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = work::lock_promise(&app, &c, &id, &req).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Amends (new amount and due date) or cancels a pending promise, with a reason; the new
/// terms within the money policy's bounds (`PROMISE_OVER_OWED`, `PROMISE_PENDING`).
#[utoipa::path(post, path = "/api/cases/{id}/promises/{promise}/change", tag = "cases", request_body = PromiseChangeInput,
    params(("id" = String, Path), ("promise" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn change_promise(
    State(app): State<AppState>,
    c: Caller,
    Path((id, promise)): Path<(String, i64)>,
    Json(req): Json<PromiseChangeInput>,
) -> ApiResult<StatusCode> {
    work::change_promise(&app, &c, &id, promise, &req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cases to close together.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// The case ids (at most 1,000).
    pub cases: Vec<String>,
    /// Why: `paid_in_full` (refused while anything is owed), `settled`, `written_off`,
    /// `deceased`, `dispute_upheld`, `placed` or `legal`.
    pub reason: String,
    /// In words (kept with each case; its digest in each case's ledger event).
    pub note: String,
}

/// Why a closed case reopens.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenRequest {
    /// In words.
    pub note: String,
}

/// Reopens a closed case (team leads): it is worked again, and the reopening is in its timeline
/// and the ledger.
#[utoipa::path(post, path = "/api/cases/{id}/reopen", tag = "cases", request_body = ReopenRequest,
    params(("id" = String, Path, description = "The case")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn reopen_case(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(req): Json<ReopenRequest>,
) -> ApiResult<StatusCode> {
    work::reopen_case(&app, &c, &id, &req.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Closes several cases in one transaction: all of them, or none if any is outside the
/// caller's scope or may not close.
#[utoipa::path(post, path = "/api/cases/close", tag = "cases", request_body = CloseRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn close_cases(
    State(app): State<AppState>,
    c: Caller,
    Json(req): Json<CloseRequest>,
) -> ApiResult<StatusCode> {
    work::close_cases(&app, &c, &req.cases, &req.reason, &req.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A plan proposed: its id and what it costs.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanProposed {
    /// The plan's id.
    pub id: i64,
    /// The schedule and fees.
    pub quote: Quote,
}

/// Proposes a repayment plan (≤ 60 monthly instalments); it waits for a team lead's approval.
#[utoipa::path(post, path = "/api/cases/{id}/arrangements", tag = "cases", request_body = PlanTerms, params(("id" = String, Path)),
    responses((status = 201, body = PlanProposed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn propose_plan(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(t): Json<PlanTerms>,
) -> ApiResult<(StatusCode, Json<PlanProposed>)> {
    let quote = work::quote(&t)?;
    let id = work::propose_plan(&app, &c, &id, &t).await?;
    Ok((StatusCode::CREATED, Json(PlanProposed { id, quote })))
}

/// The calculator: a plan's schedule and fees, nothing stored.
#[utoipa::path(post, path = "/api/arrangements/quote", tag = "cases", request_body = PlanTerms,
    responses((status = 200, body = Quote), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn quote_plan(c: Caller, Json(t): Json<PlanTerms>) -> ApiResult<Json<Quote>> {
    c.require(Permission::ViewCases, "use the calculator")?;
    Ok(Json(work::quote(&t)?))
}

/// Plans waiting for the caller's approval (team leads: the team's).
#[utoipa::path(get, path = "/api/arrangements/pending", tag = "cases",
    responses((status = 200, body = Vec<PendingPlan>), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn pending_plans(State(app): State<AppState>, c: Caller) -> ApiResult<Json<Vec<PendingPlan>>> {
    Ok(Json(work::pending_plans(&app, &c).await?))
}

/// A decision on a plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Approve (true) or reject (false).
    pub approve: bool,
    /// Why, required to reject (kept with the request; the ledger holds its digest).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Approves or rejects a waiting plan (not one the caller proposed: `SELF_APPROVAL`).
#[utoipa::path(post, path = "/api/arrangements/{id}/decision", tag = "cases", request_body = Decision, params(("id" = i64, Path)),
    responses((status = 204), (status = 403, description = "FORBIDDEN or SELF_APPROVAL", body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn decide_plan(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Json(d): Json<Decision>,
) -> ApiResult<StatusCode> {
    work::decide_plan(&app, &c, id, d.approve, d.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A personal field to see in clear.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// `name`, `resident_id`, `address`, `employer` or `contact:<id>`.
    pub field: String,
    /// Why (kept in the ledger).
    pub purpose: String,
}

/// The field in clear.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revealed {
    /// The value.
    pub value: String,
}

/// Shows a personal field in clear: a permission, and a ledger event naming who, when and why.
#[utoipa::path(post, path = "/api/cases/{id}/reveal", tag = "cases", request_body = RevealRequest, params(("id" = String, Path)),
    responses((status = 200, body = Revealed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn reveal(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(req): Json<RevealRequest>,
) -> ApiResult<Json<Revealed>> {
    c.require(Permission::Unmask, "see personal data in clear")?;
    let case = CaseId::parse(&id).map_err(|_| ApiError::not_found("case", &id))?;
    let d = app.store.case_detail_in(&c.scope, &case).await?;
    let field = match req.field.as_str() {
        "name" => PiiField::Name,
        "resident_id" => PiiField::ResidentId,
        "address" => PiiField::Address,
        "employer" => PiiField::Employer,
        other => match other.strip_prefix("contact:") {
            Some(cid) if d.contacts.iter().any(|p| p.id.as_str() == cid) => PiiField::Contact(
                ContactId::parse(cid).map_err(|e| ApiError::field("field", e.code.as_str(), e.message))?,
            ),
            _ => {
                return Err(ApiError::field(
                    "field",
                    "ENUM",
                    "name, resident_id, address, employer or contact:<id of this case's point>",
                ));
            }
        },
    };
    let customer: CustomerId = d.case.customer.clone();
    let value = app.store.reveal(&customer, &field, &req.purpose, &c.user.login, app.now()).await?;
    Ok(Json(Revealed { value }))
}

/// Who a case goes to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The collector's login (a collector of the caller's team for a team lead, of the
    /// caller's agency for an agency manager).
    pub collector: String,
}

/// Reassigns a case in scope to a collector.
#[utoipa::path(put, path = "/api/cases/{id}/assignment", tag = "cases", request_body = AssignRequest, params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn assign(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(req): Json<AssignRequest>,
) -> ApiResult<StatusCode> {
    c.require(Permission::Assign, "reassign cases")?;
    let case = CaseId::parse(&id).map_err(|_| ApiError::not_found("case", &id))?;
    assign_case(&app, &c, &case, &req.collector).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assigns a case within the caller's scope to a collector the caller may give work to.
pub async fn assign_case(app: &AppState, c: &Caller, case: &CaseId, to: &str) -> ApiResult<()> {
    let d = app.store.case_detail_in(&c.scope, case).await?;
    let target = app
        .store
        .user(to)
        .await
        .map_err(|_| ApiError::field("collector", "NOT_FOUND", format!("no user {to}")))?;
    let fits = match c.user.role {
        Role::Admin => matches!(
            target.role,
            Role::Collector | Role::TeamLead | Role::AgencyCollector | Role::AgencyManager
        ),
        Role::TeamLead => {
            matches!(target.role, Role::Collector | Role::TeamLead) && target.team == c.user.team
        }
        Role::AgencyManager => {
            matches!(target.role, Role::AgencyCollector | Role::AgencyManager)
                && target.agency == c.user.agency
        }
        _ => false,
    };
    if !fits || target.disabled {
        return Err(ApiError::field(
            "collector",
            "ASSIGNEE",
            format!("{to} is not a collector you can give cases to"),
        ));
    }
    let agency = match target.role {
        Role::AgencyCollector | Role::AgencyManager => target.agency.clone(),
        _ => None,
    };
    let team = if agency.is_some() { None } else { target.team.clone().or(d.case.team.clone()) };
    let to = Assignment { team, collector: Some(target.login.clone()), agency };
    app.store.assign_case(case, &to, &c.user.login, app.now()).await?;
    Ok(())
}

/// Every user.
#[utoipa::path(get, path = "/api/users", tag = "users", responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn list_users(State(app): State<AppState>, c: Caller) -> ApiResult<Json<Vec<UserView>>> {
    c.require(Permission::ManageUsers, "manage users")?;
    Ok(Json(app.store.users().await?.iter().map(UserView::from).collect()))
}

/// A user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Employee number.
    pub login: String,
    /// Name.
    pub name: String,
    /// Mobile (a second way to sign in).
    #[serde(default)]
    pub mobile: Option<String>,
    /// `admin`, `compliance_officer`, `strategy_analyst`, `team_lead`, `collector`,
    /// `agency_manager`, `agency_collector`, `auditor`.
    pub role: String,
    /// Team (team leads and collectors).
    #[serde(default)]
    pub team: Option<String>,
    /// Agency (agency roles).
    #[serde(default)]
    pub agency: Option<String>,
}

/// A user created with a one-time password, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    /// The user.
    pub user: UserView,
    /// The one-time password: hand it over; it must be changed at first sign-in.
    pub one_time_password: String,
}

/// Creates a user (admin) with a one-time password.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = UserCreated), (status = 403, body = ErrorBody), (status = 422, description = "a field is wrong (EXISTS, REQUIRED, …)", body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn create_user(
    State(app): State<AppState>,
    c: Caller,
    Json(req): Json<UserInput>,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    c.require(Permission::ManageUsers, "manage users")?;
    let (user, otp) = add_user(&app, &c.user.login, &req).await?;
    Ok((StatusCode::CREATED, Json(UserCreated { user: UserView::from(&user), one_time_password: otp })))
}

/// Creates a user with a one-time password (shared with the console).
pub async fn add_user(app: &AppState, actor: &str, req: &UserInput) -> ApiResult<(User, String)> {
    let role = parse_role(&req.role)?;
    let otp = auth::one_time_password();
    let hash = auth::hash_off_thread(&otp).await?;
    let new = NewUser {
        login: req.login.trim().to_owned(),
        name: req.name.trim().to_owned(),
        mobile: given(&req.mobile),
        role,
        team: given(&req.team),
        agency: given(&req.agency),
        disabled: false,
        password_hash: hash,
        must_change: true,
    };
    let user = app.store.create_user(&checked(new)?, actor, app.now()).await.map_err(unit_error)?;
    Ok((user, otp))
}

/// A team or agency not on record is the fault of that field.
fn unit_error(e: daylight_store::StoreError) -> ApiError {
    match e {
        daylight_store::StoreError::Invalid(i) if i.code == daylight_domain::Code::UnknownRecord => {
            let field = if i.message.starts_with("agency") { "agency" } else { "team" };
            ApiError::field(field, i.code.as_str(), i.message)
        }
        e => e.into(),
    }
}

fn parse_role(text: &str) -> ApiResult<Role> {
    text.parse().map_err(|e: daylight_domain::Invalid| ApiError::field("role", e.code.as_str(), e.message))
}

/// An optional field as typed: trimmed, and none when blank.
fn given(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The user if their fields pass the store's checks (the field at fault named).
fn checked(u: NewUser) -> ApiResult<NewUser> {
    u.validate().map_err(|e| ApiError::field(e.field, e.error.code.as_str(), e.error.message))?;
    Ok(u)
}

/// A new one-time password.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// Hand it over; it must be changed at first sign-in. The user's sessions have ended.
    pub one_time_password: String,
}

/// Resets a user's password to a new one-time password (admin); ends their sessions.
#[utoipa::path(post, path = "/api/users/{login}/password-reset", tag = "users", params(("login" = String, Path)),
    responses((status = 200, body = PasswordReset), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn reset_password(
    State(app): State<AppState>,
    c: Caller,
    Path(login): Path<String>,
) -> ApiResult<Json<PasswordReset>> {
    c.require(Permission::ManageUsers, "manage users")?;
    let otp = auth::one_time_password();
    let hash = auth::hash_off_thread(&otp).await?;
    app.store.set_password(&login, &hash, true, None, &c.user.login, app.now()).await?;
    app.sessions.forget_user(&login);
    // A reset lifts the login's sign-in delays: its owner signs in with the new password now.
    app.limits.sign_ins.clear_login(&login);
    Ok(Json(PasswordReset { one_time_password: otp }))
}

/// A user's new role, team, agency, name, mobile and status (the login stays; the password is
/// changed by its own route).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// Name.
    pub name: String,
    /// Mobile.
    #[serde(default)]
    pub mobile: Option<String>,
    /// Role (see `UserInput`).
    pub role: String,
    /// Team.
    #[serde(default)]
    pub team: Option<String>,
    /// Agency.
    #[serde(default)]
    pub agency: Option<String>,
    /// Disabled: the user cannot sign in and their sessions end.
    #[serde(default)]
    pub disabled: bool,
}

/// Changes a user (admin): a `user.changed` ledger event; disabling ends their sessions.
#[utoipa::path(put, path = "/api/users/{login}", tag = "users", request_body = UserChange, params(("login" = String, Path)),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn change_user(
    State(app): State<AppState>,
    c: Caller,
    Path(login): Path<String>,
    Json(req): Json<UserChange>,
) -> ApiResult<Json<UserView>> {
    let user = edit_user(&app, &c, &login, &req).await?;
    Ok(Json(UserView::from(&user)))
}

/// Changes a user as an admin asks (the API's and the console's one path).
pub async fn edit_user(app: &AppState, c: &Caller, login: &str, req: &UserChange) -> ApiResult<User> {
    c.require(Permission::ManageUsers, "manage users")?;
    let role = parse_role(&req.role)?;
    if login == c.user.login && (req.disabled || role != Role::Admin) {
        return Err(ApiError::field("role", "SELF_LOCKOUT", "an admin cannot disable or demote themselves"));
    }
    let current = app.store.user(login).await?;
    let new = NewUser {
        login: current.login.clone(),
        name: req.name.trim().to_owned(),
        mobile: given(&req.mobile),
        role,
        team: given(&req.team),
        agency: given(&req.agency),
        disabled: req.disabled,
        // Not stored by an update (the password has its own route); it only passes the check.
        password_hash: app.dummy_hash.clone(),
        must_change: current.must_change,
    };
    let user = app.store.update_user(&checked(new)?, &c.user.login, app.now()).await.map_err(unit_error)?;
    app.sessions.forget_user(login);
    Ok(user)
}
