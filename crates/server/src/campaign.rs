//! Campaigns (外呼任务): the dialler working today's plan for a team.
//!
//! A team lead starts a campaign for their team in one mode:
//! - **preview**: a collector asks for the next contact, sees the case and dials it;
//! - **progressive**: for each ready collector one call, the collector's phone first, so no
//!   call is ever abandoned;
//! - **predictive**: the pacer ([`daylight_dialer::pacer`]) says how many debtors to dial for
//!   the collectors who will be free; an answered call goes to a ready collector of the team
//!   (bridged in on the same call and recording, with the screen pop), and one nobody takes
//!   within two seconds is abandoned: the debtor hears the bank's name and callback number,
//!   the attempt's outcome is `abandoned`, and the pack's `ABANDONED_REDIAL` keeps robots and
//!   the predictive dialler off the number for its hours;
//! - **robot**: robot lines follow a flow of the strategy, transferring to the team.
//!
//! The hopper holds only contacts the gate allows now, in plan order (priority, then window),
//! re-checked every few seconds; every dial still goes through the gate's start, so no cap can
//! be exceeded however hard the pacer dials. The abandonment rate over the pack's window is
//! held under its limit: at the limit the campaign brakes to one call per ready collector
//! (VICIdial's `ADAPT_HARD_LIMIT`). See docs/dialer.md.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use daylight_calls::{CallEvent, Leg, Robot};
use daylight_compliance::evaluate;
use daylight_dialer::pacer::daylight::{Daylight, Settings as DaylightSettings};
use daylight_dialer::pacer::vicidial::{DropMethod, Settings as VicidialSettings, Vicidial};
use daylight_dialer::pacer::{Busy, Floor, Pacer, Tally};
use daylight_domain::agent::{AgentEvent, AgentState};
use daylight_domain::attempt::{Agent, Channel, Outcome, Planned};
use daylight_domain::customer::Recipient;
use daylight_domain::id::{CaseId, ContactId};
use daylight_store::access::Scope;
use daylight_store::model::CaseFilter;
use daylight_strategy::document::Move;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::time::{Duration, Instant};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::calls::{CallNotice, Calls, Phase, Placed, calls_of, not_placed, place, track};
use crate::error::{ApiError, ApiResult};
use crate::inbound::Pool;
use crate::roles::Permission;

/// Seconds an answered predictive call waits for a collector before it is abandoned.
pub const GREETING_SECS: u64 = 2;

/// What an abandoned call hears: the bank's name and the number to call back.
pub const ABANDON_MESSAGE: &str = "您好，这里是{bank}。现在没有坐席接听，请拨打{hotline}回电。";

/// How often the hopper is re-checked against the gate.
const REFILL_EVERY: Duration = Duration::from_secs(5);

/// How a campaign dials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A collector asks for the next contact and dials it.
    Preview,
    /// One call per ready collector, the collector's phone first.
    Progressive,
    /// The pacer dials ahead of the collectors; an answered call goes to a ready one.
    Predictive,
    /// Robot lines follow a flow.
    Robot,
}

/// Which pacer a predictive campaign runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PacerKind {
    /// Daylight's abandonment-constrained pacer (the default).
    #[default]
    Daylight,
    /// VICIdial's adaptive pacer, `ADAPT_HARD_LIMIT`, with its default settings.
    Vicidial,
}

/// Where a campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Dialling.
    Running,
    /// Not dialling; calls in flight go on.
    Paused,
    /// Over.
    Stopped,
}

/// A campaign to start.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignInput {
    /// The team whose cases and collectors it works (a team lead: their own).
    pub team: String,
    /// How it dials.
    pub mode: Mode,
    /// For `predictive`: the pacer (default `daylight`).
    #[serde(default)]
    pub pacer: Option<PacerKind>,
    /// For `robot`: the flow of the strategy in force.
    #[serde(default)]
    pub flow: Option<String>,
    /// For `robot`: robot lines at once (1 to the switch's calls; default 2).
    #[serde(default)]
    pub lines: Option<u32>,
}

/// The team's collectors as the campaign sees them.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct AgentCounts {
    /// Ready for a call.
    pub ready: u32,
    /// Their phone or the debtor's ringing.
    pub ringing: u32,
    /// On a call.
    pub talking: u32,
    /// Wrapping a call up.
    pub wrap_up: u32,
    /// Paused.
    pub paused: u32,
}

