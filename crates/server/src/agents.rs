//! Collectors' states on the floor (坐席状态) and the team lead's live board. The collector sets
//! ready or paused (with a reason); calls through the switch set ringing, talking and wrap-up
//! ([`daylight_domain::agent::next`]). The states live in the database, so every server sharing
//! it shows the same board. See docs/calls.md ("Agent states and the live board").

use axum::http::StatusCode;
use daylight_domain::agent::{AgentEvent, AgentState, PauseReason, next};
use daylight_store::model::AgentRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::roles::Permission;
use crate::work::{local_full, team_zone};

/// A collector as the board shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgentView {
    /// Employee number.
    pub login: String,
    /// Name.
    pub name: String,
    /// `offline`, `ready`, `ringing`, `talking`, `wrap_up` or `paused`.
    #[schema(value_type = String)]
    pub state: AgentState,
    /// Why paused: `break`, `meal`, `training`, `meeting`, `coaching` or `admin`.
    #[schema(value_type = Option<String>)]
    pub reason: Option<PauseReason>,
    /// Since when (team time).
    pub since: Option<String>,
    /// Seconds in the state.
    pub secs_in_state: Option<i64>,
    /// Calls placed through the switch today.
    pub calls_today: u32,
    /// Talk time today, seconds.
    pub talk_secs_today: u64,
    /// Time in the state as the board shows it (`m:ss`).
    pub in_state: Option<String>,
    /// Talk time today as the board shows it (`m:ss`).
    pub talk_today: String,
    /// The collector's live call on this server, if any (for a supervisor to join or end).
    pub call: Option<i64>,
    /// How a supervisor is on that call (`listen`, `whisper`, `barge`).
    pub supervision: Option<String>,
    /// The supervisor on that call.
    pub supervisor: Option<String>,
}

/// `m:ss`.
fn mmss(secs: u64) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// What a collector sets.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateInput {
    /// `ready`, `paused` or `offline`.
    pub state: String,
    /// With `paused`: `break`, `meal`, `training`, `meeting`, `coaching` or `admin`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Today, in the team's zone.
fn today(app: &AppState) -> String {
    app.now().to_zoned(team_zone()).date().to_string()
}

fn view(app: &AppState, r: AgentRow) -> AgentView {
    let today = today(app);
    let counted = r.day.as_deref() == Some(today.as_str());
    let secs_in_state = r.since.map(|s| app.now().duration_since(s).as_secs().max(0));
    let talk = if counted { r.talk_secs } else { 0 };
    AgentView {
        in_state: secs_in_state.map(|s| mmss(s.unsigned_abs())),
        talk_today: mmss(talk),
        secs_in_state,
        since: r.since.map(local_full),
        login: r.login,
        name: r.name,
        state: r.state,
        reason: r.reason,
        calls_today: if counted { r.calls } else { 0 },
        talk_secs_today: talk,
        call: None,
        supervision: None,
        supervisor: None,
    }
}

/// The caller's own state.
pub async fn mine(app: &AppState, caller: &Caller) -> ApiResult<AgentView> {
    caller.require(Permission::WorkCases, "take calls")?;
    Ok(view(app, app.store.agent(&caller.user.login).await?))
}

/// The caller sets their state: ready, paused with a reason, or offline (never in the middle of
/// a call: `TRANSITION`).
pub async fn set_mine(app: &AppState, caller: &Caller, input: &StateInput) -> ApiResult<AgentView> {
    caller.require(Permission::WorkCases, "take calls")?;
    let event = match input.state.trim() {
        "ready" => AgentEvent::Ready,
        "offline" => AgentEvent::Offline,
        "paused" => {
            let word = input.reason.as_deref().unwrap_or("");
            let reason: PauseReason = word.parse().map_err(|e: daylight_domain::error::Invalid| {
                ApiError::field("reason", e.code.as_str(), e.message)
            })?;
            AgentEvent::Pause(reason)
        }
        other => {
            return Err(ApiError::field(
                "state",
                "ENUM",
                format!("state {other:?}: expected ready, paused or offline (calls set the others)"),
            ));
        }
    };
    let now = app.store.agent(&caller.user.login).await?;
    let (state, reason) = next(now.state, now.reason, event)
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, e.code.as_str(), e.message))?;
    app.store.set_agent_state(&caller.user.login, state, reason, app.now()).await?;
    mine(app, caller).await
}

/// A call moved collector `login`: their state follows. Failures are logged, never raised: the
/// call goes on whatever the board says.
pub async fn on_call(app: &AppState, login: &str, event: AgentEvent) {
    let result = async {
        let now = app.store.agent(login).await?;
        if let Ok((state, reason)) = next(now.state, now.reason, event) {
            app.store.set_agent_state(login, state, reason, app.now()).await?;
        }
        Ok::<(), daylight_store::StoreError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(login, code = e.code(), error = %e, "updating a collector's state failed");
    }
}

/// Counts a finished call for collector `login` on today's board.
pub async fn count_call(app: &AppState, login: &str, talk_secs: u32) {
    if let Err(e) = app.store.agent_call_done(login, &today(app), talk_secs, app.now()).await {
        tracing::warn!(login, code = e.code(), error = %e, "counting a collector's call failed");
    }
}

/// The live board of `team` (a team lead: their own team; an admin: any, named).
pub async fn board(app: &AppState, caller: &Caller, team: Option<&str>) -> ApiResult<Vec<AgentView>> {
    caller.require(Permission::WatchFloor, "watch the floor")?;
    let own = caller.user.team.clone();
    let team = match (caller.user.role, team, own) {
        (daylight_store::access::Role::TeamLead, Some(t), Some(o)) if t != o => {
            return Err(ApiError::not_found("team", t));
        }
        (_, Some(t), _) => t.to_owned(),
        (_, None, Some(o)) => o,
        (_, None, None) => return Err(ApiError::field("team", "REQUIRED", "name the team (?team=T1)")),
    };
    let live = |login: &str| app.calls.as_ref().and_then(|c| c.live_of(login));
    Ok(app
        .store
        .agent_board(&team)
        .await?
        .into_iter()
        .map(|r| {
            let call = live(&r.login);
            let mut v = view(app, r);
            if let Some(c) = call {
                v.call = Some(c.call);
                v.supervision = c.supervision;
                v.supervisor = c.supervisor;
            }
            v
        })
        .collect())
}
