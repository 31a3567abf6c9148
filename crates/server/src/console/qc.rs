//! The console's QC pages: analysed calls (filtered by code) with the complaints and the
//! findings they are linked to, and one call's transcript with what QC marked in it.

use crate::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};
use std::collections::HashMap;

use super::{Page, error_page, page_ctx, render};
use crate::error::ApiError;
use crate::qc::{self, QcQuery};
use crate::work::local_full;

/// The codes of the rules in force with their titles in the page's language.
/// Each code's title, by code (the lists show a code with its words).
pub(super) fn title_map(app: &crate::AppState, zh: bool) -> std::collections::BTreeMap<String, String> {
    app.settings
        .qc_rules
        .codes()
        .into_iter()
        .map(|c| (c.code.to_string(), if zh { c.title.to_string() } else { c.title_en.to_string() }))
        .collect()
}

fn code_titles(app: &crate::AppState, zh: bool) -> Vec<Value> {
    app.settings
        .qc_rules
        .codes()
        .into_iter()
        .map(|c| {
            context! {
                code => c.code,
                title => if zh { c.title } else { c.title_en },
                severity => c.severity.as_str(),
            }
        })
        .collect()
}

/// `/qc`: analysed calls within scope, newest first, and the complaints with their calls' codes.
pub(super) async fn qc_page(Page { app, lang, c }: Page, Query(q): Query<QcQuery>) -> Response {
    let calls = match qc::calls(&app, &c, &q).await {
        Ok(v) => v,
        Err(e) => return error_page(&app, lang, Some(&c), e),
    };
    // `calls` has already required the permission to read QC.
    let complaints = match app.store.complaints_in(&c.scope, 200).await {
        Ok(v) => v,
        Err(e) => return error_page(&app, lang, Some(&c), e.into()),
    };
    // The complaints' calls, by attempt: the list above when it is unfiltered, else one read.
    let filtered =
        q.case.as_deref().is_some_and(|x| !x.is_empty()) || q.code.as_deref().is_some_and(|x| !x.is_empty());
    let analysed: HashMap<i64, Vec<String>> = if !complaints.iter().any(|k| k.complaint.attempt.is_some()) {
        HashMap::new()
    } else if !filtered {
        calls.iter().map(|x| (x.attempt, x.codes.clone())).collect()
    } else {
        match app.store.qc_calls_in(&c.scope, None, None, qc::LIST_LIMIT).await {
            Ok(v) => v.iter().map(|x| (x.attempt, qc::call_view(x).codes)).collect(),
            Err(e) => return error_page(&app, lang, Some(&c), e.into()),
        }
    };
    let complaints: Vec<Value> = complaints
        .iter()
        .map(|k| {
            let attempt = k.complaint.attempt;
            context! {
                id => k.id,
                case => k.complaint.case.as_str(),
                attempt => attempt,
                source => k.complaint.source.as_str(),
                text => k.complaint.text.clone(),
                at => local_full(k.registered_at),
                by => k.registered_by.clone(),
                analysed => attempt.is_some_and(|a| analysed.contains_key(&a)),
                codes => attempt.and_then(|a| analysed.get(&a).cloned()).unwrap_or_default(),
            }
        })
        .collect();
    // Compliance decides collectors' appeals here.
    let appeals = if c.can(crate::roles::Permission::DecideAppeals) {
        match crate::desk::my_tasks(&app, &c).await {
            Ok(v) => v.into_iter().filter(|t| t.kind == "qc_appeal").collect(),
            Err(e) => return error_page(&app, lang, Some(&c), e),
        }
    } else {
        Vec::new()
    };
    let r = &app.settings.qc_rules;
    let ctx = context! {
        ..page_ctx(&app, lang, Some(&c)),
        ..context! {
            calls => Value::from(minijinja::value::Serde(&calls)),
            complaints => complaints,
            codes => code_titles(&app, lang == super::i18n::Lang::Zh),
            titles => title_map(&app, lang == super::i18n::Lang::Zh),
            code => q.code.clone().unwrap_or_default(),
            case => q.case.clone().unwrap_or_default(),
            rules => format!("{} {}", r.name, r.version),
            appeals => Value::from(minijinja::value::Serde(&appeals)),
        }
    };
    render(&app, "qc.html", ctx)
}

/// `/qc/{attempt}`: one call's findings and transcript, QC's marks in the turns.
pub(super) async fn qc_call_page(Page { app, lang, c }: Page, Path(attempt): Path<String>) -> Response {
    let Ok(attempt) = attempt.parse::<i64>() else {
        return error_page(&app, lang, Some(&c), ApiError::not_found("analysed call", &attempt));
    };
    call_page(app, lang, c, attempt, None).await
}

#[derive(serde::Deserialize)]
pub(super) struct PurposeForm {
    purpose: String,
}

/// `/qc/{attempt}/reveal`: the transcript in clear, for a role that may unmask; recorded.
pub(super) async fn qc_call_reveal(
    Page { app, lang, c }: Page,
    Path(attempt): Path<String>,
    crate::extract::Form(f): crate::extract::Form<PurposeForm>,
) -> Response {
    let Ok(attempt) = attempt.parse::<i64>() else {
        return error_page(&app, lang, Some(&c), ApiError::not_found("analysed call", &attempt));
    };
    call_page(app, lang, c, attempt, Some(&f.purpose)).await
}

async fn call_page(
    app: crate::AppState,
    lang: super::i18n::Lang,
    c: crate::auth::Caller,
    attempt: i64,
    reveal: Option<&str>,
) -> Response {
    match qc::call_detail(&app, &c, attempt, reveal).await {
        Ok(d) => {
            let ctx = context! {
                ..page_ctx(&app, lang, Some(&c)),
                ..context! { call => Value::from(minijinja::value::Serde(&d.call)), turns => Value::from(minijinja::value::Serde(&d.turns)), review => Value::from(minijinja::value::Serde(&d.review)), codes => code_titles(&app, lang == super::i18n::Lang::Zh),
                    revealed => reveal.is_some(), can_unmask => c.can(crate::roles::Permission::Unmask) }
            };
            render(&app, "qc_call.html", ctx)
        }
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN => {
            error_page(&app, lang, Some(&c), e)
        }
        Err(e) => error_page(&app, lang, Some(&c), e),
    }
}
