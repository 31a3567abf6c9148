//! The catalogue crawl (issue 23): every page each role reaches from its home, in Chinese and
//! in English, with the demo-like data of the fixture and today's plan. A page fails on text
//! outside a code column that is a raw code (`no_answer`, `AGENT_INSULT`), on English words in
//! the Chinese console, and on the Chinese catalogue's words in the English one.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use axum::http::StatusCode;
use daylight_store::Store;
use serde_json::json;

use crate::fixture::*;

/// Words the Chinese console shows as they are: units, formats, names of things.
const ALLOWED_LATIN: &[&str] = &[
    // The language switch names English in English; keys by their names.
    "English",
    "Enter",
    "Esc",
    "CSV",
    "xlsx",
    "SIP",
    "TOTP",
    "QR",
    "ID",
    "API",
    "OpenAPI",
    "PDF",
    "SVG",
    "HTTP",
    "URL",
    "SMS",
    "AUC",
    "KS",
    "IV",
    "WoE",
    "GBDT",
    "XGBoost",
    "LightGBM",
    "PSI",
    "Gini",
    "Daylight",
    "Google",
    "Authenticator",
    "Microsoft",
    "FreeOTP",
    "htmx",
    "TOML",
    "JSON",
    "UTC",
    "CNY",
    "MD",
    "PTP",
    "RPC",
    "KPI",
    // Statistics: the Wilson score interval.
    "Wilson",
];

/// The visible text of a page: tags, scripts, styles and `<code>` elements (the code columns)
/// left out, entities decoded; `placeholder`, `title` and `aria-label` values added.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let skip = ["script", "style", "code", "textarea", "pre"];
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        out.push(' ');
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        let tag = &after[..close];
        let name: String =
            tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
        for attr in ["placeholder=\"", "title=\"", "aria-label=\""] {
            if let Some(i) = tag.find(attr) {
                let v = &tag[i + attr.len()..];
                out.push(' ');
                out.push_str(&v[..v.find('"').unwrap_or(0)]);
                out.push(' ');
            }
        }
        rest = &after[close + 1..];
        // Text its author wrote in their language (a strategy's description, a script) is shown
        // as written: `class="authored"`.
        let authored = tag.contains("class=\"authored") || tag.contains(" authored\"");
        if (skip.contains(&name.as_str()) || authored) && !tag.ends_with('/') {
            let end = format!("</{name}");
            rest = rest.find(&end).map_or("", |i| &rest[i..]);
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
}

/// Where `token` first stands in `text`, when asked (`CRAWL_CONTEXT=1`).
fn around(text: &str, token: &str) -> String {
    if std::env::var("CRAWL_CONTEXT").is_err() {
        return String::new();
    }
    let i = text.find(token).unwrap_or(0);
    let start = text.floor_char_boundary(i.saturating_sub(60));
    let end = text.ceil_char_boundary((i + token.len() + 60).min(text.len()));
    format!(" «{}»", text[start..end].split_whitespace().collect::<Vec<_>>().join(" "))
}

/// What is wrong with a page's text in `lang`.
fn problems(text: &str, lang: &str, zh_words: &[&str]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for token in
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '+' || c == '.' || c == '-'))
    {
        let token = token.trim_matches(|c: char| c == '.' || c == '-' || c == '+');
        if token.is_empty() {
            continue;
        }
        let letters = token.chars().filter(char::is_ascii_alphabetic).count();
        // A raw code: snake_case or SCREAMING_SNAKE words.
        if token.contains('_') && letters >= 3 && !token.contains('@') {
            out.insert(format!("raw code {token:?}{}", around(text, token)));
            continue;
        }
        if lang == "zh-CN" && letters >= 3 && token.chars().all(|c| c.is_ascii_alphabetic()) {
            let upper_code = token.len() >= 4 && token.chars().all(|c| c.is_ascii_uppercase());
            if !ALLOWED_LATIN.contains(&token)
                && (upper_code || token.chars().any(|c| c.is_ascii_lowercase()))
            {
                out.insert(format!("English {token:?}{}", around(text, token)));
            }
        }
    }
    if lang == "en" {
        for w in zh_words {
            if w.chars().count() >= 3 && text.contains(w) {
                out.insert(format!("Chinese catalogue words {w:?}"));
            }
        }
    }
    out.into_iter().collect()
}

