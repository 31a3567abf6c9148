//! The console: server-rendered pages (minijinja templates compiled into the binary), htmx for
//! in-place updates, Simplified Chinese by default with an English switch (the `lang` cookie).
//!
//! Pages read and write through [`crate::work`], the same code as the API, so the console can
//! do nothing the API would refuse. Forms carry the session's CSRF token; htmx requests carry
//! it in `X-CSRF-Token` (set once on `<body>`).

mod admin;
mod desk;
pub mod i18n;
mod qc;
mod security;

use crate::extract::Form;
use crate::extract::Path;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};
use serde::Deserialize;

use crate::AppState;
use crate::api::{UserInput, UserView, add_user, set_own_password};
use crate::auth::{self, Caller, ClientIp, Hold, LoginRefused, MaybeCaller};
use crate::error::ApiError;
use crate::roles::{Permission, role_label};
use crate::work::{self, NewContact, NewPromiseInput, PromiseChangeInput};
use i18n::Lang;

/// The templates, compiled into the binary.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, text) in [
        ("base.html", include_str!("../../templates/base.html")),
        ("login.html", include_str!("../../templates/login.html")),
        ("password.html", include_str!("../../templates/password.html")),
        ("second_factor.html", include_str!("../../templates/second_factor.html")),
        ("security.html", include_str!("../../templates/security.html")),
        ("workbench.html", include_str!("../../templates/workbench.html")),
        ("case.html", include_str!("../../templates/case.html")),
        ("call.html", include_str!("../../templates/call.html")),
        ("board.html", include_str!("../../templates/board.html")),
        ("campaigns.html", include_str!("../../templates/campaigns.html")),
        ("users.html", include_str!("../../templates/users.html")),
        ("approvals.html", include_str!("../../templates/approvals.html")),
        ("team.html", include_str!("../../templates/team.html")),
        ("quote.html", include_str!("../../templates/quote.html")),
        ("kpi.html", include_str!("../../templates/kpi.html")),
        ("side.html", include_str!("../../templates/side.html")),
        ("policy.html", include_str!("../../templates/policy.html")),
        ("strategy.html", include_str!("../../templates/strategy.html")),
        ("error.html", include_str!("../../templates/error.html")),
        ("qc.html", include_str!("../../templates/qc.html")),
        ("qc_call.html", include_str!("../../templates/qc_call.html")),
        ("scripts.html", include_str!("../../templates/scripts.html")),
        ("_tasks.html", include_str!("../../templates/_tasks.html")),
        ("experiment.html", include_str!("../../templates/experiment.html")),
    ] {
        env.add_template(name, text).expect("the templates parse (checked by the tests)");
    }
    env.add_function("t", |state: &minijinja::State, key: &str| -> String {
        let lang = Lang::from_tag(state.lookup("lang").as_ref().and_then(|v| v.as_str()));
        i18n::t(lang, key).to_owned()
    });
    env.add_function("word", |state: &minijinja::State, code: &str| -> String {
        let lang = Lang::from_tag(state.lookup("lang").as_ref().and_then(|v| v.as_str()));
        i18n::word(lang, code)
    });
    env.add_function("reason", |state: &minijinja::State, text: &str| -> String {
        let lang = Lang::from_tag(state.lookup("lang").as_ref().and_then(|v| v.as_str()));
        i18n::reason(lang, text)
    });
    env.add_function("rule", |state: &minijinja::State, code: &str| -> String {
        let lang = Lang::from_tag(state.lookup("lang").as_ref().and_then(|v| v.as_str()));
        i18n::rule(lang, code)
    });
    // A code in words whatever its kind (an outcome, a channel, a status …).
    env.add_function("term", |state: &minijinja::State, code: &str| -> String {
        let lang = Lang::from_tag(state.lookup("lang").as_ref().and_then(|v| v.as_str()));
        let o = i18n::outcome(lang, code);
        if o != code || lang == Lang::En { o } else { i18n::word(lang, code) }
    });
    // A script's text in pieces: `(text, false)` as written, `(name, true)` a variable.
    env.add_function("pieces", |text: &str| -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else { break };
            out.push((rest[..open].to_owned(), false));
            out.push((rest[open..open + close + 1].to_owned(), true));
            rest = &rest[open + close + 1..];
        }
        out.push((rest.to_owned(), false));
        out
    });
    env.add_function("outcome", |state: &minijinja::State, code: &str| -> String {
        let lang = Lang::from_tag(state.lookup("lang").as_ref().and_then(|v| v.as_str()));
        i18n::outcome(lang, code)
    });
    env
}

// Forms carry a `csrf` field, which the CSRF guard reads before any handler; the form types
// below leave it out (serde skips fields a type does not name).

