//! Robot calls (外呼机器人) through the gate: the robot calls a case's number and follows a flow
//! of the strategy in force, speaking its prompts (espeak-ng, amounts and dates in words),
//! hearing the debtor's keys, and on a transfer bridging in a ready collector (the case's own
//! first, then the flow's pool or the case's team) on the same call and recording, with the
//! screen pop. One physical call is one attempt: the gate's start before the INVITE leaves
//! (channel `robot_call`, the robot as the agent), finished at the end with the flow's
//! outcome and the recording. See docs/dialer.md.

use std::path::PathBuf;
use std::sync::Arc;

use daylight_calls::{CallEvent, Leg, Robot};
use daylight_domain::agent::AgentEvent;
use daylight_domain::attempt::{Agent, Channel};
use daylight_domain::pii::Gender;
use daylight_store::model::CaseDetail;
use daylight_strategy::document::{DEFAULT, Strategy};
use daylight_strategy::flow::Flow;
use daylight_strategy::flow::walk::{Action, Heard, Walk};
use daylight_strategy::spoken::{Spoken, speak};
use serde::Deserialize;
use tokio::time::{Duration, Instant};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::calls::{
    CallNotice, Calls, DialView, Phase, Placed, call_planned, calls_of, case_point, not_placed, place, track,
};
use crate::error::{ApiError, ApiResult};
use crate::inbound::Pool;
use crate::roles::Permission;

/// A robot call's input: which of the case's phones, and which flow.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RobotInput {
    /// The contact point to call.
    pub contact_point: String,
    /// The flow of the strategy in force (`reminder`, `screening`, `negotiation` in the
    /// default strategy).
    pub flow: String,
}

/// What a robot says of a case, owned for the call's life.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    name: String,
    card_last4: String,
    amount_fen: i64,
    dpd: u32,
    due_date: jiff::civil::Date,
    bank: String,
    hotline: String,
}

impl Facts {
    pub(crate) fn of(d: &CaseDetail, calls: &Calls) -> Facts {
        Facts::with(d, &calls.settings.bank, &calls.settings.hotline)
    }

    /// The case's facts with the bank's name and hotline as given (the console without a switch
    /// names the bank 本行).
    pub(crate) fn with(d: &CaseDetail, bank: &str, hotline: &str) -> Facts {
        // Addressed by surname and 先生/女士, never the whole name.
        let name = d.customer.name.expose();
        let surname: String = name.chars().take(1).collect();
        let title = match d.customer.gender {
            Gender::Male => "先生",
            Gender::Female => "女士",
        };
        let account = d.accounts.iter().max_by_key(|a| a.owed().minor);
        Facts {
            name: format!("{surname}{title}"),
            card_last4: account.map(|a| a.account.pan.last4().to_owned()).unwrap_or_default(),
            amount_fen: account.map_or(0, |a| a.owed().minor),
            dpd: account.map_or(0, |a| a.account.days_past_due),
            due_date: account.map_or(jiff::civil::date(2000, 1, 1), |a| a.account.due_date),
            bank: bank.to_owned(),
            hotline: hotline.to_owned(),
        }
    }

    pub(crate) fn spoken(&self) -> Spoken<'_> {
        self.spoken_by("")
    }

    /// The facts as `agent` says them.
    pub(crate) fn spoken_by<'a>(&'a self, agent: &'a str) -> Spoken<'a> {
        Spoken {
            name: &self.name,
            card_last4: &self.card_last4,
            amount_fen: self.amount_fen,
            dpd: self.dpd,
            due_date: self.due_date,
            bank: &self.bank,
            agent,
            hotline: &self.hotline,
        }
    }
}

/// The default strategy, read once.
pub(crate) fn default_strategy() -> Option<&'static Strategy> {
    static DEFAULT_STRATEGY: std::sync::LazyLock<Option<Strategy>> =
        std::sync::LazyLock::new(|| Strategy::from_toml(DEFAULT, "default").ok());
    DEFAULT_STRATEGY.as_ref()
}

/// The flows a robot call may follow: those of the strategy in force (today's plan's, as the
/// plan cache holds it), then the default strategy's (a plan's strategy may have none, as the
/// baseline has none), by name, the first of a name winning.
async fn flows(app: &AppState) -> ApiResult<Vec<Flow>> {
    let today = app.plans.today(app).await?.strategy.clone();
    let mut out: Vec<Flow> = Vec::new();
    for s in today.as_deref().into_iter().chain(default_strategy()) {
        for f in &s.flows {
            if !out.iter().any(|o| o.name == f.name) {
                out.push(f.clone());
            }
        }
    }
    Ok(out)
}