/// A campaign as the console watches it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignView {
    /// Its id.
    pub id: i64,
    /// The team.
    pub team: String,
    /// The mode.
    pub mode: Mode,
    /// The pacer's name (predictive), else the mode's way of dialling.
    pub pacer: String,
    /// The pacer (predictive).
    pub pacer_kind: Option<PacerKind>,
    /// The flow (robot).
    pub flow: Option<String>,
    /// Running, paused or stopped.
    pub status: Status,
    /// Who started it.
    pub started_by: String,
    /// When, RFC 3339.
    pub started_at: String,
    /// Contacts in the hopper: each allowed by the gate when last checked.
    pub hopper: usize,
    /// The dial level: calls in flight per working collector the pacer aims for.
    pub level: f64,
    /// Calls placed and not yet answered.
    pub ringing: u32,
    /// Calls answered and waiting for a collector.
    pub waiting: u32,
    /// The campaign's calls not yet ended.
    pub in_flight: u32,
    /// Calls placed.
    pub placed: u64,
    /// Contacts the gate refused at the dial (they had been allowed in the hopper).
    pub refused: u64,
    /// Calls a person answered.
    pub answered: u64,
    /// Calls a collector took.
    pub connected: u64,
    /// Calls abandoned (each heard the bank's message).
    pub abandoned: u64,
    /// Abandoned calls as a percentage of answered ones over the pack's window.
    pub abandonment_percent: f64,
    /// The pack's limit, percent.
    pub limit_percent: f64,
    /// The pack's window, hours.
    pub window_hours: i32,
    /// At the limit: one call per ready collector.
    pub braking: bool,
    /// The team's collectors with phones.
    pub agents: AgentCounts,
}

/// The next contact of a preview campaign.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreviewView {
    /// The case.
    pub case: String,
    /// The contact point to call.
    pub contact_point: String,
}

/// A contact in a campaign's hopper, next first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HopperView {
    /// The case.
    pub case: String,
    /// The contact point to call.
    pub contact_point: String,
    /// `debtor` or `guarantor`.
    pub recipient: String,
}

/// A contact the hopper holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    case: CaseId,
    point: ContactId,
    recipient: Recipient,
}

/// A call of the campaign in flight.
#[derive(Debug, Clone, Default)]
struct Flight {
    answered: bool,
    /// The collector rung for it (reserved until it ends).
    collector: Option<String>,
}

/// The campaign's counts over time, for the pacer's [`Tally`] and the abandonment rate.
#[derive(Debug, Default)]
struct Counts {
    placed: u64,
    refused: u64,
    answered: u64,
    connected: u64,
    abandoned: u64,
    /// When each call was placed (the last day's).
    placed_at: VecDeque<Timestamp>,
    /// Each answered call's time and whether it was abandoned (the window's).
    answers: VecDeque<(Timestamp, bool)>,
    /// Mean seconds from dialling to an answer and of a conversation (moving averages).
    secs_to_answer: f64,
    handle_secs: f64,
}

struct Inner {
    status: Status,
    hopper: VecDeque<Entry>,
    /// Contacts this campaign has dialled or handed out (never twice a day).
    done: HashSet<(String, String)>,
    flights: HashMap<i64, Flight>,
    counts: Counts,
    level: f64,
    agents: AgentCounts,
    pacer: Box<dyn Pacer + Send>,
    refilled: Option<Instant>,
}

/// A running campaign.
pub struct Campaign {
    id: i64,
    team: String,
    mode: Mode,
    pacer: Option<PacerKind>,
    flow: Option<String>,
    lines: u32,
    started_by: String,
    started_at: Timestamp,
    limit: f64,
    window_hours: i32,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Campaign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Campaign").field("id", &self.id).field("team", &self.team).finish_non_exhaustive()
    }
}

/// The campaigns of this server.
#[derive(Debug, Default)]
pub struct Campaigns {
    all: Mutex<Vec<Arc<Campaign>>>,
}

impl Campaigns {
    fn get(&self, id: i64) -> Option<Arc<Campaign>> {
        self.all.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|c| c.id == id).cloned()
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found("campaign", &id.to_string())
}

impl Campaign {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn agent(&self) -> Agent {
        Agent::Robot(format!("campaign:{}", self.id))
    }

    /// The contact the gate judges for `e` now: a call, by the campaign's robot when nobody is on
    /// the line when the debtor answers (predictive, robot), else by the campaign's starter.
    fn planned(&self, e: &Entry, now: Timestamp, collector: Option<&str>) -> Planned {
        let (channel, agent) = match (self.mode, collector) {
            (Mode::Robot, _) => (
                Channel::RobotCall,
                Agent::Robot(format!("flow:{}", self.flow.as_deref().unwrap_or_default())),
            ),
            (Mode::Predictive, _) => (Channel::Call, self.agent()),
            (_, Some(login)) => (Channel::Call, Agent::Collector(login.to_owned())),
            (_, None) => (Channel::Call, Agent::Collector(self.started_by.clone())),
        };
        Planned {
            case: e.case.clone(),
            account: None,
            at: now,
            channel,
            recipient: e.recipient,
            contact_point: Some(e.point.clone()),
            agent,
        }
    }

    fn view(&self, now: Timestamp) -> CampaignView {
        let g = self.lock();
        let tally = self.tally(&g.counts, now);
        let rate = tally.window_rate();
        CampaignView {
            id: self.id,
            team: self.team.clone(),
            mode: self.mode,
            pacer: match self.mode {
                Mode::Predictive => g.pacer.name(),
                Mode::Progressive => "progressive".to_owned(),
                Mode::Preview => "preview".to_owned(),
                Mode::Robot => format!("robot ×{}", self.lines),
            },
            pacer_kind: self.pacer,
            flow: self.flow.clone(),
            status: g.status,
            started_by: self.started_by.clone(),
            started_at: self.started_at.to_string(),
            hopper: g.hopper.len(),
            level: (g.level * 100.0).round() / 100.0,
            ringing: g.flights.values().filter(|f| !f.answered).count() as u32,
            waiting: g.flights.values().filter(|f| f.answered && f.collector.is_none()).count() as u32,
            in_flight: g.flights.len() as u32,
            placed: g.counts.placed,
            refused: g.counts.refused,
            answered: g.counts.answered,
            connected: g.counts.connected,
            abandoned: g.counts.abandoned,
            abandonment_percent: (rate * 1000.0).round() / 10.0,
            limit_percent: self.limit * 100.0,
            window_hours: self.window_hours,
            braking: self.braking(&tally),
            agents: g.agents,
        }
    }

