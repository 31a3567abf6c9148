//! The API's routes for what waits on a team lead (waivers, third-party contacts), complaints,
//! tasks and the team's figures. Merged into [`crate::api::routes`].

use crate::extract::Json;
use crate::extract::{Path, Query};
use axum::extract::State;
use axum::http::StatusCode;
use daylight_domain::bounds::WaiverVerdict;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::Decision;
use crate::auth::Caller;
use crate::calls;
use crate::desk::{
    self, ComplaintInput, ExperimentInput, ExperimentView, NumberInput, PackInput, PackView, PendingNumber,
    PendingThirdParty, PendingWaiver, TaskDone, TaskView, ThirdPartyInput, WaiverInput,
};
use crate::error::{ApiResult, ErrorBody};
use crate::kpi::{self, KpiQuery, KpiReport};
use crate::qc::{self, CallDetail, LintInput, LintView, QcCallView, QcQuery, QcReport};

/// These routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_waiver))
        .routes(routes!(pending_waivers))
        .routes(routes!(decide_waiver))
        .routes(routes!(request_third_party))
        .routes(routes!(pending_third_party))
        .routes(routes!(decide_third_party))
        .routes(routes!(propose_number))
        .routes(routes!(pending_numbers))
        .routes(routes!(decide_number))
        .routes(routes!(register_complaint))
        .routes(routes!(my_tasks))
        .routes(routes!(finish_task))
        .routes(routes!(kpis))
        .routes(routes!(create_experiment))
        .routes(routes!(experiment_report))
        .routes(routes!(current_strategy, save_strategy))
        .routes(routes!(check_strategy))
        .routes(routes!(get_policy, put_policy))
        .routes(routes!(submit_transcript))
        .routes(routes!(qc_calls))
        .routes(routes!(qc_call))
        .routes(routes!(qc_call_reveal))
        .routes(routes!(qc_lint))
        .routes(routes!(qc_rules))
        .routes(routes!(dial))
        .routes(routes!(get_call))
        .routes(routes!(hangup_call))
        .routes(routes!(robot_call))
        .routes(routes!(start_campaign, list_campaigns))
        .routes(routes!(get_campaign))
        .routes(routes!(campaign_hopper))
        .routes(routes!(campaign_status))
        .routes(routes!(campaign_next))
        .routes(routes!(supervise_call))
        .routes(routes!(case_calls_in))
        .routes(routes!(wrap_up_call))
        .routes(routes!(my_state, set_my_state))
        .routes(routes!(floor_board))
        .routes(routes!(case_recordings))
        .routes(routes!(recording_audio))
        .routes(routes!(recordings_export))
}