/// The flow `name` a robot call may follow ([`flows`]).
pub(crate) async fn flow_named(app: &AppState, name: &str) -> ApiResult<Flow> {
    let all = flows(app).await?;
    let names: Vec<&str> = all.iter().map(|f| f.name.as_str()).collect();
    let wanted = all.iter().find(|f| f.name == name).cloned();
    wanted.ok_or_else(|| {
        ApiError::field(
            "flow",
            "NOT_FOUND",
            format!("no flow {name:?}; expected one of: {}", names.join(", ")),
        )
    })
}

/// The names of the flows a robot call may follow ([`flows`]).
pub(crate) async fn flow_names(app: &AppState) -> Vec<String> {
    flows(app).await.map(|f| f.into_iter().map(|f| f.name).collect()).unwrap_or_default()
}

/// Starts a robot call to `point` of case `id` following `flow`: the gate first (refused:
/// nothing is dialled), then the robot dials. Started by a collector or a team lead; the
/// attempt is the robot's.
pub async fn robot_call(
    app: &AppState,
    caller: &Caller,
    id: &str,
    input: &RobotInput,
) -> ApiResult<DialView> {
    caller.require(Permission::WorkCases, "place robot calls")?;
    let calls = calls_of(app)?.clone();
    let (d, point) = case_point(app, caller, id, &input.contact_point).await?;
    let flow = flow_named(app, &input.flow).await?;
    let login = caller.user.login.clone();
    let mut planned = call_planned(caller, &d.case.id, &point, app.now());
    planned.channel = Channel::RobotCall;
    planned.agent = Agent::Robot(format!("flow:{}", flow.name));
    Ok(match start(app, &calls, &d, &point.id, flow, &login, &planned).await? {
        Ok(view) => DialView {
            allowed: true,
            rules: Vec::new(),
            texts: Vec::new(),
            next_allowed_at: None,
            call: Some(view),
        },
        Err(refused) => refused,
    })
}

/// A robot call to `point` of case `d` following `flow`, started by `login` (a collector, a
/// lead, a campaign): the gate's start for `planned` (refused: its answer, nothing dialled),
/// then the robot dials and walks the flow. The call's view once dialled.
pub(crate) async fn start(
    app: &AppState,
    calls: &Arc<Calls>,
    d: &CaseDetail,
    point: &daylight_domain::id::ContactId,
    flow: Flow,
    login: &str,
    planned: &daylight_domain::attempt::Planned,
) -> ApiResult<Result<crate::calls::CallView, DialView>> {
    let Placed { started, dial, file } = match place(app, calls, planned, point, login, String::new()).await?
    {
        Ok(p) => p,
        Err(refused) => return Ok(Err(refused)),
    };
    let (events, robot) = match calls.switch.robot(dial).await {
        Ok(r) => r,
        Err(e) => return Err(not_placed(app, started, login, &e).await),
    };
    let view = track(calls, started, &d.case.id, login, Phase::RingingDebtor);
    let job = Job {
        app: app.clone(),
        calls: calls.clone(),
        started,
        login: login.to_owned(),
        facts: Facts::of(d, calls),
        pool: Pool {
            collector: d.case.collector.clone(),
            team: flow.pool.clone().or_else(|| d.case.team.clone()),
        },
        file,
        speaking: std::sync::atomic::AtomicU64::new(0),
    };
    tokio::spawn(async move { job.run(flow, robot, events).await });
    Ok(Ok(view))
}

/// A robot call being carried.
struct Job {
    app: AppState,
    calls: Arc<Calls>,
    started: i64,
    /// Who started it (the attempt's actor).
    login: String,
    facts: Facts,
    pool: Pool,
    file: PathBuf,
    /// The number of the prompt being spoken: a `Said` of an earlier one (sent as the walk
    /// moved on) is not this one's end.
    speaking: std::sync::atomic::AtomicU64,
}