/// The console's routes.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/password", get(password_page).post(password_submit))
        .route("/login/second-factor", get(security::second_factor_page).post(security::second_factor_submit))
        .route("/security", get(security::security_page))
        .route("/security/begin", post(security::begin_submit))
        .route("/security/confirm", post(security::confirm_submit))
        .route("/admin/users/{login}/second-factor-reset", post(security::reset_submit))
        .route("/lang/{tag}", get(set_lang))
        .route("/workbench", get(workbench))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/contact", post(contact_submit))
        .route("/cases/{id}/call", post(call_submit))
        .route("/cases/{id}/robot-call", post(robot_submit))
        .route("/calls/{call}", get(call_fragment))
        .route("/calls/{call}/hangup", post(call_hangup))
        .route("/calls/{call}/wrap-up", post(call_wrap_up))
        .route("/calls/{call}/supervise", post(call_supervise))
        .route("/me/state", post(state_submit))
        .route("/events", get(call_events))
        .route("/board", get(board_page))
        .route("/campaigns", get(campaigns_page).post(campaign_submit))
        .route("/campaigns/{id}/status", post(campaign_status_submit))
        .route("/campaigns/{id}/next", post(campaign_next_submit))
        .route("/cases/{id}/promise", post(promise_submit))
        .route("/cases/{id}/promises/{promise}", post(promise_change_submit))
        .route("/cases/{id}/reopen", post(reopen_submit))
        .route("/cases/{id}/quote", get(quote_fragment))
        .route("/cases/{id}/arrangement", post(plan_submit))
        .route("/cases/{id}/waiver", post(desk::waiver_submit))
        .route("/cases/{id}/third-party", post(desk::third_party_submit))
        .route("/cases/{id}/complaint", post(desk::complaint_submit))
        .route("/side", get(desk::side_by_side))
        .route("/approvals", get(approvals_page))
        .route("/approvals/{plan}", post(desk::plan_decision))
        .route("/approvals/waivers/{id}", post(desk::waiver_decision))
        .route("/approvals/numbers/{id}", post(desk::number_decision))
        .route("/cases/{id}/number", post(desk::number_submit))
        .route("/approvals/third-party/{id}", post(desk::third_party_decision))
        .route("/tasks/{id}/done", post(desk::task_done))
        .route("/dashboard", get(desk::dashboard))
        .route("/export/{file}", get(desk::export))
        .route("/team", get(team_page).post(team_submit))
        .route("/qc", get(qc::qc_page))
        .route("/qc/{attempt}", get(qc::qc_call_page))
        .route("/qc/{attempt}/reveal", post(qc::qc_call_reveal))
        .route("/admin/users", get(users_page).post(user_submit))
        .route("/admin/users/{login}", post(user_edit))
        .route("/admin/units", post(unit_submit))
        .route("/admin/policy", get(admin::policy_page).post(admin::policy_submit))
        .route("/admin/strategy", get(admin::strategy_page))
        .route("/admin/strategy/check", post(admin::strategy_check_submit))
        .route("/admin/strategy/save", post(admin::strategy_save_submit))
        .route("/scripts", get(admin::scripts_page))
        .route("/admin/models/{name}/{version}/promote", post(admin::model_promote))
        .route("/admin/experiments", post(admin::experiment_submit))
        .route("/admin/experiments/{name}", get(admin::experiment_page))
        .route("/static/htmx.min.js", get(htmx_js))
        .route("/static/app.js", get(app_js))
        .route("/static/app.css", get(app_css))
}

fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::from_tag(auth::cookie(headers, "lang"))
}

/// A page's shared context: language, user, CSRF token, what the nav shows.
fn page_ctx(app: &AppState, lang: Lang, caller: Option<&Caller>) -> Value {
    let zh = lang == Lang::Zh;
    let user = caller.map(|c| {
        context! {
            login => c.user.login.clone(),
            name => c.user.name.clone(),
            role => role_label(c.user.role, zh),
            can_manage_users => c.can(Permission::ManageUsers),
            can_work => c.can(Permission::WorkCases),
            can_view_cases => c.can(Permission::ViewCases),
            can_approve => c.can(Permission::Approve),
            can_manage_cases => c.can(Permission::Close) || c.can(Permission::Assign),
            can_reopen => c.can(Permission::Reopen),
            can_complain => c.can(Permission::RegisterComplaints),
            can_view_kpis => c.can(Permission::ViewKpis),
            can_view_qc => c.can(Permission::ViewQc),
            can_watch_floor => c.can(Permission::WatchFloor),
            can_export => c.can(Permission::Export),
            can_manage_policy => c.can(Permission::ManagePolicy),
            can_see_strategy => c.can(Permission::ManagePolicy) || c.user.role == daylight_store::access::Role::Analyst || c.user.role == daylight_store::access::Role::Auditor,
        }
    });
    let calendar_warning = caller.and(app.calendar.warning(app)).map(|(end, left)| {
        context! { last_day => end.last_day.to_string(), days_left => left, provisional => end.provisional }
    });
    let rehearsal = match app.settings.clock {
        crate::settings::Clock::System => None,
        crate::settings::Clock::StartingAt { .. } => {
            Some(app.now().to_zoned(work::team_zone()).strftime("%Y-%m-%d %H:%M").to_string())
        }
    };
    context! {
        lang => lang.tag(),
        other_lang => if zh { "en" } else { "zh-CN" },
        user => user,
        csrf => caller.map(|c| c.csrf.clone()),
        rehearsal => rehearsal,
        calendar_warning => calendar_warning,
        // Screen pop: a collector's pages follow their calls (static/app.js).
        screen_pop => app.calls.is_some() && caller.is_some_and(|c| c.can(Permission::WorkCases)),
    }
}

fn render(app: &AppState, name: &str, ctx: Value) -> Response {
    match app.templates.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered; it has been logged")
                .into_response()
        }
    }
}

/// An API error as a page (or, for htmx, as a fragment with the message).
fn error_page(app: &AppState, lang: Lang, caller: Option<&Caller>, e: ApiError) -> Response {
    let key = match e.status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::FORBIDDEN => "forbidden",
        _ => "error",
    };
    // The message in the page's language: the code's words (the server's English detail only
    // in English, or where no words exist for the code yet).
    let message = i18n::error(lang, e.field.as_deref(), &e.code, &e.message);
    let ctx = context! { ..page_ctx(app, lang, caller), ..context! { message_key => key, code => e.code.clone(), message => message } };
    let mut r = render(app, "error.html", ctx);
    *r.status_mut() = e.status;
    r
}

/// The signed-in caller of a page whose password is not one-time; a person without one is
/// sent to sign in, or to change the one-time password.
struct PageUser(Caller);

/// What a page handler of a signed-in user needs: the state, the person's language, the caller.
struct Page {
    app: AppState,
    lang: Lang,
    c: Caller,
}

impl axum::extract::FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &AppState,
    ) -> Result<Page, Response> {
        let PageUser(c) = PageUser::from_request_parts(parts, app).await?;
        // A server started by `serve` has read it already; a router built alone reads it here.
        if !app.calendar.is_loaded() {
            app.calendar.refresh(app).await;
        }
        Ok(Page { app: app.clone(), lang: lang_of(&parts.headers), c })
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<PageUser, Response> {
        match parts.extensions.get::<MaybeCaller>().and_then(|m| m.0.clone()) {
            None => Err(Redirect::to("/login").into_response()),
            Some(c) => match c.hold {
                Hold::None => Ok(PageUser(c)),
                hold => Err(Redirect::to(hold_page(hold)).into_response()),
            },
        }
    }
}

