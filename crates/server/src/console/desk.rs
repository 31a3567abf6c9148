//! The console's requests and queues beyond plans: waivers, third-party confirmations,
//! complaints, tasks; the team lead's dashboard; exports; several cases side by side.

use crate::extract::Form;
use crate::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use daylight_domain::bounds::WaiverVerdict;
use minijinja::{Value, context};
use serde::Deserialize;

use super::i18n::{self, Lang};
use super::{Page, case_after, error_page, page_ctx, render};
use crate::AppState;
use crate::auth::Caller;
use crate::charts::{self, Bar, Series};
use crate::desk::{self, ComplaintInput, NumberInput, ThirdPartyInput, WaiverInput};
use crate::error::ApiError;
use crate::export::{Cell, Format, Table};
use crate::kpi::{self, KpiQuery, KpiReport, percent};
use crate::roles::Permission;
use crate::work::{self, yuan};

#[derive(Deserialize)]
pub(super) struct WaiverForm {
    #[serde(default)]
    account: String,
    component: String,
    amount: String,
    reason: String,
}

pub(super) async fn waiver_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<WaiverForm>,
) -> Response {
    let input =
        WaiverInput { account: Some(f.account), component: f.component, amount: f.amount, reason: f.reason };
    case_after(&app, lang, &c, &id, desk::request_waiver(&app, &c, &id, &input).await).await
}

#[derive(Deserialize)]
pub(super) struct ThirdPartyForm {
    contact_point: String,
    reason: String,
}

pub(super) async fn third_party_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<ThirdPartyForm>,
) -> Response {
    let input = ThirdPartyInput { contact_point: f.contact_point, reason: f.reason };
    case_after(&app, lang, &c, &id, desk::request_third_party(&app, &c, &id, &input).await).await
}

#[derive(Deserialize)]
pub(super) struct NumberForm {
    #[serde(default)]
    replaces: String,
    role: String,
    number: String,
    #[serde(default)]
    name: String,
    source: String,
}

pub(super) async fn number_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<NumberForm>,
) -> Response {
    let input = NumberInput {
        replaces: Some(f.replaces),
        role: f.role,
        number: f.number,
        name: Some(f.name),
        source: f.source,
    };
    case_after(&app, lang, &c, &id, desk::propose_number(&app, &c, &id, &input).await).await
}

#[derive(Deserialize)]
pub(super) struct ComplaintForm {
    #[serde(default)]
    attempt: String,
    source: String,
    text: String,
}

pub(super) async fn complaint_submit(
    Page { app, lang, c }: Page,
    Path(id): Path<String>,
    Form(f): Form<ComplaintForm>,
) -> Response {
    let attempt = match f.attempt.trim() {
        "" => Ok(None),
        a => a
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::field("attempt", "INTEGER", "an attempt's number")),
    };
    let done = match attempt {
        Ok(attempt) => {
            let input = ComplaintInput { attempt, source: f.source, text: f.text };
            desk::register_complaint(&app, &c, &id, &input).await
        }
        Err(e) => Err(e),
    };
    case_after(&app, lang, &c, &id, done).await
}

/// The approvals page: plans, waivers, third-party contacts, broken promises.
pub(super) async fn approvals_response(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    flash: Option<(&str, String)>,
    status: StatusCode,
) -> Response {
    let lists = async {
        Ok::<_, ApiError>((
            work::pending_plans(app, c).await?,
            desk::pending_waivers(app, c).await?,
            desk::pending_third_party(app, c).await?,
            desk::my_tasks(app, c).await?,
            desk::pending_numbers(app, c).await?,
        ))
    };
    let lists = async {
        let (plans, waivers, third_party, tasks, numbers) = lists.await?;
        let cases: Vec<String> =
            plans.iter().map(|p| p.case.clone()).chain(waivers.iter().map(|w| w.case.clone())).collect();
        let details = desk::case_details(app, c, &cases).await?;
        let contexts = desk::approval_contexts(&details);
        let levels = desk::waiver_levels(app, c, &waivers, &details).await?;
        // Applicants by name (their login beside it).
        let names: std::collections::HashMap<String, String> =
            app.store.users().await?.into_iter().map(|u| (u.login, u.name)).collect();
        Ok::<_, ApiError>((plans, waivers, third_party, tasks, numbers, contexts, levels, names))
    };
    match lists.await {
        Err(e) => error_page(app, lang, Some(c), e),
        Ok((plans, waivers, third_party, tasks, numbers, contexts, levels, names)) => {
            let (flash_kind, flash) = flash.map_or((None, None), |(k, t)| (Some(k.to_owned()), Some(t)));
            let ctx = context! { ..page_ctx(app, lang, Some(c)), ..context! {
            contexts => Value::from(minijinja::value::Serde(&contexts)), levels => Value::from(minijinja::value::Serde(&levels)),
            names => Value::from(minijinja::value::Serde(&names)),
            plans => Value::from(minijinja::value::Serde(&plans)), waivers => Value::from(minijinja::value::Serde(&waivers)),
            third_party => Value::from(minijinja::value::Serde(&third_party)), tasks => Value::from(minijinja::value::Serde(&tasks)), qc_titles => super::qc::title_map(app, lang == Lang::Zh),
            numbers => Value::from(minijinja::value::Serde(&numbers)),
            flash_kind => flash_kind, flash => flash } };
            let mut r = render(app, "approvals.html", ctx);
            *r.status_mut() = status;
            r
        }
    }
}

