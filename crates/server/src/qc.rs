//! QC on the server: a call's transcript submitted with its attempt, analysed, stored with what
//! it changes (debtor tags, the team lead's review); analysed calls read back; scripts linted.
//! The API and the console share these.

use std::sync::OnceLock;

use axum::http::StatusCode;
use daylight_domain::id::CaseId;
use daylight_qc::{Analysis, Analyzer, LintFinding, Transcript};
use daylight_store::StoreError;
use daylight_store::qc::{NewQcCall, QcCall, QcFinding};
use daylight_strategy::document::Strategy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::roles::Permission;
use crate::work::{local_full, yuan};

/// Most analysed calls a list shows.
pub const LIST_LIMIT: u32 = 500;

/// The analyser, compiled on first use (jieba's dictionary takes a moment to load).
#[derive(Default)]
pub struct QcEngine {
    analyzer: OnceLock<Analyzer>,
}

impl QcEngine {
    /// The analyser for the settings' rules.
    pub fn get(&self, app: &AppState) -> &Analyzer {
        self.analyzer.get_or_init(|| Analyzer::new(app.settings.qc_rules.clone()))
    }
}

/// A finding as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingView {
    /// Stable code.
    pub code: String,
    /// `info`, `minor`, `major`, `critical`.
    pub severity: String,
    /// `agent`, `debtor`, `other`.
    pub speaker: String,
    /// Turn (0-based).
    pub turn: i64,
    /// Characters `[start, end)` of the turn.
    pub span: [i64; 2],
    /// The words.
    pub text: String,
}

impl From<&QcFinding> for FindingView {
    fn from(f: &QcFinding) -> FindingView {
        FindingView {
            code: f.code.clone(),
            severity: f.severity.clone(),
            speaker: f.speaker.clone(),
            turn: f.turn,
            span: f.span,
            text: f.text.clone(),
        }
    }
}

/// What QC made of a submitted call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QcReport {
    /// The stored analysis.
    pub id: i64,
    /// The attempt.
    pub attempt: i64,
    /// The recogniser's call id.
    pub call_id: String,
    /// Rules and version.
    pub rules: String,
    /// Findings.
    pub findings: Vec<FindingView>,
    /// The promise heard: amount (fen) and deadline (RFC 3339).
    pub promise: Option<PromiseView>,
    /// Tags set on the debtor.
    pub tags: Vec<String>,
    /// The review task opened for the team lead.
    pub task: Option<i64>,
}

/// A promise QC heard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PromiseView {
    /// Fen.
    pub amount_fen: i64,
    /// Yuan, for people.
    pub amount: String,
    /// Deadline, RFC 3339.
    pub due: String,
    /// Deadline in the team's zone.
    pub due_local: String,
}

fn promise_view(p: (i64, jiff::Timestamp)) -> PromiseView {
    PromiseView { amount_fen: p.0, amount: yuan(p.0), due: p.1.to_string(), due_local: local_full(p.1) }
}

/// An analysed call as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QcCallView {
    /// The attempt.
    pub attempt: i64,
    /// The case.
    pub case: String,
    /// The recogniser's call id.
    pub call_id: String,
    /// Rules and version.
    pub rules: String,
    /// When it was analysed (local).
    pub analysed_at: String,
    /// By whom.
    pub analysed_by: String,
    /// The promise heard.
    pub promise: Option<PromiseView>,
    /// The codes found, each once, most severe first.
    pub codes: Vec<String>,
    /// The worst severity found (`none` for a clean call).
    pub worst: String,
    /// Findings.
    pub findings: Vec<FindingView>,
}

fn rank(severity: &str) -> u8 {
    match severity {
        "critical" => 4,
        "major" => 3,
        "minor" => 2,
        "info" => 1,
        _ => 0,
    }
}

/// The view of a stored analysis.
pub fn call_view(c: &QcCall) -> QcCallView {
    let mut codes: Vec<(&str, &str)> =
        c.findings.iter().map(|f| (f.code.as_str(), f.severity.as_str())).collect();
    codes.sort_by(|a, b| rank(b.1).cmp(&rank(a.1)).then(a.0.cmp(b.0)));
    codes.dedup_by(|a, b| a.0 == b.0);
    let worst = codes.first().map_or("none", |c| c.1).to_owned();
    QcCallView {
        attempt: c.attempt,
        case: c.case.as_str().to_owned(),
        call_id: c.call_id.clone(),
        rules: c.rules.clone(),
        analysed_at: local_full(c.analysed_at),
        analysed_by: c.analysed_by.clone(),
        promise: c.promise.map(promise_view),
        codes: codes.into_iter().map(|c| c.0.to_owned()).collect(),
        worst,
        findings: c.findings.iter().map(FindingView::from).collect(),
    }
}