/// The page a person on hold is sent to.
fn hold_page(hold: Hold) -> &'static str {
    match hold {
        Hold::SecondFactor => "/login/second-factor",
        Hold::ChangePassword | Hold::PasswordExpired => "/password",
        Hold::Enrol => "/security",
        Hold::None => "/",
    }
}

async fn home(PageUser(c): PageUser) -> Response {
    let to = if c.can(Permission::ManageUsers) { "/admin/users" } else { "/workbench" };
    Redirect::to(to).into_response()
}

async fn set_lang(Path(tag): Path<String>, headers: HeaderMap) -> Response {
    let tag = if tag == "en" { "en" } else { "zh-CN" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned())))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/lang/"))
        .unwrap_or_else(|| "/".to_owned());
    let cookie =
        HeaderValue::from_str(&format!("lang={tag}; Path=/; SameSite=Lax; Max-Age=31536000")).expect("ASCII");
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

async fn login_page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    render(&app, "login.html", page_ctx(&app, lang_of(&headers), None))
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
}

async fn login_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let refused = |key: &str, until: Option<String>| {
        let ctx = context! { ..page_ctx(&app, lang, None), ..context! { error_key => key, until => until, login => f.login.clone() } };
        let mut r = render(&app, "login.html", ctx);
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r
    };
    match auth::sign_in(&app, &f.login, &f.password, None, ip).await {
        Err(e) => error_page(&app, lang, None, e),
        Ok(Err(LoginRefused::BadCredentials | LoginRefused::BadCode)) => refused("bad_credentials", None),
        Ok(Err(LoginRefused::Delayed(until))) => {
            let mut r = refused(
                "login_delayed",
                Some(until.to_zoned(work::team_zone()).strftime("%H:%M:%S").to_string()),
            );
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            r
        }
        Ok(Ok(o)) => {
            let cookie =
                auth::session_cookie(&o.token, app.settings.session_ttl, app.settings.secure_cookies);
            let to = if o.second_factor_pending {
                "/login/second-factor"
            } else if o.user.must_change {
                "/password"
            } else {
                "/"
            };
            ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
        }
    }
}

async fn logout(State(app): State<AppState>, axum::Extension(mc): axum::Extension<MaybeCaller>) -> Response {
    if let Some(c) = &mc.0 {
        app.sessions.forget(&c.session);
        if let Err(e) = app.store.close_session(&c.session).await {
            tracing::warn!(error = %e, "closing a session failed");
        }
    }
    ([(header::SET_COOKIE, auth::clear_cookie(app.settings.secure_cookies))], Redirect::to("/login"))
        .into_response()
}

async fn password_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    axum::Extension(mc): axum::Extension<MaybeCaller>,
) -> Response {
    let Some(c) = mc.0.filter(|c| c.hold != Hold::SecondFactor) else {
        return Redirect::to("/login").into_response();
    };
    let ctx = context! { ..page_ctx(&app, lang_of(&headers), Some(&c)), ..context! { must_change => c.user.must_change, expired => c.hold == Hold::PasswordExpired } };
    render(&app, "password.html", ctx)
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn password_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    axum::Extension(mc): axum::Extension<MaybeCaller>,
    Form(f): Form<PasswordForm>,
) -> Response {
    let Some(c) = mc.0.filter(|c| c.hold != Hold::SecondFactor) else {
        return Redirect::to("/login").into_response();
    };
    let lang = lang_of(&headers);
    match set_own_password(&app, &c, &f.current_password, &f.new_password).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => {
            let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
            must_change => c.user.must_change, error => e.message.clone(), field => e.field.clone() } };
            let mut r = render(&app, "password.html", ctx);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

async fn workbench(
    Page { app, lang, c }: Page,
    crate::extract::Query(query): crate::extract::Query<work::ListQuery>,
) -> Response {
    let (list, problem) = match work::queue_page(&app, &c, &query).await {
        Ok(list) => (list, None),
        // A filter the list cannot read: the whole queue, and what was wrong.
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let problem = i18n::error(lang, e.field.as_deref(), &e.code, &e.message);
            match work::queue_page(&app, &c, &work::ListQuery::default()).await {
                Ok(list) => (list, Some(problem)),
                Err(e) => return error_page(&app, lang, Some(&c), e),
            }
        }
        Err(e) => return error_page(&app, lang, Some(&c), e),
    };
    let tasks = match crate::desk::my_tasks(&app, &c).await {
        Ok(t) => t,
        Err(e) => return error_page(&app, lang, Some(&c), e),
    };
    // Collectors who take calls through the switch set their state here.
    let agent = match &app.calls {
        Some(_) if c.can(Permission::WorkCases) => crate::agents::mine(&app, &c).await.ok(),
        _ => None,
    };
    let reasons: Vec<&str> = daylight_domain::agent::PauseReason::ALL.iter().map(|r| r.as_str()).collect();
    let buckets: Vec<&str> = daylight_domain::bucket::Bucket::ALL.iter().map(|b| b.label()).collect();
    let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
    list => Value::from(minijinja::value::Serde(&list)),
    query => Value::from(minijinja::value::Serde(&QueryEcho::of(&query))),
    links => page_links(&query, &list),
    problem => problem, buckets => buckets,
    tasks => Value::from(minijinja::value::Serde(&tasks)),
    qc_titles => qc::title_map(&app, lang == Lang::Zh),
    agent => agent.map(|a| Value::from(minijinja::value::Serde(&a))), pause_reasons => reasons } };
    render(&app, "workbench.html", ctx)
}

/// A list's filters as the form shows them again.
#[derive(serde::Serialize)]
struct QueryEcho {
    q: String,
    bucket: String,
    worked: String,
    planned: String,
    min_overdue: String,
    promise_due: String,
    callable: String,
    sort: String,
}

