//! Strategies edited in the console: one check for every caller (the console, the API,
//! `daylight strategy save`, `daylight plan`) — the document reads, and QC passes every script
//! and robot prompt — then a new stored version; `daylight plan` without `--strategy` plans
//! under the latest.

use daylight_qc::{Analyzer, LintFinding};
use daylight_strategy::document::Strategy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::roles::Permission;
use crate::work::local_full;

/// Lints a strategy's scripts (every channel's, SMS included) and its robot flows' words (the
/// recording notice and every prompt): `(script id or flow/node, finding)`.
pub fn lint_strategy(analyzer: &Analyzer, s: &Strategy) -> Vec<(String, LintFinding)> {
    let scripts = s.scripts.iter().map(|sc| (sc.id.clone(), sc.text.as_str()));
    let flows = s.flows.iter().flat_map(|f| {
        let notice = std::iter::once((format!("flow {}/notice", f.name), f.notice.as_str()));
        notice.chain(
            f.nodes
                .iter()
                .filter_map(|n| n.say.as_deref().map(|say| (format!("flow {}/{}", f.name, n.id), say))),
        )
    });
    scripts
        .chain(flows)
        .flat_map(|(id, text)| analyzer.lint(text).into_iter().map(move |f| (id.clone(), f)))
        .collect()
}

/// One line of the document around a problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExcerptLine {
    /// Its number, from 1.
    pub line: usize,
    /// Its text.
    pub text: String,
    /// Whether the problem is on it.
    pub here: bool,
}

/// What is wrong with a strategy, where.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `STRATEGY_TOML` (not TOML, or a key the format does not have), `STRATEGY_INVALID` (a
    /// value out of range, a reference to nothing) or a QC code (`AGENT_THREAT` …) a script
    /// or prompt uses.
    pub code: String,
    /// The line and column in the document (from 1), when known.
    pub line: Option<usize>,
    /// ″
    pub column: Option<usize>,
    /// Where, in words: `LINE:COLUMN`, a field (`ladders[2].steps[0].action`), or a script.
    pub place: String,
    /// What was wrong and what was expected (a QC finding: the rule's title).
    pub message: String,
    /// The flagged words (a QC finding).
    pub text: Option<String>,
    /// The lines around it.
    pub excerpt: Vec<ExcerptLine>,
}

fn excerpt(doc: &str, line: usize) -> Vec<ExcerptLine> {
    let from = line.saturating_sub(2).max(1);
    doc.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .skip(from - 1)
        .take(line + 2 - from + 1)
        .map(|(n, l)| ExcerptLine { line: n, text: l.to_owned(), here: n == line })
        .collect()
}

/// The document line and column of `words` in the script or flow `id` (the first occurrence
/// after the place its id is written), if they can be found.
fn locate(doc: &str, id: &str, words: &str) -> Option<(usize, usize)> {
    let key = id.rsplit('/').next().unwrap_or(id);
    let start = doc.find(&format!("\"{key}\"")).unwrap_or(0);
    let at = start + doc.get(start..)?.find(words)?;
    let before = &doc[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, column))
}

/// Checks a strategy document: it reads (the first error, with its line and column or field),
/// and QC flags none of its scripts or prompts (each finding, placed in the document).
pub fn check(analyzer: &Analyzer, text: &str, origin: &str) -> Result<Strategy, Vec<Problem>> {
    let s = Strategy::from_toml(text, origin).map_err(|e| {
        let place = match e.at {
            Some((l, c)) => format!("{l}:{c}"),
            None => {
                e.place.strip_prefix(origin).unwrap_or(&e.place).trim_start_matches([':', ' ']).to_owned()
            }
        };
        vec![Problem {
            code: e.code.to_owned(),
            line: e.at.map(|a| a.0),
            column: e.at.map(|a| a.1),
            place,
            message: e.message.clone(),
            text: None,
            excerpt: e.at.map(|(l, _)| excerpt(text, l)).unwrap_or_default(),
        }]
    })?;
    let found = lint_strategy(analyzer, &s);
    if found.is_empty() {
        return Ok(s);
    }
    Err(found
        .into_iter()
        .map(|(id, f)| {
            let at = locate(text, &id, &f.text);
            Problem {
                code: f.code.clone(),
                line: at.map(|a| a.0),
                column: at.map(|a| a.1),
                place: format!("{id} {}:{}", f.line, f.column),
                message: f.title.clone(),
                text: Some(f.text.clone()),
                excerpt: at.map(|(l, _)| excerpt(text, l)).unwrap_or_default(),
            }
        })
        .collect())
}