    fn tally(&self, c: &Counts, now: Timestamp) -> Tally {
        let day = now.as_second() - 86_400;
        let minute = now.as_second() - 60;
        let window = now.as_second() - i64::from(self.window_hours) * 3600;
        let answered_in = |from: i64| c.answers.iter().filter(move |(t, _)| t.as_second() >= from);
        Tally {
            calls_today: c.placed_at.iter().filter(|t| t.as_second() >= day).count() as u64,
            answered_today: answered_in(day).count() as u64,
            dropped_today: answered_in(day).filter(|(_, d)| *d).count() as u64,
            calls_last_min: c.placed_at.iter().filter(|t| t.as_second() >= minute).count() as u64,
            dropped_last_min: answered_in(minute).filter(|(_, d)| *d).count() as u64,
            answered_window: answered_in(window).count() as u64,
            dropped_window: answered_in(window).filter(|(_, d)| *d).count() as u64,
        }
    }

    /// At the pack's limit: the hard brake (one call per ready collector).
    fn braking(&self, t: &Tally) -> bool {
        t.answered_window > 0 && t.window_rate() >= self.limit
    }
}

/// Starts a campaign: a team lead for their team (an administrator for any).
pub async fn start(app: &AppState, caller: &Caller, input: &CampaignInput) -> ApiResult<CampaignView> {
    caller.require(Permission::SuperviseCalls, "run campaigns")?;
    let calls = calls_of(app)?.clone();
    let team = input.team.trim();
    if team.is_empty() {
        return Err(ApiError::field("team", "REQUIRED", "name the team the campaign works"));
    }
    if caller.user.role == daylight_store::access::Role::TeamLead && caller.user.team.as_deref() != Some(team)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!("a team lead runs campaigns for their own team, not {team}"),
        ));
    }
    let flow = match (input.mode, &input.flow) {
        (Mode::Robot, Some(f)) => Some(crate::robot::flow_named(app, f).await?.name),
        (Mode::Robot, None) => {
            let names = crate::robot::flow_names(app).await.join(", ");
            return Err(ApiError::field(
                "flow",
                "REQUIRED",
                format!("a robot campaign follows a flow: one of {names}"),
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::field("flow", "UNEXPECTED", "only a robot campaign follows a flow"));
        }
        (_, None) => None,
    };
    let lines = input.lines.unwrap_or(2);
    if !(1..=calls.settings.max_calls.max(1) as u32).contains(&lines) {
        return Err(ApiError::field(
            "lines",
            "RANGE",
            format!("{lines}: expected 1 to {} (the switch's calls)", calls.settings.max_calls),
        ));
    }
    let pack = daylight_compliance::Pack::from_toml(&app.store.pack_source().await?, "the pack in force")
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.code, e.to_string()))?;
    let (limit, window_hours) =
        pack.abandonment.as_ref().map_or((0.03, 24), |a| (a.limit_percent / 100.0, a.window_hours));
    let pacer: Box<dyn Pacer + Send> = match input.pacer.unwrap_or_default() {
        PacerKind::Daylight => Box::new(Daylight::new(DaylightSettings {
            limit,
            target: limit * 5.0 / 6.0,
            ..DaylightSettings::default()
        })),
        PacerKind::Vicidial => Box::new(Vicidial::new(VicidialSettings {
            dropped_percentage: limit * 100.0,
            ..VicidialSettings::defaults(DropMethod::HardLimit)
        })),
    };
    let now = app.now();
    let campaign = {
        let mut all = app.campaigns.all.lock().unwrap_or_else(|e| e.into_inner());
        let c = Arc::new(Campaign {
            id: all.len() as i64 + 1,
            team: team.to_owned(),
            mode: input.mode,
            pacer: (input.mode == Mode::Predictive).then(|| input.pacer.unwrap_or_default()),
            flow,
            lines,
            started_by: caller.user.login.clone(),
            started_at: now,
            limit,
            window_hours,
            inner: Mutex::new(Inner {
                status: Status::Running,
                hopper: VecDeque::new(),
                done: HashSet::new(),
                flights: HashMap::new(),
                counts: Counts { secs_to_answer: 8.0, handle_secs: 120.0, ..Counts::default() },
                level: 1.0,
                agents: AgentCounts::default(),
                pacer,
                refilled: None,
            }),
        });
        all.push(c.clone());
        c
    };
    tracing::info!(campaign = campaign.id, team, mode = ?input.mode, by = %caller.user.login, "campaign started");
    refill(app, &campaign).await?;
    let view = campaign.view(now);
    let app2 = app.clone();
    tokio::spawn(async move { run(app2, calls, campaign).await });
    Ok(view)
}