impl QueryEcho {
    fn of(q: &work::ListQuery) -> QueryEcho {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        QueryEcho {
            q: s(&q.q),
            bucket: s(&q.bucket),
            worked: s(&q.worked),
            planned: s(&q.planned),
            min_overdue: s(&q.min_overdue),
            promise_due: s(&q.promise_due),
            callable: s(&q.callable),
            sort: s(&q.sort),
        }
    }
}

/// The query strings of a list's previous and next pages (the same filters).
fn page_links(q: &work::ListQuery, list: &work::ListPage) -> Value {
    let with_page = |page: u32| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("q", &q.q),
            ("bucket", &q.bucket),
            ("worked", &q.worked),
            ("planned", &q.planned),
            ("min_overdue", &q.min_overdue),
            ("promise_due", &q.promise_due),
            ("callable", &q.callable),
            ("sort", &q.sort),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                pairs.push((k, v.to_owned()));
            }
        }
        pairs.push(("page", page.to_string()));
        format!("?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
    };
    context! {
        prev => (list.page > 1).then(|| with_page(list.page - 1)),
        next => (list.page < list.pages).then(|| with_page(list.page + 1)),
    }
}

async fn case_response(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    id: &str,
    flash: Option<(&str, String)>,
    status: StatusCode,
    embed: bool,
) -> Response {
    match work::case_view(app, c, id).await {
        Err(e) => error_page(app, lang, Some(c), e),
        Ok(view) => {
            let next = work::next_case(app, c, id).await.ok().flatten();
            let outcomes: Vec<&str> = daylight_domain::attempt::Outcome::ALL
                .iter()
                .map(|o| o.as_str())
                .filter(|o| {
                    !matches!(
                        *o,
                        "delivered" | "undelivered" | "sent" | "visited" | "interrupted" | "abandoned"
                    )
                })
                .collect();
            let today = app.now().to_zoned(work::team_zone()).date().to_string();
            let latest = app.calls.as_ref().and_then(|k| k.latest_for(id, &c.user.login));
            // Played in the page by those who may listen (each play is audited by the audio route).
            let recordings = match &app.calls {
                Some(_) if c.can(Permission::ListenRecordings) => {
                    crate::calls::recordings(app, c, id).await.ok().filter(|r| !r.is_empty())
                }
                _ => None,
            };
            let calls_in = match &app.calls {
                Some(_) => crate::calls::calls_in(app, c, id).await.ok().filter(|r| !r.is_empty()),
                None => None,
            };
            let robot_flows = match &app.calls {
                Some(_) if c.can(Permission::WorkCases) => crate::robot::flow_names(app).await,
                _ => Vec::new(),
            };
            let (flash_kind, flash_text) = flash.map_or((None, None), |(k, t)| (Some(k.to_owned()), Some(t)));
            let ctx = context! { ..page_ctx(app, lang, Some(c)), ..context! {
            case => Value::from(minijinja::value::Serde(&view)), next => next, outcomes => outcomes, today => today,
            flash_kind => flash_kind, flash => flash_text, embed => embed,
            calls_on => app.calls.is_some(), robot_flows => robot_flows,
            wrap_up => latest.as_ref().is_some_and(crate::calls::CallView::wraps_up),
            recordings => recordings.map(|r| Value::from(minijinja::value::Serde(&r))),
            calls_in => calls_in.map(|r| Value::from(minijinja::value::Serde(&r))),
            wrap_outcomes => crate::calls::WRAP_UP_OUTCOMES.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            call => latest.map(|v| Value::from(minijinja::value::Serde(&v))) } };
            let mut r = render(app, "case.html", ctx);
            *r.status_mut() = status;
            r
        }
    }
}

/// The case again after a change to it: the new record's id, a compliance refusal (its rule;
/// the contact table shows the next allowed time), or the field at fault.
async fn case_after(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    id: &str,
    done: Result<i64, ApiError>,
) -> Response {
    let flash = match &done {
        Ok(n) => ("ok", format!("#{n}")),
        Err(e) if e.status == StatusCode::CONFLICT => ("denied", e.code.clone()),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            ("invalid", i18n::error(lang, e.field.as_deref(), &e.code, &e.message))
        }
        Err(e) => return error_page(app, lang, Some(c), e.clone()),
    };
    let status = done.err().map_or(StatusCode::OK, |e| e.status);
    case_response(app, lang, c, id, Some(flash), status, false).await
}

#[derive(Deserialize)]
struct CaseQuery {
    #[serde(default)]
    embed: Option<String>,
}

async fn case_page(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    crate::extract::Query(q): crate::extract::Query<CaseQuery>,
) -> Response {
    let embed = q.embed.is_some();
    let mut r = case_response(&app, lang, &c, &id, None, StatusCode::OK, embed).await;
    if embed {
        // A frame of the side-by-side page: framed by this origin only (elsewhere, DENY).
        r.headers_mut().insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    }
    r
}

#[derive(Deserialize)]
struct ContactForm {
    contact_point: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

async fn contact_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<ContactForm>,
) -> Response {
    let input = NewContact {
        contact_point: f.contact_point,
        channel: None,
        outcome: f.outcome,
        duration_secs: None,
        note: Some(f.note),
    };
    let done = work::record_contact(&app, &c, &id, &input).await.map(|r| r.attempt);
    case_after(&app, lang, &c, &id, done).await
}

#[derive(Deserialize)]
struct CallForm {
    contact_point: String,
}

/// The dial button: the gate's refusal shows as any refusal does (its rule; the contact table
/// shows the next allowed minute); a placed call shows in the call box, which follows it.
async fn call_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<CallForm>,
) -> Response {
    let input = crate::calls::DialInput { contact_point: f.contact_point };
    let done = placed(crate::calls::dial(&app, &c, &id, &input).await, "call");
    case_after(&app, lang, &c, &id, done).await
}