/// Click to dial (一键外呼): the gate judges a call now to one of the case's phones. Refused:
/// nothing is dialled, `allowed` is false with the rules and the next allowed minute. Allowed:
/// the switch rings the caller's phone, then the debtor (202); follow it at `/api/calls/{call}`.
#[utoipa::path(post, path = "/api/cases/{id}/calls", tag = "calls", request_body = calls::DialInput,
    params(("id" = String, Path)),
    responses((status = 202, body = calls::DialView), (status = 200, body = calls::DialView, description = "refused by the gate"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn dial(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<calls::DialInput>,
) -> ApiResult<(StatusCode, Json<calls::DialView>)> {
    let v = calls::dial(&app, &c, &id, &input).await?;
    Ok((if v.allowed { StatusCode::ACCEPTED } else { StatusCode::OK }, Json(v)))
}

/// A robot call (外呼机器人): the gate judges a robot call now to one of the case's phones.
/// Refused: nothing is dialled. Allowed: the robot dials the debtor and follows the flow of the
/// strategy in force (202); follow it at `/api/calls/{call}` (docs/dialer.md).
#[utoipa::path(post, path = "/api/cases/{id}/robot-calls", tag = "calls", request_body = crate::robot::RobotInput,
    params(("id" = String, Path)),
    responses((status = 202, body = calls::DialView), (status = 200, body = calls::DialView, description = "refused by the gate"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn robot_call(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(input): Json<crate::robot::RobotInput>,
) -> ApiResult<(StatusCode, Json<calls::DialView>)> {
    let v = crate::robot::robot_call(&app, &c, &id, &input).await?;
    Ok((if v.allowed { StatusCode::ACCEPTED } else { StatusCode::OK }, Json(v)))
}

/// Starts a campaign (外呼任务) on today's plan for a team: `preview`, `progressive`,
/// `predictive` (paced by `pacer`) or `robot` (following `flow` on `lines` lines). Every dial
/// passes the gate's start (docs/dialer.md).
#[utoipa::path(post, path = "/api/campaigns", tag = "calls", request_body = crate::campaign::CampaignInput,
    responses((status = 201, body = crate::campaign::CampaignView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn start_campaign(
    State(app): State<AppState>,
    c: Caller,
    Json(input): Json<crate::campaign::CampaignInput>,
) -> ApiResult<(StatusCode, Json<crate::campaign::CampaignView>)> {
    Ok((StatusCode::CREATED, Json(crate::campaign::start(&app, &c, &input).await?)))
}

/// The campaigns on this server the caller may watch, newest first: hopper, dial level,
/// abandonment over the pack's window, the team's collectors by state.
#[utoipa::path(get, path = "/api/campaigns", tag = "calls",
    responses((status = 200, body = Vec<crate::campaign::CampaignView>), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn list_campaigns(
    State(app): State<AppState>,
    c: Caller,
) -> ApiResult<Json<Vec<crate::campaign::CampaignView>>> {
    Ok(Json(crate::campaign::list(&app, &c).await?))
}

/// One campaign.
#[utoipa::path(get, path = "/api/campaigns/{id}", tag = "calls", params(("id" = i64, Path)),
    responses((status = 200, body = crate::campaign::CampaignView), (status = 404, body = ErrorBody)), security(("session" = [])))]
async fn get_campaign(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<crate::campaign::CampaignView>> {
    Ok(Json(crate::campaign::get(&app, &c, id).await?))
}

/// The contacts in a campaign's hopper, next first: each allowed by the gate when last checked
/// (at most 5 s ago).
#[utoipa::path(get, path = "/api/campaigns/{id}/hopper", tag = "calls", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<crate::campaign::HopperView>), (status = 404, body = ErrorBody)), security(("session" = [])))]
async fn campaign_hopper(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<crate::campaign::HopperView>>> {
    Ok(Json(crate::campaign::hopper(&app, &c, id).await?))
}

/// A campaign's new status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusInput {
    /// `running`, `paused` or `stopped`.
    status: String,
}

/// Pauses, resumes or stops a campaign; calls in flight go on.
#[utoipa::path(post, path = "/api/campaigns/{id}/status", tag = "calls", params(("id" = i64, Path)), request_body = StatusInput,
    responses((status = 200, body = crate::campaign::CampaignView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn campaign_status(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Json(input): Json<StatusInput>,
) -> ApiResult<Json<crate::campaign::CampaignView>> {
    Ok(Json(crate::campaign::set_status(&app, &c, id, &input.status).await?))
}

/// A preview campaign's next contact for the calling collector (none: 204); they dial it from
/// the case.
#[utoipa::path(post, path = "/api/campaigns/{id}/next", tag = "calls", params(("id" = i64, Path)),
    responses((status = 200, body = crate::campaign::PreviewView), (status = 204), (status = 409, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn campaign_next(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    Ok(match crate::campaign::next(&app, &c, id).await? {
        Some(v) => Json(v).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// A call placed from this server: where it is, and at its end the attempt and outcome.
#[utoipa::path(get, path = "/api/calls/{call}", tag = "calls", params(("call" = i64, Path)),
    responses((status = 200, body = calls::CallView), (status = 404, body = ErrorBody)), security(("session" = [])))]
async fn get_call(
    State(app): State<AppState>,
    c: Caller,
    Path(call): Path<i64>,
) -> ApiResult<Json<calls::CallView>> {
    Ok(Json(calls::call(&app, &c, call).await?))
}

/// Hangs up a live call: its collector, or a supervisor (强制挂断, a `call.supervised` event).
#[utoipa::path(post, path = "/api/calls/{call}/hangup", tag = "calls", params(("call" = i64, Path)),
    responses((status = 200, body = calls::CallView), (status = 404, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn hangup_call(
    State(app): State<AppState>,
    c: Caller,
    Path(call): Path<i64>,
) -> ApiResult<Json<calls::CallView>> {
    Ok(Json(calls::hangup(&app, &c, call).await?))
}

/// 三方监听: a supervisor (`SuperviseCalls`: team leads, admins; the case within scope) joins a
/// collector's live call on their own phone to `listen`, `whisper` (only the collector hears
/// them) or `barge` (everyone hears everyone), changes how, or leaves (`end`). Each request is
/// a `call.supervised` ledger event.
#[utoipa::path(post, path = "/api/calls/{call}/supervise", tag = "calls", params(("call" = i64, Path)), request_body = calls::SuperviseInput,
    responses((status = 200, body = calls::CallView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn supervise_call(
    State(app): State<AppState>,
    c: Caller,
    Path(call): Path<i64>,
    Json(input): Json<calls::SuperviseInput>,
) -> ApiResult<Json<calls::CallView>> {
    Ok(Json(calls::supervise(&app, &c, call, &input).await?))
}

/// The calls in (回拨) matched to the case by the caller's number: who answered, the outcome,
/// talk time and the recording's hash. They are not contact attempts.
#[utoipa::path(get, path = "/api/cases/{id}/calls-in", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = Vec<calls::InboundView>), (status = 404, body = ErrorBody)), security(("session" = [])))]
async fn case_calls_in(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<calls::InboundView>>> {
    Ok(Json(calls::calls_in(&app, &c, &id).await?))
}

/// The case's call recordings (with the permission to listen).
#[utoipa::path(get, path = "/api/cases/{id}/recordings", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = Vec<calls::RecordingView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = [])))]
async fn case_recordings(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<calls::RecordingView>>> {
    Ok(Json(calls::recordings(&app, &c, &id).await?))
}

/// How a recording is fetched.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct AudioQuery {
    /// `listen` (default) or `download`.
    #[param(value_type = Option<String>)]
    how: Option<calls::Access>,
}

/// A recording's audio (two-channel WAV: left the collector, right the debtor). Listening and
/// downloading each need their permission and each is a `recording.accessed` ledger event.
#[utoipa::path(get, path = "/api/recordings/{id}/audio", tag = "calls", params(("id" = i64, Path), AudioQuery),
    responses((status = 200, content_type = "audio/wav"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(("session" = [])))]
async fn recording_audio(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<AudioQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let how = q.how.unwrap_or(calls::Access::Listen);
    let wav = calls::audio(&app, &c, id, how).await?;
    let disposition = match how {
        calls::Access::Listen => format!("inline; filename=\"recording-{id}.wav\""),
        calls::Access::Download => format!("attachment; filename=\"recording-{id}.wav\""),
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "audio/wav".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        wav,
    )
        .into_response())
}

/// The wrap-up (小结) of a bridged call: its collector refines `conversation` to what was said,
/// within 30 minutes of its end, once, with an optional note.
#[utoipa::path(post, path = "/api/calls/{call}/wrap-up", tag = "calls", params(("call" = i64, Path)), request_body = calls::WrapUpInput,
    responses((status = 200, body = calls::CallView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn wrap_up_call(
    State(app): State<AppState>,
    c: Caller,
    Path(call): Path<i64>,
    Json(input): Json<calls::WrapUpInput>,
) -> ApiResult<Json<calls::CallView>> {
    Ok(Json(calls::wrap_up(&app, &c, call, &input).await?))
}

/// The caller's state on the floor (坐席状态) and today's calls.
#[utoipa::path(get, path = "/api/me/state", tag = "calls",
    responses((status = 200, body = crate::agents::AgentView), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn my_state(State(app): State<AppState>, c: Caller) -> ApiResult<Json<crate::agents::AgentView>> {
    Ok(Json(crate::agents::mine(&app, &c).await?))
}

/// Sets the caller's state: `ready` (示闲), `paused` with a reason (示忙), or `offline`; never in
/// the middle of a call (`TRANSITION`). Calls set ringing, talking and wrap-up.
#[utoipa::path(post, path = "/api/me/state", tag = "calls", request_body = crate::agents::StateInput,
    responses((status = 200, body = crate::agents::AgentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn set_my_state(
    State(app): State<AppState>,
    c: Caller,
    Json(input): Json<crate::agents::StateInput>,
) -> ApiResult<Json<crate::agents::AgentView>> {
    Ok(Json(crate::agents::set_mine(&app, &c, &input).await?))
}

/// Which team's board.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct BoardQuery {
    /// The team (a team lead's own by default; an admin names one).
    team: Option<String>,
}

/// The team's live board: each collector's state, time in state, calls and talk time today.
#[utoipa::path(get, path = "/api/board", tag = "calls", params(BoardQuery),
    responses((status = 200, body = Vec<crate::agents::AgentView>), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn floor_board(
    State(app): State<AppState>,
    c: Caller,
    Query(q): Query<BoardQuery>,
) -> ApiResult<Json<Vec<crate::agents::AgentView>>> {
    Ok(Json(crate::agents::board(&app, &c, q.team.as_deref()).await?))
}

/// Cases to export.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ExportInput {
    /// Case ids, at most 500.
    cases: Vec<String>,
}

/// Batch export (录音和催记批量导出): the cases' contact records and notes as CSV and their
/// recordings as stored (age ciphertext), in one ZIP with `manifest.json` (every file's SHA-256,
/// each recording's hash as in the ledger, the ledger's head). Needs `DownloadRecordings`; every
/// case must be within the caller's scope. Each recording exported is a `recording.accessed`
/// event with `how` = `export`.
#[utoipa::path(post, path = "/api/recordings/export", tag = "calls", request_body = ExportInput,
    responses((status = 200, content_type = "application/zip"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn recordings_export(
    State(app): State<AppState>,
    c: Caller,
    Json(input): Json<ExportInput>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let zip = calls::export(&app, &c, &input.cases).await?;
    let name = format!("daylight-export-{}.zip", app.now().strftime("%Y%m%dT%H%M%SZ"));
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/zip".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        zip,
    )
        .into_response())
}

/// Submits a call's transcript (JSON, as the speech recogniser printed it) for QC. It is analysed
/// and stored with the attempt, in one transaction with what it changes: hardship, abuse and
/// anxiety tag the debtor (tomorrow's plan and today's suggestion follow), an agent's breach, a
/// dispute or a cease request opens the team lead's review. A bad transcript is refused naming
/// the field (`turns[3].speaker`).
#[utoipa::path(post, path = "/api/cases/{id}/attempts/{attempt}/transcript", tag = "qc", request_body(content = String, content_type = "application/json"),
    params(("id" = String, Path), ("attempt" = i64, Path)),
    responses((status = 201, body = QcReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn submit_transcript(
    State(app): State<AppState>,
    c: Caller,
    Path((id, attempt)): Path<(String, i64)>,
    body: String,
) -> ApiResult<(StatusCode, Json<QcReport>)> {
    Ok((StatusCode::CREATED, Json(qc::submit(&app, &c, &id, attempt, &body).await?)))
}

/// Analysed calls within the caller's scope, newest first (of one case, or with one code).
#[utoipa::path(get, path = "/api/qc/calls", tag = "qc", params(QcQuery),
    responses((status = 200, body = Vec<QcCallView>), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn qc_calls(
    State(app): State<AppState>,
    c: Caller,
    Query(q): Query<QcQuery>,
) -> ApiResult<Json<Vec<QcCallView>>> {
    Ok(Json(qc::calls(&app, &c, &q).await?))
}

/// One analysed call: its findings and its transcript, masked like every screen (names,
/// phone and ID numbers).
#[utoipa::path(get, path = "/api/qc/calls/{attempt}", tag = "qc", params(("attempt" = i64, Path)),
    responses((status = 200, body = CallDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = [])))]
async fn qc_call(
    State(app): State<AppState>,
    c: Caller,
    Path(attempt): Path<i64>,
) -> ApiResult<Json<CallDetail>> {
    Ok(Json(qc::call_detail(&app, &c, attempt, None).await?))
}

/// Why a transcript is shown in clear (kept in the ledger).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealPurpose {
    /// Why (kept in the ledger).
    pub purpose: String,
}

/// One analysed call in clear: the unmask permission, and a ledger event (`pii.viewed`,
/// `transcript:<attempt>`) naming who, when and why.
#[utoipa::path(post, path = "/api/qc/calls/{attempt}/reveal", tag = "qc", params(("attempt" = i64, Path)), request_body = RevealPurpose,
    responses((status = 200, body = CallDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn qc_call_reveal(
    State(app): State<AppState>,
    c: Caller,
    Path(attempt): Path<i64>,
    Json(req): Json<RevealPurpose>,
) -> ApiResult<Json<CallDetail>> {
    Ok(Json(qc::call_detail(&app, &c, attempt, Some(&req.purpose)).await?))
}

/// Lints a script or SMS template (one per line) with the QC rules in force.
#[utoipa::path(post, path = "/api/qc/lint", tag = "qc", request_body = LintInput,
    responses((status = 200, body = Vec<LintView>)), security(("session" = []), ("csrf" = [])))]
async fn qc_lint(
    State(app): State<AppState>,
    c: Caller,
    Json(input): Json<LintInput>,
) -> ApiResult<Json<Vec<LintView>>> {
    c.require(crate::roles::Permission::ViewCases, "lint scripts")?;
    Ok(Json(qc::lint(&app, &input.text)))
}

/// The QC rules in force: name, version and codes.
#[utoipa::path(get, path = "/api/qc/rules", tag = "qc",
    responses((status = 200, body = Object)), security(("session" = [])))]
async fn qc_rules(State(app): State<AppState>, c: Caller) -> ApiResult<Json<serde_json::Value>> {
    c.require(crate::roles::Permission::ViewCases, "read the QC rules")?;
    let r = &app.settings.qc_rules;
    Ok(Json(serde_json::json!({"name": r.name, "version": r.version, "codes": r.codes()})))
}

/// A new record's id.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    /// The id.
    pub id: i64,
}

/// Requests a waiver of part of an account's overdue amount; it waits for a team lead.
#[utoipa::path(post, path = "/api/cases/{id}/waivers", tag = "desk", request_body = WaiverInput, params(("id" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn request_waiver(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(w): Json<WaiverInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = desk::request_waiver(&app, &c, &id, &w).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Waivers waiting for the caller's approval (team leads: the team's).
#[utoipa::path(get, path = "/api/waivers/pending", tag = "desk",
    responses((status = 200, body = Vec<PendingWaiver>), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn pending_waivers(State(app): State<AppState>, c: Caller) -> ApiResult<Json<Vec<PendingWaiver>>> {
    Ok(Json(desk::pending_waivers(&app, &c).await?))
}

/// Approves or rejects a waiting waiver (not one the caller asked for: `SELF_APPROVAL`).
#[utoipa::path(post, path = "/api/waivers/{id}/decision", tag = "desk", request_body = Decision, params(("id" = i64, Path)),
    responses((status = 200, body = WaiverDecided), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "the waiver no longer fits the account (AMOUNT_RANGE), is beyond the approver's authority (WAIVER_AUTHORITY), or is the approver's own (SELF_APPROVAL)", body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn decide_waiver(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Json(d): Json<Decision>,
) -> ApiResult<Json<WaiverDecided>> {
    let verdict = desk::decide_waiver(&app, &c, id, d.approve, d.reason.as_deref()).await?;
    let status = match (d.approve, verdict) {
        (false, _) => "rejected",
        (true, WaiverVerdict::Approved) => "approved",
        (true, WaiverVerdict::NeedsSecond) => "awaiting_second_approval",
    };
    Ok(Json(WaiverDecided { status }))
}

/// Where a waiver stands after a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaiverDecided {
    /// `approved`, `rejected`, or `awaiting_second_approval` (above the money policy's
    /// threshold, one approval given).
    pub status: &'static str,
}

/// Asks a team lead to confirm a contact to a third party (an emergency contact, a relative).
/// The gate allows such a call only with a confirmation, for a day, and under the pack's rule.
#[utoipa::path(post, path = "/api/cases/{id}/third-party", tag = "desk", request_body = ThirdPartyInput, params(("id" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn request_third_party(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(r): Json<ThirdPartyInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = desk::request_third_party(&app, &c, &id, &r).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Third-party contacts waiting for the caller's confirmation.
#[utoipa::path(get, path = "/api/third-party/pending", tag = "desk",
    responses((status = 200, body = Vec<PendingThirdParty>), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn pending_third_party(
    State(app): State<AppState>,
    c: Caller,
) -> ApiResult<Json<Vec<PendingThirdParty>>> {
    Ok(Json(desk::pending_third_party(&app, &c).await?))
}

/// Confirms or refuses a third-party contact (not one the caller asked for).
#[utoipa::path(post, path = "/api/third-party/{id}/decision", tag = "desk", request_body = Decision, params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn decide_third_party(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Json(d): Json<Decision>,
) -> ApiResult<StatusCode> {
    desk::decide_third_party(&app, &c, id, d.approve, d.reason.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Proposes a new number for a case's debtor or a related person, or a correction of one of
/// its phone points; a team lead confirms it (`PHONE_FORMAT`, `EXISTS` name the field).
#[utoipa::path(post, path = "/api/cases/{id}/numbers", tag = "desk", request_body = NumberInput, params(("id" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn propose_number(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(n): Json<NumberInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = desk::propose_number(&app, &c, &id, &n).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Numbers waiting for the caller's confirmation (masked).
#[utoipa::path(get, path = "/api/numbers/pending", tag = "desk",
    responses((status = 200, body = Vec<PendingNumber>), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn pending_numbers(State(app): State<AppState>, c: Caller) -> ApiResult<Json<Vec<PendingNumber>>> {
    Ok(Json(desk::pending_numbers(&app, &c).await?))
}

/// Confirms or refuses a proposed number (not one the caller proposed); a confirmation adds
/// or corrects the contact point and returns it.
#[utoipa::path(post, path = "/api/numbers/{id}/decision", tag = "desk", request_body = Decision, params(("id" = i64, Path)),
    responses((status = 200, body = NumberDecided), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn decide_number(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Json(d): Json<Decision>,
) -> ApiResult<Json<NumberDecided>> {
    let contact_point = desk::decide_number(&app, &c, id, d.approve, d.reason.as_deref()).await?;
    Ok(Json(NumberDecided { contact_point }))
}

/// What a number's confirmation made.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberDecided {
    /// The contact point added or corrected (none when refused).
    pub contact_point: Option<String>,
}

/// Registers a complaint against a case (and one of its contact attempts).
#[utoipa::path(post, path = "/api/cases/{id}/complaints", tag = "desk", request_body = ComplaintInput, params(("id" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn register_complaint(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    Json(k): Json<ComplaintInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = desk::register_complaint(&app, &c, &id, &k).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// The caller's open tasks: a collector's promise reminders, a team lead's broken promises.
#[utoipa::path(get, path = "/api/tasks", tag = "desk",
    responses((status = 200, body = Vec<TaskView>)), security(("session" = [])))]
async fn my_tasks(State(app): State<AppState>, c: Caller) -> ApiResult<Json<Vec<TaskView>>> {
    Ok(Json(desk::my_tasks(&app, &c).await?))
}

/// Closes one of the caller's open tasks: a QC review as `upheld` (with a reason: the collector
/// gets the finding) or `dismissed`; a finding as `accepted` or `appealed` (with a reason:
/// compliance decides); an appeal as `granted` or `refused` (with a reason). Answers the task
/// opened next, if any.
#[utoipa::path(post, path = "/api/tasks/{id}/done", tag = "desk", params(("id" = i64, Path)), request_body = TaskDone,
    responses((status = 200, body = TaskClosed), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn finish_task(
    State(app): State<AppState>,
    c: Caller,
    Path(id): Path<i64>,
    Json(done): Json<TaskDone>,
) -> ApiResult<Json<TaskClosed>> {
    let next = desk::finish_task(&app, &c, id, &done).await?;
    Ok(Json(TaskClosed { next }))
}

/// A closed task's follow-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskClosed {
    /// The task it opened (a finding for the collector, an appeal for compliance), if any.
    pub next: Option<i64>,
}

/// The team's figures over a period, by collector, team, bucket or agency, with the trend.
#[utoipa::path(get, path = "/api/kpis", tag = "kpis", params(KpiQuery),
    responses((status = 200, body = KpiReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = [])))]
async fn kpis(
    State(app): State<AppState>,
    c: Caller,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<KpiReport>> {
    Ok(Json(kpi::report(&app, &c, &q).await?))
}

/// Creates an experiment (analysts and admins); `daylight plan --experiment NAME` follows it.
#[utoipa::path(post, path = "/api/experiments", tag = "kpis", request_body = ExperimentInput,
    responses((status = 201, body = ExperimentView), (status = 403, body = ErrorBody), (status = 422, description = "a bad name or arms, or the name is taken (EXISTS)", body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn create_experiment(
    State(app): State<AppState>,
    c: Caller,
    Json(e): Json<ExperimentInput>,
) -> ApiResult<(StatusCode, Json<ExperimentView>)> {
    Ok((StatusCode::CREATED, Json(desk::create_experiment(&app, &c, &e).await?)))
}

/// The strategy `daylight plan` uses when none is named: the latest saved (or the built-in
/// one), with every saved version.
#[utoipa::path(get, path = "/api/strategy", tag = "kpis",
    responses((status = 200, body = crate::strategy::CurrentStrategy), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn current_strategy(
    State(app): State<AppState>,
    c: Caller,
) -> ApiResult<Json<crate::strategy::CurrentStrategy>> {
    Ok(Json(crate::strategy::current(&app, &c).await?))
}

/// Checks a strategy document: that it reads (the first error with its line and column, or
/// its field) and that QC flags none of its scripts or prompts (each finding placed in it).
#[utoipa::path(post, path = "/api/strategy/check", tag = "kpis", request_body = crate::strategy::StrategyInput,
    responses((status = 200, body = crate::strategy::CheckReport), (status = 403, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn check_strategy(
    State(app): State<AppState>,
    c: Caller,
    Json(s): Json<crate::strategy::StrategyInput>,
) -> ApiResult<Json<crate::strategy::CheckReport>> {
    Ok(Json(crate::strategy::check_input(&app, &c, &s.text)?))
}

/// Saves a strategy as the next version (analysts and admins) once it passes the check;
/// `daylight plan` without `--strategy` plans under it. A `strategy.saved` ledger event.
#[utoipa::path(post, path = "/api/strategy", tag = "kpis", request_body = crate::strategy::StrategyInput,
    responses((status = 201, body = crate::strategy::VersionView), (status = 403, body = ErrorBody),
        (status = 422, description = "STRATEGY_TOML, STRATEGY_INVALID or QC_LINT on `text`, naming the line", body = ErrorBody)),
    security(("session" = []), ("csrf" = [])))]
async fn save_strategy(
    State(app): State<AppState>,
    c: Caller,
    Json(s): Json<crate::strategy::StrategyInput>,
) -> ApiResult<(StatusCode, Json<crate::strategy::VersionView>)> {
    Ok((StatusCode::CREATED, Json(crate::strategy::save(&app, &c, &s).await?)))
}

/// An experiment's report window.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportWindow {
    /// Start (RFC 3339; default: the experiment's creation).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<jiff::Timestamp>,
    /// End (RFC 3339; default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<jiff::Timestamp>,
}

/// An experiment's report: per arm the T+1 contact, right-party-contact, PTP and kept rates
/// (Wilson 95 % intervals), recovered and cost per customer in yuan (95 % intervals), p-values
/// against the first arm, and the sample-size check. Every customer counts in their arm.
#[utoipa::path(get, path = "/api/experiments/{name}/report", tag = "kpis", params(("name" = String, Path), ReportWindow),
    responses((status = 200, description = "the report (`daylight experiment report NAME --json`)", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("session" = [])))]
async fn experiment_report(
    State(app): State<AppState>,
    c: Caller,
    Path(name): Path<String>,
    Query(w): Query<ReportWindow>,
) -> ApiResult<Json<daylight_strategy::report::Report>> {
    Ok(Json(desk::experiment_report(&app, &c, &name, w.from, w.until).await?.1))
}

/// The compliance pack in force (admins, compliance officers).
#[utoipa::path(get, path = "/api/policy", tag = "kpis",
    responses((status = 200, body = PackView), (status = 403, body = ErrorBody)), security(("session" = [])))]
async fn get_policy(State(app): State<AppState>, c: Caller) -> ApiResult<Json<PackView>> {
    Ok(Json(desk::policy(&app, &c).await?))
}

/// Puts a compliance pack in force: `{"shipped": "cn-default"}` or `{"source": "<TOML>"}`; a
/// `config.changed` ledger event. A bad text is refused with its line and column.
#[utoipa::path(put, path = "/api/policy", tag = "kpis", request_body = PackInput,
    responses((status = 200, body = PackView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)), security(("session" = []), ("csrf" = [])))]
async fn put_policy(
    State(app): State<AppState>,
    c: Caller,
    Json(p): Json<PackInput>,
) -> ApiResult<Json<PackView>> {
    Ok(Json(desk::set_policy(&app, &c, &p).await?))
}