/// The campaigns the caller may watch (a team lead: their team's).
pub async fn list(app: &AppState, caller: &Caller) -> ApiResult<Vec<CampaignView>> {
    caller.require(Permission::WatchFloor, "watch campaigns")?;
    let now = app.now();
    let all: Vec<Arc<Campaign>> = app.campaigns.all.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(all.iter().rev().filter(|c| may_see(caller, c)).map(|c| c.view(now)).collect())
}

/// The running preview campaigns of the calling collector's team, to take contacts from.
pub async fn previews(app: &AppState, caller: &Caller) -> ApiResult<Vec<CampaignView>> {
    caller.require(Permission::WorkCases, "take contacts")?;
    let now = app.now();
    let all: Vec<Arc<Campaign>> = app.campaigns.all.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(all
        .iter()
        .rev()
        .filter(|c| c.mode == Mode::Preview && caller.user.team.as_deref() == Some(c.team.as_str()))
        .map(|c| c.view(now))
        .filter(|v| v.status == Status::Running)
        .collect())
}

fn may_see(caller: &Caller, c: &Campaign) -> bool {
    caller.user.role != daylight_store::access::Role::TeamLead
        || caller.user.team.as_deref() == Some(c.team.as_str())
}

/// Campaign `id` as the caller may watch it.
pub async fn get(app: &AppState, caller: &Caller, id: i64) -> ApiResult<CampaignView> {
    caller.require(Permission::WatchFloor, "watch campaigns")?;
    let c = app.campaigns.get(id).filter(|c| may_see(caller, c)).ok_or_else(|| not_found(id))?;
    Ok(c.view(app.now()))
}

/// The contacts in campaign `id`'s hopper, next first: each allowed by the gate when last
/// checked (at most 5 s ago).
pub async fn hopper(app: &AppState, caller: &Caller, id: i64) -> ApiResult<Vec<HopperView>> {
    caller.require(Permission::WatchFloor, "watch campaigns")?;
    let c = app.campaigns.get(id).filter(|c| may_see(caller, c)).ok_or_else(|| not_found(id))?;
    let g = c.lock();
    Ok(g.hopper
        .iter()
        .map(|e| HopperView {
            case: e.case.as_str().to_owned(),
            contact_point: e.point.as_str().to_owned(),
            recipient: e.recipient.as_str().to_owned(),
        })
        .collect())
}

/// Pauses, resumes or stops campaign `id` (`status`: `paused`, `running`, `stopped`); a stopped
/// campaign stays stopped. Calls in flight go on.
pub async fn set_status(app: &AppState, caller: &Caller, id: i64, status: &str) -> ApiResult<CampaignView> {
    caller.require(Permission::SuperviseCalls, "run campaigns")?;
    let c = app.campaigns.get(id).filter(|c| may_see(caller, c)).ok_or_else(|| not_found(id))?;
    let want = match status {
        "running" => Status::Running,
        "paused" => Status::Paused,
        "stopped" => Status::Stopped,
        other => {
            return Err(ApiError::field(
                "status",
                "INVALID",
                format!("{other:?}: expected running, paused or stopped"),
            ));
        }
    };
    {
        let mut g = c.lock();
        if g.status == Status::Stopped && want != Status::Stopped {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "CAMPAIGN_STOPPED",
                format!("campaign {id} is stopped"),
            ));
        }
        g.status = want;
        if want == Status::Stopped {
            g.hopper.clear();
        }
    }
    tracing::info!(campaign = id, status, by = %caller.user.login, "campaign status");
    Ok(c.view(app.now()))
}

/// A preview campaign's next contact for the calling collector (of its team): the first the
/// gate allows now; the collector dials it from the case.
pub async fn next(app: &AppState, caller: &Caller, id: i64) -> ApiResult<Option<PreviewView>> {
    caller.require(Permission::WorkCases, "take contacts")?;
    let c = app.campaigns.get(id).ok_or_else(|| not_found(id))?;
    if caller.user.team.as_deref() != Some(c.team.as_str()) || c.mode != Mode::Preview {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "CAMPAIGN_NOT_PREVIEW",
            format!(
                "campaign {id} hands out no contacts to {}: a preview campaign of their team does",
                caller.user.login
            ),
        ));
    }
    if c.lock().status != Status::Running {
        return Ok(None);
    }
    // Only cases the collector may work (their own, in a bank's team).
    let filter = CaseFilter {
        status: Some(daylight_domain::case::CaseStatus::Open),
        scope: caller.scope.clone(),
        limit: CaseFilter::MAX_LIMIT,
        ..CaseFilter::default()
    };
    let mine: HashSet<String> =
        app.store.list_cases(&filter).await?.into_iter().map(|s| s.case.id.as_str().to_owned()).collect();
    let now = app.now();
    for round in 0..2 {
        if round == 1 {
            refill(app, &c).await?;
        }
        let candidates: Vec<Entry> =
            c.lock().hopper.iter().filter(|e| mine.contains(e.case.as_str())).cloned().collect();
        for e in candidates {
            {
                let mut g = c.lock();
                let Some(at) = g.hopper.iter().position(|x| *x == e) else { continue };
                g.hopper.remove(at);
                g.done.insert((e.case.as_str().to_owned(), e.point.as_str().to_owned()));
            }
            // Checked again: time has passed since the hopper was filled.
            if allowed(app, &c.planned(&e, now, Some(&caller.user.login))).await? {
                return Ok(Some(PreviewView {
                    case: e.case.as_str().to_owned(),
                    contact_point: e.point.as_str().to_owned(),
                }));
            }
        }
    }
    Ok(None)
}