/// A placed call's id, or the gate's refusal as an error naming its first rule (the case page
/// shows it as any refusal).
fn placed(v: Result<crate::calls::DialView, ApiError>, what: &str) -> Result<i64, ApiError> {
    let v = v?;
    match v.call {
        Some(call) => Ok(call.call),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            v.rules.first().map_or("DENIED", String::as_str),
            format!("the gate refused the {what} ({})", v.rules.join(", ")),
        )),
    }
}

#[derive(Deserialize)]
struct RobotForm {
    contact_point: String,
    flow: String,
}

/// The robot call button: as the dial button, with the robot calling and the flow chosen.
async fn robot_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<RobotForm>,
) -> Response {
    let input = crate::robot::RobotInput { contact_point: f.contact_point, flow: f.flow };
    let done = placed(crate::robot::robot_call(&app, &c, &id, &input).await, "robot call");
    case_after(&app, lang, &c, &id, done).await
}

async fn call_fragment(Page { app, lang, c }: Page, Path(call): Path<i64>) -> Response {
    call_box(&app, lang, &c, crate::calls::call(&app, &c, call).await)
}

async fn call_hangup(Page { app, lang, c }: Page, headers: HeaderMap, Path(call): Path<i64>) -> Response {
    box_or_case(&app, lang, &c, &headers, crate::calls::hangup(&app, &c, call).await)
}

/// The call box for htmx; a plain form post (no script yet, or a click before htmx took the
/// box) goes back to the case page, which shows the same box.
fn box_or_case(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    headers: &HeaderMap,
    call: Result<crate::calls::CallView, ApiError>,
) -> Response {
    match call {
        Ok(v) if !headers.contains_key("hx-request") => {
            Redirect::to(&format!("/cases/{}", v.case)).into_response()
        }
        other => call_box(app, lang, c, other),
    }
}