/// Analyses a call's transcript (JSON text) and stores it with attempt `attempt` of case `id`:
/// in one transaction, the findings, the debtor tags they set and the team lead's review.
pub async fn submit(
    app: &AppState,
    caller: &Caller,
    id: &str,
    attempt: i64,
    body: &str,
) -> ApiResult<QcReport> {
    caller.require(Permission::SubmitTranscripts, "submit transcripts")?;
    let case = CaseId::parse(id).map_err(|_| ApiError::not_found("case", id))?;
    app.store.case_in_scope(&caller.scope, &case).await?;
    let t = Transcript::parse("transcript", body).map_err(|e| {
        let field = e.place.strip_prefix("transcript: ").unwrap_or(&e.place).to_owned();
        ApiError::field(&field, e.code, e.message)
    })?;
    let analysis = app.qc.get(app).analyze(&t);
    let new = stored_call(case, attempt, body, &analysis);
    let stored = app.store.record_qc(&new, &caller.user.login, app.now()).await.map_err(|e| match e {
        StoreError::Invalid(i) if i.code.as_str() == "EXISTS" => {
            ApiError::new(StatusCode::CONFLICT, "EXISTS", i.message)
        }
        StoreError::Invalid(i) => ApiError::field("attempt", i.code.as_str(), i.message),
        e => e.into(),
    })?;
    Ok(QcReport {
        id: stored.id,
        attempt,
        call_id: analysis.call_id,
        rules: analysis.rules,
        findings: new.findings.iter().map(FindingView::from).collect(),
        promise: new.promise.map(promise_view),
        tags: stored.tags,
        task: stored.task,
    })
}

/// What to store of a call's analysis: its findings, its promise, and what it changes (the
/// debtor's tags, the team lead's review).
pub fn stored_call(case: CaseId, attempt: i64, transcript: &str, analysis: &Analysis) -> NewQcCall {
    let effects = analysis.effects();
    NewQcCall {
        attempt,
        case,
        call_id: analysis.call_id.clone(),
        rules: analysis.rules.clone(),
        transcript: transcript.to_owned(),
        findings: analysis
            .findings
            .iter()
            .map(|f| QcFinding {
                code: f.code.clone(),
                severity: f.severity.as_str().to_owned(),
                speaker: f.speaker.as_str().to_owned(),
                turn: f.turn as i64,
                span: [f.span[0] as i64, f.span[1] as i64],
                text: f.text.clone(),
            })
            .collect(),
        promise: analysis.promise.as_ref().map(|p| (p.amount_fen, p.due)),
        tags: effects.tags.iter().map(|(t, n)| ((*t).to_owned(), n.clone())).collect(),
        review: effects.review,
    }
}

/// Filters of the analysed calls' list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema, utoipa::IntoParams)]
pub struct QcQuery {
    /// One case.
    pub case: Option<String>,
    /// Calls with a finding of this code.
    pub code: Option<String>,
}

/// Analysed calls within the caller's scope, newest first.
pub async fn calls(app: &AppState, caller: &Caller, q: &QcQuery) -> ApiResult<Vec<QcCallView>> {
    caller.require(Permission::ViewQc, "read QC findings")?;
    let case = match q.case.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(CaseId::parse(c).map_err(|_| ApiError::not_found("case", c))?),
        None => None,
    };
    let code = q.code.as_deref().filter(|c| !c.is_empty());
    let list = app.store.qc_calls_in(&caller.scope, case.as_ref(), code, LIST_LIMIT).await?;
    // The cases' names are read at once, to mask them in the findings' words.
    let mut cases: Vec<CaseId> = list.iter().map(|c| c.case.clone()).collect();
    cases.sort_unstable();
    cases.dedup();
    let mut names: std::collections::HashMap<CaseId, Vec<String>> = std::collections::HashMap::new();
    for (case, name) in app.store.names_of_cases(&cases).await? {
        names.entry(case).or_default().push(name);
    }
    let maskers: std::collections::HashMap<&CaseId, Masker> =
        names.iter().map(|(case, n)| (case, Masker::of_names(n))).collect();
    let plain = Masker::default();
    Ok(list.iter().map(|call| maskers.get(&call.case).unwrap_or(&plain).view(call)).collect())
}