/// Whether the gate would allow `planned` now (read as the gate reads it, without its lock).
async fn allowed(app: &AppState, planned: &Planned) -> ApiResult<bool> {
    let ctx = app.store.contact_context(planned).await?;
    Ok(evaluate(&ctx.pack, &ctx.request, &ctx.history, planned.at).allowed)
}

/// Fills the hopper from today's plan: the team's open cases' planned contacts on the
/// campaign's channel, in plan order, each the gate allows now; those already in it are checked
/// again and dropped when no longer allowed.
async fn refill(app: &AppState, c: &Campaign) -> ApiResult<()> {
    let now = app.now();
    let want = match c.mode {
        Mode::Robot => Move::Contact(Channel::RobotCall),
        _ => Move::Contact(Channel::Call),
    };
    let plan = app.plans.today(app).await?;
    let filter = CaseFilter {
        status: Some(daylight_domain::case::CaseStatus::Open),
        scope: Scope::Team(c.team.clone()),
        limit: CaseFilter::MAX_LIMIT,
        ..CaseFilter::default()
    };
    let cases = app.store.list_cases(&filter).await?;
    let mut planned: Vec<(u32, Timestamp, Entry)> = Vec::new();
    for s in &cases {
        for a in plan.by_case.get(s.case.id.as_str()).into_iter().flatten() {
            let Some(point) = a.contact_point.as_deref() else { continue };
            if a.channel != want || a.recipient == Recipient::ThirdParty {
                continue;
            }
            let Ok(point) = ContactId::parse(point) else { continue };
            planned.push((
                a.priority,
                a.window_start,
                Entry { case: s.case.id.clone(), point, recipient: a.recipient },
            ));
        }
    }
    planned.sort_by(|a, b| (a.0, a.1, a.2.case.as_str()).cmp(&(b.0, b.1, b.2.case.as_str())));
    let capacity = hopper_capacity(c);
    let done = c.lock().done.clone();
    let mut kept: VecDeque<Entry> = VecDeque::new();
    for (_, _, e) in planned {
        if kept.len() >= capacity {
            break;
        }
        let key = (e.case.as_str().to_owned(), e.point.as_str().to_owned());
        if done.contains(&key) || kept.iter().any(|k| k.case == e.case) {
            continue;
        }
        if allowed(app, &c.planned(&e, now, None)).await? {
            kept.push_back(e);
        }
    }
    let mut g = c.lock();
    // Contacts handed out meanwhile stay out.
    kept.retain(|e| !g.done.contains(&(e.case.as_str().to_owned(), e.point.as_str().to_owned())));
    g.hopper = kept;
    g.refilled = Some(Instant::now());
    Ok(())
}

/// Contacts the hopper holds: enough for a few seconds of dialling.
fn hopper_capacity(c: &Campaign) -> usize {
    match c.mode {
        Mode::Robot => (c.lines as usize * 4).max(10),
        _ => 50,
    }
}

/// The campaign's loop: once a second, the floor read, the pacer asked, the hopper refilled as
/// time passes, and the calls placed, each through the gate's start.
async fn run(app: AppState, calls: Arc<Calls>, c: Arc<Campaign>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (status, due) = {
            let g = c.lock();
            (g.status, g.refilled.is_none_or(|t| t.elapsed() >= REFILL_EVERY) || g.hopper.is_empty())
        };
        match status {
            Status::Stopped => break,
            Status::Paused => continue,
            Status::Running => {}
        }
        if due && let Err(e) = refill(&app, &c).await {
            tracing::warn!(campaign = c.id, code = e.code, error = %e.message, "refilling the hopper failed");
            continue;
        }
        if c.mode == Mode::Preview {
            continue;
        }
        let (floor, ready) = match floor(&app, &calls, &c).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(campaign = c.id, code = e.code, error = %e.message, "reading the floor failed");
                continue;
            }
        };
        let now = app.now();
        let n = {
            let mut g = c.lock();
            let tally = c.tally(&g.counts, now);
            let room = calls.settings.max_calls.saturating_sub(calls.switch.active()) as u32;
            let n = match c.mode {
                Mode::Preview => 0,
                Mode::Robot => c.lines.saturating_sub(g.flights.len() as u32),
                Mode::Progressive => floor.ready,
                Mode::Predictive => {
                    let n = g.pacer.dials(&floor, &tally);
                    g.level = g.pacer.level();
                    if c.braking(&tally) { n.min(floor.ready.saturating_sub(floor.ringing)) } else { n }
                }
            };
            n.min(room)
        };
        let mut ready = ready.into_iter();
        for _ in 0..n {
            let Some(e) = c.lock().hopper.pop_front() else { break };
            c.lock().done.insert((e.case.as_str().to_owned(), e.point.as_str().to_owned()));
            let collector = if c.mode == Mode::Progressive {
                match ready.next() {
                    Some(r) => Some(r),
                    None => break,
                }
            } else {
                None
            };
            if let Err(err) = dial_one(&app, &calls, &c, e, collector).await {
                tracing::warn!(campaign = c.id, code = err.code, error = %err.message, "a campaign dial failed");
            }
        }
    }
    tracing::info!(campaign = c.id, "campaign stopped");
}

