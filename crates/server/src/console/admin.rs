//! Administration beyond users: the compliance pack (choice, parameters, calendar) and what the
//! strategy runs on (the latest plan's strategy and script library, experiments, models).

use crate::extract::{Form, Path};
use axum::http::StatusCode;
use axum::response::Response;
use daylight_compliance::Pack;
use minijinja::{Value, context};
use serde::Deserialize;

use super::i18n::Lang;
use super::{Page, error_page, page_ctx, render};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::roles::Permission;
use crate::work::local_full;

/// The pack's rules, hours, caps and calendar as the page shows them.
fn pack_view(pack: &Pack, zh: bool) -> Value {
    let rules: Vec<Value> = pack
        .rules()
        .iter()
        .map(|r| {
            context! {
                code => r.rule.code(),
                text => if zh { r.message_zh.to_string() } else { r.message.to_string() },
                citation => r.citation.to_string(),
            }
        })
        .collect();
    let hhmm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    let years: Vec<Value> = pack
        .calendar
        .years()
        .map(|y| {
            let periods: Vec<Value> = y
                .periods
                .iter()
                .map(|p| {
                    let name =
                        if zh { p.name.clone() } else { p.name_en.clone().unwrap_or_else(|| p.name.clone()) };
                    let span = match (p.days_off.first(), p.days_off.last()) {
                        (Some(a), Some(b)) if a == b => a.to_string(),
                        (Some(a), Some(b)) => format!("{a} – {b}"),
                        _ => String::new(),
                    };
                    let workdays: Vec<String> = p.workdays.iter().map(|d| d.to_string()).collect();
                    context! { name => name, days => p.days_off.len(), span => span, workdays => workdays }
                })
                .collect();
            context! { year => y.year, source => y.source.clone(), periods => periods }
        })
        .collect();
    context! {
        name => pack.name.clone(),
        title => if zh { pack.title_zh.clone() } else { pack.title.clone() },
        hours => pack.hours.as_ref().map(|h| format!("{}–{}", hhmm(h.from / 60), hhmm(h.until / 60))),
        daily_cap => pack.daily_cap.as_ref().map(|c| c.max),
        cycle_cap => pack.cycle_cap.as_ref().map(|c| format!("{} / {}d", c.max, c.rolling_days)),
        third_party_confirmation => pack.third_party.needs_confirmation,
        rules => rules,
        years => years,
    }
}

async fn policy_response(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    extra: Value,
    source: Option<String>,
    status: StatusCode,
) -> Response {
    if let Err(e) = c.require(Permission::ManagePolicy, "change the compliance pack") {
        return error_page(app, lang, Some(c), e);
    }
    let pack = match app.store.policy_pack().await {
        Ok(p) => p,
        Err(e) => return error_page(app, lang, Some(c), e.into()),
    };
    let changes: Vec<Value> = match app.store.config().await {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| e.key == "policy.pack")
            .map(|e| context! { by => e.updated_by, at => local_full(e.updated_at) })
            .collect(),
        Err(e) => return error_page(app, lang, Some(c), e.into()),
    };
    let shipped: Vec<&str> = daylight_compliance::pack::SHIPPED.iter().map(|(n, _)| *n).collect();
    let ctx = context! { ..page_ctx(app, lang, Some(c)), ..context! {
    pack => pack_view(&pack, lang == Lang::Zh), shipped => shipped, changes => changes,
    source => source.unwrap_or_else(|| pack.source.clone()) }, ..extra };
    let mut r = render(app, "policy.html", ctx);
    *r.status_mut() = status;
    r
}