/// Server-sent events for the signed-in collector: `call` with their calls' changes of phase
/// (`{"call", "case", "phase"}`), so the console opens a case when its call is bridged (screen
/// pop, 弹屏). Nothing is sent for other users' calls.
async fn call_events(Page { app, c, .. }: Page) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let Some(calls) = app.calls.clone() else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let login = c.user.login.clone();
    let stream = futures::stream::unfold(calls.subscribe(), move |mut rx| {
        let login = login.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(n) if n.collector == login => {
                        let ev = Event::default().event("call").json_data(&n).unwrap_or_default();
                        return Some((Ok::<Event, std::convert::Infallible>(ev), rx));
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

#[derive(Deserialize)]
struct StateForm {
    /// `ready`, `offline` or `paused:REASON`.
    state: String,
}

async fn state_submit(Page { app, lang, c }: Page, Form(f): Form<StateForm>) -> Response {
    let (state, reason) = match f.state.split_once(':') {
        Some((s, r)) => (s.to_owned(), Some(r.to_owned())),
        None => (f.state, None),
    };
    match crate::agents::set_mine(&app, &c, &crate::agents::StateInput { state, reason }).await {
        Ok(_) => Redirect::to("/workbench").into_response(),
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct BoardParams {
    team: Option<String>,
}

async fn board_page(
    Page { app, lang, c }: Page,
    crate::extract::Query(q): crate::extract::Query<BoardParams>,
) -> Response {
    let team = q.team.filter(|t| !t.trim().is_empty());
    // Someone of no team (an admin, a compliance officer) picks one; the first on record first.
    let units = match app.store.org_units(daylight_store::access::UnitKind::Team).await {
        Ok(t) => t,
        Err(e) => return error_page(&app, lang, Some(&c), e.into()),
    };
    let team =
        team.or_else(|| if c.user.team.is_none() { units.first().map(|t| t.id.clone()) } else { None });
    let teams: Vec<Value> = units.into_iter().map(|t| context! { id => t.id, name => t.name }).collect();
    if team.is_none() && c.user.team.is_none() {
        let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
        agents => Vec::<Value>::new(), team => "", teams => teams, can_supervise => false, me => c.user.login.clone() } };
        return render(&app, "board.html", ctx);
    }
    match crate::agents::board(&app, &c, team.as_deref()).await {
        Err(e) => error_page(&app, lang, Some(&c), e),
        Ok(rows) => {
            let shown = team.or_else(|| c.user.team.clone()).unwrap_or_default();
            let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
            agents => Value::from(minijinja::value::Serde(&rows)), team => shown,
            teams => if c.user.team.is_none() { teams } else { Vec::new() },
            can_supervise => c.can(Permission::SuperviseCalls), me => c.user.login.clone() } };
            render(&app, "board.html", ctx)
        }
    }
}

/// The campaigns page: a team lead's to start, pause and watch (refreshed every 2 s); a
/// collector's, the preview campaigns of their team to take contacts from.
async fn campaigns_page(Page { app, lang, c }: Page) -> Response {
    campaigns_render(&app, lang, &c, None).await
}

async fn campaigns_render(app: &AppState, lang: Lang, c: &Caller, flash: Option<(&str, String)>) -> Response {
    let watch = c.can(Permission::WatchFloor);
    let listed =
        if watch { crate::campaign::list(app, c).await } else { crate::campaign::previews(app, c).await };
    match listed {
        Err(e) => error_page(app, lang, Some(c), e),
        Ok(rows) => {
            let flows = crate::robot::flow_names(app).await;
            let ctx = context! { ..page_ctx(app, lang, Some(c)), ..context! {
            campaigns => Value::from(minijinja::value::Serde(&rows)),
            can_run => c.can(Permission::SuperviseCalls), watch, flows,
            team => c.user.team.clone().unwrap_or_default(),
            calls_on => app.calls.is_some(),
            flash => flash.map(|(k, m)| context! { kind => k, message => m }) } };
            render(app, "campaigns.html", ctx)
        }
    }
}

#[derive(Deserialize)]
struct CampaignForm {
    team: String,
    mode: String,
    #[serde(default)]
    pacer: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    lines: String,
}

async fn campaign_submit(Page { app, lang, c }: Page, Form(f): Form<CampaignForm>) -> Response {
    let input: Result<crate::campaign::CampaignInput, _> = serde_json::from_value(serde_json::json!({
        "team": f.team,
        "mode": f.mode,
        "pacer": (f.mode == "predictive" && !f.pacer.is_empty()).then_some(&f.pacer),
        "flow": (f.mode == "robot" && !f.flow.is_empty()).then_some(&f.flow),
        "lines": (f.mode == "robot").then(|| f.lines.trim().parse::<u32>().ok()).flatten(),
    }));
    let started = match input {
        Ok(input) => crate::campaign::start(&app, &c, &input).await,
        Err(e) => Err(ApiError::field("mode", "INVALID", e.to_string())),
    };
    match started {
        Ok(_) => Redirect::to("/campaigns").into_response(),
        Err(e) => campaigns_render(&app, lang, &c, Some(("denied", e.message.clone()))).await,
    }
}

#[derive(Deserialize)]
struct CampaignStatusForm {
    status: String,
}

async fn campaign_status_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<i64>,
    Form(f): Form<CampaignStatusForm>,
) -> Response {
    match crate::campaign::set_status(&app, &c, id, &f.status).await {
        Ok(_) => Redirect::to("/campaigns").into_response(),
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}

/// A preview campaign's next contact: the case opens at it, the collector dials from there.
async fn campaign_next_submit(Page { app, lang, c }: Page, Path(id): Path<i64>) -> Response {
    match crate::campaign::next(&app, &c, id).await {
        Ok(Some(v)) => Redirect::to(&format!("/cases/{}#point-{}", v.case, v.contact_point)).into_response(),
        Ok(None) => {
            campaigns_render(&app, lang, &c, Some(("info", i18n::t(lang, "no_next_contact").to_owned())))
                .await
        }
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct SuperviseForm {
    /// `listen`, `whisper`, `barge`, `end` or `hangup` (强拆).
    mode: String,
}

/// The live board's buttons on a collector's call: join it, change how, leave, or hang it up;
/// back to the board.
async fn call_supervise(
    Page { app, lang, c }: Page,
    Path(call): Path<i64>,
    Form(f): Form<SuperviseForm>,
) -> Response {
    let done = match f.mode.as_str() {
        "hangup" => crate::calls::hangup(&app, &c, call).await,
        _ => crate::calls::supervise(&app, &c, call, &crate::calls::SuperviseInput { mode: f.mode }).await,
    };
    match done {
        Ok(_) => Redirect::to("/board").into_response(),
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}

#[derive(Deserialize)]
struct WrapUpForm {
    outcome: String,
    #[serde(default)]
    note: String,
}

async fn call_wrap_up(
    Page { app, lang, c }: Page,
    headers: HeaderMap,
    Path(call): Path<i64>,
    Form(f): Form<WrapUpForm>,
) -> Response {
    let input = crate::calls::WrapUpInput { outcome: f.outcome, note: Some(f.note) };
    box_or_case(&app, lang, &c, &headers, crate::calls::wrap_up(&app, &c, call, &input).await)
}

/// The case page's call box for `call` (which follows itself until the call ends).
fn call_box(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    call: Result<crate::calls::CallView, ApiError>,
) -> Response {
    match call {
        Ok(v) => render(
            app,
            "call.html",
            context! { ..page_ctx(app, lang, Some(c)), ..context! {
            wrap_up => v.wraps_up(),
            wrap_outcomes => crate::calls::WRAP_UP_OUTCOMES.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            call => Value::from(minijinja::value::Serde(&v)) } },
        ),
        Err(e) => error_page(app, lang, Some(c), e),
    }
}

#[derive(Deserialize)]
struct PromiseForm {
    amount: String,
    date: String,
    #[serde(default)]
    time: String,
}

async fn promise_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<PromiseForm>,
) -> Response {
    let input =
        NewPromiseInput { amount: f.amount, date: f.date, time: Some(f.time), attempt: None, account: None };
    case_after(&app, lang, &c, &id, work::lock_promise(&app, &c, &id, &input).await).await
}

#[derive(Deserialize)]
struct PromiseChangeForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    date: String,
    reason: String,
    /// `amend` or `cancel` (the button pressed).
    action: String,
}

async fn promise_change_submit(
    Page { app, lang, c }: Page,
    Path((id, promise)): Path<(String, i64)>,
    Form(f): Form<PromiseChangeForm>,
) -> Response {
    let input = PromiseChangeInput {
        cancel: f.action == "cancel",
        amount: Some(f.amount),
        date: Some(f.date),
        time: None,
        reason: f.reason,
    };
    case_after(&app, lang, &c, &id, work::change_promise(&app, &c, &id, promise, &input).await).await
}

#[derive(Deserialize)]
struct ReopenForm {
    note: String,
}

async fn reopen_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<ReopenForm>,
) -> Response {
    case_after(&app, lang, &c, &id, work::reopen_case(&app, &c, &id, &f.note).await.map(|()| 0)).await
}

#[derive(Deserialize)]
struct PlanForm {
    total: String,
    instalments: String,
    #[serde(default)]
    monthly_fee_bp: String,
    first_due: String,
}

impl PlanForm {
    fn terms(&self) -> Result<work::PlanTerms, ApiError> {
        let number = |field: &str, v: &str| {
            v.trim().parse::<u32>().map_err(|_| ApiError::field(field, "INTEGER", "a whole number"))
        };
        Ok(work::PlanTerms {
            total: self.total.clone(),
            instalments: number("instalments", &self.instalments)?,
            monthly_fee_bp: if self.monthly_fee_bp.trim().is_empty() {
                0
            } else {
                number("monthly_fee_bp", &self.monthly_fee_bp)?
            },
            first_due: self.first_due.clone(),
        })
    }
}

/// The calculator's answer, as a fragment for htmx.
async fn quote_fragment(
    Page { app, lang, c }: Page,
    crate::extract::Query(f): crate::extract::Query<PlanForm>,
) -> Response {
    let ctx = match f.terms().and_then(|t| work::quote(&t)) {
        Ok(q) => {
            context! { ..page_ctx(&app, lang, Some(&c)), ..context! { quote => Value::from(minijinja::value::Serde(&q)) } }
        }
        Err(e) => {
            context! { ..page_ctx(&app, lang, Some(&c)), ..context! { error => i18n::error(lang, e.field.as_deref(), &e.code, &e.message) } }
        }
    };
    render(&app, "quote.html", ctx)
}

async fn plan_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<PlanForm>,
) -> Response {
    let proposed = match f.terms() {
        Ok(t) => work::propose_plan(&app, &c, &id, &t).await,
        Err(e) => Err(e),
    };
    case_after(&app, lang, &c, &id, proposed).await
}