/// The floor for the pacer: the team's collectors with phones (those rung for the campaign's
/// calls not counted ready) and the campaign's calls; the ready ones (login, phone), longest
/// waiting first.
async fn floor(app: &AppState, calls: &Calls, c: &Campaign) -> ApiResult<(Floor, Vec<(String, String)>)> {
    let board = app.store.agent_board(&c.team).await?;
    let now = app.now();
    let phones = &calls.settings.phones;
    let mut g = c.lock();
    let reserved: HashSet<&str> = g.flights.values().filter_map(|f| f.collector.as_deref()).collect();
    let mut counts = AgentCounts::default();
    let mut busy = Vec::new();
    let mut ready = Vec::new();
    let mut board = board;
    board.sort_by_key(|a| a.since);
    let mut logged_in = 0;
    for a in board.iter().filter(|a| phones.contains_key(&a.login)) {
        let since = a.since.map_or(0.0, |s| now.duration_since(s).as_secs_f64().max(0.0));
        match a.state {
            AgentState::Offline => continue,
            AgentState::Ready if !reserved.contains(a.login.as_str()) => {
                counts.ready += 1;
                ready.push((a.login.clone(), phones[&a.login].clone()));
            }
            AgentState::Ready | AgentState::Ringing => {
                counts.ringing += 1;
                busy.push(Busy { talking: true, free_in_secs: g.counts.handle_secs });
            }
            AgentState::Talking => {
                counts.talking += 1;
                busy.push(Busy { talking: true, free_in_secs: (g.counts.handle_secs - since).max(5.0) });
            }
            AgentState::WrapUp => {
                counts.wrap_up += 1;
                busy.push(Busy { talking: false, free_in_secs: (30.0 - since).max(1.0) });
            }
            AgentState::Paused => counts.paused += 1,
        }
        logged_in += 1;
    }
    g.agents = counts;
    let answer_rate = if g.counts.placed >= 10 {
        (g.counts.answered as f64 / g.counts.placed as f64).max(0.05)
    } else {
        0.3
    };
    let local = now.to_zoned(crate::work::team_zone());
    let floor = Floor {
        time_of_day_secs: (local.hour() as u32) * 3600 + (local.minute() as u32) * 60 + local.second() as u32,
        logged_in,
        ready: counts.ready,
        busy,
        ringing: g.flights.values().filter(|f| !f.answered).count() as u32,
        waiting: g.flights.values().filter(|f| f.answered && f.collector.is_none()).count() as u32,
        answer_rate,
        secs_to_answer: g.counts.secs_to_answer,
    };
    Ok((floor, ready))
}

/// Places one call of the campaign through the gate's start: refused, counted and dropped;
/// allowed, dialled by the mode's way.
async fn dial_one(
    app: &AppState,
    calls: &Arc<Calls>,
    c: &Arc<Campaign>,
    e: Entry,
    collector: Option<(String, String)>,
) -> ApiResult<()> {
    let now = app.now();
    let planned = c.planned(&e, now, collector.as_ref().map(|(l, _)| l.as_str()));
    let d = app.store.case_detail_in(&Scope::All, &e.case).await?;
    match c.mode {
        Mode::Robot => {
            let flow = crate::robot::flow_named(app, c.flow.as_deref().unwrap_or_default()).await?;
            let started =
                crate::robot::start(app, calls, &d, &e.point, flow, &c.started_by, &planned).await?;
            let Ok(view) = started else {
                c.lock().counts.refused += 1;
                return Ok(());
            };
            c.placed(view.call, now);
            // The robot's own job carries the call; the flight ends with it.
            let (app2, calls2, c2) = (app.clone(), calls.clone(), c.clone());
            tokio::spawn(async move {
                while calls2.view(view.call).is_some_and(|v| v.phase != Phase::Ended) {
                    if !notices_until_ended(&calls2, view.call).await {
                        break;
                    }
                }
                c2.ended_as_viewed(&calls2, view.call, app2.now());
            });
            Ok(())
        }
        Mode::Progressive | Mode::Preview => {
            let Some((login, phone)) = collector else { return Ok(()) };
            let Placed { started, dial, file } =
                match place(app, calls, &planned, &e.point, &login, phone).await? {
                    Ok(p) => p,
                    Err(_) => {
                        c.lock().counts.refused += 1;
                        return Ok(());
                    }
                };
            let events = match calls.switch.dial(dial).await {
                Ok(events) => events,
                Err(err) => return Err(not_placed(app, started, &login, &err).await),
            };
            track(calls, started, &e.case, &login, Phase::RingingAgent);
            c.placed(started, now);
            if let Some(f) = c.lock().flights.get_mut(&started) {
                f.collector = Some(login.clone());
            }
            crate::agents::on_call(app, &login, AgentEvent::Dialled).await;
            let (app2, calls2, c2) = (app.clone(), calls.clone(), c.clone());
            tokio::spawn(async move {
                crate::calls::follow(app2.clone(), calls2.clone(), started, login, file, now, events).await;
                c2.ended_as_viewed(&calls2, started, app2.now());
            });
            Ok(())
        }
        Mode::Predictive => {
            let Placed { started, dial, file } =
                match place(app, calls, &planned, &e.point, &c.started_by, String::new()).await? {
                    Ok(p) => p,
                    Err(_) => {
                        c.lock().counts.refused += 1;
                        return Ok(());
                    }
                };
            let (events, robot) = match calls.switch.robot(dial).await {
                Ok(r) => r,
                Err(err) => return Err(not_placed(app, started, &c.started_by, &err).await),
            };
            track(calls, started, &e.case, &c.started_by, Phase::RingingDebtor);
            c.placed(started, now);
            let job = Predictive {
                app: app.clone(),
                calls: calls.clone(),
                campaign: c.clone(),
                started,
                file,
                case: e.case.clone(),
                pool: Pool { collector: d.case.collector.clone(), team: Some(c.team.clone()) },
                facts: crate::robot::Facts::of(&d, calls),
                dialled: Instant::now(),
            };
            tokio::spawn(async move { job.run(robot, events).await });
            Ok(())
        }
    }
}