pub(super) async fn policy_page(Page { app, lang, c }: Page) -> Response {
    policy_response(&app, lang, &c, context! {}, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct PolicyForm {
    /// `shipped` (choose one) or `source` (edit the text).
    action: String,
    #[serde(default)]
    shipped: String,
    #[serde(default)]
    source: String,
    /// A year's days off (the shipped calendar's `[[year]]` form), for `year_check` and
    /// `year_add`.
    #[serde(default)]
    calendar: String,
}

/// Puts a pack in force: a shipped one, or the edited text. Every change is a ledger event
/// (`config.changed`); a bad text is refused naming its line and column, and nothing changes.
pub(super) async fn policy_submit(Page { app, lang, c }: Page, Form(f): Form<PolicyForm>) -> Response {
    if matches!(f.action.as_str(), "year_check" | "year_add") {
        return year_submit(&app, lang, &c, &f).await;
    }
    let input = match f.action.as_str() {
        "shipped" => crate::desk::PackInput { shipped: Some(f.shipped), source: None },
        "source" => crate::desk::PackInput { shipped: None, source: Some(f.source.clone()) },
        other => {
            let e = ApiError::field("action", "ENUM", format!("{other:?}: shipped or source"));
            return error_page(&app, lang, Some(&c), e);
        }
    };
    let edited = (f.action == "source").then_some(f.source);
    match crate::desk::set_policy(&app, &c, &input).await {
        Ok(p) => policy_response(&app, lang, &c, context! { saved => p.name }, None, StatusCode::OK).await,
        Err(e) if e.status == StatusCode::FORBIDDEN => error_page(&app, lang, Some(&c), e),
        Err(e) => {
            let extra = context! { error => format!("{} {}", e.code, e.message) };
            policy_response(&app, lang, &c, extra, edited, e.status).await
        }
    }
}

/// A year's days off, checked against the statutory days side by side (`year_check`), or
/// written into the pack in force's text and put in force (`year_add`, a ledger event).
async fn year_submit(app: &AppState, lang: Lang, c: &Caller, f: &PolicyForm) -> Response {
    if let Err(e) = c.require(Permission::ManagePolicy, "change the compliance pack") {
        return error_page(app, lang, Some(c), e);
    }
    let text = f.calendar.replace("\r\n", "\n");
    let zh = lang == Lang::Zh;
    let refused = |e: daylight_compliance::PolicyError| format!("{} {}: {}", e.code, e.place, e.message);
    let checked = match daylight_compliance::Calendar::from_toml(&text, "calendar") {
        Ok(cal) => daylight_compliance::check_years(&cal),
        Err(e) => {
            let extra = context! { year_error => refused(e), calendar => text };
            return policy_response(app, lang, c, extra, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let rows: Vec<Value> = checked
        .iter()
        .flat_map(|(year, days)| {
            days.iter().map(move |(d, kind)| {
                context! {
                    year => *year,
                    name => if zh { d.name } else { d.name_en },
                    date => d.date.to_string(),
                    off => *kind == daylight_compliance::DayKind::DayOff,
                }
            })
        })
        .collect();
    if f.action == "year_check" {
        let extra = context! { year_check => rows, calendar => text };
        return policy_response(app, lang, c, extra, None, StatusCode::OK).await;
    }
    let pack = match app.store.policy_pack().await {
        Ok(p) => p,
        Err(e) => return error_page(app, lang, Some(c), e.into()),
    };
    let added = match pack.with_years_text(&text, "the console") {
        Ok(p) => p,
        Err(e) => {
            let extra = context! { year_error => refused(e), calendar => text, year_check => rows };
            return policy_response(app, lang, c, extra, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let input = crate::desk::PackInput { shipped: None, source: Some(added.source.clone()) };
    match crate::desk::set_policy(app, c, &input).await {
        Ok(p) => {
            policy_response(
                app,
                lang,
                c,
                context! { saved => p.name, year_check => rows },
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let extra = context! { year_error => format!("{} {}", e.code, e.message), calendar => text };
            policy_response(app, lang, c, extra, None, e.status).await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct VersionQuery {
    #[serde(default)]
    version: Option<i64>,
}

pub(super) async fn strategy_page(
    Page { app, lang, c }: Page,
    crate::extract::Query(q): crate::extract::Query<VersionQuery>,
) -> Response {
    // The editor opens on a version asked for, else the latest saved (or the built-in one).
    let extra = match q.version {
        Some(v) => match crate::strategy::version_text(&app, &c, v).await {
            Ok(text) => context! { draft => text, draft_version => v },
            Err(e) => return error_page(&app, lang, Some(&c), e),
        },
        None => context! {},
    };
    strategy_response(&app, lang, &c, extra, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct StrategyForm {
    text: String,
    #[serde(default)]
    note: String,
}

/// Checks the editor's text: the problems in place (each with its lines), the text kept.
pub(super) async fn strategy_check_submit(
    Page { app, lang, c }: Page,
    Form(f): Form<StrategyForm>,
) -> Response {
    let report = match crate::strategy::check_input(&app, &c, &f.text) {
        Ok(r) => r,
        Err(e) => return error_page(&app, lang, Some(&c), e),
    };
    let status = if report.ok { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let extra =
        context! { draft => f.text, note => f.note, check => Value::from(minijinja::value::Serde(&report)) };
    strategy_response(&app, lang, &c, extra, status).await
}

/// Saves the editor's text as the next version once it passes the check; else the problems in
/// place and nothing saved.
pub(super) async fn strategy_save_submit(
    Page { app, lang, c }: Page,
    Form(f): Form<StrategyForm>,
) -> Response {
    let note = Some(f.note.clone()).filter(|n| !n.trim().is_empty());
    let input = crate::strategy::StrategyInput { text: f.text.clone(), note };
    match crate::strategy::try_save(&app, &c, &input).await {
        Ok(Ok(v)) => {
            strategy_response(&app, lang, &c, context! { saved => v.version }, StatusCode::CREATED).await
        }
        Ok(Err(problems)) => {
            let report = crate::strategy::CheckReport::refused(problems);
            let extra = context! { draft => f.text, note => f.note, check => Value::from(minijinja::value::Serde(&report)) };
            strategy_response(&app, lang, &c, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) if e.status == StatusCode::FORBIDDEN => error_page(&app, lang, Some(&c), e),
        Err(e) => {
            let extra = context! { draft => f.text, note => f.note,
            save_error => super::i18n::error(lang, e.field.as_deref(), &e.code, &e.message) };
            strategy_response(&app, lang, &c, extra, e.status).await
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ExperimentForm {
    name: String,
    arms: String,
    #[serde(default)]
    salt: String,
}

/// Creates an experiment from the strategy page.
pub(super) async fn experiment_submit(
    Page { app, lang, c }: Page,
    Form(f): Form<ExperimentForm>,
) -> Response {
    let input = crate::desk::ExperimentInput { name: f.name, arms: f.arms, salt: Some(f.salt) };
    match crate::desk::create_experiment(&app, &c, &input).await {
        Ok(e) => strategy_response(&app, lang, &c, context! { created => e.name }, StatusCode::CREATED).await,
        Err(e) if e.status == StatusCode::FORBIDDEN => error_page(&app, lang, Some(&c), e),
        Err(e) => {
            let extra = context! { error => format!("{}: {} {}", e.field.clone().unwrap_or_default(), e.code, e.message) };
            strategy_response(&app, lang, &c, extra, e.status).await
        }
    }
}

async fn strategy_response(
    app: &AppState,
    lang: Lang,
    c: &Caller,
    extra: Value,
    status: StatusCode,
) -> Response {
    if !crate::desk::can_see_strategy(c) {
        return error_page(app, lang, Some(c), ApiError::forbidden("see strategies and experiments"));
    }
    let read = async {
        let plans = app.store.list_plans().await?;
        let experiments = app.store.list_experiments().await?;
        let models = app.store.list_models(None).await?;
        Ok::<_, daylight_store::StoreError>((plans, experiments, models))
    };
    // The editor: the text asked for, else the latest saved, else the built-in strategy.
    let saved = match crate::strategy::current(app, c).await {
        Ok(s) => s,
        Err(e) => return error_page(app, lang, Some(c), e),
    };
    let (plans, experiments, models) = match read.await {
        Ok(v) => v,
        Err(e) => return error_page(app, lang, Some(c), e.into()),
    };
    // The script library and ladders of the latest plan's strategy (the default before any).
    let latest = match plans.first() {
        Some(p) => match app.store.plan_strategy(p.date, p.version).await {
            Ok(text) => text.map(|t| (t, format!("{} v{}", p.date, p.version))),
            Err(e) => return error_page(app, lang, Some(c), e.into()),
        },
        None => None,
    };
    let (text, origin) =
        latest.unwrap_or_else(|| (daylight_strategy::document::DEFAULT.to_owned(), "default".to_owned()));
    let strategy = match daylight_strategy::document::Strategy::from_toml(&text, &origin) {
        Ok(s) => s,
        Err(e) => {
            let e = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "STRATEGY", e.to_string());
            return error_page(app, lang, Some(c), e);
        }
    };
    let scripts: Vec<Value> = strategy
        .scripts
        .iter()
        .map(|s| {
            let channels: Vec<String> = s.channels.iter().map(|m| m.to_string()).collect();
            // The QC rules lint every script and SMS template: a flagged one is refused by
            // `daylight plan`, and shown here with what was flagged.
            let lint = Value::from(minijinja::value::Serde(&crate::qc::lint(app, &s.text)));
            context! { id => s.id.clone(), tone => s.tone.as_str(), channels => channels, text => s.text.clone(), lint => lint }
        })
        .collect();
    let ladders: Vec<Value> = strategy
        .ladders
        .iter()
        .map(|l| {
            let steps: Vec<Value> = l
                .steps
                .iter()
                .map(|s| {
                    let until = s.until_day.map_or_else(|| "…".to_owned(), |d| d.to_string());
                    context! { action => s.action.to_string(), recipient => s.recipient.as_str(), from => s.from_day, until => until }
                })
                .collect();
            context! { name => l.name.clone(), steps => steps }
        })
        .collect();
    let plans: Vec<Value> = plans
        .iter()
        .take(30)
        .map(|p| {
            context! { date => p.date.to_string(), version => p.version, strategy => p.strategy.clone(),
            actions => p.actions, by => p.created_by.clone(), at => local_full(p.created_at) }
        })
        .collect();
    let experiments: Vec<Value> = experiments
        .iter()
        .map(|e| context! { name => e.name.clone(), arms => e.arms.clone(), by => e.created_by.clone(), at => local_full(e.created_at) })
        .collect();
    let models: Vec<Value> = models
        .iter()
        .map(|m| {
            // The figures the registry holds (AUC, KS …), as `name value` pairs.
            let metrics: Vec<(String, String)> = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&m.metrics)
                .map(|o| {
                    o.into_iter()
                        .filter_map(|(k, v)| v.as_f64().map(|f| (k, format!("{f:.3}"))))
                        .collect()
                })
                .unwrap_or_default();
            context! { name => m.name.clone(), version => m.version, status => m.status.clone(), at => local_full(m.created_at),
            by => m.created_by.clone(), source => m.source.clone(), metrics => metrics }
        })
        .collect();
    // The extra values (a draft, a check, a flash) come first: the left wins.
    let ctx = context! { ..page_ctx(app, lang, Some(c)), ..extra, ..context! {
    strategy => context! { name => strategy.name.clone(), description => strategy.description.clone(), origin => origin },
    scripts => scripts, ladders => ladders, plans => plans, experiments => experiments, models => models,
    can_create => c.can(Permission::ManageStrategy), can_promote => c.can(Permission::ManageStrategy),
    can_edit => c.can(Permission::ManageStrategy),
    draft => saved.text.clone(), draft_version => saved.version.as_ref().map(|v| v.version),
    versions => Value::from(minijinja::value::Serde(&saved.versions)) } };
    let mut r = render(app, "strategy.html", ctx);
    *r.status_mut() = status;
    r
}

/// The script library of the strategy in force (today's plan's, the default before any), for
/// everyone who works cases: each script's words, tone and channels, and an example filled in.
pub(super) async fn scripts_page(Page { app, lang, c }: Page) -> Response {
    if !c.can(Permission::ViewCases) {
        return error_page(&app, lang, Some(&c), ApiError::forbidden("read the script library"));
    }
    let today = match app.plans.today(&app).await {
        Ok(p) => p.strategy.clone(),
        Err(e) => return error_page(&app, lang, Some(&c), e),
    };
    let Some(strategy) = today.as_deref().or_else(|| crate::robot::default_strategy()) else {
        let e = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "STRATEGY",
            "the default strategy does not read",
        );
        return error_page(&app, lang, Some(&c), e);
    };
    let scripts: Vec<Value> = strategy
        .scripts
        .iter()
        .map(|s| {
            let channels: Vec<String> = s.channels.iter().map(|m| m.to_string()).collect();
            context! { id => s.id.clone(), tone => s.tone.as_str(), channels => channels, text => s.text.clone() }
        })
        .collect();
    let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
    strategy => strategy.name.clone(), scripts => scripts } };
    render(&app, "scripts.html", ctx)
}

/// Makes a model version the champion (the one before it retired), from the strategy page.
pub(super) async fn model_promote(
    Page { app, lang, c }: Page,
    Path((name, version)): Path<(String, i64)>,
) -> Response {
    if let Err(e) = c.require(Permission::ManageStrategy, "promote models") {
        return error_page(&app, lang, Some(&c), e);
    }
    match app.store.promote_model(&name, version, &c.user.login, app.now()).await {
        Ok(v) => {
            let extra = context! { promoted => format!("{} v{}", v.name, v.version) };
            strategy_response(&app, lang, &c, extra, StatusCode::OK).await
        }
        Err(e) => {
            let e: ApiError = e.into();
            let extra = context! { model_error => format!("{} {}", e.code, e.message) };
            strategy_response(&app, lang, &c, extra, e.status).await
        }
    }
}

/// `/admin/experiments/{name}`: the experiment's report, per arm with 95 % intervals and
/// p-values against the first arm, recovery and contact rate drawn with their intervals.
#[derive(Deserialize)]
pub(super) struct WindowQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    until: Option<String>,
}

/// A day the window form names (`YYYY-MM-DD`), as the team's midnight; blank: none.
fn day_start(field: &str, v: Option<&str>) -> Result<Option<jiff::Timestamp>, ApiError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(d) => d
            .parse::<jiff::civil::Date>()
            .ok()
            .and_then(|d| d.to_zoned(crate::work::team_zone()).ok())
            .map(|z| Some(z.timestamp()))
            .ok_or_else(|| ApiError::field(field, "DATE_FORMAT", format!("{d:?}: a date, YYYY-MM-DD"))),
    }
}

pub(super) async fn experiment_page(
    Page { app, lang, c }: Page,
    Path(name): Path<String>,
    crate::extract::Query(w): crate::extract::Query<WindowQuery>,
) -> Response {
    let window =
        day_start("from", w.from.as_deref()).and_then(|f| Ok((f, day_start("until", w.until.as_deref())?)));
    let (from, until) = match window {
        Ok(v) => v,
        Err(e) => return error_page(&app, lang, Some(&c), e),
    };
    let (e, r) = match crate::desk::experiment_report(&app, &c, &name, from, until).await {
        Ok(v) => v,
        Err(e) => return error_page(&app, lang, Some(&c), e),
    };
    use daylight_strategy::report::{MeanStat, RateStat};
    let pct = |s: &RateStat| {
        context! {
            shown => if s.counts.trials == 0 { "—".to_owned() } else { format!("{:.1}%", s.rate * 100.0) },
            ci => if s.counts.trials == 0 { String::new() } else { format!("{:.1}–{:.1}", s.ci.0 * 100.0, s.ci.1 * 100.0) },
            counts => format!("{}/{}", s.counts.successes, s.counts.trials),
            p => s.p_value.map(|p| format!("{p:.3}")),
            significant => s.p_value.is_some_and(|p| p < 0.05),
        }
    };
    let money = |s: &MeanStat| {
        context! {
            shown => format!("{:.2}", s.mean),
            ci => format!("{:.2}–{:.2}", s.ci.0, s.ci.1),
            p => s.p_value.map(|p| format!("{p:.3}")),
            significant => s.p_value.is_some_and(|p| p < 0.05),
        }
    };
    let arms: Vec<Value> = r
        .arms
        .iter()
        .map(|a| {
            context! {
                arm => a.arm.clone(),
                customers => a.customers,
                contact => pct(&a.contact_rate),
                rpc => pct(&a.rpc_rate),
                ptp => pct(&a.ptp_rate),
                kept => pct(&a.kept_rate),
                recovered => money(&a.recovered_per_customer),
                recovered_total => crate::work::yuan(a.recovered_fen),
                cost => money(&a.cost_per_customer),
                complaints => a.complaints_per_10k.map(|x| format!("{x:.1}")),
                short => a.customers < r.sample_size.per_arm,
            }
        })
        .collect();
    let t = |k: &str| super::i18n::t(lang, k).to_owned();
    let estimate = |label: &str, v: f64, ci: (f64, f64), shown: String| crate::charts::Estimate {
        label: super::i18n::word(lang, label),
        value: v,
        low: ci.0,
        high: ci.1,
        shown,
    };
    let recovered: Vec<_> = r
        .arms
        .iter()
        .map(|a| {
            let m = &a.recovered_per_customer;
            estimate(&a.arm, m.mean, m.ci, format!("{:.2} [{:.2}–{:.2}]", m.mean, m.ci.0, m.ci.1))
        })
        .collect();
    let contact: Vec<_> = r
        .arms
        .iter()
        .filter(|a| a.contact_rate.counts.trials > 0)
        .map(|a| {
            let s = &a.contact_rate;
            let (v, lo, hi) = (s.rate * 100.0, s.ci.0 * 100.0, s.ci.1 * 100.0);
            estimate(&a.arm, v, (lo, hi), format!("{v:.1}% [{lo:.1}–{hi:.1}]"))
        })
        .collect();
    let charts: Vec<Value> = [
        crate::charts::intervals(&t("recovered_per_customer"), &t("yuan_per_customer"), &recovered, &|v| {
            format!("{v:.0}")
        }),
        crate::charts::intervals(&t("contact_rate_t1"), "%", &contact, &|v| format!("{v:.0}")),
    ]
    .into_iter()
    .map(Value::from_safe_string)
    .collect();
    let ctx = context! { ..page_ctx(&app, lang, Some(&c)), ..context! {
        name => e.name.clone(), arms_spec => e.arms.clone(), salt => e.salt.clone(), by => e.created_by.clone(),
        created => local_full(e.created_at),
        from => local_full(r.from), until => local_full(r.until),
        from_day => w.from.clone().unwrap_or_default(), until_day => w.until.clone().unwrap_or_default(),
        per_arm => r.sample_size.per_arm, first => r.arms.first().map(|a| a.arm.clone()),
        arms => arms, charts => charts,
    } };
    render(&app, "experiment.html", ctx)
}