/// Masks a transcript's personal data as every screen does: the debtor's and their contacts'
/// names (`张*`; a given name alone, starred), phone numbers (`138****5678`) and other runs of
/// six or more digits (all but the last four starred, spaces and dashes between groups kept).
/// The length in characters is kept, so findings' spans still point at their words.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    names: Vec<(String, String)>,
}

impl Masker {
    /// A masker of the names of the debtor of `case` and of their contacts.
    pub async fn of_case(app: &AppState, case: &CaseId) -> ApiResult<Masker> {
        let names: Vec<String> =
            app.store.names_of_cases(std::slice::from_ref(case)).await?.into_iter().map(|(_, n)| n).collect();
        Ok(Masker::of_names(&names))
    }

    /// A masker of `names`.
    pub fn of_names(names: &[String]) -> Masker {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for n in names.iter().map(|n| n.trim()).filter(|n| n.chars().count() >= 2) {
            pairs.push((n.to_owned(), daylight_domain::pii::mask_name(n)));
            // The given name alone (三丰 of 张三丰), when it is two characters or more.
            let given: String = n.chars().skip(1).collect();
            if given.chars().count() >= 2 && !given.contains(' ') {
                pairs.push((given.clone(), "*".repeat(given.chars().count())));
            }
        }
        // Longer names first, so that a full name is masked before its given name.
        pairs.sort_by_key(|(n, _)| std::cmp::Reverse(n.chars().count()));
        pairs.dedup();
        Masker { names: pairs }
    }

    /// `text` masked.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, masked) in &self.names {
            if out.contains(name.as_str()) {
                out = out.replace(name.as_str(), masked);
            }
        }
        mask_digits(&out)
    }

    /// The view of a stored analysis, the findings' words masked.
    pub fn view(&self, c: &QcCall) -> QcCallView {
        let mut v = call_view(c);
        for f in &mut v.findings {
            f.text = self.mask(&f.text);
        }
        v
    }
}

/// A turn as shown: long digit runs (phones, ID numbers) masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TurnView {
    /// `agent`, `debtor`, `other`.
    pub speaker: String,
    /// Seconds from the call's start, `m:ss`.
    pub at: String,
    /// The text in pieces: `(text, finding code or "")`, so a page can mark what QC found.
    pub pieces: Vec<(String, String)>,
}

/// An analysed call with its transcript.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallDetail {
    /// The analysis.
    pub call: QcCallView,
    /// The turns.
    pub turns: Vec<TurnView>,
    /// Its review, step by step: the review's outcome, the collector's finding and appeal.
    pub review: Vec<crate::desk::ReviewStep>,
}

/// Masks numbers that may identify someone: a mobile number (11 digits from 1) keeps its first
/// 3 and last 4 digits (`138****5678`); any other run of six or more digits (an ID number, a
/// card, a landline; `X` counts as a digit, and single spaces or dashes between groups join
/// them) keeps only its last 4. Amounts and dates (five digits or fewer) stay.
pub fn mask_digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let is_digit = |c: char| c.is_ascii_digit() || c == 'X' || c == 'x';
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The run: digits, and single separators between digits.
        let mut j = i;
        while j < chars.len()
            && (is_digit(chars[j])
                || (matches!(chars[j], ' ' | '-') && j + 1 < chars.len() && chars[j + 1].is_ascii_digit()))
        {
            j += 1;
        }
        let run = &chars[i..j];
        let digits = run.iter().filter(|c| is_digit(**c)).count();
        // A date (2026-03-10) is a run of groups 4, 1–2, 1–2: not a number that names anyone.
        let groups: Vec<usize> = run.split(|c| matches!(c, ' ' | '-')).map(<[char]>::len).collect();
        let date = groups.len() == 3 && groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
        if digits < 6 || date {
            out.extend(run);
        } else {
            let mobile = digits == 11 && run.len() == 11 && run[0] == '1';
            let keep_head = if mobile { 3 } else { 0 };
            let mut seen = 0;
            for &c in run {
                if is_digit(c) {
                    seen += 1;
                    out.push(if seen <= keep_head || seen > digits - 4 { c } else { '*' });
                } else {
                    out.push(c);
                }
            }
        }
        i = j;
    }
    out.into_iter().collect()
}