#[derive(Deserialize)]
pub(super) struct DecisionForm {
    decision: String,
    #[serde(default)]
    reason: Option<String>,
}

/// What a decision on the approvals page is about.
#[derive(Clone, Copy)]
enum Queue {
    Plan,
    Waiver,
    ThirdParty,
    Number,
}

async fn decide(page: Page, queue: Queue, id: i64, f: DecisionForm) -> Response {
    let Page { app, lang, c } = page;
    let approve = f.decision == "approve";
    let reason = f.reason.as_deref();
    let done = match queue {
        Queue::Plan => work::decide_plan(&app, &c, id, approve, reason).await.map(|()| false),
        Queue::Waiver => desk::decide_waiver(&app, &c, id, approve, reason)
            .await
            .map(|v| approve && v == WaiverVerdict::NeedsSecond),
        Queue::ThirdParty => desk::decide_third_party(&app, &c, id, approve, reason).await.map(|()| false),
        Queue::Number => desk::decide_number(&app, &c, id, approve, reason).await.map(|_| false),
    };
    match done {
        Ok(awaiting_second) => {
            let word = match (approve, awaiting_second) {
                (true, true) => "approved_first",
                (true, false) => "approved",
                (false, _) => "rejected",
            };
            let flash = Some(("ok", format!("#{id} {}", i18n::t(lang, word))));
            approvals_response(&app, lang, &c, flash, StatusCode::OK).await
        }
        Err(e)
            if matches!(e.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::FORBIDDEN)
                && e.code != "FORBIDDEN" =>
        {
            let flash = Some((
                "denied",
                format!("#{id} {}", i18n::error(lang, e.field.as_deref(), &e.code, &e.message)),
            ));
            approvals_response(&app, lang, &c, flash, e.status).await
        }
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}

pub(super) async fn plan_decision(page: Page, Path(id): Path<i64>, Form(f): Form<DecisionForm>) -> Response {
    decide(page, Queue::Plan, id, f).await
}

pub(super) async fn waiver_decision(
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Response {
    decide(page, Queue::Waiver, id, f).await
}

pub(super) async fn number_decision(
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Response {
    decide(page, Queue::Number, id, f).await
}

pub(super) async fn third_party_decision(
    page: Page,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> Response {
    decide(page, Queue::ThirdParty, id, f).await
}

#[derive(Deserialize)]
pub(super) struct TaskForm {
    #[serde(default)]
    back: String,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Closes a task (with its outcome and reason) and goes back to the page it was listed on.
pub(super) async fn task_done(
    Page { app, lang, c }: Page,
    Path(id): Path<i64>,
    Form(f): Form<TaskForm>,
) -> Response {
    let done = desk::TaskDone { outcome: f.outcome, reason: f.reason };
    match desk::finish_task(&app, &c, id, &done).await {
        Ok(_) => {
            let back = match f.back.as_str() {
                "/approvals" => "/approvals",
                "/qc" => "/qc",
                _ => "/workbench",
            };
            Redirect::to(back).into_response()
        }
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}

/// Up to this many cases open side by side.
const SIDE_BY_SIDE: usize = 4;

/// Several cases side by side: each in its own frame, working as on its own page.
pub(super) async fn side_by_side(
    Page { app, lang, c }: Page,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let mut cases: Vec<String> = q
        .into_iter()
        .filter(|(k, _)| k == "c")
        .map(|(_, v)| v)
        .filter(|v| daylight_domain::id::CaseId::parse(v).is_ok())
        .collect();
    // More than fit: the first four open, the page names the others.
    let dropped = cases.split_off(cases.len().min(SIDE_BY_SIDE));
    if cases.is_empty() {
        return Redirect::to("/workbench").into_response();
    }
    let ctx =
        context! { ..page_ctx(&app, lang, Some(&c)), ..context! { cases => cases, dropped => dropped } };
    render(&app, "side.html", ctx)
}

/// The most bars a chart draws.
const CHART_BARS: usize = 12;

fn kpi_charts(lang: Lang, r: &KpiReport) -> Vec<String> {
    let t = |k: &str| i18n::t(lang, k).to_owned();
    // A chart shows the largest groups (by bucket: all, in bucket order); the table has all.
    let top = |mut bars: Vec<Bar>, title: &str| {
        let n = bars.len();
        if r.by != "bucket" {
            bars.sort_by(|a, b| b.value.total_cmp(&a.value));
        }
        bars.truncate(CHART_BARS);
        let title =
            if n > CHART_BARS { format!("{} ({} {CHART_BARS} / {n})", t(title), t("top")) } else { t(title) };
        charts::bars(&title, &bars)
    };
    let rate = |title: &str, f: fn(&kpi::KpiLine) -> Option<f64>| {
        let bars: Vec<Bar> = r
            .lines
            .iter()
            .map(|l| Bar { label: l.key.clone(), value: f(l).unwrap_or(0.0), shown: percent(f(l)) })
            .collect();
        top(bars, title)
    };
    let count = |title: &str, f: fn(&kpi::KpiLine) -> i64, money: bool| {
        let bars: Vec<Bar> = r
            .lines
            .iter()
            .map(|l| Bar {
                label: l.key.clone(),
                value: f(l) as f64,
                shown: if money { yuan(f(l)) } else { f(l).to_string() },
            })
            .collect();
        top(bars, title)
    };
    let x: Vec<String> = r.days.iter().map(|d| d.date.get(5..).unwrap_or(&d.date).to_owned()).collect();
    // Counts on one chart, money on another: one scale each, with its unit on the axis.
    let trend = charts::lines(
        &t("kpi_trend"),
        &t("unit_contacts"),
        &x,
        &[
            Series { name: t("attempts"), values: r.days.iter().map(|d| d.attempts as f64).collect() },
            Series { name: t("rpc"), values: r.days.iter().map(|d| d.rpc as f64).collect() },
        ],
        &|v| format!("{v:.0}"),
    );
    let money = charts::lines(
        &t("recovered_trend"),
        &t("unit_yuan"),
        &x,
        &[Series {
            name: t("recovered"),
            values: r.days.iter().map(|d| d.recovered_fen as f64 / 100.0).collect(),
        }],
        &|v| yuan((v * 100.0).round() as i64).trim_end_matches(".00").to_owned(),
    );
    vec![
        trend,
        money,
        rate("contact_rate", |l| l.contact_rate),
        rate("rpc_rate", |l| l.rpc_rate),
        rate("ptp_rate", |l| l.ptp_rate),
        rate("kept_rate", |l| l.kept_rate),
        count("recovered", |l| l.recovered_fen, true),
        rate("roll_rate", |l| l.roll_rate),
        count("complaints", |l| l.complaints, false),
    ]
}

/// The team lead's dashboard.
pub(super) async fn dashboard(Page { app, lang, c }: Page, Query(q): Query<KpiQuery>) -> Response {
    match kpi::report(&app, &c, &q).await {
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let fallback = kpi::report(&app, &c, &KpiQuery::default()).await;
            match fallback {
                Ok(r) => dashboard_page(
                    &app,
                    lang,
                    &c,
                    &r,
                    Some(i18n::error(lang, e.field.as_deref(), &e.code, &e.message)),
                ),
                Err(e) => error_page(&app, lang, Some(&c), e),
            }
        }
        Err(e) => error_page(&app, lang, Some(&c), e),
        Ok(r) => dashboard_page(&app, lang, &c, &r, None),
    }
}

fn dashboard_page(app: &AppState, lang: Lang, c: &Caller, r: &KpiReport, error: Option<String>) -> Response {
    let shares = |l: &kpi::KpiLine| {
        context! {
            contact_rate => percent(l.contact_rate), rpc_rate => percent(l.rpc_rate), ptp_rate => percent(l.ptp_rate),
            kept_rate => percent(l.kept_rate), roll_rate => percent(l.roll_rate), promised => yuan(l.promised_fen),
        }
    };
    let lines: Vec<Value> =
        r.lines.iter().map(|l| context! { ..shares(l), ..Value::from(minijinja::value::Serde(l)) }).collect();
    let total = context! { ..shares(&r.total), ..Value::from(minijinja::value::Serde(&r.total)) };
    let charts: Vec<Value> = kpi_charts(lang, r).into_iter().map(Value::from_safe_string).collect();
    let query = format!("by={}&period={}", r.by, r.period);
    let ctx = context! { ..page_ctx(app, lang, Some(c)), ..context! {
    report => Value::from(minijinja::value::Serde(r)), lines => lines, total => total, charts => charts, query => query,
    dims => ["collector", "team", "bucket", "agency"], periods => ["today", "7d", "30d"],
    can_export => c.can(Permission::Export), error => error } };
    render(app, "kpi.html", ctx)
}

#[derive(Deserialize)]
pub(super) struct ExportQuery {
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    period: Option<String>,
}

/// Any of the console's tables as CSV or xlsx: `/export/{table}.{csv|xlsx}`.
pub(super) async fn export(
    Page { app, lang, c }: Page,
    Path(file): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    // Columns in the page's language.
    let localised = export_table(&app, &c, &file, q).await.map(|(mut t, f)| {
        t.header = t.header.iter().map(|h| i18n::column(lang, h)).collect();
        (t, f)
    });
    match localised.and_then(|(t, f)| t.download(f)) {
        Ok(r) => r,
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}

async fn export_table(
    app: &AppState,
    c: &Caller,
    file: &str,
    q: ExportQuery,
) -> Result<(Table, Format), ApiError> {
    c.require(Permission::Export, "export tables")?;
    let (name, ext) =
        file.rsplit_once('.').ok_or_else(|| ApiError::field("file", "ENUM", "TABLE.csv or TABLE.xlsx"))?;
    let format = Format::parse(ext)?;
    let header = |h: &[&str]| h.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
    let table = match name {
        "team-cases" => {
            let rows = work::team_cases(app, c).await?.into_iter().map(|i| {
                vec![
                    i.case.into(),
                    i.name.into(),
                    i.bucket.into(),
                    i64::from(i.dpd).into(),
                    Cell::Fen(i.overdue_fen),
                    i.collector.into(),
                ]
            });
            Table {
                name: name.into(),
                header: header(&["case", "debtor", "bucket", "dpd", "overdue_yuan", "collector"]),
                rows: rows.collect(),
            }
        }
        "kpis" => kpi::table(&kpi::report(app, c, &KpiQuery { by: q.by, period: q.period }).await?),
        "plans" => Table {
            name: name.into(),
            header: header(&[
                "plan",
                "case",
                "proposed_by",
                "proposed_at",
                "total_yuan",
                "instalments",
                "monthly_fee_bp",
                "first_due",
            ]),
            rows: work::pending_plans(app, c)
                .await?
                .into_iter()
                .map(|p| {
                    vec![
                        p.id.into(),
                        p.case.into(),
                        p.proposed_by.into(),
                        p.proposed_at.into(),
                        Cell::Text(p.total.replace(',', "")),
                        i64::from(p.instalments).into(),
                        i64::from(p.monthly_fee_bp).into(),
                        p.first_due.into(),
                    ]
                })
                .collect(),
        },
        "waivers" => Table {
            name: name.into(),
            header: header(&[
                "waiver",
                "case",
                "account",
                "component",
                "amount_yuan",
                "reason",
                "requested_by",
                "requested_at",
            ]),
            rows: desk::pending_waivers(app, c)
                .await?
                .into_iter()
                .map(|w| {
                    vec![
                        w.id.into(),
                        w.case.into(),
                        w.account.into(),
                        w.component.into(),
                        Cell::Fen(w.amount_fen),
                        w.reason.into(),
                        w.requested_by.into(),
                        w.requested_at.into(),
                    ]
                })
                .collect(),
        },
        "third-party" => Table {
            name: name.into(),
            header: header(&["request", "case", "contact_point", "reason", "requested_by", "requested_at"]),
            rows: desk::pending_third_party(app, c)
                .await?
                .into_iter()
                .map(|r| {
                    vec![
                        r.id.into(),
                        r.case.into(),
                        r.contact_point.into(),
                        r.reason.into(),
                        r.requested_by.into(),
                        r.requested_at.into(),
                    ]
                })
                .collect(),
        },
        "tasks" => Table {
            name: name.into(),
            header: header(&["task", "case", "kind", "promise", "due_at"]),
            rows: desk::my_tasks(app, c)
                .await?
                .into_iter()
                .map(|t| {
                    vec![
                        t.id.into(),
                        t.case.into(),
                        t.kind.into(),
                        t.promise.map_or(Cell::Text(String::new()), Cell::Int),
                        t.due_at.into(),
                    ]
                })
                .collect(),
        },
        "users" => {
            c.require(Permission::ManageUsers, "export users")?;
            Table {
                name: name.into(),
                header: header(&["login", "name", "role", "team", "agency", "disabled", "last_password_set"]),
                rows: app
                    .store
                    .users()
                    .await?
                    .into_iter()
                    .map(|u| {
                        vec![
                            u.login.into(),
                            daylight_domain::pii::mask_name(&u.name).into(),
                            u.role.as_str().into(),
                            u.team.into(),
                            u.agency.into(),
                            if u.disabled { "yes" } else { "no" }.into(),
                            work::local_full(u.password_set_at).into(),
                        ]
                    })
                    .collect(),
            }
        }
        other => {
            return Err(ApiError::not_found("table", other));
        }
    };
    Ok((table, format))
}