async fn approvals_page(Page { app, lang, c }: Page) -> Response {
    desk::approvals_response(&app, lang, &c, None, StatusCode::OK).await
}

/// Whom the caller may give cases to (what `api::assign_case` accepts).
async fn assignees(app: &AppState, c: &Caller) -> Result<Vec<String>, ApiError> {
    use daylight_store::access::Role;
    let users = app.store.users().await?;
    Ok(users
        .into_iter()
        .filter(|u| !u.disabled)
        .filter(|u| match c.user.role {
            Role::Admin => matches!(
                u.role,
                Role::Collector | Role::TeamLead | Role::AgencyCollector | Role::AgencyManager
            ),
            Role::TeamLead => matches!(u.role, Role::Collector | Role::TeamLead) && u.team == c.user.team,
            Role::AgencyManager => {
                matches!(u.role, Role::AgencyCollector | Role::AgencyManager) && u.agency == c.user.agency
            }
            _ => false,
        })
        .map(|u| u.login)
        .collect())
}

async fn team_response(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    flash: Option<(&str, String)>,
    status: StatusCode,
    query: &work::ListQuery,
) -> Response {
    let (list, problem) = match work::team_page(app, c, query).await {
        Ok(list) => (list, None),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let problem = i18n::error(lang, e.field.as_deref(), &e.code, &e.message);
            match work::team_page(app, c, &work::ListQuery::default()).await {
                Ok(list) => (list, Some(problem)),
                Err(e) => return error_page(app, lang, Some(c), e),
            }
        }
        Err(e) => return error_page(app, lang, Some(c), e),
    };
    let to = match assignees(app, c).await {
        Ok(v) => v,
        Err(e) => return error_page(app, lang, Some(c), e),
    };
    let (flash_kind, flash) = flash.map_or((None, None), |(k, t)| (Some(k.to_owned()), Some(t)));
    let ctx = context! { ..page_ctx(app, lang, Some(c)), ..context! {
    list => Value::from(minijinja::value::Serde(&list)), assignees => to,
    query => Value::from(minijinja::value::Serde(&QueryEcho::of(query))), links => page_links(query, &list),
    problem => problem,
    buckets => daylight_domain::bucket::Bucket::ALL.iter().map(|b| b.label()).collect::<Vec<_>>(),
    can_close => c.can(Permission::Close), can_assign => c.can(Permission::Assign),
    flash_kind => flash_kind, flash => flash } };
    let mut r = render(app, "team.html", ctx);
    *r.status_mut() = status;
    r
}

async fn team_page(
    Page { app, lang, c }: Page,
    crate::extract::Query(query): crate::extract::Query<work::ListQuery>,
) -> Response {
    team_response(&app, lang, &c, None, StatusCode::OK, &query).await
}