impl Campaign {
    fn placed(&self, started: i64, now: Timestamp) {
        let mut g = self.lock();
        g.flights.insert(started, Flight::default());
        g.counts.placed += 1;
        g.counts.placed_at.push_back(now);
        let day = now.as_second() - 86_400;
        while g.counts.placed_at.front().is_some_and(|t| t.as_second() < day) {
            g.counts.placed_at.pop_front();
        }
    }

    /// Call `started` was answered by a person after `ring` seconds.
    fn answered(&self, started: i64, ring: f64) {
        let mut g = self.lock();
        if let Some(f) = g.flights.get_mut(&started) {
            f.answered = true;
        }
        g.counts.secs_to_answer = 0.8 * g.counts.secs_to_answer + 0.2 * ring;
    }

    /// Call `started` ended: whether a person answered, and whether it was abandoned.
    fn ended(&self, started: i64, now: Timestamp, answered: bool, abandoned: bool, talk: Option<f64>) {
        let mut g = self.lock();
        g.flights.remove(&started);
        if answered {
            g.counts.answered += 1;
            g.counts.answers.push_back((now, abandoned));
        }
        if abandoned {
            g.counts.abandoned += 1;
        }
        if let Some(t) = talk {
            g.counts.connected += 1;
            g.counts.handle_secs = 0.8 * g.counts.handle_secs + 0.2 * t;
        }
        let window = now.as_second() - i64::from(self.window_hours) * 3600;
        while g.counts.answers.front().is_some_and(|(t, _)| t.as_second() < window) {
            g.counts.answers.pop_front();
        }
    }
}