/// An attempt's analysis and its transcript, the findings marked in the turns: masked like
/// every screen, or — with `reveal`'s purpose, for a role that may unmask — in clear, the
/// reveal recorded in the ledger (`pii.viewed`, field `transcript:<attempt>`).
pub async fn call_detail(
    app: &AppState,
    caller: &Caller,
    attempt: i64,
    reveal: Option<&str>,
) -> ApiResult<CallDetail> {
    caller.require(Permission::ViewQc, "read QC findings")?;
    let (call, stored) = app.store.qc_transcript(&caller.scope, attempt).await?;
    let (text, masker) = match reveal {
        None => (stored, Some(Masker::of_case(app, &call.case).await?)),
        Some(purpose) => {
            caller.require(Permission::Unmask, "see personal data in clear")?;
            let d = app.store.case_detail_in(&caller.scope, &call.case).await?;
            let clear = app
                .store
                .reveal(
                    &d.case.customer,
                    &daylight_store::model::PiiField::Transcript(attempt),
                    purpose,
                    &caller.user.login,
                    app.now(),
                )
                .await?;
            (clear, None)
        }
    };
    let mask = |s: &str| masker.as_ref().map_or_else(|| s.to_owned(), |m| m.mask(s));
    let t = Transcript::parse("transcript", &text).map_err(|e| {
        tracing::error!(attempt, error = %e, "a stored transcript does not parse");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "CORRUPT", "the stored transcript could not be read")
    })?;
    let view = masker.as_ref().map_or_else(|| call_view(&call), |m| m.view(&call));
    let turns = t
        .turns
        .iter()
        .enumerate()
        .map(|(i, turn)| {
            let chars: Vec<char> = mask(&turn.text).chars().collect();
            let mut marks: Vec<(usize, usize, &str)> = view
                .findings
                .iter()
                .filter(|f| f.turn == i as i64 && f.span[1] > f.span[0])
                .map(|f| (f.span[0] as usize, (f.span[1] as usize).min(chars.len()), f.code.as_str()))
                .collect();
            marks.sort_unstable();
            let mut pieces = Vec::new();
            let mut at = 0;
            for (s, e, code) in marks {
                if s < at || s >= chars.len() {
                    continue;
                }
                if s > at {
                    pieces.push((chars[at..s].iter().collect::<String>(), String::new()));
                }
                pieces.push((chars[s..e].iter().collect::<String>(), code.to_owned()));
                at = e;
            }
            if at < chars.len() {
                pieces.push((chars[at..].iter().collect::<String>(), String::new()));
            }
            let secs = turn.start_ms / 1000;
            TurnView {
                speaker: turn.speaker.as_str().to_owned(),
                at: format!("{}:{:02}", secs / 60, secs % 60),
                pieces,
            }
        })
        .collect();
    let review = crate::desk::review_steps(app, caller, attempt).await?;
    Ok(CallDetail { call: view, turns, review })
}

/// Today's suggestion after what QC heard on today's calls: hardship pauses a pressure script for
/// the strategy's negotiation (or soothing) script on the same channel; anxiety picks its
/// soothing script; abuse is noted (the next plan changes the channel mix). Each change adds a
/// reason with its code.
pub fn adjust_suggestion(s: &mut crate::work::Suggestion, strategy: Option<&Strategy>, heard: &[&str]) {
    use daylight_strategy::document::Tone;
    let has = |code: &str| heard.contains(&code);
    let tone_of = |id: &Option<String>| {
        id.as_deref().and_then(|i| strategy.and_then(|st| st.script(i))).map(|sc| sc.tone)
    };
    let on_channel = |tone: Tone| {
        strategy.and_then(|st| {
            st.scripts
                .iter()
                .find(|sc| sc.tone == tone && sc.channels.contains(&s.channel))
                .map(|sc| sc.id.clone())
        })
    };
    if has("DEBTOR_HARDSHIP") {
        let pressure = tone_of(&s.script).is_none_or(Tone::is_pressure);
        if pressure || s.script.is_none() {
            let pick = on_channel(Tone::Negotiation).or_else(|| on_channel(Tone::Soothing));
            s.reasons.push(match &pick {
                Some(id) => format!("QC_HARDSHIP: hardship heard on today's call; pressure paused, negotiation script {id}"),
                None => "QC_HARDSHIP: hardship heard on today's call; pressure paused, no negotiation script on this channel".to_owned(),
            });
            s.script = pick;
        } else {
            s.reasons.push(
                "QC_HARDSHIP: hardship heard on today's call; the planned script is not a pressure script"
                    .to_owned(),
            );
        }
    }
    if has("DEBTOR_ANXIOUS")
        && tone_of(&s.script) != Some(Tone::Soothing)
        && let Some(id) = on_channel(Tone::Soothing)
    {
        s.reasons.push(format!("QC_ANXIOUS: the debtor was anxious on today's call; soothing script {id}"));
        s.script = Some(id);
    }
    if has("DEBTOR_ABUSIVE") {
        s.reasons.push("QC_ABUSIVE: abuse heard on today's call; the debtor is tagged and the next plan changes the channel mix".to_owned());
    }
}