/// Bulk actions on the selected cases: close them all (one transaction) or reassign them.
async fn team_submit(Page { app, lang, c }: Page, body: axum::body::Bytes) -> Response {
    // Repeated `case` fields: read the pairs (axum's Form takes no sequences).
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    // The note and reason are text a person typed: refused like every other with a hostile
    // character.
    if let Some(e) = pairs.iter().find_map(|(k, v)| crate::extract::check_text(k, v).err()) {
        return team_response(
            &app,
            lang,
            &c,
            Some(("denied", i18n::error(lang, e.field.as_deref(), &e.code, &e.message))),
            e.status,
            &work::ListQuery::default(),
        )
        .await;
    }
    let field =
        |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let cases: Vec<String> = pairs.iter().filter(|(k, _)| k == "case").map(|(_, v)| v.clone()).collect();
    let done = match field("action").as_str() {
        "close" => work::close_cases(&app, &c, &cases, &field("reason"), &field("note")).await,
        "assign" => reassign(&app, &c, &cases, &field("to")).await,
        other => Err(ApiError::field("action", "ENUM", format!("{other:?}: close or assign"))),
    };
    match done {
        Ok(n) => {
            team_response(
                &app,
                lang,
                &c,
                Some(("ok", format!("{n}"))),
                StatusCode::OK,
                &work::ListQuery::default(),
            )
            .await
        }
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::NOT_FOUND => {
            let text = i18n::error(lang, e.field.as_deref(), &e.code, &e.message);
            team_response(&app, lang, &c, Some(("denied", text)), e.status, &work::ListQuery::default()).await
        }
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}

/// Reassigns the selected cases one by one (each its own ledger event); stops at the first
/// that cannot go.
async fn reassign(app: &AppState, c: &Caller, cases: &[String], to: &str) -> Result<usize, ApiError> {
    c.require(Permission::Assign, "reassign cases")?;
    if cases.is_empty() {
        return Err(ApiError::field("cases", "REQUIRED", "select at least one case"));
    }
    for id in cases {
        let case = daylight_domain::id::CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
        crate::api::assign_case(app, c, &case, to).await?;
    }
    Ok(cases.len())
}

async fn users_response(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    extra: Value,
    status: StatusCode,
) -> Response {
    if let Err(e) = c.require(Permission::ManageUsers, "manage users") {
        return error_page(app, lang, Some(c), e);
    }
    let read = async {
        use daylight_store::access::UnitKind;
        Ok::<_, daylight_store::StoreError>((
            app.store.users().await?,
            app.store.org_units(UnitKind::Team).await?,
            app.store.org_units(UnitKind::Agency).await?,
        ))
    };
    match read.await {
        Err(e) => error_page(app, lang, Some(c), e.into()),
        Ok((users, team_units, agency_units)) => {
            let zh = lang == Lang::Zh;
            let rows: Vec<Value> = users
                .iter()
                .map(|u| {
                    let v = UserView::from(u);
                    context! { ..Value::from(minijinja::value::Serde(&v)), ..context! { role_label => role_label(u.role, zh) } }
                })
                .collect();
            // Each team on record with its leads and collectors.
            let mut teams: std::collections::BTreeMap<String, (Vec<String>, Vec<String>)> =
                team_units.iter().map(|t| (t.id.clone(), Default::default())).collect();
            for u in users.iter().filter(|u| !u.disabled) {
                if let Some(t) = &u.team {
                    let e = teams.entry(t.clone()).or_default();
                    let list =
                        if u.role == daylight_store::access::Role::TeamLead { &mut e.0 } else { &mut e.1 };
                    list.push(u.login.clone());
                }
            }
            let name_of = |id: &str| team_units.iter().find(|t| t.id == id).map(|t| t.name.clone());
            let teams: Vec<Value> = teams
                .into_iter()
                .map(|(id, (leads, members))| {
                    context! { id => id.clone(), name => name_of(&id), leads => leads, members => members }
                })
                .collect();
            let agencies: Vec<Value> = agency_units
                .iter()
                .map(|a| context! { id => a.id.clone(), name => a.name.clone(), members => a.members })
                .collect();
            let roles: Vec<Value> = daylight_store::access::Role::ALL
                .iter()
                .map(|r| context! { value => r.as_str(), label => role_label(*r, zh) })
                .collect();
            let ctx = context! { ..page_ctx(app, lang, Some(c)), ..context! { users => rows, roles => roles, teams => teams, agencies => agencies }, ..extra };
            let mut r = render(app, "users.html", ctx);
            *r.status_mut() = status;
            r
        }
    }
}

async fn users_page(Page { app, lang, c }: Page) -> Response {
    users_response(&app, lang, &c, context! {}, StatusCode::OK).await
}

#[derive(Deserialize)]
struct UnitForm {
    kind: String,
    id: String,
    name: String,
    #[serde(default)]
    rename: Option<String>,
}

/// Puts a team or agency on record, or renames one.
async fn unit_submit(Page { app, lang, c }: Page, Form(f): Form<UnitForm>) -> Response {
    use daylight_store::access::UnitKind;
    if let Err(e) = c.require(Permission::ManageUsers, "manage teams and agencies") {
        return error_page(&app, lang, Some(&c), e);
    }
    let kind = match f.kind.as_str() {
        "team" => UnitKind::Team,
        "agency" => UnitKind::Agency,
        other => {
            let e = ApiError::field("kind", "ENUM", format!("{other:?}: team or agency"));
            return users_refused(&app, lang, &c, e).await;
        }
    };
    let (id, now, who) = (f.id.trim(), app.now(), c.user.login.clone());
    let done = if f.rename.is_some() {
        app.store.rename_org_unit(kind, id, &f.name, &who, now).await
    } else {
        app.store.create_org_unit(kind, id, &f.name, &who, now).await
    };
    match done {
        Ok(()) => users_response(&app, lang, &c, context! { unit_saved => id }, StatusCode::OK).await,
        Err(e) => {
            let field = if matches!(e.code(), "ID_FORMAT" | "EXISTS" | "NOT_FOUND") { "id" } else { "name" };
            let status = if e.code() == "NOT_FOUND" {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut e = ApiError::new(status, e.code(), e.to_string());
            e.field = Some(field.to_owned());
            users_refused(&app, lang, &c, e).await
        }
    }
}

#[derive(Deserialize)]
struct UserForm {
    /// Absent in an edit (the path names the user).
    #[serde(default)]
    login: String,
    name: String,
    #[serde(default)]
    mobile: String,
    role: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    agency: String,
}

async fn user_submit(Page { app, lang, c }: Page, Form(f): Form<UserForm>) -> Response {
    if let Err(e) = c.require(Permission::ManageUsers, "manage users") {
        return error_page(&app, lang, Some(&c), e);
    }
    // Blank optional fields are none (`api::given`).
    let input = UserInput {
        login: f.login,
        name: f.name,
        mobile: Some(f.mobile),
        role: f.role,
        team: Some(f.team),
        agency: Some(f.agency),
    };
    match add_user(&app, &c.user.login, &input).await {
        Ok((u, otp)) => {
            users_response(&app, lang, &c, context! { created => u.login, otp => otp }, StatusCode::CREATED)
                .await
        }
        Err(e) => users_refused(&app, lang, &c, e).await,
    }
}

/// The users page again with the refusal's field and message (a permission's: the error page).
async fn users_refused(app: &AppState, lang: Lang, c: &Caller, e: ApiError) -> Response {
    if e.status == StatusCode::FORBIDDEN {
        return error_page(app, lang, Some(c), e);
    }
    let extra = context! { error => i18n::error(lang, e.field.as_deref(), &e.code, &e.message) };
    users_response(app, lang, c, extra, e.status).await
}

#[derive(Deserialize)]
struct UserEditForm {
    #[serde(flatten)]
    user: UserForm,
    #[serde(default)]
    disabled: Option<String>,
}

async fn user_edit(
    Page { app, lang, c }: Page,
    Path(login): Path<String>,
    Form(f): Form<UserEditForm>,
) -> Response {
    let u = f.user;
    let change = crate::api::UserChange {
        name: u.name,
        mobile: Some(u.mobile),
        role: u.role,
        team: Some(u.team),
        agency: Some(u.agency),
        disabled: f.disabled.is_some(),
    };
    match crate::api::edit_user(&app, &c, &login, &change).await {
        Ok(u) => users_response(&app, lang, &c, context! { changed => u.login }, StatusCode::OK).await,
        Err(e) => users_refused(&app, lang, &c, e).await,
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], body)
        .into_response()
}

async fn htmx_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../../static/htmx.min.js"))
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../../static/app.js"))
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../../static/app.css"))
}