/// A strategy to check or save.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StrategyInput {
    /// The strategy document (TOML; `daylight strategy default` prints the built-in one).
    pub text: String,
    /// Why it changes (kept with the version).
    #[serde(default)]
    pub note: Option<String>,
}

/// What a check found: nothing (with the strategy's outline), or the problems.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckReport {
    /// Whether it may be saved.
    pub ok: bool,
    /// Its name (when it reads).
    pub name: Option<String>,
    /// Scripts, ladders and robot flows (when it reads).
    pub scripts: usize,
    /// ″
    pub ladders: usize,
    /// ″
    pub flows: usize,
    /// What is wrong, in document order.
    pub problems: Vec<Problem>,
}

/// A saved version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionView {
    /// Its version, from 1.
    pub version: i64,
    /// The strategy's name.
    pub name: String,
    /// SHA-256 of its text.
    pub sha256: String,
    /// Why it was saved.
    pub note: Option<String>,
    /// Who saved it.
    pub saved_by: String,
    /// When, local.
    pub saved_at: String,
}

impl From<daylight_store::model::StrategyVersion> for VersionView {
    fn from(v: daylight_store::model::StrategyVersion) -> Self {
        VersionView {
            version: v.version,
            name: v.name,
            sha256: v.sha256,
            note: v.note,
            saved_by: v.saved_by,
            saved_at: local_full(v.saved_at),
        }
    }
}

/// The strategy a plan is made under when none is named: the latest saved, and its text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrentStrategy {
    /// The latest saved version (none: the built-in strategy is used).
    pub version: Option<VersionView>,
    /// Its text (the built-in strategy's when none is saved).
    pub text: String,
    /// Every saved version, newest first.
    pub versions: Vec<VersionView>,
}

/// Checks a strategy document (anyone who reads strategies).
pub fn check_input(app: &AppState, caller: &Caller, text: &str) -> ApiResult<CheckReport> {
    if !crate::desk::can_see_strategy(caller) {
        return Err(ApiError::forbidden("check strategies"));
    }
    Ok(match check(app.qc.get(app), text, "strategy") {
        Ok(s) => CheckReport {
            ok: true,
            name: Some(s.name.clone()),
            scripts: s.scripts.len(),
            ladders: s.ladders.len(),
            flows: s.flows.len(),
            problems: Vec::new(),
        },
        Err(problems) => CheckReport::refused(problems),
    })
}

impl CheckReport {
    /// A check that found `problems`.
    pub fn refused(problems: Vec<Problem>) -> CheckReport {
        CheckReport { ok: false, name: None, scripts: 0, ladders: 0, flows: 0, problems }
    }
}

/// Saves a strategy as the next version once it passes [`check`] (analysts and admins):
/// `Ok(Err(problems))` when the check refuses it, and nothing is saved.
pub async fn try_save(
    app: &AppState,
    caller: &Caller,
    input: &StrategyInput,
) -> ApiResult<Result<VersionView, Vec<Problem>>> {
    caller.require(Permission::ManageStrategy, "save strategies")?;
    let s = match check(app.qc.get(app), &input.text, "strategy") {
        Ok(s) => s,
        Err(problems) => return Ok(Err(problems)),
    };
    let v = app
        .store
        .save_strategy(&s.name, &input.text, input.note.as_deref(), &caller.user.login, app.now())
        .await
        .map_err(|e| match e {
            daylight_store::StoreError::Invalid(i) => ApiError::field("note", i.code.as_str(), i.message),
            e => e.into(),
        })?;
    Ok(Ok(v.into()))
}