impl Job {
    async fn run(self, flow: Flow, robot: Robot, mut events: tokio::sync::mpsc::Receiver<CallEvent>) {
        let (mut walk, mut action) = Walk::start(&flow);
        let mut started_walk = false;
        let mut listen_until: Option<Instant> = None;
        let mut collector: Option<String> = None;
        loop {
            let ev = tokio::select! {
                ev = events.recv() => ev,
                () = async { tokio::time::sleep_until(listen_until.expect("guarded")).await }, if listen_until.is_some() => {
                    listen_until = None;
                    action = walk.on(Heard::Timeout);
                    action = self.drive(&mut walk, &robot, action, &mut listen_until, &mut collector).await;
                    continue;
                }
            };
            let Some(ev) = ev else { return };
            let heard = match ev {
                CallEvent::Answered(Leg::Debtor) if !started_walk => {
                    started_walk = true;
                    action = self.drive(&mut walk, &robot, action, &mut listen_until, &mut collector).await;
                    continue;
                }
                CallEvent::Said(seq) if seq == self.speaking.load(std::sync::atomic::Ordering::Relaxed) => {
                    Heard::Said
                }
                CallEvent::Said(_) => continue,
                CallEvent::Dtmf { leg: Leg::Debtor, digit } => {
                    if matches!(action, Action::Listen { .. } | Action::Say { node: Some(_), .. }) {
                        listen_until = None;
                    }
                    Heard::Key(digit)
                }
                CallEvent::Bridged => {
                    if let Some(login) = &collector {
                        crate::agents::on_call(&self.app, login, AgentEvent::Bridged).await;
                        // Screen pop: the collector's console opens the case.
                        let case = self.calls.view(self.started).map(|v| v.case).unwrap_or_default();
                        self.calls.notify(CallNotice {
                            collector: login.clone(),
                            call: self.started,
                            case,
                            phase: Phase::Talking,
                            inbound: false,
                        });
                    }
                    self.calls.update(self.started, |v| v.phase = Phase::Talking);
                    Heard::Connected
                }
                CallEvent::TransferFailed(_) => {
                    if let Some(login) = collector.take() {
                        crate::agents::on_call(&self.app, &login, AgentEvent::Ended { bridged: false }).await;
                    }
                    Heard::NoCollector
                }
                CallEvent::Ended(end) => {
                    self.finish(&walk, collector.as_deref(), &end).await;
                    return;
                }
                _ => continue,
            };
            let next = walk.on(heard);
            if next != Action::Continue {
                action = self.drive(&mut walk, &robot, next, &mut listen_until, &mut collector).await;
            }
        }
    }

    /// Does what the walk says, and what follows at once from it (nobody to transfer to);
    /// the action under way.
    async fn drive<'f>(
        &self,
        walk: &mut Walk<'f>,
        robot: &Robot,
        mut action: Action<'f>,
        listen_until: &mut Option<Instant>,
        collector: &mut Option<String>,
    ) -> Action<'f> {
        while let Some(heard) = self.act(robot, action, listen_until, collector).await {
            action = walk.on(heard);
        }
        action
    }

    /// Does what the walk says; what the walk hears at once, if anything.
    async fn act(
        &self,
        robot: &Robot,
        action: Action<'_>,
        listen_until: &mut Option<Instant>,
        collector: &mut Option<String>,
    ) -> Option<Heard> {
        match action {
            Action::Say { text, .. } => {
                if let Some(seq) = say(&self.calls, robot, self.started, text, &self.facts).await {
                    self.speaking.store(seq, std::sync::atomic::Ordering::Relaxed);
                }
            }
            Action::Listen { timeout_secs } => {
                *listen_until = Some(Instant::now() + Duration::from_secs(u64::from(timeout_secs)));
            }
            Action::Transfer { .. } => {
                let ready = self.pool.ready(&self.app, &self.calls, &[]).await;
                match ready.into_iter().next() {
                    Some((login, uri)) => {
                        crate::agents::on_call(&self.app, &login, AgentEvent::Dialled).await;
                        *collector = Some(login);
                        robot.hush().await;
                        robot.transfer(&uri).await;
                    }
                    // Nobody ready: the walk hears so at once.
                    None => return Some(Heard::NoCollector),
                }
            }
            Action::HandedOver | Action::Continue => {}
            Action::Hangup => robot.hangup().await,
        }
        None
    }

    /// Records the attempt: the flow's outcome once the debtor answered (else the SIP result's),
    /// the time on the line and the recording; frees the collector who took it.
    async fn finish(&self, walk: &Walk<'_>, collector: Option<&str>, end: &daylight_calls::CallEnd) {
        let outcome = daylight_calls::mapping::robot_outcome(end, walk.outcome());
        let note = robot_note(walk, collector.filter(|_| end.bridged), end.debtor_code);
        let ended = Ended {
            started: self.started,
            end,
            outcome,
            note: note.as_deref(),
            actor: &self.login,
            file: &self.file,
        };
        ended.record(&self.app, &self.calls, collector).await;
        tracing::info!(call = self.started, outcome = outcome.as_str(), keys = walk.keys(), path = ?walk.path(), transferred = end.bridged, "robot call ended");
    }
}