/// Waits (at most a minute) for a notice of call `call`'s end; false when notices stopped.
async fn notices_until_ended(calls: &Calls, call: i64) -> bool {
    let mut notices = calls.subscribe();
    let wait = async {
        loop {
            match notices.recv().await {
                Ok(n) if n.call == call && n.phase == Phase::Ended => return true,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return false,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait).await.unwrap_or(true)
}

impl Campaign {
    /// Call `call` (carried by the robot's job or the click-to-dial follower) ended: counted by
    /// its view (answered when a person took it up, talk time when a collector was bridged).
    fn ended_as_viewed(&self, calls: &Calls, call: i64, now: Timestamp) {
        let v = calls.view(call);
        let answered = v.as_ref().is_some_and(|v| {
            matches!(v.sip_status, Some(200..=299))
                || v.outcome
                    .is_some_and(|o| o.class() == daylight_domain::attempt::OutcomeClass::Conversation)
        });
        let talk = v
            .as_ref()
            .filter(|v| {
                v.outcome.is_some_and(|o| o.class() == daylight_domain::attempt::OutcomeClass::Conversation)
            })
            .and_then(|v| v.duration_secs)
            .map(f64::from);
        self.ended(call, now, answered, false, talk);
    }
}

/// A predictive call being carried: ringing the debtor, then a ready collector bridged in on
/// the same call and recording within [`GREETING_SECS`], else the bank's message and the end.
struct Predictive {
    app: AppState,
    calls: Arc<Calls>,
    campaign: Arc<Campaign>,
    started: i64,
    file: PathBuf,
    case: CaseId,
    pool: Pool,
    facts: crate::robot::Facts,
    dialled: Instant,
}

impl Predictive {
    async fn run(self, robot: Robot, mut events: tokio::sync::mpsc::Receiver<CallEvent>) {
        let mut deadline: Option<Instant> = None;
        let mut collector: Option<String> = None;
        let mut tried: Vec<String> = Vec::new();
        let (mut answered, mut abandoned, mut message_heard) = (false, false, false);
        loop {
            let ev = tokio::select! {
                ev = events.recv() => ev,
                () = async { tokio::time::sleep_until(deadline.expect("guarded")).await }, if deadline.is_some() => {
                    deadline = None;
                    if collector.is_none() {
                        abandoned = true;
                        self.abandon(&robot).await;
                    }
                    continue;
                }
            };
            let Some(ev) = ev else { return };
            match ev {
                CallEvent::Answered(Leg::Debtor) if !answered => {
                    answered = true;
                    self.campaign.answered(self.started, self.dialled.elapsed().as_secs_f64());
                    deadline = Some(Instant::now() + Duration::from_secs(GREETING_SECS));
                    collector = self.transfer(&robot, &mut tried).await;
                }
                CallEvent::Bridged => {
                    deadline = None;
                    if let Some(login) = &collector {
                        crate::agents::on_call(&self.app, login, AgentEvent::Bridged).await;
                        self.calls.update(self.started, |v| {
                            v.collector = login.clone();
                            v.phase = Phase::Talking;
                        });
                        // Screen pop: the collector's console opens the case.
                        self.calls.notify(CallNotice {
                            collector: login.clone(),
                            call: self.started,
                            case: self.case.as_str().to_owned(),
                            phase: Phase::Talking,
                            inbound: false,
                        });
                    }
                }
                CallEvent::TransferFailed(_) => {
                    if let Some(login) = collector.take() {
                        crate::agents::on_call(&self.app, &login, AgentEvent::Ended { bridged: false }).await;
                    }
                    if let Some(f) = self.campaign.lock().flights.get_mut(&self.started) {
                        f.collector = None;
                    }
                    if deadline.is_some() {
                        collector = self.transfer(&robot, &mut tried).await;
                    }
                    if collector.is_none() && !abandoned {
                        deadline = None;
                        abandoned = true;
                        self.abandon(&robot).await;
                    }
                }
                CallEvent::Said(_) if abandoned => {
                    message_heard = true;
                    robot.hangup().await;
                }
                CallEvent::Ended(end) => {
                    self.finish(&end, collector.as_deref(), answered, abandoned, message_heard).await;
                    return;
                }
                _ => {}
            }
        }
    }

    /// Rings the first ready collector of the pool not yet tried (and not rung for another of
    /// the campaign's calls); who, if anyone.
    async fn transfer(&self, robot: &Robot, tried: &mut Vec<String>) -> Option<String> {
        let mut skip = tried.clone();
        skip.extend(self.campaign.lock().flights.values().filter_map(|f| f.collector.clone()));
        let (login, uri) = self.pool.ready(&self.app, &self.calls, &skip).await.into_iter().next()?;
        {
            let mut g = self.campaign.lock();
            if g.flights.values().any(|f| f.collector.as_deref() == Some(login.as_str())) {
                return None;
            }
            if let Some(f) = g.flights.get_mut(&self.started) {
                f.collector = Some(login.clone());
            }
        }
        tried.push(login.clone());
        crate::agents::on_call(&self.app, &login, AgentEvent::Dialled).await;
        robot.transfer(&uri).await;
        Some(login)
    }

    /// Nobody took the call in time: the bank's message, then the end.
    async fn abandon(&self, robot: &Robot) {
        crate::robot::say(&self.calls, robot, self.started, ABANDON_MESSAGE, &self.facts).await;
    }

    async fn finish(
        &self,
        end: &daylight_calls::CallEnd,
        collector: Option<&str>,
        answered: bool,
        abandoned: bool,
        message_heard: bool,
    ) {
        let app = &self.app;
        let outcome = if abandoned && !end.bridged {
            Outcome::Abandoned
        } else {
            daylight_calls::mapping::robot_outcome(end, Outcome::Conversation)
        };
        let answered = answered && matches!(end.debtor_code, Some(200..=299));
        let note = match (outcome, end.bridged, collector) {
            (Outcome::Abandoned, _, _) if message_heard => Some(format!(
                "预测式外呼（任务 {}）：接通后 {GREETING_SECS} 秒内无空闲坐席，已播放呼损提示（银行名称与回拨号码）后挂断。",
                self.campaign.id
            )),
            (Outcome::Abandoned, _, _) => Some(format!(
                "预测式外呼（任务 {}）：接通后 {GREETING_SECS} 秒内无空闲坐席，呼损提示未播完对方即挂断。",
                self.campaign.id
            )),
            (_, true, Some(login)) => {
                Some(format!("预测式外呼（任务 {}）：接通后转接 {login}。", self.campaign.id))
            }
            _ => None,
        };
        let ended = crate::robot::Ended {
            started: self.started,
            end,
            outcome,
            note: note.as_deref(),
            actor: &self.campaign.started_by,
            file: &self.file,
        };
        ended.record(app, &self.calls, collector).await;
        self.campaign.ended(
            self.started,
            app.now(),
            answered,
            outcome == Outcome::Abandoned,
            end.bridged.then_some(end.talk_secs),
        );
        tracing::info!(
            campaign = self.campaign.id,
            call = self.started,
            outcome = outcome.as_str(),
            "campaign call ended"
        );
    }
}