/// A script or template to lint.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LintInput {
    /// The text (one template per line).
    pub text: String,
}

/// A lint finding as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LintView {
    /// Stable code.
    pub code: String,
    /// Severity.
    pub severity: String,
    /// The rule's title.
    pub title: String,
    /// Line (1-based).
    pub line: usize,
    /// Column (1-based, characters).
    pub column: usize,
    /// The words.
    pub text: String,
}

impl From<LintFinding> for LintView {
    fn from(f: LintFinding) -> LintView {
        LintView {
            code: f.code,
            severity: f.severity.as_str().to_owned(),
            title: f.title,
            line: f.line,
            column: f.column,
            text: f.text,
        }
    }
}

/// Lints a script or template with the rules in force.
pub fn lint(app: &AppState, text: &str) -> Vec<LintView> {
    app.qc.get(app).lint(text).into_iter().map(LintView::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::Suggestion;

    fn suggestion(script: &str) -> Suggestion {
        Suggestion {
            channel: daylight_strategy::document::Move::Contact(daylight_domain::attempt::Channel::Call),
            recipient: daylight_domain::customer::Recipient::Debtor,
            contact_point: None,
            script: Some(script.into()),
            window: "09:00–12:00".into(),
            arm: "champion".into(),
            reasons: Vec::new(),
            script_text: None,
            flags: Vec::new(),
        }
    }

    #[test]
    fn todays_qc_changes_todays_suggestion() {
        let s = Strategy::from_toml(daylight_strategy::document::DEFAULT, "default").unwrap();
        let mut firm = suggestion("call-firm");
        adjust_suggestion(&mut firm, Some(&s), &["DEBTOR_HARDSHIP"]);
        assert_eq!(firm.script.as_deref(), Some("call-negotiation"));
        assert!(firm.reasons[0].starts_with("QC_HARDSHIP"));
        let mut reminder = suggestion("call-reminder");
        adjust_suggestion(&mut reminder, Some(&s), &["DEBTOR_ANXIOUS", "DEBTOR_ABUSIVE"]);
        assert_eq!(reminder.script.as_deref(), Some("call-soothing"));
        assert!(reminder.reasons.iter().any(|r| r.starts_with("QC_ABUSIVE")));
        let mut calm = suggestion("call-reminder");
        adjust_suggestion(&mut calm, Some(&s), &["DEBTOR_INTENT_TO_PAY"]);
        assert_eq!((calm.script.as_deref(), calm.reasons.len()), (Some("call-reminder"), 0));
    }

    #[test]
    fn long_digit_runs_are_masked() {
        assert_eq!(
            mask_digits("电话13812345678，身份证110105199001011234"),
            "电话138****5678，身份证**************1234"
        );
        assert_eq!(mask_digits("身份证 1101 0519 9001 01123X 对吗"), "身份证 **** **** **** **123X 对吗");
        assert_eq!(mask_digits("还2000元，2026-03-10前"), "还2000元，2026-03-10前");
    }

    #[test]
    fn names_are_masked_keeping_the_length() {
        let m = Masker::of_names(&["张三丰".to_owned(), "李四".to_owned()]);
        let text = "张三丰先生，三丰，您的联系人李四说13812345678是您的号码";
        let masked = m.mask(text);
        assert_eq!(masked, "张**先生，**，您的联系人李*说138****5678是您的号码");
        assert_eq!(masked.chars().count(), text.chars().count(), "spans still point at their words");
    }
}