/// Every page `login` reaches from `/` by the console's links (at most `cap`), in `lang`.
/// Pages no link reaches that a person still sees: refusals and errors, htmx fragments, a list
/// whose filter is wrong. They may answer 4xx; their text is checked all the same.
const EXTRA: &[&str] = &[
    "/cases/CASE-NOPE",
    "/admin/users",
    "/workbench?bucket=M9",
    "/workbench?callable=yes",
    "/workbench?promise_due=yes",
    "/cases/CASE-C0011/quote?total=100&instalments=6",
    "/admin/experiments/crawl-exp",
    "/admin/experiments/nope",
    "/admin/strategy?version=99",
];

async fn crawl(app: &axum::Router, login: &str, lang: &str, cap: usize) -> Vec<(String, Vec<String>)> {
    let mut c = Client::signed_in(app, login).await;
    let session = c.cookie.clone().unwrap();
    c.cookie = Some(format!("{session}; lang={}", if lang == "en" { "en" } else { "zh-CN" }));
    let zh_words = daylight_server::console::i18n::zh_words();
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = EXTRA.iter().map(|p| (*p).to_owned()).chain(["/".to_owned()]).collect();
    let mut found = Vec::new();
    while let Some(path) = queue.pop_front() {
        if seen.len() >= cap + EXTRA.len() || !seen.insert(path.clone()) {
            continue;
        }
        let (status, headers, body) = c.raw("GET", &path, None).await;
        if status.is_redirection() {
            let to = headers["location"].to_str().unwrap().to_owned();
            queue.push_front(to);
            seen.remove(&path);
            seen.insert(format!("{path} →"));
            continue;
        }
        let extra = EXTRA.contains(&path.as_str());
        assert!(
            status == StatusCode::OK || (extra && status.is_client_error()),
            "{login} {lang} {path}: {status}"
        );
        let ct = headers.get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        if !ct.starts_with("text/html") {
            continue;
        }
        let html = String::from_utf8_lossy(&body).into_owned();
        let p = problems(&visible(&html), lang, &zh_words);
        if !p.is_empty() {
            found.push((path.clone(), p));
        }
        for part in html.split("href=\"").skip(1) {
            let href = &part[..part.find('"').unwrap_or(0)];
            let href = href.replace("&amp;", "&");
            let skip = ["/logout", "/lang/", "/export/", "/static/", "/events", "/api/", "/metrics"];
            if href.starts_with('/')
                && !href.starts_with("//")
                && !skip.iter().any(|s| href.starts_with(s))
                && !href.contains('#')
            {
                queue.push_back(href);
            }
        }
    }
    assert!(seen.len() > 1, "{login}: the crawl reached pages");
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_speaks_one_language() {
    let db = daylight_testdb::TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::from(db.open().await);
    seed(&*store).await;
    let to = daylight_store::model::Assignment {
        team: Some("T1".into()),
        collector: Some("E002".into()),
        agency: None,
    };
    store
        .assign_case(&daylight_domain::id::CaseId::parse("CASE-C0003").unwrap(), &to, "test", now())
        .await
        .unwrap();
    crate::campaign::plan_today(&*store, daylight_strategy::document::DEFAULT).await;
    let app = app(store.clone(), settings(db.url().expose()));
    // A day's traces: a contact, a promise and its reminder, a waiver and a plan waiting.
    let mut e2 = Client::signed_in(&app, "E002").await;
    let (s, b) = e2
        .post(
            "/api/cases/CASE-C0011/contacts",
            json!({"contact_point": "C0011:mobile", "outcome": "no_answer"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    e2.post(
        "/api/cases/CASE-C0003/contacts",
        json!({"contact_point": "C0003:mobile", "outcome": "promise_to_pay", "note": "月底前还款"}),
    )
    .await;
    e2.post(
        "/api/cases/CASE-C0003/promises",
        json!({"amount": "1000", "date": "2026-03-03", "time": "20:00"}),
    )
    .await;
    store.sweep_promises("system", now()).await.unwrap();
    e2.post(
        "/api/cases/CASE-C0011/waivers",
        json!({"component": "late_fees", "amount": "60", "reason": "首次逾期"}),
    )
    .await;
    // A QC review upheld, its finding appealed (each step's words); an experiment's report.
    let (_, r) = e2
        .post(
            "/api/cases/CASE-C0011/contacts",
            json!({"contact_point": "C0011:mobile", "outcome": "conversation"}),
        )
        .await;
    let attempt = r["attempt"].as_i64().unwrap();
    let (s, r) = e2
        .post(&format!("/api/cases/CASE-C0011/attempts/{attempt}/transcript"), crate::qc::transcript("crawl"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let review = r["task"].as_i64().unwrap();
    let mut lead = Client::signed_in(&app, "L001").await;
    let (_, r) = lead
        .post(&format!("/api/tasks/{review}/done"), json!({"outcome": "upheld", "reason": "自称刑侦大队"}))
        .await;
    let finding = r["next"].as_i64().unwrap();
    e2.post(&format!("/api/tasks/{finding}/done"), json!({"outcome": "appealed", "reason": "客户先提到"}))
        .await;
    // A second review left open: its codes on the lead's lists.
    let (_, r) = e2
        .post(
            "/api/cases/CASE-C0003/contacts",
            json!({"contact_point": "C0003:mobile", "outcome": "conversation"}),
        )
        .await;
    let open = r["attempt"].as_i64().unwrap_or_else(|| panic!("{r}"));
    let (s, r) = e2
        .post(&format!("/api/cases/CASE-C0003/attempts/{open}/transcript"), crate::qc::transcript("crawl-2"))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (_, approvals) = lead.page("/approvals").await;
    assert!(
        approvals.contains(r#"<code class="qc-code">AGENT_IMPERSONATION</code> 冒充公检法"#),
        "the open review's codes in words: {approvals}"
    );
    let mut analyst = Client::signed_in(&app, "S1").await;
    let (s, _) = analyst
        .post("/api/experiments", json!({"name": "crawl-exp", "arms": "champion:50,challenger:50"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Every export's header in the console's language.
    for lang in ["zh-CN", "en"] {
        for login in ["L001", "A1"] {
            let mut c = Client::signed_in(&app, login).await;
            let session = c.cookie.clone().unwrap();
            c.cookie = Some(format!("{session}; lang={lang}"));
            for table in ["team-cases", "kpis", "plans", "waivers", "third-party", "tasks", "users"] {
                let (status, _, body) = c.raw("GET", &format!("/export/{table}.csv"), None).await;
                if status != StatusCode::OK {
                    continue;
                }
                let text = String::from_utf8_lossy(&body);
                let header = text.lines().next().unwrap_or("").trim_start_matches('\u{feff}').to_owned();
                let raw: Vec<&str> = header
                    .split(',')
                    .filter(|h| {
                        h.contains('_') || (lang == "zh-CN" && h.chars().all(|c| c.is_ascii_lowercase()))
                    })
                    .collect();
                assert!(raw.is_empty(), "{login} {lang} {table}.csv header {header:?}: {raw:?}");
            }
        }
    }
    let mut all = Vec::new();
    for login in ["E002", "L001", "A1", "C1", "S1", "U1", "M1"] {
        for lang in ["zh-CN", "en"] {
            for (path, p) in crawl(&app, login, lang, 40).await {
                all.push(format!("{login} {lang} {path}: {}", p.join(", ")));
            }
        }
    }
    store.close().await;
    db.finish().await;
    assert!(all.is_empty(), "{} pages with untranslated text:\n{}", all.len(), all.join("\n"));
}