/// A robot's call (a flow's, a predictive campaign's) at its end, as it is recorded.
pub(crate) struct Ended<'a> {
    pub(crate) started: i64,
    pub(crate) end: &'a daylight_calls::CallEnd,
    pub(crate) outcome: daylight_domain::attempt::Outcome,
    pub(crate) note: Option<&'a str>,
    /// The attempt's actor: who started the call.
    pub(crate) actor: &'a str,
    /// The recording, relative to the vault.
    pub(crate) file: &'a std::path::Path,
}

impl Ended<'_> {
    /// Records the attempt (its outcome, talk time, recording and note: a failed outcome, such
    /// as a flow's `no_answer` when nobody said who they are, has no talk time though the
    /// recording keeps the call whole), frees the collector who took the call, and ends the
    /// call's view.
    pub(crate) async fn record(&self, app: &AppState, calls: &Calls, collector: Option<&str>) {
        let (end, outcome) = (self.end, self.outcome);
        let secs = crate::calls::talk_secs(end, outcome);
        let recording = crate::calls::recording_of(end, self.file);
        let result = app
            .store
            .finish_call(self.started, outcome, secs, recording.as_ref(), self.note, self.actor, app.now())
            .await;
        if let Some(login) = collector {
            if end.bridged {
                crate::agents::count_call(app, login, secs).await;
            }
            crate::agents::on_call(app, login, AgentEvent::Ended { bridged: end.bridged }).await;
        }
        calls.update(self.started, |v| {
            v.phase = Phase::Ended;
            v.sip_status = end.debtor_code;
            match result {
                Ok(attempt) => {
                    v.attempt = Some(attempt);
                    v.outcome = Some(outcome);
                    v.duration_secs = Some(secs);
                }
                Err(e) => v.reason = Some(e.to_string()),
            }
        });
    }
}

/// Says `template`, filled with `facts` for speech, to the debtor of call `started`: rendered by
/// the call's voice off the async threads, then played ([`Robot::say`]'s number). A prompt that
/// cannot be spoken hangs the call up (none).
pub(crate) async fn say(
    calls: &Calls,
    robot: &Robot,
    started: i64,
    template: &str,
    facts: &Facts,
) -> Option<u64> {
    let text = speak(template, &facts.spoken());
    let tts = calls.tts.clone();
    match tokio::task::spawn_blocking(move || tts.render(&text)).await {
        Ok(Ok(prompt)) => Some(robot.say(prompt.samples).await),
        Ok(Err(e)) => {
            tracing::error!(call = started, code = e.code(), error = %e, "a robot prompt could not be spoken: hanging up");
            robot.hangup().await;
            None
        }
        Err(e) => {
            tracing::error!(call = started, error = %e, "speech task failed: hanging up");
            robot.hangup().await;
            None
        }
    }
}

/// The robot's account of an answered call for the case's timeline: the flow, the keys, the
/// nodes passed and who took the call (none when the debtor never answered).
fn robot_note(walk: &Walk<'_>, collector: Option<&str>, debtor_code: Option<u16>) -> Option<String> {
    if !matches!(debtor_code, Some(200..=299)) {
        return None;
    }
    let keys = if walk.keys().is_empty() { "无".to_owned() } else { walk.keys().to_owned() };
    let taken = match collector {
        Some(login) => format!("已转接 {login}"),
        None => "未转人工".to_owned(),
    };
    Some(format!(
        "机器人外呼（流程 {}）：按键 {keys}；经过 {}；{taken}。",
        walk.flow_name(),
        walk.path().join(" → ")
    ))
}