/// Saves a strategy as the next version once it passes [`check`] (analysts and admins); a
/// refusal is `STRATEGY_TOML`, `STRATEGY_INVALID` or `QC_LINT` on `text`, naming the line.
pub async fn save(app: &AppState, caller: &Caller, input: &StrategyInput) -> ApiResult<VersionView> {
    try_save(app, caller, input).await?.map_err(|problems| {
        let first = &problems[0];
        let code = if first.code.starts_with("STRATEGY_") { first.code.as_str() } else { "QC_LINT" };
        let message = problems
            .iter()
            .map(|p| match &p.text {
                Some(t) => format!(
                    "{}: {} {} «{t}»",
                    p.line.map_or(p.place.clone(), |l| format!("line {l}")),
                    p.code,
                    p.message
                ),
                None => format!("{}: {}", p.place, p.message),
            })
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::field("text", code, message)
    })
}

/// The latest saved strategy (or the built-in one) and every version.
pub async fn current(app: &AppState, caller: &Caller) -> ApiResult<CurrentStrategy> {
    if !crate::desk::can_see_strategy(caller) {
        return Err(ApiError::forbidden("read strategies"));
    }
    let latest = app.store.strategy(None).await?;
    let versions = app.store.strategy_versions().await?.into_iter().map(VersionView::from).collect();
    Ok(match latest {
        Some((v, text)) => CurrentStrategy { version: Some(v.into()), text, versions },
        None => {
            CurrentStrategy { version: None, text: daylight_strategy::document::DEFAULT.to_owned(), versions }
        }
    })
}

/// One saved version's text.
pub async fn version_text(app: &AppState, caller: &Caller, version: i64) -> ApiResult<String> {
    if !crate::desk::can_see_strategy(caller) {
        return Err(ApiError::forbidden("read strategies"));
    }
    match app.store.strategy(Some(version)).await? {
        Some((_, text)) => Ok(text),
        None => Err(ApiError::not_found("strategy version", &version.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> Analyzer {
        Analyzer::new(daylight_qc::rules::Rules::default_rules())
    }

    #[test]
    fn the_built_in_strategy_passes() {
        let s = check(&analyzer(), daylight_strategy::document::DEFAULT, "default")
            .expect("it reads and lints clean");
        assert!(!s.scripts.is_empty());
    }

    #[test]
    fn a_toml_error_is_placed_with_its_lines() {
        let doc = daylight_strategy::document::DEFAULT.replacen("name = ", "name = = ", 1);
        let p = check(&analyzer(), &doc, "x").unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].code, "STRATEGY_TOML");
        let line = p[0].line.expect("a line");
        assert!(doc.lines().nth(line - 1).unwrap().contains("name = = "), "{p:?}");
        assert!(p[0].excerpt.iter().any(|l| l.here && l.line == line && l.text.contains("= =")));
        assert_eq!(p[0].place, format!("{line}:{}", p[0].column.unwrap()));
    }

    #[test]
    fn a_flagged_script_is_placed_on_its_words() {
        let doc = daylight_strategy::document::DEFAULT.replacen("如已还款请忽略。", "不还钱就让你坐牢。", 1);
        let id = "sms-reminder";
        let p = check(&analyzer(), &doc, "x").unwrap_err();
        let threat = p.iter().find(|p| p.code == "AGENT_THREAT").unwrap_or_else(|| panic!("{p:?}"));
        let line = threat.line.expect("placed");
        assert!(doc.lines().nth(line - 1).unwrap().contains("坐牢"), "{threat:?}");
        assert!(threat.place.starts_with(id), "{threat:?}");
    }
}
